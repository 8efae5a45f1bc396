"""Writes real video files for the camera tests and benchmark: Fashion-MNIST items held up in front of a room.

Each item is a test-set picture, negated (dark product on white, as the photos Fashion-MNIST was made
from) and enlarged into the middle of a 640x480 frame, over a cluttered background; every frame gets a
little jitter and sensor-like noise, so no two frames are identical, as with a real webcam.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core.frame_sources import VideoFileSource

SIZE = (640, 480)  # width, height
ITEM_FRACTION = 0.5  # item's side as a share of the frame height: inside the default guide box (0.6)


@dataclass(frozen=True)
class Segment:
    label: int  # Fashion-MNIST class index
    first: int  # first frame index (0-based) showing it
    last: int  # last frame index showing it


def _room(rng: np.random.Generator, size=SIZE) -> np.ndarray:
    """A background that would mislead the classifier if it were not cropped away: shelves, a poster."""
    w, h = size
    ramp = np.linspace(150, 200, w, dtype=np.float32)[None, :, None]
    room = np.broadcast_to(ramp, (h, w, 3)).copy() * np.array([0.9, 1.0, 1.05], np.float32)
    room = room.astype(np.uint8)
    for _ in range(12):  # clutter outside the middle
        x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        if abs(x0 + 30 - w / 2) < 170 and abs(y0 + 30 - h / 2) < 170:
            continue
        colour = tuple(int(c) for c in rng.integers(20, 235, 3))
        cv2.rectangle(room, (x0, y0), (x0 + int(rng.integers(20, 90)), y0 + int(rng.integers(20, 90))), colour, -1)
    return room


def item_frame(
    item: np.ndarray, room: np.ndarray, rng: np.random.Generator, jitter: int = 3, noise: int = 3
) -> np.ndarray:
    """One BGR frame: ``item`` (28x28 uint8, light on black) as a dark product on a white card in the room."""
    h, w = room.shape[:2]
    side = int(h * ITEM_FRACTION)
    card = 255 - cv2.resize(item, (side, side), interpolation=cv2.INTER_CUBIC)
    frame = room.copy()
    dx, dy = (int(v) for v in rng.integers(-jitter, jitter + 1, 2)) if jitter else (0, 0)
    pad = int(side * 0.08)  # the white card around the item
    x0, y0 = (w - side) // 2 + dx, (h - side) // 2 + dy
    cv2.rectangle(frame, (x0 - pad, y0 - pad), (x0 + side + pad, y0 + side + pad), (255, 255, 255), -1)
    frame[y0 : y0 + side, x0 : x0 + side] = card[..., None]
    if noise:
        frame = cv2.add(frame, rng.integers(0, noise + 1, frame.shape, dtype=np.uint8))
    return frame


def write_item_video(
    path: str | Path,
    items: np.ndarray,
    labels: np.ndarray,
    fps: float = 30.0,
    seconds_per_item: float = 1.0,
    seed: int = 0,
) -> list[Segment]:
    """Write an MJPG .avi showing each item for ``seconds_per_item``; returns which frames show what."""
    rng = np.random.default_rng(seed)
    room = _room(rng)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, SIZE)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    per_item = max(1, round(fps * seconds_per_item))
    segments, n = [], 0
    try:
        for item, label in zip(items, labels):
            for _ in range(per_item):
                writer.write(item_frame(item, room, rng))
            segments.append(Segment(int(label), n, n + per_item - 1))
            n += per_item
    finally:
        writer.release()
    return segments


def still_frame(item: np.ndarray, seed: int = 0) -> np.ndarray:
    """One RGB frame as the video would show ``item`` (to pick items the model recognises)."""
    rng = np.random.default_rng(seed)
    return cv2.cvtColor(item_frame(item, _room(rng), rng), cv2.COLOR_BGR2RGB)


class FakeClock:
    """A monotonic clock for the camera tests that moves only when told, so that no assertion depends on
    how busy the machine is: ``advance(seconds)``, and ``tick()`` (by ``step``), which the sources below
    call once per read: with ``step=1 / fps`` time passes one frame interval per frame read."""

    def __init__(self, start: float = 1000.0, step: float = 0.0):
        self._now = float(start)
        self.step = float(step)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def tick(self) -> None:
        self.advance(self.step)


class CountingVideo(VideoFileSource):
    """A video source that counts how often it was opened and released, and when each frame was read.

    ``clock``: a FakeClock that the source ticks on every read (the reader is given the same clock);
    by default the real ``time.monotonic``.
    """

    def __init__(self, path, clock: FakeClock | None = None, **kwargs):
        super().__init__(path, **kwargs)
        self.clock = clock
        self.opened = self.closed = 0
        self.reads_since_open = 0
        self.read_times: list[float] = []  # since the last open: when the n-th frame's read returned

    def now(self) -> float:
        return self.clock() if self.clock is not None else time.monotonic()

    def open(self) -> None:
        super().open()
        self.opened += 1
        self.reads_since_open = 0
        self.read_times = []

    def _tick(self) -> None:
        if self.clock is not None:
            self.clock.tick()

    def read(self):
        self.reads_since_open += 1
        self._tick()
        ok, frame = super().read()
        if ok:
            self.read_times.append(self.now())
        return ok, frame

    def close(self) -> None:
        if self._capture is not None:
            self.closed += 1
        super().close()


class FailingVideo(CountingVideo):
    """Delivers ``good`` frames, then every read fails (an unplugged camera); remembers when that began."""

    def __init__(self, path, good: int, **kwargs):
        super().__init__(path, loop=True, **kwargs)
        self.good = good
        self.failing_since: float | None = None

    def read(self):
        if self.reads_since_open >= self.good:
            self._tick()
            self.failing_since = self.failing_since or self.now()
            return False, None
        return super().read()
