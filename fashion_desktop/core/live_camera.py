"""Live classification's plumbing: a reader that keeps only the newest frame and detects a source's
faults, the guide-box crop, and probability smoothing. Qt-free.

Everything that touches a source runs in the ``FrameReader``'s own thread; consumers (the display, the
classifier) take the newest frame when they are ready for one and never build a queue.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fashion_desktop.core.frame_sources import CameraError, EndOfStream, FrameSource

STALL_SECONDS = 1.5  # no new frame for this long: the source stopped delivering (reported within 2 s)
FIRST_FRAME_SECONDS = 5.0  # cameras take a while to send their first frame after opening
GUIDE_FRACTION = 0.6  # side of the guide box as a share of the frame's shorter side


# -- reader ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # RGB uint8; never written to after it is handed out
    index: int  # 1, 2, 3, ... in the order read
    captured: float  # the reader's clock (time.monotonic() unless told otherwise) when it arrived


def _signature(image: np.ndarray) -> bytes:
    """A cheap fingerprint: a sparse grid of pixels; a live camera's noise changes it every frame."""
    return image[::7, ::11].tobytes()


class FrameReader:
    """Reads a source continuously in a thread of its own and keeps only the newest frame (a one-slot).

    Faults are detected here: failing reads, reads that hang, and (for live sources) the same frame
    again and again, each for ``stall_seconds``; and the end of a file. The first fault is stored in
    ``error``, passed to ``on_fault`` (from a reader thread) and ends reading; the source is released.
    ``on_frame`` is called from the reader thread with each new frame: keep it short.

    ``clock`` dates frames and times faults (``time.monotonic`` by default); a test can give a fake
    clock, so that "reported within 2 s" does not depend on how busy the machine is. Waiting
    (``wait_for_frame``'s timeout, the pauses between checks) is always in real seconds.
    """

    def __init__(
        self,
        source: FrameSource,
        on_frame: Callable[[Frame], None] | None = None,
        on_fault: Callable[[CameraError], None] | None = None,
        stall_seconds: float = STALL_SECONDS,
        first_frame_seconds: float = FIRST_FRAME_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.source = source
        self.clock = clock
        self._on_frame = on_frame
        self._on_fault = on_fault
        self._stall = stall_seconds
        self._first = max(first_frame_seconds, stall_seconds)
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._stop = threading.Event()
        self._done = threading.Event()  # the reader thread has released the source and ended
        self._error: CameraError | None = None
        self._opened_at: float | None = None
        self._last_fresh: float | None = None  # when the last new (not repeated) frame arrived
        self._failing_since: float | None = None
        self._thread = threading.Thread(target=self._run, name=f"FrameReader({source.name})", daemon=True)
        self._watchdog = threading.Thread(target=self._watch, name="FrameReaderWatchdog", daemon=True)
        self.frames_read = 0
        self._interval = 0.0  # moving average of the time between frames (s)

    # -- consumers -----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._watchdog.start()

    def latest(self) -> Frame | None:
        with self._cond:
            return self._latest

    def wait_for_frame(self, after_index: int = 0, timeout: float | None = None) -> Frame | None:
        """The newest frame with an index above ``after_index``, waiting up to ``timeout`` s for one.

        None on timeout, or at once when reading has ended (see ``error``).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.index <= after_index:
                if self._error is not None or self._stop.is_set():
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)
            return self._latest

    @property
    def frame_interval(self) -> float | None:
        """Average time between frames so far (s), None before the second frame."""
        return self._interval or None

    def next_if_soon(self, frame: Frame, within: float = 0.3) -> Frame:
        """``frame``, or the one after it when that is due within ``within`` of a frame interval.

        A consumer slower than the source takes frames up to a whole interval old; waiting a moment
        for a frame that is about to arrive takes the oldest of them out, at little cost in rate.
        """
        interval = self.frame_interval
        if interval is None:
            return frame
        due = interval - (self.clock() - frame.captured)
        if due > within * interval:
            return frame
        newer = self.wait_for_frame(frame.index, timeout=max(0.0, due) + 0.25 * interval)
        return newer or frame

    @property
    def error(self) -> CameraError | None:
        return self._error

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and self._error is None and not self._stop.is_set()

    def stop(self, timeout: float = 5.0) -> bool:
        """End reading and wait until the source is released; False if a hung read kept it (daemon thread)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        self._watchdog.join(timeout)
        return not self._thread.is_alive()

    # -- reader thread -------------------------------------------------------------------------------
    def _fail(self, error: CameraError) -> None:
        with self._cond:
            if self._error is not None or self._stop.is_set():
                return
            self._error = error
            self._cond.notify_all()
        if self._on_fault is not None:
            self._on_fault(error)

    def _run(self) -> None:
        try:
            try:
                self.source.open()
            except CameraError as exc:
                self._fail(exc)
                return
            except Exception as exc:  # a backend failing oddly is still "cannot open"
                self._fail(CameraError(f"{self.source.name} cannot be opened ({type(exc).__name__}: {exc}).", "open"))
                return
            self._opened_at = self.clock()
            self._read_loop()
        finally:
            try:
                self.source.close()  # released by the thread that read it: VideoCapture is not thread-safe
            finally:
                self._done.set()
                with self._cond:
                    self._cond.notify_all()

    def _read_loop(self) -> None:
        last_signature = b""
        while not self._stop.is_set() and self._error is None:
            try:
                ok, image = self.source.read()
            except Exception as exc:  # a driver error is a failed read, with its reason
                ok, image = False, None
                reason = f" ({type(exc).__name__}: {exc})"
            else:
                reason = ""
            now = self.clock()
            if not ok or image is None:
                if self.source.ended:
                    self._fail(EndOfStream(f"{self.source.name} has ended. Choose Reconnect to play it again."))
                    return
                if self._failing_since is None:
                    self._failing_since = now
                # Before the first frame the watchdog's longer start-up allowance applies instead.
                elif self._last_fresh is not None and now - self._failing_since >= self._stall:
                    self._fail(
                        CameraError(
                            f"{self.source.name} stopped delivering pictures{reason}: it may have been unplugged "
                            "or taken by another program. Check it and choose Reconnect.",
                            "failed",
                        )
                    )
                    return
                time.sleep(0.01)  # a dead device fails at once; don't spin
                continue
            self._failing_since = None
            signature = _signature(image) if self.source.live else b""
            if not signature or signature != last_signature:
                self._last_fresh = now
            last_signature = signature
            with self._cond:
                if self._latest is not None:
                    gap = min(now - self._latest.captured, 1.0)
                    self._interval = gap if not self._interval else 0.9 * self._interval + 0.1 * gap
                frame = Frame(image, (self._latest.index if self._latest else 0) + 1, now)
                self._latest = frame
                self.frames_read += 1
                self._cond.notify_all()
            if self._on_frame is not None:
                self._on_frame(frame)

    def _watch(self) -> None:
        """Spot a source that hangs inside ``read`` or repeats one frame; the reader thread cannot see that."""
        while not self._stop.wait(0.1) and not self._done.is_set() and self._error is None:
            if self._opened_at is None:
                continue
            now = self.clock()
            if self._last_fresh is None:
                if now - self._opened_at >= self._first:
                    self._fail(
                        CameraError(
                            f"{self.source.name} opened but sent no picture within {self._first:.0f} s. "
                            "Check that it is not covered or used by another program, then choose Reconnect.",
                            "timeout",
                        )
                    )
                continue
            if now - self._last_fresh < self._stall:
                continue
            latest = self.latest()
            repeating = latest is not None and now - latest.captured < self._stall
            if repeating:
                message = f"{self.source.name} sends the same picture over and over: it has frozen."
            elif self._failing_since is not None:
                continue  # failing reads are the reader's to report, with their own message
            else:
                message = f"{self.source.name} stopped responding: no picture for {now - self._last_fresh:.1f} s."
            self._fail(CameraError(message + " Check it and choose Reconnect.", "frozen" if repeating else "timeout"))


# -- guide box and smoothing -------------------------------------------------------------------------------
def guide_rect(width: int, height: int, guide_fraction: float = GUIDE_FRACTION) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the centred square guide box in a frame of that size."""
    fraction = min(1.0, max(0.05, float(guide_fraction)))
    side = max(1, int(round(min(width, height) * fraction)))
    return (width - side) // 2, (height - side) // 2, side, side


def crop_to_guide(frame: np.ndarray, guide_fraction: float = GUIDE_FRACTION) -> np.ndarray:
    """The part of ``frame`` inside the centred guide box (a view, not a copy)."""
    x, y, w, h = guide_rect(frame.shape[1], frame.shape[0], guide_fraction)
    return frame[y : y + h, x : x + w]


class ProbabilitySmoother:
    """Exponential moving average over time: steady bars on a still item, a new item shown within ~0.3 s.

    Each update moves the average by ``1 - exp(-dt / time_constant)`` of the way to the new values, so
    the smoothing is the same whatever the classification rate. With the default 0.12 s a complete
    change of item takes the lead after ~0.1 s and is 90 % through after ~0.28 s.
    """

    def __init__(self, time_constant: float = 0.12):
        self.time_constant = float(time_constant)
        self._value: np.ndarray | None = None
        self._at = 0.0

    def reset(self) -> None:
        self._value = None

    def update(self, probabilities, now: float | None = None) -> np.ndarray:
        p = np.asarray(probabilities, np.float64)
        now = time.monotonic() if now is None else now
        if self._value is None or self._value.shape != p.shape or self.time_constant <= 0:
            self._value = p.copy()
        else:
            weight = 1.0 - math.exp(-max(0.0, now - self._at) / self.time_constant)
            self._value += weight * (p - self._value)
        self._at = now
        total = self._value.sum()
        return (self._value / total if total > 0 else self._value).astype(np.float32)
