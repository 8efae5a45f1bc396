"""Frame sources for live pictures: a camera, a video file, and the errors they report. Qt-free.

A camera is slow to open and blocks on every read, so sources are only ever used from a
``core.live_camera.FrameReader``'s own thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_FPS = 30.0  # for files that do not say (and cameras that report 0)


class CameraError(Exception):
    """A frame source cannot be used or stopped delivering; the message says which and what to do.

    ``reason`` is one of ``"open"`` (cannot be opened), ``"failed"`` (reads fail), ``"timeout"`` (reads
    hang), ``"frozen"`` (the same frame over and over) and ``"ended"`` (end of a video file).
    """

    def __init__(self, message: str, reason: str = "failed"):
        super().__init__(message)
        self.reason = reason


class EndOfStream(CameraError):
    """A video file played to its end (not a fault of the file; it is reported the same way)."""

    def __init__(self, message: str):
        super().__init__(message, "ended")


# -- sources ---------------------------------------------------------------------------------------------
class FrameSource:
    """Something that delivers RGB frames: ``open``, then ``read`` until it says no more, then ``close``.

    ``read`` returns ``(True, rgb)`` or ``(False, None)``, like OpenCV; a source that has reached its
    natural end sets ``ended``. Sources can be opened again after ``close`` (that is how Reconnect works).
    ``live`` sources (cameras) never repeat a frame exactly, so a repeated frame means a frozen device.
    """

    name: str = "source"
    live: bool = False
    ended: bool = False

    @property
    def fps(self) -> float:
        return DEFAULT_FPS

    def open(self) -> None:
        """Open the device or file; raises CameraError with a message for a person."""

    def read(self) -> tuple[bool, np.ndarray | None]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device; safe to call twice."""


class _CaptureSource(FrameSource):
    """A source backed by ``cv2.VideoCapture``; subclasses say what to open."""

    def __init__(self) -> None:
        self._capture: cv2.VideoCapture | None = None
        self._fps = DEFAULT_FPS

    @property
    def fps(self) -> float:
        return self._fps

    def _open_capture(self) -> cv2.VideoCapture:
        raise NotImplementedError

    def open(self) -> None:
        self.close()
        self.ended = False
        capture = self._open_capture()
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FPS
        self._capture = capture

    def _grab(self) -> tuple[bool, np.ndarray | None]:
        if self._capture is None:
            return False, None
        ok, bgr = self._capture.read()
        if not ok or bgr is None or bgr.size == 0:
            return False, None
        if bgr.ndim == 2:
            return True, cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        return True, cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB if bgr.shape[2] == 4 else cv2.COLOR_BGR2RGB)

    def read(self) -> tuple[bool, np.ndarray | None]:
        return self._grab()

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


class CameraSource(_CaptureSource):
    """A webcam by OpenCV index (0 is the system's first camera)."""

    live = True

    def __init__(self, index: int = 0):
        super().__init__()
        self.index = int(index)
        self.name = f"Camera {self.index}"

    def _open_capture(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.index)
        if not capture.isOpened():
            capture.release()
            raise CameraError(
                f"{self.name} cannot be opened: it is not connected, another program is using it, or this "
                "app is not allowed to use the camera (check the system's privacy settings).",
                "open",
            )
        return capture


class VideoFileSource(_CaptureSource):
    """A video file played as if it were a camera: at its own frame rate (``realtime``), optionally looping."""

    def __init__(self, path: str | Path, loop: bool = False, realtime: bool = True):
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self.realtime = realtime
        self.name = f"Video {self.path.name}"
        self._due = 0.0

    def _open_capture(self) -> cv2.VideoCapture:
        if not self.path.is_file():
            raise CameraError(f"The video {self.path} does not exist.", "open")
        capture = cv2.VideoCapture(str(self.path))
        ok = capture.isOpened()
        if ok:  # some broken files open but hold no frame: find out now, not as a "stalled camera"
            ok, first = capture.read()
            ok = ok and first is not None
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        if not ok:
            capture.release()
            raise CameraError(
                f"The video {self.path} cannot be played: it is damaged or in a format OpenCV cannot read.", "open"
            )
        self._due = 0.0
        return capture

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.realtime:  # a camera blocks until its next frame; do the same at the file's rate
            now = time.monotonic()
            self._due = max(self._due + 1.0 / self.fps, now - 1.0 / self.fps) if self._due else now
            if self._due > now:
                time.sleep(self._due - now)
        ok, frame = self._grab()
        if not ok and self._capture is not None:
            if self.loop:
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._grab()
            if not ok:
                self.ended = True
        return ok, frame


@dataclass(frozen=True)
class CameraInfo:
    index: int
    width: int
    height: int

    @property
    def name(self) -> str:
        return f"Camera {self.index} ({self.width}x{self.height})"


def available_cameras(max_index: int = 5) -> list[CameraInfo]:
    """Cameras at indices 0..max_index-1 that open *and* deliver a frame (slow: call off the GUI thread)."""
    found = []
    for index in range(max_index):
        capture = cv2.VideoCapture(index)
        try:
            if not capture.isOpened():
                continue
            ok, frame = capture.read()
            if ok and frame is not None and frame.size:
                found.append(CameraInfo(index, frame.shape[1], frame.shape[0]))
        finally:
            capture.release()
    return found
