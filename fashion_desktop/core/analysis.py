"""One call that turns a picture into everything Fashion Lens shows: blur, edges, model input, prediction."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core.blur import BlurReport, measure_blur
from fashion_desktop.core.classifier import Classifier, KnownReport, Prediction
from fashion_desktop.core.edges import detect_edges
from fashion_desktop.core.images import ImageError, load_image
from fashion_desktop.core.prepare import to_model_input


@dataclass(frozen=True)
class Analysis:
    image: np.ndarray  # RGB uint8, as decoded
    blur: BlurReport
    edges: np.ndarray  # uint8 mask (0/255), same height and width as ``image``
    model_input: np.ndarray  # (28, 28) uint8, what the model sees
    prediction: Prediction
    known: KnownReport  # False: probably none of the ten classes (the prediction is then only a guess)
    timings_ms: dict[str, float] = field(default_factory=dict)
    source: str | None = None  # path or a description of where the picture came from

    @property
    def total_ms(self) -> float:
        return float(sum(self.timings_ms.values()))


def _decode(image, timings: dict) -> tuple[np.ndarray, str | None]:
    t = time.perf_counter()
    if isinstance(image, np.ndarray):
        rgb, source = image, None
    else:
        rgb = load_image(image)
        source = str(image) if isinstance(image, (str, os.PathLike)) else None
    timings["decode"] = (time.perf_counter() - t) * 1e3
    return rgb, source


def _features(rgb: np.ndarray, timings: dict) -> tuple[BlurReport, np.ndarray, np.ndarray]:
    t0 = time.perf_counter()
    # Blur and edges share one gray copy.
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 and rgb.shape[2] == 3 else rgb
    blur = measure_blur(gray)
    t1 = time.perf_counter()
    edges = detect_edges(gray)
    t2 = time.perf_counter()
    model_input = to_model_input(rgb)
    t3 = time.perf_counter()
    timings.update(blur=(t1 - t0) * 1e3, edges=(t2 - t1) * 1e3, prepare=(t3 - t2) * 1e3)
    return blur, edges, model_input


BATCH = 32  # pictures per model call in folder runs: amortises the call without holding many photos


@dataclass(frozen=True)
class _Staged:
    """A picture decoded and measured, waiting for its turn in a batched model call."""

    rgb: np.ndarray
    source: str | None
    timings: dict
    blur: BlurReport
    edges: np.ndarray
    model_input: np.ndarray


def _stage(image) -> _Staged:
    timings: dict[str, float] = {}
    rgb, source = _decode(image, timings)
    return _Staged(rgb, source, timings, *_features(rgb, timings))


def _try_stage(image) -> _Staged | Exception:
    try:
        return _stage(image)
    except Exception as exc:  # noqa: BLE001 - handed back to the caller with its file, never lost
        return exc


def failure_message(exc: Exception) -> str:
    """What a folder run shows for a file that failed: an ImageError says it in words; anything else
    is unexpected, so its type is kept."""
    return str(exc) if isinstance(exc, ImageError) else f"{type(exc).__name__}: {exc}"


def _classify(staged: list[_Staged], classifier: Classifier) -> list[Analysis]:
    if not staged:
        return []
    t = time.perf_counter()
    probs = classifier.predict(np.stack([s.model_input for s in staged]))
    per_item = (time.perf_counter() - t) * 1e3 / len(staged)
    out = []
    for s, p in zip(staged, probs):
        timings = {**s.timings, "classify": per_item}
        prediction = Prediction.from_probabilities(p)
        known = classifier.judge_known(p)
        out.append(Analysis(s.rgb, s.blur, s.edges, s.model_input, prediction, known, timings, s.source))
    return out


def analyze(image: np.ndarray | str | os.PathLike | bytes, classifier: Classifier) -> Analysis:
    """Analyse one picture: an RGB uint8 array, a path, or encoded bytes. Raises ImageError for bad files."""
    return _classify([_stage(image)], classifier)[0]


def analyze_without_model(image: np.ndarray | str | os.PathLike | bytes) -> Analysis:
    """What can be shown while no model is loaded: the picture, blur, edges and model input, through
    the same stages as :func:`analyze`. ``prediction`` and ``known`` are None, the one place an
    Analysis says "not classified"."""
    s = _stage(image)
    return Analysis(s.rgb, s.blur, s.edges, s.model_input, None, None, s.timings, s.source)  # type: ignore[arg-type]


def analyze_files(
    paths: Sequence[str | os.PathLike], classifier: Classifier, batch: int = BATCH, workers: int | None = None
) -> Iterator[tuple[Path, Analysis | Exception]]:
    """(path, Analysis) for each file in order, or (path, exception) for one that failed; the run goes on.

    Folder batches in the window and ``fashion-classify`` both use this. Files are decoded and measured
    on ``workers`` threads (default: one per core), ``batch`` at a time, with one model call per batch,
    so memory stays at about ``batch`` decoded photos. Stopping the iteration stops the work after the
    batch in hand.
    """
    paths = [Path(p) for p in paths]
    # OpenCV and NumPy release the GIL, so one thread per core decodes and measures in parallel.
    with ThreadPoolExecutor(workers or os.cpu_count() or 1, thread_name_prefix="analyze") as pool:
        for start in range(0, len(paths), batch):
            chunk = paths[start : start + batch]
            staged = list(pool.map(_try_stage, chunk))
            analyses = iter(_classify([s for s in staged if isinstance(s, _Staged)], classifier))
            for path, s in zip(chunk, staged):
                yield path, (next(analyses) if isinstance(s, _Staged) else s)


IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})


def find_images(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given, and image files inside folders (recursively), in a stable sorted order."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            found.append(p)
    return found
