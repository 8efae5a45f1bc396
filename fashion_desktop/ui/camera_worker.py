"""Live classification in a QThread: always the newest camera frame, never a queue; snapshots written here too.

The worker takes the newest frame from a ``core.live_camera.FrameReader`` whenever it is free, crops it to
the guide box, runs ``core.analysis.analyze`` on the crop (the same path as every other picture),
smooths the probabilities over time and hands the GUI a ``CameraResult`` with its Qt images made.
Frames that arrive while it is busy are skipped, so results lag the camera by one analysis at most.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from fashion_desktop.ui.threads import ThreadWorker

if TYPE_CHECKING:  # the core modules pull in OpenCV and NumPy, which load in the worker's thread
    from fashion_desktop.core.analysis import Analysis
    from fashion_desktop.core.classifier import Classifier, KnownReport, Prediction
    from fashion_desktop.core.live_camera import Frame

ClassifierProvider = Callable[[], "Classifier | None"]  # the loaded Classifier, or None while there is none

MAX_FAILURE_REPORTS = 3  # per run: one broken frame should say so, a broken pipeline should not flood


@dataclass(frozen=True)
class CameraResult:
    """One classified frame: the whole frame as shown, what was analysed, and the images to paint."""

    frame: Frame  # as read (not mirrored)
    mirrored: bool
    guide: tuple[int, int, int, int]  # x, y, w, h of the guide box in the frame
    analysis: Analysis  # of the guide crop; prediction None when no model is loaded
    smoothed: Prediction | None  # of the smoothed probabilities (None without a model)
    edge_layer: QImage  # guide-box sized, transparent except the edges
    model_input: QImage  # what the model saw: 28 x 28 gray, or 64 x 64 colour for the colour photo model
    started: float  # the worker's clock (the reader's: time.monotonic() by default) when it took the frame
    finished: float  # the same clock when the result was ready
    frozen: bool = False  # the analysis of a frozen frame (not smoothed)
    smoothed_known: KnownReport | None = None  # of the smoothed probabilities

    @property
    def latency_ms(self) -> float:
        return (self.finished - self.frame.captured) * 1e3

    @property
    def prediction(self) -> Prediction | None:
        """What the bars show: the smoothed prediction live, the frame's own when frozen."""
        return self.analysis.prediction if self.frozen or self.smoothed is None else self.smoothed

    @property
    def known(self) -> KnownReport | None:
        """The "one of the ten?" verdict of what the bars show, so the heading agrees with them."""
        return self.analysis.known if self.frozen or self.smoothed_known is None else self.smoothed_known


def resolve_classifier(provider: Classifier | ClassifierProvider | None) -> Classifier | None:
    """``provider`` may be a Classifier itself, a callable returning one (or None), or None."""
    if provider is None or hasattr(provider, "predict"):
        return provider  # type: ignore[return-value]  # a Classifier (callables have no predict)
    return provider()


def snapshot_record(result: CameraResult, source_name: str, image_name: str) -> dict:
    """The JSON written next to a snapshot picture: what was shown and what it was classified as."""
    a = result.analysis
    record: dict = {
        "picture": image_name,
        "source": source_name,
        "taken": datetime.now().astimezone().isoformat(timespec="seconds"),
        "frame_index": result.frame.index,
        "mirrored": result.mirrored,
        "guide_box": dict(zip(("x", "y", "width", "height"), result.guide)),
        "blur": {"score": round(a.blur.score, 2), "threshold": a.blur.threshold, "blurry": bool(a.blur.blurry)},
        "prediction": None,
    }
    if a.prediction is not None:
        record["prediction"] = {
            "label": a.prediction.label,
            "confidence": round(a.prediction.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in a.prediction.ranked()},
            "known": bool(a.known.recognised) if a.known is not None else None,
        }
        if result.smoothed is not None and not result.frozen:
            record["smoothed"] = {
                "label": result.smoothed.label,
                "probabilities": {k: round(v, 4) for k, v in result.smoothed.ranked()},
                "known": bool(result.known.recognised) if result.known is not None else None,
            }
    return record


