"""The main window with the real model and real photos: what it shows, keys, errors, About."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QAbstractSlider, QMenu, QToolBar
from ui_helpers import wait_for_result

from fashion_desktop.core.analysis import analyze
from fashion_desktop.core.classifier import CLASS_NAMES


def qimage_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    return np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)[:, :w].copy()


def test_open_picture_shows_what_core_analyze_says(qtbot, window, sample, classifier):
    window.open_path(sample)
    result = wait_for_result(qtbot, window, sample.name)
    expected = analyze(sample, classifier)

    shown = window.result_panel.bars.shown()
    ranked = expected.prediction.ranked()
    assert [name for name, _ in shown] == [name for name, _ in ranked]
    assert sorted(name for name, _ in shown) == sorted(CLASS_NAMES)
    for (_, value), (_, p) in zip(shown, ranked):
        assert abs(value - p) <= 0.0006
    for bar, (_, p) in zip(window.result_panel.bars.bars(), ranked):
        assert bar.text() == f"{100 * p:.1f}%"
    assert window.result_panel.category.text() == expected.prediction.label

    badge = window.result_panel.blur
    assert badge.verdict() == ("blurry" if expected.blur.blurry else "sharp")
    assert ("Blurry" if expected.blur.blurry else "Sharp") in badge.text()  # words, not colour alone
    assert f"{expected.blur.score:.0f}" in badge.text()

    np.testing.assert_array_equal(qimage_array(result.model_input), expected.model_input)
    assert window.image_view.has_picture()
    assert "ms" in window.timing_label.text()
    assert sample.name in window.statusBar().currentMessage()


def test_a_picture_of_none_of_the_ten_is_shown_as_unrecognised(qtbot, window, drawn_face, sample, classifier):
    expected = analyze(drawn_face, classifier)
    assert not expected.known.recognised  # the premise: the model does not know a face
    window.open_path(drawn_face)
    wait_for_result(qtbot, window, drawn_face.name)
    panel = window.result_panel
    assert panel.category.text() == "Unrecognised"  # not a confident guess in large type
    best = expected.prediction
    assert f"Best guess: {best.label} ({100 * best.confidence:.1f}%)" in panel.confidence.text()
    assert f"{expected.known.score:.2f}" in panel.confidence.toolTip()
    assert f"unrecognised (best guess {best.label}" in window.statusBar().currentMessage()
    assert panel.bars.shown()[0][0] == best.label  # the bars still show every category

    window.open_path(sample)  # a known item afterwards reads normally again
    wait_for_result(qtbot, window, sample.name)
    assert panel.category.text() == analyze(sample, classifier).prediction.label
    assert panel.confidence.text().endswith("% confident")


def test_a_bad_file_says_why_and_keeps_the_previous_result(qtbot, window, sample, tmp_path):
    window.open_path(sample)
    before = wait_for_result(qtbot, window, sample.name)
    category = window.result_panel.category.text()

    broken = tmp_path / "holiday.jpg"
    broken.write_text("this is not a JPEG")
    window.open_path(broken)
    qtbot.waitUntil(
        lambda: (
            "holiday.jpg" in window.statusBar().currentMessage()
            or "picture" in window.statusBar().currentMessage().lower()
        ),
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("⚠"), timeout=10_000)
    assert window.last_result is before
    assert window.result_panel.category.text() == category

    window.open_path(tmp_path / "missing.png")
    assert "no such file" in window.statusBar().currentMessage()
    assert window.last_result is before


def test_arrow_keys_step_through_the_folder(qtbot, window, photo_folder):
    files = sorted(photo_folder.iterdir())
    window.open_path(files[0])
    wait_for_result(qtbot, window, files[0].name)
    window.activateWindow()
    qtbot.waitActive(window)

    qtbot.keyClick(window, Qt.Key.Key_Right)
    wait_for_result(qtbot, window, files[1].name)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    wait_for_result(qtbot, window, files[2].name)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert "No next picture" in window.statusBar().currentMessage()
    qtbot.keyClick(window, Qt.Key.Key_Left)
    wait_for_result(qtbot, window, files[1].name)


def test_edge_overlay_switches_with_e_and_paints_edges(qtbot, window, sample):
    window.open_path(sample)
    wait_for_result(qtbot, window, sample.name)
    window.activateWindow()
    qtbot.waitActive(window)
    window.overlay_action.setChecked(False)
    window.overlay.slider.setValue(100)
    plain = window.image_view.grab().toImage()

    qtbot.keyClick(window, Qt.Key.Key_E)
    assert window.overlay_action.isChecked()
    assert window.image_view.overlay() == (True, 1.0)
    with_edges = window.image_view.grab().toImage()
    assert with_edges != plain

    window.overlay.slider.setValue(0)
    assert window.image_view.grab().toImage() == plain
    qtbot.keyClick(window, Qt.Key.Key_E)
    assert not window.overlay_action.isChecked()


def test_about_shows_the_models_own_figures(qtbot, window, classifier):
    dialog = window.show_about()
    qtbot.addWidget(dialog)
    text = dialog.figures.text()
    accuracy = classifier.metadata["metrics"]["accuracy"]
    assert f"{100 * accuracy['clean']:.1f}%" in text
    for name in CLASS_NAMES:
        assert name in text
    recall = classifier.metadata["metrics"]["clean"]["per_class_recall"]
    assert f"{100 * recall['Trouser']:.1f}%" in text
    if (classifier.model_dir / "confusion_matrix.png").is_file():
        assert dialog.matrix.pixmap() is not None and not dialog.matrix.pixmap().isNull()
    photos = classifier.for_photos()  # and what judges photos, with its own held-out figures
    assert "The photo model" in text and str(photos.model_dir) in text
    assert f"{100 * photos.metadata['metrics']['real_photos']['top1_labelled']:.1f}%" in text
    dialog.close()


def test_controls_are_named_and_reachable_by_keyboard(qtbot, window, sample):
    window.open_path(sample)
    wait_for_result(qtbot, window, sample.name)
    for bar in window.result_panel.bars.bars():
        assert bar.accessibleName().endswith("confidence")
        assert bar.accessibleDescription().endswith("%")
    badge = window.result_panel.blur
    assert badge.accessibleName() == "Blur verdict"
    assert badge.accessibleDescription().split(":")[0] in ("Sharp", "Blurry")
    controls = window.findChildren(QAbstractButton) + window.findChildren(QAbstractSlider)
    controls += window.findChildren(QAbstractItemView)
    for control in controls:
        in_toolbar = isinstance(control.parentWidget(), QToolBar)  # their commands are in the menus
        if control.isVisibleTo(window) and not control.inherits("QScrollBar") and not in_toolbar:
            assert control.focusPolicy() & Qt.FocusPolicy.TabFocus, control
    in_menus = {a for menu in window.menuBar().findChildren(QMenu) for a in menu.actions()}
    for toolbar in window.findChildren(QToolBar):
        assert all(a in in_menus for a in toolbar.actions() if not a.isSeparator())
    # every menu command has a keyboard route: a shortcut or an &-mnemonic in its menu
    for action in window.menuBar().actions():
        assert "&" in action.text()
