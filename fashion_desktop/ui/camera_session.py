"""One run of one camera (or video file): its frame reader and its classification worker, started and stopped together.

A ``CameraSession`` owns a ``core.live_camera.FrameReader`` (a plain thread that reads the source and
keeps only the newest frame) and a ``CameraWorker`` (a QThread that classifies the newest frame
whenever it is free). It brings their events to the GUI thread as Qt signals; a new frame to show is
announced once until the GUI takes it (``take_frame``), so the display never builds a backlog either.
The widgets that show all this are ``camera_panel.CameraPanel``'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from fashion_desktop.ui.camera_worker import CameraResult, CameraWorker, ClassifierProvider

if TYPE_CHECKING:
    from pathlib import Path

    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.core.live_camera import Frame

__all__ = ["CameraSession"]


class CameraSession(QObject):
    """Reads ``source`` and classifies its newest frames until ``stop`` or a fault; every signal reaches the GUI thread.

    ``clock`` dates the frames and times the faults and results (``time.monotonic`` unless a test
    gives a fake one).
    """

    frame_ready = Signal()  # a new frame to show: take it with take_frame (one announcement in flight at most)
    fault = Signal(object)  # core.frame_sources.CameraError: reading has ended and the source is being released
    result = Signal(CameraResult)
    failed = Signal(str)  # one frame could not be analysed (classification goes on)
    snapshot_saved = Signal(str)  # path of the picture (its .json is beside it)
    snapshot_failed = Signal(str)

    def __init__(
        self,
        source,
        classifier_provider: Classifier | ClassifierProvider | None,
        guide_fraction: float,
        mirror: bool = False,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        from fashion_desktop.core.live_camera import FrameReader

        super().__init__(parent)
        self.source = source
        self._display_pending = False  # a frame_ready is on its way to the GUI: don't send another
        self.reader = FrameReader(source, on_frame=self._on_frame, on_fault=self._on_fault, clock=clock)
        self.worker = CameraWorker(self.reader, classifier_provider, guide_fraction, mirror, clock=clock)
        for theirs, ours in (
            (self.worker.result, self.result),
            (self.worker.failed, self.failed),
            (self.worker.snapshot_saved, self.snapshot_saved),
            (self.worker.snapshot_failed, self.snapshot_failed),
        ):
            theirs.connect(ours)

    # -- GUI thread ----------------------------------------------------------------------------------
    def start(self) -> None:
        self.reader.start()
        self.worker.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop classifying (waits for the analysis under way) and reading; False when a hung source
        kept the reader beyond ``timeout`` s (it releases the source as soon as the read returns)."""
        self.worker.stop()
        return self.reader.stop(timeout=timeout)

    def take_frame(self) -> Frame | None:
        """The newest frame, for the display; the next new frame is announced again (``frame_ready``)."""
        self._display_pending = False
        return self.reader.latest()

    def set_mirror(self, mirror: bool) -> None:
        self.worker.set_mirror(mirror)

    def freeze(self, frame: Frame | None) -> None:
        """Classify ``frame`` once and hold it (unsmoothed), or go live again with None."""
        self.worker.freeze(frame)

    def save_snapshot(self, folder: str | Path) -> None:
        self.worker.save_snapshot(folder)

    # -- reader threads ------------------------------------------------------------------------------
    def _on_frame(self, _frame: Frame) -> None:  # the reader thread: keep it short
        if not self._display_pending:
            self._display_pending = True
            try:
                self.frame_ready.emit()
            except RuntimeError:  # the session's Qt object is gone; nobody is listening
                pass

    def _on_fault(self, error) -> None:  # the reader or its watchdog thread
        try:
            self.fault.emit(error)
        except RuntimeError:
            pass
