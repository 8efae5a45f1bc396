"""Background work for the window: loading the model, analysing the latest picture asked for, classifying folders.

Every worker is a ``ui.threads.ThreadWorker``: it runs its loop in a QThread of its own and talks to the
GUI only through typed signals (queued across threads by Qt). Heavy imports (OpenCV, TensorFlow) happen
inside those threads, so the window opens without waiting for them.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from PySide6.QtCore import QObject, Signal

from fashion_desktop.ui.results import BatchRow, ModelInfo, PictureFailure, PictureResult
from fashion_desktop.ui.threads import ThreadWorker, running_threads

if TYPE_CHECKING:  # core pulls in OpenCV and NumPy, which load in the workers' threads
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.ui.results import PictureSource

# The window asks for fewer pictures per model call than the CLI (core.analysis.PICTURES_PER_MODEL_CALL): rows
# keep coming several times a second, and Cancel waits for one call at most.
WINDOW_PICTURES_PER_MODEL_CALL = 8

__all__ = [
    "WINDOW_PICTURES_PER_MODEL_CALL",
    "AnalysisWorker",
    "BatchWorker",
    "Mailbox",
    "describe_source",
    "running_threads",
]

T = TypeVar("T")


class Mailbox(Generic[T]):
    """A one-slot mailbox: ``put`` replaces an item not yet taken, so a busy reader never builds a queue."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._woken = False
        self._closed = False

    def put(self, item: T) -> bool:
        """Leave ``item`` for the reader; True when it replaced one that was still waiting."""
        with self._cond:
            if self._closed:
                return False
            replaced = self._full
            self._item, self._full = item, True
            self._cond.notify_all()
            return replaced

    def take(self) -> T | None:
        """Wait for an item and return it; None when ``wake`` or ``close`` was called instead."""
        with self._cond:
            while not (self._full or self._woken or self._closed):
                self._cond.wait()
            self._woken = False
            if self._closed or not self._full:
                return None
            item, self._item, self._full = self._item, None, False
            return item

    def wake(self) -> None:
        """Make a waiting ``take`` return None, so the reader can look at its other flags."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def close(self) -> None:
        """Drop any waiting item; every ``take`` from now on returns None at once."""
        with self._cond:
            self._closed, self._item, self._full = True, None, False
            self._cond.notify_all()


@dataclass(frozen=True)
class _Request:
    request_id: int
    source: PictureSource
    name: str


def describe_source(source: PictureSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    if isinstance(source, (bytes, bytearray)):
        return "pasted picture"
    return "picture"


class AnalysisWorker(ThreadWorker):
    """Loads the model, then analyses pictures one at a time; a request made while busy replaces any waiting one."""

    progress = Signal(str)  # what the worker is doing, for the status bar
    finished = Signal(PictureResult)
    failed = Signal(PictureFailure)
    model_ready = Signal(ModelInfo)
    model_failed = Signal(str)  # what is wrong and how to fix it

    def __init__(
        self,
        model_dir: str | os.PathLike | None = None,
        classifier: Classifier | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._model_dir = model_dir
        self._classifier = classifier  # a model already loaded elsewhere is used as is
        self._mailbox: Mailbox[_Request] = Mailbox()
        self._reload = threading.Event()
        self._ids = itertools.count(1)

    # -- GUI-thread API ------------------------------------------------------------------------------
    def request(self, source: PictureSource, name: str | None = None) -> int:
        """Ask for ``source`` to be analysed; returns the request's id (ids only grow)."""
        request_id = next(self._ids)
        self._mailbox.put(_Request(request_id, source, name or describe_source(source)))
        return request_id

    def reload_model(self, model_dir: str | os.PathLike | None = None) -> None:
        if model_dir is not None:
            self._model_dir = model_dir
        self._reload.set()
        self._mailbox.wake()

    # -- worker thread -------------------------------------------------------------------------------
    def _wake(self) -> None:
        self._mailbox.close()  # stopping: no request is taken any more

    def _run(self) -> None:
        try:
            from fashion_desktop.ui import display  # OpenCV, NumPy and core load here, not during start-up
        except Exception as exc:  # a broken install must say so, not die silently
            self.model_failed.emit(f"Fashion Lens is incomplete ({type(exc).__name__}: {exc}). Reinstall it.")
            return
        if self._classifier is None:
            self._load_model()
        else:
            self.model_ready.emit(display.model_info(self._classifier))
        while not self.stop_requested():
            if self._reload.is_set():
                self._reload.clear()
                self._load_model()
                continue
            request = self._mailbox.take()
            if request is None or self.stop_requested():
                continue
            self.progress.emit(f"Analysing {request.name}…")
            try:
                analysis, photo, edges, model_input = display.analyze_for_display(request.source, self._classifier)
            except display.ImageError as exc:
                self.failed.emit(PictureFailure(request.request_id, request.name, str(exc)))
            except Exception as exc:  # the loop must survive anything one picture does
                message = f"{request.name} could not be analysed ({type(exc).__name__}: {exc})."
                self.failed.emit(PictureFailure(request.request_id, request.name, message))
            else:
                self.finished.emit(PictureResult(request.request_id, request.name, analysis, photo, edges, model_input))

    def _load_model(self) -> None:
        from fashion_desktop.ui import display  # imported by _run already: no cost here

        self.progress.emit("Loading the model…")
        self._classifier = None
        try:
            info = display.load_model(self._model_dir)
        except display.ModelError as exc:
            self.model_failed.emit(str(exc))
        except Exception as exc:  # any failure to load is reported, never fatal
            self.model_failed.emit(f"The model could not be loaded ({type(exc).__name__}: {exc}).")
        else:
            self._classifier = info.classifier
            self.model_ready.emit(info)


