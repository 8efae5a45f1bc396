"""The workers: latest-wins requests, a model loaded in the background, clean shutdown at any moment."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QApplication
from ui_helpers import wait_for_result

from fashion_desktop.ui.worker import Mailbox


def test_mailbox_keeps_only_the_newest_item():
    box = Mailbox()
    assert box.put(1) is False
    assert box.put(2) is True  # replaced 1, which was never taken
    assert box.take() == 2
    got = []
    reader = threading.Thread(target=lambda: got.append(box.take()))
    reader.start()
    box.put(3)
    reader.join(5)
    assert got == [3]
    box.put(4)
    box.close()
    assert box.take() is None  # closed: waiting items are dropped, nobody blocks


def test_fast_repeated_requests_compute_only_the_latest(qtbot, window, sample_paths, monkeypatch):
    from fashion_desktop.ui import display

    analyze_for_display, busy, go_on = display.analyze_for_display, threading.Event(), threading.Event()

    def first_one_waits(source, classifier):  # the burst comes while the worker is busy, however fast it is
        if not busy.is_set():
            busy.set()
            assert go_on.wait(30)
        return analyze_for_display(source, classifier)

    monkeypatch.setattr(display, "analyze_for_display", first_one_waits)
    computed = []
    window.worker.finished.connect(lambda r: computed.append(r.request_id))
    window.open_path(sample_paths[0])
    first = window._latest_request
    assert busy.wait(30)
    for i in range(1, 40):  # faster than anyone clicks: no event loop turn between them
        window.open_path(sample_paths[i % len(sample_paths)])
    go_on.set()
    last = sample_paths[39 % len(sample_paths)]
    result = wait_for_result(qtbot, window, last.name)
    qtbot.wait(300)  # anything still queued would arrive now
    assert computed == [first, result.request_id]  # the one under way, then only the latest
    assert result.request_id == window._latest_request
    assert window.last_result is result


def test_model_loads_in_background_and_an_early_picture_waits_for_it(qtbot, make_window, sample):
    window = make_window(share_model=False)  # loads the bundled model itself, in its worker thread
    assert window.model_info is None  # the window is up before the model
    assert "Loading" in window.model_label.text()
    window.open_path(sample)  # before the model is ready
    assert "as soon as the model is loaded" in window.statusBar().currentMessage()
    result = wait_for_result(qtbot, window, sample.name, timeout=120_000)
    assert window.model_info is not None
    assert result.analysis.prediction is not None
    assert "Model ready" in window.model_label.text()


def test_a_batch_asked_for_before_the_model_loads_waits_for_it_or_can_be_cancelled(qtbot, make_window, photo_folder):
    window = make_window(share_model=False)
    assert window.model_info is None
    window.start_batch([photo_folder], "first")
    assert "as soon as the model is loaded" in window.statusBar().currentMessage()
    window.batch_panel.cancel_button.click()  # while it waits: it never starts
    assert window.batch_panel.title.text().startswith("Cancelled")
    assert not window.batch_panel.cancel_button.isEnabled()
    window.start_batch([photo_folder], "second")
    qtbot.waitUntil(lambda: window.batch_panel.title.text().startswith("Done"), timeout=120_000)
    assert len(window.batch_panel.rows()) == 3  # the second batch, once; the first never ran


def test_closing_during_inference_stops_the_worker(qtbot, window, sample_paths):
    for path in sample_paths:
        window.open_path(path)
    window.close()  # while the worker is busy
    assert not window.worker.is_running()
    QApplication.processEvents()  # late signals reach a closed window harmlessly


def test_closing_while_the_model_loads(qtbot, make_window):
    window = make_window(share_model=False)
    window.close()
    assert not window.worker.is_running()
    QApplication.processEvents()


def test_closing_during_a_batch(qtbot, window, photo_folder):
    window.start_batch([photo_folder], "photos")
    window.close()
    assert not window.batch_panel.is_running()
    assert not window.worker.is_running()


def test_the_window_module_leaves_heavy_imports_to_the_workers():
    """Start-up stays fast and the GUI thread never imports TensorFlow or OpenCV itself."""
    import subprocess
    import sys

    code = (
        "import sys, fashion_desktop.app, fashion_desktop.ui.main_window; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
