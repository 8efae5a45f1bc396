"""Folder batches: progress, cancel, the sortable table, double-click to show, CSV export."""

from __future__ import annotations

import csv
import shutil
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from ui_helpers import wait_for_result

from fashion_desktop.core.analysis import analyze


def _folder_of_copies(folder, sample_paths, n):
    """A folder of ``n`` photos (the samples over and over): a batch long enough to interrupt."""
    folder.mkdir()
    for i in range(n):
        shutil.copy(sample_paths[i % len(sample_paths)], folder / f"{i:03d}.jpg")
    return folder


def test_cancel_stops_a_long_batch(qtbot, window, sample_paths, tmp_path, monkeypatch):
    from fashion_desktop.core import analysis

    analyze_files, waiting, cancelled = analysis.analyze_files, threading.Event(), threading.Event()

    def second_row_waits_for_cancel(*args, **kwargs):  # so the test does not race the batch, however fast
        for n, item in enumerate(analyze_files(*args, **kwargs)):
            if n == 1:
                waiting.set()  # the worker is past the first row and its stop check: the second is under way
                assert cancelled.wait(30)
            yield item

    monkeypatch.setattr(analysis, "analyze_files", second_row_waits_for_cancel)
    folder = _folder_of_copies(tmp_path / "many", sample_paths, 60)
    window.start_batch([folder], "many")
    qtbot.waitUntil(lambda: len(window.batch_panel.rows()) >= 1 and waiting.is_set(), timeout=30_000)
    window.batch_panel.cancel_button.click()
    cancelled.set()
    qtbot.waitUntil(lambda: not window.batch_panel.is_running(), timeout=30_000)
    qtbot.waitUntil(lambda: window.batch_panel.title.text().startswith("Cancelled"), timeout=10_000)
    assert len(window.batch_panel.rows()) == 2  # the row under way when Cancel was pressed is the last
    assert not window.batch_panel.cancel_button.isEnabled()


def test_batch_table_sorts_shows_and_exports_csv(qtbot, window, photo_folder, classifier, tmp_path):
    (photo_folder / "notes.png").write_bytes(b"not a png at all")
    window.start_batch([photo_folder], "photos")
    qtbot.waitUntil(lambda: window.batch_panel.title.text().startswith("Done"), timeout=30_000)
    panel = window.batch_panel
    rows = panel.rows()
    assert len(rows) == 4
    assert panel.progress.value() == panel.progress.maximum() == 4
    bad = [r for r in rows if r.error]
    assert len(bad) == 1 and bad[0].path.name == "notes.png"
    good = [r for r in rows if not r.error]
    for row in good:
        expected = analyze(row.path, classifier)
        assert row.label == expected.prediction.label
        assert abs(row.confidence - expected.prediction.confidence) < 1e-6
        assert row.blurry == expected.blur.blurry

    # sortable: by confidence, highest first
    panel.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    shown = [panel.proxy.index(i, 0).data() for i in range(panel.proxy.rowCount())]
    by_confidence = sorted(good, key=lambda r: -r.confidence)
    assert shown[:3] == [r.path.name for r in by_confidence]
    assert shown[3] == "notes.png"

    # double-click (activate) a row: the picture is shown
    index = panel.proxy.index(0, 1)
    panel.table.activated.emit(index)
    wait_for_result(qtbot, window, by_confidence[0].path.name)

    out = panel.export_csv(tmp_path / "out" / "results.csv")
    with out.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [Path(r["path"]).name for r in table] == [r.path.name for r in rows]
    first = next(r for r in table if Path(r["path"]).name == good[0].path.name)
    assert first["label"] == good[0].label
    assert abs(float(first["confidence"]) - good[0].confidence) < 1e-4
    assert next(r for r in table if Path(r["path"]).name == "notes.png")["error"]
    from fashion_desktop.core.serialize import CSV_FIELDS

    assert list(table[0]) == CSV_FIELDS  # the same layout as fashion-classify --csv
    assert not list(out.parent.glob(".results.csv.*"))  # no temp file left behind
    assert panel.export_button.isEnabled()


def test_a_batch_marks_pictures_of_none_of_the_ten_as_unrecognised(qtbot, window, photo_folder, drawn_face, tmp_path):
    drawn_face.rename(photo_folder / drawn_face.name)
    window.start_batch([photo_folder], "photos")
    qtbot.waitUntil(lambda: window.batch_panel.title.text().startswith("Done"), timeout=30_000)
    panel = window.batch_panel
    rows = {r.path.name: r for r in panel.rows()}
    assert rows["face.png"].known is False
    assert all(r.known for name, r in rows.items() if name != "face.png")  # the three sample photos
    cells = {panel.model.item(i, 0).text(): panel.model.item(i, 1).text() for i in range(panel.model.rowCount())}
    assert cells["face.png"] == f"Unrecognised (best guess {rows['face.png'].label})"
    with panel.export_csv(tmp_path / "results.csv").open(newline="", encoding="utf-8") as fh:
        known = {Path(r["path"]).name: r["known"] for r in csv.DictReader(fh)}
    assert known == {name: "False" if name == "face.png" else "True" for name in rows}


def test_a_new_batch_replaces_a_running_one_cleanly(qtbot, window, sample_paths, photo_folder, tmp_path):
    folder = _folder_of_copies(tmp_path / "first", sample_paths, 30)
    window.start_batch([folder], "first")
    qtbot.waitUntil(lambda: len(window.batch_panel.rows()) >= 1, timeout=30_000)
    window.start_batch([photo_folder], "second")  # the first is cancelled; its late signals are ignored
    qtbot.waitUntil(lambda: window.batch_panel.title.text().startswith("Done"), timeout=30_000)
    qtbot.wait(200)
    assert sorted(r.path.parent for r in window.batch_panel.rows()) == [photo_folder] * 3
    assert window.batch_panel.model.rowCount() == 3
