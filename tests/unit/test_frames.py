"""Frame sources, the newest-frame reader and its fault detection, the guide crop and the smoother (no Qt).

Videos are real files written here with cv2.VideoWriter; faulty sources are real video sources that
start failing, freeze or hang after some frames, as an unplugged or stuck webcam does. The fault timing
runs on a FakeClock that the test (or each frame read) moves, so no assertion depends on the machine's load.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest
from camera_video import CountingVideo, FailingVideo, FakeClock, write_item_video

from fashion_desktop.core.frame_sources import (
    CameraError,
    CameraInfo,
    CameraSource,
    EndOfStream,
    VideoFileSource,
    available_cameras,
)
from fashion_desktop.core.live_camera import FrameReader, ProbabilitySmoother, crop_to_guide, guide_rect

FPS = 30.0
WAIT_S = 30.0  # generous: waiting for something that must happen, never a measurement
GLANCE_S = 0.3  # for what must *not* happen: the watchdog looks every 0.1 s


@pytest.fixture(scope="module")
def video(tmp_path_factory, fashion_mnist):
    """Two test items, half a second each: 30 frames of 640x480."""
    _, test = fashion_mnist
    picks = [int(np.flatnonzero(test.y == c)[0]) for c in (1, 8)]
    path = tmp_path_factory.mktemp("video") / "items.avi"
    write_item_video(path, test.x[picks], test.y[picks], fps=FPS, seconds_per_item=0.5)
    return path


class FrozenVideo(CountingVideo):
    """A live source that sends the same frame again and again after ``good`` frames."""

    live = True

    def __init__(self, path, good: int, **kwargs):
        super().__init__(path, loop=True, **kwargs)
        self.good = good
        self.frozen_since: float | None = None
        self._last = None

    def read(self):
        if self.reads_since_open >= self.good and self._last is not None:
            self.reads_since_open += 1
            self._tick()
            self.frozen_since = self.frozen_since or self.now()
            time.sleep(1 / FPS)
            return True, self._last.copy()
        ok, frame = super().read()
        self._last = frame
        return ok, frame


class HangingVideo(CountingVideo):
    """After ``good`` frames a read blocks until ``release`` is set (a driver stuck inside read)."""

    def __init__(self, path, good: int, **kwargs):
        super().__init__(path, loop=True, **kwargs)
        self.good = good
        self.release = threading.Event()
        self.hanging_since: float | None = None

    def read(self):
        if self.reads_since_open >= self.good:
            self.hanging_since = self.hanging_since or self.now()
            self.release.wait(30)
            return False, None
        return super().read()


def start_reader(source, **kwargs) -> tuple[FrameReader, list[tuple[CameraError, float]], threading.Event]:
    """A started reader on ``source``'s clock, the faults it reported with the clock's time, and an event set on one."""
    faults: list[tuple[CameraError, float]] = []
    got = threading.Event()

    def on_fault(error):
        faults.append((error, reader.clock()))
        got.set()

    reader = FrameReader(source, on_fault=on_fault, clock=getattr(source, "now", time.monotonic), **kwargs)
    reader.start()
    return reader, faults, got


def run_until_fault(source, timeout: float = WAIT_S) -> tuple[FrameReader, CameraError, float]:
    reader, faults, got = start_reader(source)
    assert got.wait(timeout), "no fault reported"
    return reader, faults[0][0], faults[0][1]


def wait_for(condition, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def fault_after_stall(source, clock: FakeClock, since: str) -> tuple[FrameReader, CameraError, float]:
    """Start a reader; once ``source.<since>`` is set (the fault began), move the clock 1.4 s on: no fault
    yet; then 0.2 s more: the fault. Returns the reader, the fault and how long after ``since`` it came."""
    reader, faults, got = start_reader(source)
    wait_for(lambda: getattr(source, since) is not None)
    clock.advance(1.4)
    time.sleep(GLANCE_S)
    assert not faults, f"reported before the stall time: {faults}"
    clock.advance(0.2)
    assert got.wait(WAIT_S), "no fault reported"
    error, at = faults[0]
    return reader, error, at - getattr(source, since)


def test_video_file_source_delivers_rgb_frames_and_ends(video):
    source = VideoFileSource(video, realtime=False)
    source.open()
    try:
        assert source.fps == pytest.approx(FPS)
        assert source.name == "Video items.avi"
        frames = []
        while True:
            ok, frame = source.read()
            if not ok:
                break
            frames.append(frame)
        assert len(frames) == 30
        assert frames[0].shape == (480, 640, 3) and frames[0].dtype == np.uint8
        assert source.ended
        capture = cv2.VideoCapture(str(video))
        _, bgr = capture.read()
        capture.release()
        assert np.array_equal(frames[0], bgr[..., ::-1])  # RGB, as everything in core expects
    finally:
        source.close()
        source.close()  # twice is fine


def test_looping_video_plays_on_past_its_end(video):
    source = VideoFileSource(video, loop=True, realtime=False)
    source.open()
    try:
        assert all(source.read()[0] for _ in range(75))
        assert not source.ended
    finally:
        source.close()


def test_realtime_video_is_paced_like_a_camera(video):
    source = VideoFileSource(video)
    source.open()
    try:
        start = time.monotonic()
        for _ in range(15):
            assert source.read()[0]
        assert time.monotonic() - start >= 14 / FPS * 0.9
    finally:
        source.close()


def test_missing_and_damaged_videos_give_clear_errors(tmp_path):
    missing = tmp_path / "nope.avi"
    with pytest.raises(CameraError, match="does not exist") as info:
        VideoFileSource(missing).open()
    assert info.value.reason == "open" and str(missing) in str(info.value)
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"RIFF" + bytes(range(256)) * 40)
    with pytest.raises(CameraError, match="cannot be played: it is damaged"):
        VideoFileSource(junk).open()


def test_a_camera_that_is_not_there_says_so():
    with pytest.raises(CameraError) as info:
        CameraSource(9).open()
    assert info.value.reason == "open"
    assert "Camera 9 cannot be opened" in str(info.value)
    assert "privacy" in str(info.value)  # says what to check


def test_available_cameras_lists_only_cameras_that_deliver():
    cameras = available_cameras(max_index=3)
    assert all(isinstance(c, CameraInfo) and c.width > 0 and c.height > 0 for c in cameras)
    for camera in cameras:  # only on machines with a webcam: each one listed really opens
        source = CameraSource(camera.index)
        source.open()
        source.close()


def test_reader_keeps_only_the_newest_frame(video):
    source = CountingVideo(video, realtime=False, loop=True)
    reader = FrameReader(source)
    reader.start()
    try:
        first = reader.wait_for_frame(0, timeout=WAIT_S)
        assert first is not None
        wait_for(lambda: reader.frames_read > first.index + 5)  # a slow consumer takes nothing meanwhile
        newest = reader.latest()
        assert newest.index > first.index + 5  # frames read meanwhile were replaced, not queued
        taken = reader.wait_for_frame(newest.index, timeout=WAIT_S)
        assert taken is not None and taken.index > newest.index
        assert taken.captured >= newest.captured
        assert reader.wait_for_frame(10**9, timeout=0.05) is None  # nothing newer: times out
    finally:
        assert reader.stop()
    assert source.closed == 1
    assert not reader.running


def test_end_of_a_video_is_reported_and_the_file_released(video):
    source = CountingVideo(video)
    reader, error, _ = run_until_fault(source)
    assert isinstance(error, EndOfStream) and error.reason == "ended"
    assert "Video items.avi has ended" in str(error)
    assert reader.stop(timeout=2)
    assert reader.frames_read == 30
    assert source.closed == 1
    assert reader.error is error
    assert reader.wait_for_frame(30, timeout=1) is None  # returns at once once reading has ended


def test_a_source_whose_reads_start_failing_is_detected_within_2s(video):
    source = FailingVideo(video, good=20, clock=FakeClock(step=1 / FPS))  # time: one interval a read
    reader, error, at = run_until_fault(source)
    assert error.reason == "failed"
    assert "stopped delivering pictures" in str(error) and "Reconnect" in str(error)
    assert 1.5 <= at - source.failing_since < 2.0
    assert reader.stop(timeout=2)
    assert source.closed == 1


def test_a_frozen_camera_is_detected_within_2s(video):
    clock = FakeClock()
    source = FrozenVideo(video, good=10, clock=clock)
    reader, error, after = fault_after_stall(source, clock, "frozen_since")
    assert error.reason == "frozen"
    assert "same picture over and over" in str(error)
    assert 1.5 <= after < 2.0
    assert reader.stop(timeout=2)
    assert source.closed == 1


def test_a_read_that_hangs_is_detected_within_2s(video):
    clock = FakeClock()
    source = HangingVideo(video, good=10, clock=clock)
    reader, error, after = fault_after_stall(source, clock, "hanging_since")
    assert error.reason == "timeout"
    assert "stopped responding: no picture for 1.6 s" in str(error)
    assert 1.5 <= after < 2.0
    assert not reader.stop(timeout=0.1)  # the read is still stuck: stop does not wait for it forever
    source.release.set()  # the driver returns at last: the source is released then
    assert reader.stop(timeout=5)
    assert source.closed == 1


def test_a_source_that_cannot_open_is_reported_by_the_reader(tmp_path):
    reader, error, _ = run_until_fault(VideoFileSource(tmp_path / "gone.avi"))
    assert error.reason == "open" and "does not exist" in str(error)
    assert reader.stop(timeout=2)


def test_guide_box_is_centred_and_the_crop_is_a_view():
    frame = np.zeros((480, 640, 3), np.uint8)
    assert guide_rect(640, 480, 0.6) == (176, 96, 288, 288)
    crop = crop_to_guide(frame, 0.6)
    assert crop.shape == (288, 288, 3)
    assert np.shares_memory(crop, frame)
    frame[96, 176] = 7
    assert crop[0, 0, 0] == 7
    assert crop_to_guide(frame, 1.0).shape == (480, 480, 3)
    assert crop_to_guide(np.zeros((10, 10), np.uint8), 0.0).shape == (1, 1)  # clamped, never empty


def test_smoother_follows_a_change_of_item_within_a_third_of_a_second():
    smoother = ProbabilitySmoother()
    a, b = np.eye(10)[1], np.eye(10)[8]
    t = 0.0
    for _ in range(20):  # a trouser for a second at 20 classifications/s
        out = smoother.update(a, t)
        t += 0.05
    assert out[1] == pytest.approx(1.0)
    changed = t
    lead_at = None
    while t - changed <= 0.3:
        out = smoother.update(b, t)
        if lead_at is None and np.argmax(out) == 8:
            lead_at = t - changed
        t += 0.05
    assert lead_at is not None and lead_at <= 0.15
    assert out[8] > 0.85  # nearly all the way after 0.3 s
    assert out.sum() == pytest.approx(1.0)


def test_smoother_steadies_flicker_and_does_not_depend_on_the_rate():
    noisy = [np.array([0.6, 0.4]), np.array([0.4, 0.6])] * 20
    smoother = ProbabilitySmoother()
    outs = [smoother.update(p, i * 0.04) for i, p in enumerate(noisy)]
    assert max(abs(o[0] - 0.5) for o in outs[10:]) < 0.05  # the raw values swing by 0.1
    slow, fast = ProbabilitySmoother(), ProbabilitySmoother()
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    slow.update(a, 0.0)
    fast.update(a, 0.0)
    for i in range(1, 3):
        slow_out = slow.update(b, i * 0.1)
    for i in range(1, 11):
        fast_out = fast.update(b, i * 0.02)
    assert slow_out[1] == pytest.approx(fast_out[1], abs=1e-6)  # same time, same answer
    smoother.reset()
    assert smoother.update(np.array([0.2, 0.8]))[1] == pytest.approx(0.8)


def test_frames_module_imports_without_qt_or_tensorflow():
    code = (
        "import sys, fashion_desktop.core.frame_sources, fashion_desktop.core.live_camera; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'tensorflow', 'keras')]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_a_camera_that_never_sends_a_picture_is_reported_after_the_start_up_allowance(video):
    clock = FakeClock()
    source = FailingVideo(video, good=0, clock=clock)
    reader, faults, got = start_reader(source, first_frame_seconds=0.5)
    wait_for(lambda: source.failing_since is not None)  # opened, and reading nothing
    clock.advance(1.4)  # past the 0.5 s asked for, but never less than the stall time (1.5 s)
    time.sleep(GLANCE_S)
    assert reader.error is None
    clock.advance(0.2)
    assert got.wait(WAIT_S)
    assert reader.error is not None and reader.error.reason == "timeout"
    assert "opened but sent no picture" in str(reader.error)
    assert reader.stop(timeout=2)
    assert source.closed == 1


class SteppedVideo(CountingVideo):
    """A camera whose every read waits until the test lets one more frame through (``deliver``), or
    until ``let_go``, after which reads no longer wait."""

    def __init__(self, path, **kwargs):
        super().__init__(path, loop=True, realtime=False, **kwargs)
        self._permits = threading.Semaphore(0)
        self._free = threading.Event()

    def deliver(self, frames: int = 1) -> None:
        for _ in range(frames):
            self._permits.release()

    def let_go(self) -> None:
        self._free.set()
        self._permits.release()  # wakes a read that is waiting now

    def read(self):
        if not self._free.is_set() and not self._permits.acquire(timeout=WAIT_S):
            return False, None
        return super().read()


def test_a_slow_consumer_waits_for_a_frame_that_is_about_to_arrive(video):
    interval = 1 / FPS
    clock = FakeClock(step=interval)  # frames arrive exactly one interval apart
    source = SteppedVideo(video, clock=clock)
    reader, _, _ = start_reader(source)
    try:
        source.deliver(8)
        wait_for(lambda: reader.frames_read == 8)
        frame = reader.latest()
        assert frame.index == 8
        assert reader.frame_interval == pytest.approx(interval)
        assert reader.next_if_soon(frame) is frame  # just arrived: taken at once
        clock.step = 0.0
        clock.advance(0.8 * interval)  # now nearly a whole interval old, and the next one is coming
        source.deliver(1)
        wait_for(lambda: reader.frames_read == 9)
        assert reader.next_if_soon(frame).index == 9  # the next one, not the nearly stale one
    finally:
        source.let_go()  # the read under way returns; stopping ends the loop after it
        assert reader.stop()
