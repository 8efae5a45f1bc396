"""Camera mode with the real model and real widgets: a video written here plays as the camera.

Faulty cameras are real video sources that start failing after some frames, as an unplugged webcam
does. Every test also checks (through the ui conftest) that no QThread outlives it. Nothing here asserts
on how long something took by the wall clock: fault timing runs on a FakeClock that moves one frame
interval per frame read, and "no backlog" is checked against the order in which frames were read.
"""

from __future__ import annotations

import bisect
import json
import sys
import threading
from collections import Counter

import cv2
import numpy as np
import pytest
from camera_video import CountingVideo, FailingVideo, FakeClock, still_frame, write_item_video
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QStackedWidget

from fashion_desktop.core import CLASS_NAMES
from fashion_desktop.core.analysis import analyze
from fashion_desktop.core.frame_sources import VideoFileSource
from fashion_desktop.core.live_camera import crop_to_guide
from fashion_desktop.ui.camera_panel import NO_CAMERA, CameraPanel
from fashion_desktop.ui.threads import running_threads

FPS = 30.0
SECONDS_PER_ITEM = 1.2
SETTLE_S = 0.35  # results this soon after a change of item may still show the previous one
CLASSES = (1, 8, 9)  # Trouser, Bag, Ankle boot: distinct shapes the model knows well


@pytest.fixture(scope="module")
def items(classifier, fashion_mnist):
    """One test item per class in CLASSES that the model gets right as the video shows it."""
    _, test = fashion_mnist
    chosen = []
    for cls in CLASSES:
        for i in np.flatnonzero(test.y == cls)[:40]:
            a = analyze(crop_to_guide(still_frame(test.x[i])), classifier)
            if a.prediction.index == cls and a.prediction.confidence > 0.6:
                chosen.append(int(i))
                break
        else:
            pytest.fail(f"the bundled model recognises none of the first 40 {CLASS_NAMES[cls]} items in a frame")
    return test.x[chosen], test.y[chosen]


@pytest.fixture(scope="module")
def video(tmp_path_factory, items):
    path = tmp_path_factory.mktemp("camera") / "held-up.avi"
    segments = write_item_video(path, *items, fps=FPS, seconds_per_item=SECONDS_PER_ITEM)
    return path, segments