class CameraWorker(ThreadWorker):
    """Classifies the newest frame of ``reader`` again and again until stopped."""

    result = Signal(CameraResult)
    failed = Signal(str)  # one frame could not be analysed (the worker goes on)
    snapshot_saved = Signal(str)  # path of the picture written (its .json sits beside it)
    snapshot_failed = Signal(str)

    def __init__(
        self,
        reader,
        classifier_provider: Classifier | ClassifierProvider | None,
        guide_fraction: float,
        mirror: bool = False,
        smoothing_seconds: float = 0.12,
        prefer_fresh: bool = True,
        parent: QObject | None = None,
        clock: Callable[[], float] | None = None,
    ):
        """``prefer_fresh``: when the next frame is due within 30 % of a frame interval, wait for it
        rather than take the nearly stale newest one (FrameReader.next_if_soon): a few % fewer
        classifications, results about a quarter-frame fresher. ``clock`` times the results; by
        default the reader's own, so that a result's latency compares times of one clock."""
        super().__init__(parent)
        self._clock: Callable[[], float] = clock if clock is not None else getattr(reader, "clock", time.monotonic)
        self._reader = reader
        self._provider = classifier_provider
        self._guide_fraction = guide_fraction
        self._mirror = mirror
        self._smoothing = smoothing_seconds
        self._prefer_fresh = prefer_fresh
        self._lock = threading.Lock()
        self._woken = threading.Event()  # set by freeze, save_snapshot and stop
        self._frozen = None  # Frame to hold still, or None for live
        self._snapshot_to: Path | None = None
        self._last: CameraResult | None = None

    # -- GUI-thread API (start, stop and is_running are ThreadWorker's) ------------------------------
    def set_mirror(self, mirror: bool) -> None:
        self._mirror = bool(mirror)

    def freeze(self, frame) -> None:
        """Hold ``frame`` still (analyse it once, unsmoothed) or go live again with None."""
        with self._lock:
            self._frozen = frame
        self._woken.set()

    def save_snapshot(self, folder: str | Path) -> None:
        """Write the last classified frame and its result to ``folder`` (snapshot_saved / snapshot_failed)."""
        with self._lock:
            self._snapshot_to = Path(folder)
        self._woken.set()

    # -- worker thread -------------------------------------------------------------------------------
    def _wake(self) -> None:
        self._woken.set()

    def _run(self) -> None:
        from fashion_desktop.core.live_camera import ProbabilitySmoother  # OpenCV loads here, not in the GUI

        smoother = ProbabilitySmoother(self._smoothing)
        reader, last_index, frozen_done, failures = self._reader, 0, None, 0
        while not self.stop_requested():
            with self._lock:
                snapshot_to, self._snapshot_to = self._snapshot_to, None
                frozen = self._frozen
            if snapshot_to is not None:
                self._write_snapshot(snapshot_to)
            if frozen is not None:
                if frozen is frozen_done:
                    self._woken.wait(0.1)
                    self._woken.clear()
                    continue
                frame, frozen_done = frozen, frozen
            else:
                frozen_done = None
                frame = reader.wait_for_frame(last_index, timeout=0.05)
                if frame is None:
                    if reader.error is not None:  # reading ended; wait for stop, snapshots still work
                        self._woken.wait(0.1)
                        self._woken.clear()
                    continue
                if self._prefer_fresh:
                    frame = reader.next_if_soon(frame)
                last_index = frame.index
            try:
                result = self._analyze(frame, smoother, frozen=frozen is not None)
            except Exception as exc:  # a bad frame must not end live classification
                failures += 1
                if failures <= MAX_FAILURE_REPORTS:
                    self.failed.emit(f"A camera frame could not be analysed ({type(exc).__name__}: {exc}).")
                continue
            with self._lock:
                self._last = result
            self.result.emit(result)

    def _analyze(self, frame, smoother, frozen: bool) -> CameraResult:
        import numpy as np

        from fashion_desktop.core.analysis import analyze
        from fashion_desktop.core.classifier import Prediction
        from fashion_desktop.core.edges import edge_layer
        from fashion_desktop.core.live_camera import crop_to_guide, guide_rect
        from fashion_desktop.ui import display

        started = self._clock()
        mirrored = self._mirror
        image = frame.image
        guide = guide_rect(image.shape[1], image.shape[0], self._guide_fraction)
        crop = crop_to_guide(image, self._guide_fraction)
        # The guide box is centred, so the mirrored crop is the crop of the mirrored frame.
        crop = np.ascontiguousarray(crop[:, ::-1] if mirrored else crop)
        classifier = resolve_classifier(self._provider)
        analysis = analyze(crop, classifier) if classifier is not None else display.analyze_without_model(crop)
        smoothed = smoothed_known = None
        if analysis.prediction is not None:
            probabilities = np.asarray(analysis.prediction.probabilities, np.float32)
            if frozen:
                smoother.reset()  # going live again starts from the live picture, not the frozen one
            else:
                smoothed = Prediction.from_probabilities(smoother.update(probabilities, frame.captured))
                smoothed_known = (
                    classifier.for_photos().judge_known(smoothed.probabilities) if classifier is not None else None
                )
        return CameraResult(
            frame=frame,
            mirrored=mirrored,
            guide=guide,
            analysis=analysis,
            smoothed=smoothed,
            edge_layer=display.to_qimage(edge_layer(analysis.edges)),
            model_input=display.to_qimage(analysis.model_input),
            started=started,
            finished=self._clock(),
            frozen=frozen,
            smoothed_known=smoothed_known,
        )

    def _write_snapshot(self, folder: Path) -> None:
        import cv2
        import numpy as np

        from fashion_desktop.core.atomic import atomic_write_bytes, atomic_write_text

        with self._lock:
            result = self._last
        if result is None:
            self.snapshot_failed.emit("There is no classified frame to save yet; wait for a result first.")
            return
        image = result.frame.image[:, ::-1] if result.mirrored else result.frame.image
        stem = "snapshot-" + datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{result.frame.index:06d}"
        picture, record = folder / f"{stem}.png", folder / f"{stem}.json"
        try:
            ok, png = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR))
            if not ok:
                raise OSError("the picture could not be encoded as PNG")
            data = snapshot_record(result, self._reader.source.name, picture.name)
            atomic_write_bytes(picture, png.tobytes())
            try:
                atomic_write_text(record, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            except OSError:
                picture.unlink(missing_ok=True)  # a snapshot is the pair: no picture without its result
                raise
        except OSError as exc:
            self.snapshot_failed.emit(f"The snapshot could not be saved in {folder}: {exc.strerror or exc}.")
            return
        self.snapshot_saved.emit(str(picture))
