"""The one thread API of the window: a worker whose loop runs in a QThread of its own, started and stopped alike.

Modelled on superqt's ``WorkerBase``: a subclass writes ``_run`` (the loop, run in the thread) and, when
that loop can block waiting for work, ``_wake`` (unblocks it); the base starts the thread, stops it
(``requestInterruption``, wake, wait) and says whether it runs. The loop looks at ``stop_requested()``
and ends when it is True. Every thread started here is registered, so the tests can fail one that
outlives them (``running_threads``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

__all__ = ["LoopThread", "ThreadWorker", "running_threads"]

_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """This module's threads that are still running (the tests fail if any outlive a test)."""
    return [t for t in list(_threads) if t.isRunning()]


class LoopThread(QThread):
    """A QThread that runs one Python callable (a worker's loop) and registers itself for leak checks."""

    def __init__(self, target: Callable[[], None], name: str, wake: Callable[[], None] | None = None):
        super().__init__()
        self.setObjectName(name)
        self._target = target
        self._wake = wake  # unblocks the loop if it is waiting for work
        _threads.add(self)

    def run(self) -> None:
        self._target()

    def request_stop(self) -> None:
        """Ask the loop to end and wake it; returns at once."""
        self.requestInterruption()
        if self._wake is not None:
            self._wake()

    def stop(self) -> None:
        """Ask the loop to end, wake it, and wait until it has."""
        self.request_stop()
        self.wait()


class ThreadWorker(QObject):
    """A QObject whose ``_run`` loop runs in a LoopThread of its own; its signals reach the GUI queued.

    ``started`` and ``stopped`` come from the thread (the loop began / the loop has returned); the
    subclasses add typed signals for their results. The worker object itself lives in the thread that
    made it (the GUI thread), so slots connected to its signals run there.
    """

    started = Signal()  # the thread is running the loop
    stopped = Signal()  # the loop has returned (finished its work, or was asked to stop)

    def __init__(self, parent: QObject | None = None, *, name: str | None = None):
        super().__init__(parent)
        self._thread = LoopThread(self._run, name or type(self).__name__, wake=self._wake)
        self._thread.started.connect(self.started)
        self._thread.finished.connect(self.stopped)

    # -- for subclasses ------------------------------------------------------------------------------
    def _run(self) -> None:
        """The loop, run in the worker's thread: end it when ``stop_requested()`` is True."""
        raise NotImplementedError

    def _wake(self) -> None:
        """Unblock a loop waiting for work, so that it sees a stop request (nothing to do by default)."""

    # -- any thread ----------------------------------------------------------------------------------
    def stop_requested(self) -> bool:
        return self._thread.isInterruptionRequested()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    # -- GUI-thread API ------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end (the work under way is finished first) without waiting for it."""
        self._thread.request_stop()

    def stop(self) -> None:
        """Ask the loop to end and wait for it: at most the work under way (milliseconds)."""
        self._thread.stop()

    quit = stop  # superqt's name

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Wait for the loop to end (for ever by default); True when it has."""
        return self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)