@pytest.fixture
def make_panel(qtbot, classifier, tmp_path):
    """A shown CameraPanel with the real model (``CameraPanel``'s keywords, e.g. ``clock``, pass through)."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("scan_cameras", False)
        kwargs.setdefault("snapshot_dir", tmp_path / "snaps")
        panel = CameraPanel(classifier, **kwargs)
        qtbot.addWidget(panel)
        panel.resize(900, 560)
        panel.show()
        qtbot.waitExposed(panel)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.shutdown()


@pytest.fixture
def panel(make_panel):
    return make_panel()


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("FrameReader")]


def collect(panel) -> list:
    results: list = []
    panel.result_shown.connect(results.append)
    return results


def newest_read_by(source: CountingVideo, t: float) -> int:
    """The index of the newest frame whose read had returned at ``t`` (frame n is the n-th read)."""
    return bisect.bisect_right(source.read_times, t)


def test_results_follow_the_item_shown(qtbot, panel, video, classifier):
    path, segments = video
    results = collect(panel)
    painted: list[int] = []
    panel.view.frame_painted.connect(painted.append)
    source = CountingVideo(path)
    with qtbot.waitSignal(panel.fault, timeout=60_000) as ended:  # the video plays to its end
        panel.start_source(source)
    assert "has ended" in ended.args[0]
    assert not panel.is_running()
    settle = round(SETTLE_S * FPS)
    for seg in segments:
        shown = [r for r in results if seg.first + 1 + settle <= r.frame.index <= seg.last + 1]
        assert len(shown) >= 3, f"too few results while {CLASS_NAMES[seg.label]} was shown"
        smoothed = Counter(r.prediction.label for r in shown)
        raw = Counter(r.analysis.prediction.label for r in shown)
        expected = CLASS_NAMES[seg.label]
        assert smoothed[expected] >= 0.8 * len(shown), f"{expected}: {smoothed}"
        assert raw[expected] >= 0.6 * len(shown), f"{expected}: {raw}"
    # Live, the "one of the ten?" verdict is judged on the smoothed probabilities the bars show.
    live = [r for r in results if not r.frozen]
    assert all(r.known.score == classifier.judge_known(r.smoothed.probabilities).score for r in live)
    # The bars and the label on screen are the last result's.
    last = results[-1]
    assert last.known.recognised
    assert panel.results.category.text() == last.prediction.label == CLASS_NAMES[segments[-1].label]
    assert panel.results.bars.shown()[0][0] == last.prediction.label
    assert panel.results.blur.verdict() in ("sharp", "blurry")
    assert panel.results.model_input.image() is not None
    # The display and the classifier took the newest frame each time, never a queue of old ones. (How many
    # frames reach the screen, and how fast, is machine speed: benchmarks/camera.py measures that.)
    total = segments[-1].last + 1
    qtbot.waitUntil(lambda: painted and painted[-1] == total, timeout=10_000)  # the last frame was shown
    assert painted == sorted(set(painted))
    indices = [r.frame.index for r in results]
    assert indices == sorted(set(indices))
    for before, after in zip(results, results[1:]):
        # Frame n-1 was published before frame n was read, so when a result was ready, every frame but
        # the very newest read by then was there to take: the next result is of one of those or newer.
        assert after.frame.index >= newest_read_by(source, before.finished) - 1, (before.frame.index, after)
    assert all(r.started >= r.frame.captured and r.finished >= r.started for r in results)


def test_stop_releases_the_camera_and_start_works_again(qtbot, panel, video):
    path, _ = video
    source = CountingVideo(path, loop=True)
    results = collect(panel)
    panel.start_source(source)
    qtbot.waitUntil(lambda: len(results) >= 3, timeout=15_000)
    assert panel.stop_action.isEnabled() and not panel.start_action.isEnabled()
    panel.stop()
    assert not panel.is_running()
    assert source.closed == source.opened == 1  # released by the time stop() returns
    assert not running_threads() and not reader_threads()
    assert not panel.view.has_frame()
    count = len(results)
    qtbot.wait(200)
    assert len(results) == count  # nothing arrives after stop
    panel.start_source(source)  # the same camera again
    qtbot.waitUntil(lambda: len(results) >= count + 3, timeout=15_000)
    assert source.opened == 2
    panel.stop()
    assert source.closed == 2


def test_end_of_the_video_offers_reconnect(qtbot, panel, video):
    path, _ = video
    source = CountingVideo(path)
    with qtbot.waitSignal(panel.fault, timeout=30_000):
        panel.start_source(source)
    assert source.closed == 1
    assert panel.reconnect_button.isVisible() and panel.reconnect_action.isEnabled()
    assert "has ended" in panel.message_label.text()
    assert panel.last_error.reason == "ended"
    results = collect(panel)
    panel.reconnect_button.click()  # plays it again
    qtbot.waitUntil(lambda: len(results) >= 2, timeout=15_000)
    assert source.opened == 2
    assert not panel.reconnect_button.isVisible()
    panel.stop()


def test_a_camera_that_stops_delivering_is_reported_within_2s(qtbot, make_panel, video):
    path, _ = video
    clock = FakeClock(step=1 / FPS)  # one frame interval per read, whatever the machine's load
    panel = make_panel(clock=clock)
    source = FailingVideo(path, good=20, clock=clock)
    results = collect(panel)
    with qtbot.waitSignal(panel.fault, timeout=30_000) as fault:
        panel.start_source(source)
    noticed = clock()  # reading ended with the fault: the clock stands still since
    assert "stopped delivering pictures" in fault.args[0]
    assert 1.5 <= noticed - source.failing_since < 2.0
    assert source.closed == 1  # released
    assert not running_threads()
    assert results  # it worked until it failed
    assert panel.reconnect_button.isVisible()
    assert "stopped delivering" in panel.message_label.text()
    count = len(results)
    with qtbot.waitSignal(panel.fault, timeout=30_000):  # Reconnect opens it again; it fails again
        panel.reconnect()
    assert source.opened == 2 and source.closed == 2
    assert len(results) > count


def test_closing_while_running_leaves_no_thread_and_releases_the_camera(qtbot, classifier, video):
    path, _ = video
    panel = CameraPanel(classifier, scan_cameras=False)
    qtbot.addWidget(panel)
    panel.show()
    source = CountingVideo(path, loop=True)
    results = collect(panel)
    panel.start_source(source)
    qtbot.waitUntil(lambda: len(results) >= 2, timeout=15_000)
    panel.close()  # mid-stream, with an analysis likely under way
    assert not running_threads() and not reader_threads()
    assert source.closed == 1
    QApplication.processEvents()  # late signals reach a closed panel harmlessly


def test_switching_to_another_page_releases_the_camera(qtbot, classifier, video):
    path, _ = video
    stack = QStackedWidget()
    qtbot.addWidget(stack)
    picture_page = QLabel("picture")
    panel = CameraPanel(classifier, scan_cameras=False)
    stack.addWidget(picture_page)
    stack.addWidget(panel)
    stack.setCurrentWidget(panel)
    stack.show()
    source = CountingVideo(path, loop=True)
    results = collect(panel)
    panel.start_source(source)
    qtbot.waitUntil(lambda: len(results) >= 1, timeout=15_000)
    stack.setCurrentWidget(picture_page)
    assert not panel.is_running()
    assert source.closed == 1
    assert not reader_threads()


def test_freeze_mirror_and_snapshot(qtbot, panel, video, tmp_path):
    path, _ = video
    results = collect(panel)
    panel.start_source(VideoFileSource(path, loop=True))
    qtbot.waitUntil(lambda: len(results) >= 2 and panel.view.has_frame(), timeout=15_000)

    panel.freeze_action.trigger()
    qtbot.waitUntil(lambda: results[-1].frozen, timeout=5_000)
    frozen = results[-1]
    shown = panel.view.shown_index()
    assert frozen.frame.index == shown
    qtbot.wait(300)
    assert panel.view.shown_index() == shown  # the picture holds still
    assert results[-1] is frozen  # and is not classified again and again
    assert frozen.prediction is frozen.analysis.prediction  # a frozen frame shows its own result
    assert frozen.known is frozen.analysis.known

    with qtbot.waitSignal(panel.snapshot_saved, timeout=5_000) as saved:
        panel.snapshot_action.trigger()
    picture = saved.args[0]
    record = json.loads(open(picture[:-4] + ".json", encoding="utf-8").read())
    assert record["frame_index"] == shown
    assert record["prediction"]["label"] == frozen.analysis.prediction.label
    assert record["blur"]["blurry"] == frozen.analysis.blur.blurry
    assert np.array_equal(cv2.imread(picture)[..., ::-1], frozen.frame.image)  # lossless, as shown
    assert not list((tmp_path / "snaps").glob(".*"))  # no temporary files left behind

    panel.freeze_action.trigger()  # live again
    panel.mirror_action.trigger()
    qtbot.waitUntil(lambda: results[-1].mirrored and not results[-1].frozen, timeout=5_000)
    with qtbot.waitSignal(panel.snapshot_saved, timeout=5_000) as saved:
        panel.save_snapshot()
    record = json.loads(open(saved.args[0][:-4] + ".json", encoding="utf-8").read())
    assert record["mirrored"] is True
    mirrored = next(r for r in reversed(results) if r.frame.index == record["frame_index"])
    assert np.array_equal(cv2.imread(saved.args[0])[..., ::-1], mirrored.frame.image[:, ::-1])
    panel.stop()


def test_without_a_model_frames_show_blur_and_edges_but_no_class(qtbot, video):
    path, _ = video
    panel = CameraPanel(lambda: None, scan_cameras=False)
    qtbot.addWidget(panel)
    panel.show()
    results = collect(panel)
    panel.start_source(VideoFileSource(path, loop=True))
    qtbot.waitUntil(lambda: len(results) >= 2, timeout=15_000)
    panel.stop()
    assert results[-1].analysis.prediction is None and results[-1].prediction is None
    assert panel.results.category.text() == "No model"
    assert panel.results.blur.verdict() is not None


def test_no_camera_gives_a_clear_message_and_the_video_file_is_offered(qtbot, classifier, tmp_path):
    from fashion_desktop.core.frame_sources import available_cameras

    if available_cameras(max_index=5):
        pytest.skip("this machine has a camera")
    panel = CameraPanel(classifier)  # scans for cameras when first shown
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.cameras_found, timeout=15_000) as found:
        panel.show()
    assert found.args[0] == []
    assert panel.chooser.combo.currentText() == "No camera found"
    assert not panel.start_action.isEnabled()
    assert panel.message_label.text() == NO_CAMERA
    assert panel.start_selected() is False  # and nothing breaks
    panel.set_video_file(tmp_path / "demo.avi")
    assert panel.chooser.combo.currentText() == "Video file: demo.avi"
    assert panel.start_action.isEnabled()
    with qtbot.waitSignal(panel.fault, timeout=10_000) as fault:  # a missing file is a clear fault
        panel.start_selected()
    assert "does not exist" in fault.args[0]


def test_qt_bindings_keep_reference_counts(qtbot):
    """Camera mode emits ~100 signals a second for as long as it runs. PySide6 6.12.0 drops a reference
    to True on every emit() and to None on every call from Qt into Python (a timer tick, a posted event):
    on CPython < 3.12, where those objects are not immortal, the app aborts ("deallocating None") within
    minutes. PySide6-Essentials 6.11 or Python 3.12+ does not have the problem."""

    class Probe(QObject):
        ping = Signal()

    probe, ticks = Probe(), []
    probe.ping.connect(lambda: None)
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.append(1))
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(200):
        probe.ping.emit()
    timer.start()
    qtbot.waitUntil(lambda: len(ticks) >= 200, timeout=10_000)
    timer.stop()
    lost_true, lost_none = before[0] - sys.getrefcount(True), before[1] - sys.getrefcount(None)
    import PySide6

    assert lost_true < 50 and lost_none < 50, (
        f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} loses references "
        f"(True: {lost_true}, None: {lost_none} over 200 signals and 200 timer ticks): long camera sessions "
        "would crash. Install PySide6-Essentials<6.12, or run on Python 3.12 or later."
    )


def test_a_snapshot_on_a_full_disk_says_so_and_leaves_no_half_pair(qtbot, classifier, video, small_disk):
    path, _ = video
    panel = CameraPanel(classifier, scan_cameras=False, snapshot_dir=small_disk.path)
    qtbot.addWidget(panel)
    panel.show()
    results = collect(panel)
    panel.start_source(VideoFileSource(path, loop=True))
    qtbot.waitUntil(lambda: len(results) >= 2, timeout=15_000)
    small_disk.fill()
    messages = []
    panel.status.connect(messages.append)
    panel.save_snapshot()
    qtbot.waitUntil(lambda: any("could not be saved" in m for m in messages), timeout=5_000)
    assert "No space left" in messages[-1]
    assert sorted(p.name for p in small_disk.path.iterdir()) == [".filler"]  # no picture without its .json
    assert panel.is_running()  # live classification goes on
    panel.shutdown()
