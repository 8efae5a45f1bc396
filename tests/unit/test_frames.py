"""Frame sources, the newest-frame reader and its fault detection, the guide crop and the smoother (no Qt).

Videos are real files written here with cv2.VideoWriter; faulty sources are real video sources that
start failing, freeze or hang after some frames, as an unplugged or stuck webcam does.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest
from camera_video import CountingVideo, FailingVideo, write_item_video

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
            self.frozen_since = self.frozen_since or time.monotonic()
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
            self.hanging_since = self.hanging_since or time.monotonic()
            self.release.wait(30)
            return False, None
        return super().read()


def run_until_fault(source, timeout: float = 10.0) -> tuple[FrameReader, CameraError, float]:
    faults: list[tuple[CameraError, float]] = []
    got = threading.Event()

    def on_fault(error):
        faults.append((error, time.monotonic()))
        got.set()

    reader = FrameReader(source, on_fault=on_fault)
    reader.start()
    assert got.wait(timeout), "no fault reported"
    return reader, faults[0][0], faults[0][1]


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
        first = reader.wait_for_frame(0, timeout=5)
        assert first is not None
        time.sleep(0.3)  # a slow consumer
        newest = reader.latest()
        assert newest.index > first.index + 5  # frames read meanwhile were replaced, not queued
        taken = reader.wait_for_frame(newest.index, timeout=5)
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
    source = FailingVideo(video, good=20)
    reader, error, at = run_until_fault(source)
    assert error.reason == "failed"
    assert "stopped delivering pictures" in str(error) and "Reconnect" in str(error)
    assert at - source.failing_since < 2.0
    assert reader.stop(timeout=2)
    assert source.closed == 1


def test_a_frozen_camera_is_detected_within_2s(video):
    source = FrozenVideo(video, good=10)
    reader, error, at = run_until_fault(source)
    assert error.reason == "frozen"
    assert "same picture over and over" in str(error)
    assert at - source.frozen_since < 2.0
    assert reader.stop(timeout=2)
    assert source.closed == 1


def test_a_read_that_hangs_is_detected_within_2s(video):
    source = HangingVideo(video, good=10)
    reader, error, at = run_until_fault(source)
    assert error.reason == "timeout"
    assert "stopped responding" in str(error)
    assert at - source.hanging_since < 2.0
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
    source = FailingVideo(video, good=0)
    start = time.monotonic()
    reader = FrameReader(source, first_frame_seconds=0.5)
    reader.start()
    assert reader.wait_for_frame(0, timeout=5) is None
    deadline = time.monotonic() + 5
    while reader.error is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert reader.error is not None and reader.error.reason == "timeout"
    assert "opened but sent no picture" in str(reader.error)
    assert time.monotonic() - start >= 1.5  # never less than the stall time, even with a shorter allowance
    assert reader.stop(timeout=2)
    assert source.closed == 1


def test_a_slow_consumer_waits_for_a_frame_that_is_about_to_arrive(video):
    reader = FrameReader(VideoFileSource(video, loop=True))
    reader.start()
    try:
        frame = reader.wait_for_frame(0, timeout=5)
        while frame.index < 8:
            frame = reader.wait_for_frame(frame.index, timeout=5)
        assert reader.frame_interval == pytest.approx(1 / FPS, rel=0.3)
        assert reader.next_if_soon(frame) is frame  # just arrived: taken at once
        time.sleep(0.8 * reader.frame_interval)  # now nearly a whole interval old
        assert reader.next_if_soon(frame).index > frame.index  # the next one, a moment later
    finally:
        assert reader.stop()
