"""Paths a user gives the window that the file system will not even stat, and model folders that are odd:
each is a message in the window, never a traceback (issue #19)."""

from __future__ import annotations

import json
import shutil
import signal

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.conftest import REPO

MODEL = REPO / "resources" / "model"


@pytest.fixture
def unstatable(tmp_path, sample):
    """Paths for which Path.exists()/is_dir() raise OSError or stat fails with an errno other than ENOENT
    (as root, a folder that may not be searched cannot be made, so: a name too long, a parent that is a
    file)."""
    return {
        "too long": (tmp_path / ("x" * 300 + ".jpg"), "too long"),
        "under a file": (sample / "inside.jpg", "Not a directory"),
    }


@pytest.mark.parametrize("case", ["too long", "under a file"])
def test_start_up_with_a_path_that_cannot_be_looked_at(qtbot, monkeypatch, settings, unstatable, case):
    """The real start-up path (app.main, model loading in the background): the window opens and its
    status bar says why the picture could not be opened, still after the model has loaded."""
    from fashion_desktop import app
    from fashion_desktop.ui import main_window

    path, reason = unstatable[case]
    monkeypatch.setattr(main_window, "Settings", lambda: settings)  # not the user's own settings
    seen = {}
    earlier = {id(w) for w in QApplication.topLevelWidgets()}  # closed windows of earlier tests linger

    def poll():
        windows = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, main_window.MainWindow) and id(w) not in earlier
        ]
        if windows and (windows[0].model_info is not None or windows[0].model_error is not None):
            seen["status"] = windows[0].statusBar().currentMessage()
            seen["model"] = windows[0].model_label.text()
            timer.stop()
            QApplication.instance().closeAllWindows()
            QTimer.singleShot(0, QApplication.instance().quit)

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    QTimer.singleShot(60_000, QApplication.instance().quit)  # a hang fails below, not for ever
    before = signal.getsignal(signal.SIGINT)
    try:
        app.main([str(path)])
    finally:
        signal.signal(signal.SIGINT, before)
        timer.stop()
    assert "Model ready" in seen.get("model", ""), seen
    assert seen["status"].startswith("⚠ Cannot open") and reason in seen["status"], seen


@pytest.mark.parametrize("case", ["too long", "under a file"])
def test_open_path_that_cannot_be_looked_at_keeps_the_window_going(qtbot, window, unstatable, sample, case):
    path, reason = unstatable[case]
    assert window.open_paths([path]) is False
    message = window.statusBar().currentMessage()
    assert message.startswith("⚠ Cannot open") and reason in message
    assert window.open_paths([sample])  # and the next picture opens as usual
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=20_000)


def test_a_batch_with_a_path_that_cannot_be_looked_at_gives_it_an_error_row(qtbot, window, unstatable, sample):
    too_long, _ = unstatable["too long"]
    under_a_file, _ = unstatable["under a file"]
    window.open_paths([too_long, sample, under_a_file])
    panel = window.batch_panel
    qtbot.waitUntil(lambda: panel.title.text().startswith("Done"), timeout=30_000)
    rows = {r.path: r for r in panel.rows()}
    assert set(rows) == {too_long, sample, under_a_file}
    assert "too long" in rows[too_long].error
    assert rows[sample].error is None and rows[sample].label
    assert rows[under_a_file].error  # a parent that is a file: the picture cannot be read
    assert panel.progress.value() == panel.progress.maximum() == 3


def test_a_pasted_line_too_long_for_a_path_is_not_a_picture(qtbot, window):
    QApplication.clipboard().setText("a sentence copied from somewhere " * 10)  # 330 characters, no newline
    window.paste_action.trigger()
    assert "no picture" in window.statusBar().currentMessage()


def _model_folder(tmp_path, **changes):
    folder = tmp_path / "model"
    folder.mkdir()
    meta = json.loads((MODEL / "model.json").read_text())
    meta.update(changes)
    (folder / "model.json").write_text(json.dumps(meta))
    shutil.copy(MODEL / meta["file"], folder / meta["file"])
    return folder


def test_a_model_json_of_the_wrong_types_is_a_message_in_the_window(qtbot, make_window, tmp_path, sample):
    window = make_window(share_model=False, model_dir=_model_folder(tmp_path, class_names=None))
    qtbot.waitUntil(lambda: window.model_error is not None, timeout=30_000)
    assert "class" in window.model_error and "TypeError" not in window.model_error
    box = window.findChild(QMessageBox, "modelErrorBox")
    assert box is not None and box.isVisible() and box.text() == window.model_error
    box.accept()
    assert "No model" in window.model_label.text()


def test_an_unexpected_failure_to_load_is_a_message_in_the_window(qtbot, make_window, monkeypatch, sample):
    from fashion_desktop.core.classifier import Classifier

    def broken(cls, model_dir=None):
        raise TypeError("'NoneType' object is not iterable")

    monkeypatch.setattr(Classifier, "load", classmethod(broken))
    window = make_window(share_model=False)
    qtbot.waitUntil(lambda: window.model_error is not None, timeout=30_000)
    assert window.model_error.startswith("The model could not be loaded")
    box = window.findChild(QMessageBox, "modelErrorBox")
    assert box is not None and box.isVisible()
    box.accept()
    window.open_path(sample)  # pictures still open, unclassified
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=20_000)
    assert window.last_result.analysis.prediction is None


def test_odd_figures_in_model_json_do_not_break_the_ready_model(qtbot, make_window, tmp_path):
    # Fields the classifier does not use (metrics) are only shown; a list where a dict was expected must
    # not raise in the window's model-ready handler (pytest-qt fails the test on an exception in a slot).
    window = make_window(share_model=False, model_dir=_model_folder(tmp_path, metrics=[1, 2]))
    qtbot.waitUntil(lambda: window.model_info is not None or window.model_error is not None, timeout=30_000)
    assert window.model_error is None
    assert window.model_label.text() == "Model ready"