class BatchWorker(ThreadWorker):
    """Classifies the image files of folders (and files) one by one; cancel with ``cancel``."""

    progress = Signal(int, int)  # files done, files in all
    row_ready = Signal(BatchRow)
    finished = Signal(int, bool)  # files done, cancelled
    failed = Signal(str)  # the batch as a whole could not run

    def __init__(self, paths: Sequence[str | os.PathLike], classifier: Classifier, parent: QObject | None = None):
        super().__init__(parent)
        self._paths = [Path(p) for p in paths]
        self._classifier = classifier

    def cancel(self) -> None:
        """Stop after the file under way; ``finished`` follows with ``cancelled`` True."""
        self.request_stop()

    def _run(self) -> None:
        from fashion_desktop.core.analysis import find_images

        files, unreadable = [], []
        for path in self._paths:  # one path that cannot be looked at (name too long...) is one error row
            try:
                files += find_images([path])
            except (OSError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                message = f"{path} cannot be opened ({reason})"
                unreadable.append(BatchRow(path, error=message, record={"path": str(path), "error": message}))
        total, done = len(files) + len(unreadable), len(unreadable)
        self.progress.emit(0, total)
        for row in unreadable:
            self.row_ready.emit(row)
        if unreadable:
            self.progress.emit(done, total)
        try:
            done = self._classify(files, done, total)
        except Exception as exc:  # e.g. the model gives no probabilities: end the batch, say why
            self.failed.emit(f"The batch stopped after {done} of {total} files: {exc}")
        self.finished.emit(done, done < total)

    def _classify(self, files: list[Path], done: int, total: int) -> int:
        from fashion_desktop.core.analysis import analyze_files, failure_message
        from fashion_desktop.core.serialize import analysis_row

        for path, result in analyze_files(files, self._classifier, batch=WINDOW_PICTURES_PER_MODEL_CALL):
            if isinstance(result, Exception):  # one odd file must not end the batch
                message = failure_message(result)
                row = BatchRow(path, error=message, record={"path": str(path), "error": message})
            else:
                p, known = result.prediction, result.known
                assert p is not None and known is not None  # a batch always has a model
                row = BatchRow(
                    path,
                    p.label,
                    p.confidence,
                    bool(result.blur.blurry),
                    float(result.blur.score),
                    known=bool(known.recognised),
                    record=analysis_row(result, path=str(path)),
                )
            done += 1
            self.row_ready.emit(row)
            self.progress.emit(done, total)
            if self.stop_requested():
                break
        return done
