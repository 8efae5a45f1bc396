"""How live the camera view is: display and classification rates over the last seconds, and the lag."""

from __future__ import annotations

import collections
import statistics
import time

RATE_WINDOW_S = 2.0  # display and classification rates are measured over the last two seconds


class RateMeter:
    """Events per second over the last ``window`` seconds (frames painted, results shown)."""

    def __init__(self, window: float = RATE_WINDOW_S):
        self.window = window
        self._times: collections.deque[float] = collections.deque(maxlen=1000)

    def tick(self, now: float | None = None) -> None:
        self._times.append(time.monotonic() if now is None else now)

    def clear(self) -> None:
        self._times.clear()

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        recent = [t for t in self._times if now - t <= self.window]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])


class LiveStats:
    """Frames painted and results shown per second, and how far behind the camera a result is (the
    median over the last 60 results, from capture to screen)."""

    def __init__(self, window: float = RATE_WINDOW_S):
        self.display, self.results = RateMeter(window), RateMeter(window)
        self._latencies: collections.deque[float] = collections.deque(maxlen=60)

    def clear(self) -> None:
        self.display.clear()
        self.results.clear()
        self._latencies.clear()

    def frame_painted(self) -> None:
        self.display.tick()

    def result_shown(self, captured: float, now: float | None = None) -> None:
        """``captured``: the ``time.monotonic()`` at which the camera delivered the classified frame."""
        now = time.monotonic() if now is None else now
        self.results.tick(now)
        self._latencies.append((now - captured) * 1e3)

    def median_latency_ms(self) -> float | None:
        return statistics.median(self._latencies) if self._latencies else None

    def text(self) -> str:
        latency = self.median_latency_ms()
        text = f"{self.display.rate():.0f} FPS · {self.results.rate():.1f} classifications/s"
        return text + (f" · {latency:.0f} ms behind" if latency is not None else "")
