"""Settings that survive a restart, and a missing model that does not stop the app."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox
from ui_helpers import wait_for_result


def test_settings_are_restored_on_the_next_start(qtbot, make_window, settings, sample):
    first = make_window()
    first.resize(700, 520)
    first.overlay_action.setChecked(True)
    first.overlay.slider.setValue(35)
    first.open_path(sample)
    wait_for_result(qtbot, first, sample.name)
    first.close()

    from fashion_desktop.ui.settings import Settings

    again = make_window(settings=Settings.at(settings.store.fileName()))
    assert (again.width(), again.height()) == (700, 520)
    assert again.overlay_action.isChecked()
    assert again.overlay.opacity_percent() == 35
    assert again.image_view.overlay() == (True, 0.35)
    assert again.settings.last_folder == str(sample.parent)
    assert again.settings.recent_files[0] == str(sample.resolve())
    again.recent_menu.aboutToShow.emit()
    recent = [a for a in again.recent_menu.actions() if a.toolTip() == str(sample.resolve())]
    assert recent
    recent[0].trigger()  # File > Open Recent opens it
    wait_for_result(qtbot, again, sample.name)


def test_missing_model_gives_a_dialog_and_the_app_stays_usable(qtbot, make_window, tmp_path, sample):
    window = make_window(share_model=False, model_dir=tmp_path / "no-model")
    qtbot.waitUntil(lambda: window.model_error is not None, timeout=30_000)
    assert "missing" in window.model_error and "Reinstall" in window.model_error

    box = window.findChild(QMessageBox, "modelErrorBox")
    assert box is not None and box.isVisible()
    assert "missing" in box.text() and "Reload Model" in box.informativeText()
    box.accept()

    assert "No model" in window.model_label.text()
    window.open_path(sample)  # still shows the picture, its blur and edges
    result = wait_for_result(qtbot, window, sample.name)
    assert result.analysis.prediction is None
    assert window.result_panel.category.text() == "No model"
    assert window.result_panel.blur.verdict() in ("sharp", "blurry")
    assert window.image_view.has_picture()

    dialog = window.show_about()
    qtbot.addWidget(dialog)
    assert "No model is loaded" in dialog.figures.text()
    dialog.close()
