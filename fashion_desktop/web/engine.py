"""The model and a bounded pool of analysis threads behind the web API: load once, admit or refuse, analyse."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from fashion_desktop.core.images import decode_footprint

if TYPE_CHECKING:  # the type only: load() imports classifier.py, so the server starts without TensorFlow
    from fashion_desktop.core.classifier import Classifier

PREVIEW_SIDE = 960  # px, long side of the pictures sent back for the page: a screen's worth, not a 12 MP photo


class Busy(Exception):
    """Too many pictures in hand (by count or by memory): the client should retry shortly."""


class NotReady(Exception):
    """The model is still loading, or could not be loaded."""


@dataclass(frozen=True)
class Outcome:
    row: dict
    images: dict | None
    ms: float  # time on the analysis thread


class Engine:
    """One Classifier, loaded on a thread at start-up, and ``workers`` analysis threads.

    Admission is bounded twice: at most ``workers + queue`` pictures in hand, and their decode footprint
    (told from the header, as folder runs do) within ``memory_budget``; one picture alone may exceed the
    budget, as in folder runs, since the decoder's own limits bound it. A refused request is :class:`Busy`
    (503 + Retry-After), so a flood queues a little and is then told to come back, never piling up memory.
    A picture counts as in hand until its thread is done with it, even when its request timed out.
    """

    def __init__(self, workers: int, queue: int, memory_budget: int, model_dir: str | os.PathLike | None = None):
        self.workers = workers
        self.capacity = workers + queue
        self.memory_budget = memory_budget
        self.model_dir = model_dir
        self.classifier: Classifier | None = None  # set before state becomes "ready"
        self.state = "loading"  # -> "ready" | "error"
        self.error: str | None = None
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="analyze", initializer=_one_opencv_thread)
        self._lock = threading.Lock()
        self._in_hand = 0
        self._bytes = 0

    # -- loading ---------------------------------------------------------------------------------------
    def load(self) -> None:
        """Load and warm up the model (blocking: call it off the event loop). Never raises."""
        from fashion_desktop.core.analysis import analyze
        from fashion_desktop.core.classifier import Classifier, ModelError

        try:
            classifier = Classifier.load(self.model_dir)
            # One picture through the whole pipeline: OpenCV's first GrabCut and resize set up their tables.
            warm = np.zeros((256, 256, 3), np.uint8)
            cv2.circle(warm, (128, 128), 80, (200, 200, 200), -1)
            analyze(warm, classifier, overlap=False)  # as requests will be analysed
        except ModelError as exc:
            self.state, self.error = "error", str(exc)
            return
        except Exception as exc:  # whatever the model folder holds: a message, not a traceback
            self.state, self.error = "error", f"the model could not be loaded ({type(exc).__name__}: {exc})"
            return
        self.classifier = classifier
        self.state = "ready"

    # -- analysis --------------------------------------------------------------------------------------
    async def run(self, data: bytes, *, top_k: int, name: str | None, images: bool, timeout: float) -> Outcome:
        """Analyse ``data`` on the pool. Raises NotReady, Busy, ImageError, ModelError or TimeoutError."""
        if self.state != "ready":
            raise NotReady(self.error or "the model is still loading")
        peak, _ = decode_footprint(data)
        with self._lock:
            if self._in_hand >= self.capacity or (self._in_hand and self._bytes + peak > self.memory_budget):
                raise Busy(f"the server has {self._in_hand} pictures in hand; try again in a moment")
            self._in_hand += 1
            self._bytes += peak
        try:
            future = self._pool.submit(self._analyze, data, top_k, name, images)
        except RuntimeError:  # the pool is shutting down
            self._release(peak)
            raise NotReady("the server is shutting down") from None
        future.add_done_callback(lambda _: self._release(peak))
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    def _release(self, peak: int) -> None:
        with self._lock:
            self._in_hand -= 1
            self._bytes -= peak

    def _analyze(self, data: bytes, top_k: int, name: str | None, images: bool) -> Outcome:
        from fashion_desktop.core.analysis import analyze
        from fashion_desktop.core.serialize import analysis_row

        if self.classifier is None:  # _analyze runs only once load() has set it
            raise NotReady(self.error or "the model is still loading")
        t = time.perf_counter()
        analysis = analyze(data, self.classifier, overlap=False)  # the pool keeps every core busy already
        row = analysis_row(analysis, top_k, path=name)
        extra = preview_images(analysis) if images and "error" not in row else None
        return Outcome(row, extra, (time.perf_counter() - t) * 1e3)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _one_opencv_thread() -> None:
    """Requests already run on one thread per core; OpenCV's own thread pool inside each of them only
    oversubscribed the cores. With it off, 4 clients on 2 cores got 53 requests/s, p95 85 ms (was 35, 151)."""
    cv2.setNumThreads(1)


def preview_images(analysis) -> dict:
    """The picture as decoded, the same with its Canny edges painted on, and what the model saw, as
    data URLs: the page shows what the pipeline saw (EXIF-turned, any format), not the browser's own decode."""
    from fashion_desktop.core.edges import render_overlay

    rgb, edges = analysis.image, analysis.edges
    h, w = rgb.shape[:2]
    k = PREVIEW_SIDE / max(h, w)
    if k < 1:
        size = (max(1, round(w * k)), max(1, round(h * k)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        edges = cv2.resize(edges, size, interpolation=cv2.INTER_NEAREST)
    return {
        "picture": _data_url(rgb, ".jpg"),
        "overlay": _data_url(render_overlay(rgb, edges), ".jpg"),
        "model_input": _data_url(analysis.model_input, ".png"),
    }


def _data_url(image: np.ndarray, ext: str) -> str:
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    params = [cv2.IMWRITE_JPEG_QUALITY, 85] if ext == ".jpg" else []
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:
        raise RuntimeError("could not encode a preview")  # pragma: no cover - OpenCV encodes any uint8 array
    mime = "image/jpeg" if ext == ".jpg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.tobytes()).decode('ascii')}"
