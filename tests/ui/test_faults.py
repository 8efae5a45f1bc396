"""Faults the window must survive with nothing lost: a full disk under its CSV export, its settings and its
camera snapshots (a real ENOSPC from a small tmpfs), and a worker whose analysis raises."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog
from ui_helpers import wait_for_result


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name not in (".filler", "lost+found"))


def test_csv_export_to_a_full_disk_keeps_the_old_file_and_says_so(
    qtbot, window, photo_folder, small_disk, tmp_path, monkeypatch
):
    window.start_batch([photo_folder], "photos")
    qtbot.waitUntil(lambda: window.batch_panel.title.text().startswith("Done"), timeout=30_000)
    target = small_disk.path / "results.csv"
    target.write_text("the results of last week\n")
    small_disk.fill()

    messages = []
    window.batch_panel.status.connect(messages.append)
    # The one thing stood in for is the person typing a name into the save dialog.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)"))
    window.batch_panel._ask_export()
    assert messages and "Could not write" in messages[-1] and "No space left" in messages[-1]
    assert target.read_text() == "the results of last week\n"  # untouched, not truncated
    assert _leftovers(small_disk.path) == ["results.csv"]  # no half-written temporary file

    elsewhere = tmp_path / "results.csv"  # and the panel still works: export somewhere with room
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(elsewhere), "CSV files (*.csv)"))
    window.batch_panel._ask_export()
    assert "Saved 3 results" in messages[-1]
    assert len(elsewhere.read_text().splitlines()) == 4


def test_settings_on_a_full_disk_are_kept_as_they_were_and_the_window_says_so(qtbot, make_window, small_disk, sample):
    from fashion_desktop.ui.settings import Settings

    settings = Settings.at(small_disk.path / "settings.ini")
    window = make_window(settings=settings)
    window.save_settings()
    before = (small_disk.path / "settings.ini").read_bytes()
    assert b"overlay" in before
    small_disk.fill()

    window.overlay_action.setChecked(not window.overlay_action.isChecked())
    window.save_settings()
    assert "could not be saved" in window.statusBar().currentMessage()
    assert (small_disk.path / "settings.ini").read_bytes() == before  # Qt's QSaveFile: old file intact
    window.open_path(sample)  # still usable
    assert wait_for_result(qtbot, window, sample.name).analysis.prediction is not None


def test_a_worker_whose_analysis_raises_reports_it_and_goes_on(qtbot, window, sample):
    # A five-channel array is no picture any decoder makes: the analysis itself raises (not an ImageError).
    window.request_picture(np.zeros((40, 30, 5), np.uint8), "five channels")
    qtbot.waitUntil(lambda: "five channels" in window.statusBar().currentMessage(), timeout=10_000)
    window.open_path(sample)
    assert wait_for_result(qtbot, window, sample.name).analysis.prediction is not None


def _model_that_breaks_on_real_pictures(folder):
    """A real Keras model that gives probabilities for the blank warm-up picture (so it loads) and NaN for
    any real one: the scaled pixels overflow float32 to infinity, and softmax of infinities is NaN."""
    import hashlib
    import json

    import keras

    from fashion_desktop.core import CLASS_NAMES

    image = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(keras.layers.Rescaling(1e38)(image))
    x = keras.layers.Softmax()(keras.layers.Dense(10, kernel_initializer="ones")(x))
    folder.mkdir()
    keras.Model(image, x).save(folder / "model.keras")
    digest = hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest()
    meta = {"file": "model.keras", "sha256": digest, "class_names": list(CLASS_NAMES)}
    (folder / "model.json").write_text(json.dumps(meta))
    return folder


def test_a_batch_whose_model_fails_mid_run_ends_and_says_why(qtbot, photo_folder, tmp_path):
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.ui.worker import BatchWorker

    broken = Classifier.load(_model_that_breaks_on_real_pictures(tmp_path / "breaks"))
    worker = BatchWorker([photo_folder], broken)
    failures, finished = [], []
    worker.failed.connect(failures.append)
    worker.finished.connect(lambda done, cancelled: finished.append((done, cancelled)))
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(finished), timeout=30_000)
    finally:
        worker.stop()
    assert failures and "The batch stopped after 0 of 3 files" in failures[0] and "probabilities" in failures[0]
    assert finished == [(0, True)]
