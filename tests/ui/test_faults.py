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
