"""One call that turns a picture into everything Fashion Lens shows: blur, edges, model input, prediction."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core.blur import BlurReport, measure_blur
from fashion_desktop.core.classifier import Classifier, KnownReport, Prediction
from fashion_desktop.core.edges import detect_edges
from fashion_desktop.core.images import SUPPORTED_SUFFIXES, ImageError, decode_footprint, load_image
from fashion_desktop.core.prepare import (
    colour_input,
    detail_picture,
    foreground_mask,
    foreground_mask_unless,
    garment_input,
    is_fashion_mnist_style,
    item_input,
    to_model_input,
    work_picture,
)
from fashion_desktop.core.segment import Segmentation, Segmenter, given_region, outfit_items


@dataclass(frozen=True)
class Item:
    """One more garment of an outfit, judged on its own crop."""

    region: str  # the segmenter's region it was found in: "bottoms", "footwear", ...
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in the picture's pixels
    model_input: np.ndarray  # (28, 28) uint8, or (64, 64, 3) for the colour photo model
    prediction: Prediction | None
    known: KnownReport | None


@dataclass(frozen=True)
class Analysis:
    image: np.ndarray  # RGB uint8, as decoded
    blur: BlurReport
    edges: np.ndarray  # uint8 mask (0/255), same height and width as ``image``
    # What the model sees: (28, 28) uint8 gray, or (64, 64, 3) RGB when the colour photo model judged it.
    model_input: np.ndarray
    prediction: Prediction | None  # None: no model loaded (analyze_without_model)
    known: KnownReport | None  # False: probably none of the ten classes (the prediction is a guess); None: no model
    timings_ms: dict[str, float] = field(default_factory=dict)
    source: str | None = None  # path or a description of where the picture came from
    # What was judged: a mask (uint8 0/255) at the working size of prepare (long side 96) of the item
    # the model saw, None for a dataset-style picture, which is judged whole.
    item_mask: np.ndarray | None = None
    region: str | None = None  # the main garment's region when the segmenter found a person, else None
    items: tuple[Item, ...] = ()  # the outfit's other garments, largest first
    # Wall-clock time of the whole analysis when it was timed as one (``analyze``): its stages may overlap.
    wall_ms: float | None = None

    @property
    def total_ms(self) -> float:
        """What the analysis took: its wall-clock time, else (a picture of a folder batch, whose model call
        is shared) the sum of its stages."""
        return self.wall_ms if self.wall_ms is not None else float(sum(self.timings_ms.values()))


def _decode(image, timings: dict) -> tuple[np.ndarray, str | None]:
    t = time.perf_counter()
    if isinstance(image, np.ndarray):
        rgb, source = image, None
    else:
        rgb = load_image(image)
        source = str(image) if isinstance(image, (str, os.PathLike)) else None
    timings["decode"] = (time.perf_counter() - t) * 1e3
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SIDE:
        label = Path(source).name if source else "The picture"
        raise ImageError(
            f"{label} is too small to judge: {width} x {height} pixels; Fashion Lens needs at least "
            f"{MIN_SIDE} pixels on each side to find an item in it."
        )
    return rgb, source


MIN_SIDE = 8  # px: a thinner picture holds no item to judge (and a 1 x N strip has no edges to measure)
# A picture whose every channel spans fewer gray levels than this (its darkest and brightest 1% aside) is
# blank: a wall, a lens cap, one colour. The model would still name one of its ten classes for it.
FEATURELESS_RANGE = 8
_FEATURELESS_SAMPLES = 128  # a strided sample of about 128 x 128 pixels tells, in well under a millisecond


def is_featureless(rgb: np.ndarray, model_input: np.ndarray) -> bool:
    """True when there is nothing in the picture to classify: it is (nearly) one flat colour, or nothing
    of it reached the model input."""
    if not model_input.any():
        return True
    step_y = max(1, rgb.shape[0] // _FEATURELESS_SAMPLES)
    step_x = max(1, rgb.shape[1] // _FEATURELESS_SAMPLES)
    sample = rgb[::step_y, ::step_x].reshape(-1, rgb.shape[2] if rgb.ndim == 3 else 1)
    low, high = np.percentile(sample, (1, 99), axis=0)
    return bool((high - low).max() < FEATURELESS_RANGE)


@dataclass(frozen=True)
class _Isolated:
    """What prepare made of a picture: the main item's model input and mask, and the outfit's others."""

    model_input: np.ndarray
    mask: np.ndarray | None
    region: str | None
    items: tuple[tuple[str, tuple[int, int, int, int], np.ndarray], ...]  # region, box, model input


@dataclass(frozen=True)
class _Judges:
    """What isolation needs to know of the models: the segmenter, and whether photos go to a colour model."""

    segmenter: Segmenter | None = None
    colour: bool = False  # photo items cut in colour (``colour_input``), else 28 x 28 gray (``item_input``)
    colour_worn: bool = False  # the same for garments on a person

    @classmethod
    def of(cls, classifier: Classifier | None) -> _Judges:
        if classifier is None:
            return cls()
        return cls(classifier.segmenter, classifier.for_photos().colour, classifier.for_photos(worn=True).colour)


def _isolate(
    rgb: np.ndarray, judges: _Judges, timings: dict, small: np.ndarray | None = None, measures: _Measures | None = None
) -> _Isolated:
    """The main item and the outfit's others. With a segmenter, a picture of a person is judged by its
    main garment (and the others are items); any other picture goes through GrabCut as before. Photo
    items are cut in colour from the picture at DETAIL_SIZE when a colour model judges them. ``small``:
    the working picture when it is made already; ``measures``: the side thread's work, with GrabCut of
    ``small`` when it was started there."""
    if is_fashion_mnist_style(rgb):
        return _Isolated(to_model_input(rgb), None, None, ())
    segmenter = judges.segmenter
    small = work_picture(rgb) if small is None else small
    seg: Segmentation | None = None
    if segmenter is not None:
        t = time.perf_counter()
        seg = segmenter.segment(small)
        timings["segment"] = (time.perf_counter() - t) * 1e3
    main = seg.main if seg is not None else None
    if main is None:
        if measures is not None and measures.grabcut is not None:
            measures.take_back()  # blur and edges here, while the side thread finishes GrabCut
            mask = measures.grabcut.result()
            assert mask is not None  # only a person stops it
        else:
            mask = foreground_mask(small)
        item = colour_input(detail_picture(rgb), mask) if judges.colour else item_input(small, mask)
        return _Isolated(item, mask, None, ())
    assert seg is not None
    if measures is not None:
        measures.drop_grabcut()
    cut = colour_input if judges.colour_worn else garment_input
    detail = detail_picture(rgb)  # made once: every garment is cut from it
    sy, sx = rgb.shape[0] / small.shape[0], rgb.shape[1] / small.shape[1]
    others = tuple(
        (
            g.region,
            (
                int(g.box[0] * sx),
                int(g.box[1] * sy),
                min(rgb.shape[1], round(g.box[2] * sx)),
                min(rgb.shape[0], round(g.box[3] * sy)),
            ),
            cut(detail, g.mask),
        )
        for g in outfit_items(seg)
    )
    return _Isolated(cut(detail, main.mask), main.mask, main.region, others)


def _blur_and_edges(rgb: np.ndarray, timings: dict) -> tuple[BlurReport, np.ndarray]:
    t0 = time.perf_counter()
    # Blur and edges share one gray copy.
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 and rgb.shape[2] == 3 else rgb
    blur = measure_blur(gray)
    t1 = time.perf_counter()
    edges = detect_edges(gray)
    timings.update(blur=(t1 - t0) * 1e3, edges=(time.perf_counter() - t1) * 1e3)
    return blur, edges


# One picture on its own (``analyze``: the window's picture, the camera, the self-test) has its GrabCut started
# and its blur and edges measured on this thread while the calling one looks for a person, isolates the item
# and calls the model (``_Measures``): they share nothing but the picture, and OpenCV, NumPy and TensorFlow
# release the GIL. A folder run keeps one picture per thread.
_SIDE_THREAD: ThreadPoolExecutor | None = None
_SIDE_LOCK = threading.Lock()
SIDE_THREAD_MIN_PIXELS = 256 * 256  # below this, handing work to the other thread costs more than it saves


def _side_thread() -> ThreadPoolExecutor:
    global _SIDE_THREAD
    with _SIDE_LOCK:
        if _SIDE_THREAD is None:
            _SIDE_THREAD = ThreadPoolExecutor(1, thread_name_prefix="analysis-side")
        return _SIDE_THREAD


class _Measures:
    """A picture's blur and edges: measured at once, or handed to the side thread (``pool``) and waited for
    only when they are needed (after the model call).

    ``grabcut_of``: a working picture that may be a flat-lay. Its GrabCut is handed to the side thread
    first, to run while this thread's segmenter looks for a person; it is used when none is found and
    stopped at its next step (``drop_grabcut``) when one is. Blur and edges queue behind it, and this
    thread takes them back (``take_back``) whenever it would otherwise wait for the side thread."""

    def __init__(self, rgb: np.ndarray, timings: dict, pool: ThreadPoolExecutor | None = None, grabcut_of=None):
        self._rgb, self._timings = rgb, timings  # the side thread writes its stages' times into ``timings``
        self.grabcut: Future | None = None
        self._pending: Future | None = None
        self._value: tuple[BlurReport, np.ndarray] | None = None
        self.here_ms = 0.0  # time this thread spent on them when it took them back
        self._drop = threading.Event()
        if pool is None:
            self._value = _blur_and_edges(rgb, timings)
            return
        if grabcut_of is not None:
            self.grabcut = pool.submit(foreground_mask_unless, grabcut_of, self._drop)
        self._pending = pool.submit(_blur_and_edges, rgb, timings)

    def drop_grabcut(self) -> None:
        """The picture shows a person: GrabCut's mask is not needed."""
        self._drop.set()
        self.grabcut = None

    def take_back(self) -> None:
        """Measure blur and edges on this thread now if the side thread has not started them."""
        if self._pending is not None and self._pending.cancel():
            self._pending = None
            t = time.perf_counter()
            self._value = _blur_and_edges(self._rgb, self._timings)
            self.here_ms = (time.perf_counter() - t) * 1e3

    def result(self) -> tuple[BlurReport, np.ndarray]:
        self.take_back()
        if self._pending is not None:
            self._value, self._pending = self._pending.result(), None
        assert self._value is not None
        return self._value


def _features(rgb: np.ndarray, timings: dict, judges: _Judges, overlap: bool = False) -> tuple[_Measures, _Isolated]:
    """Blur and edges, and the isolated item; with ``overlap`` (and a picture big enough for it to pay) the
    first two on the side thread while this one isolates (``_Measures``)."""
    if overlap and rgb.shape[0] * rgb.shape[1] >= SIDE_THREAD_MIN_PIXELS and (os.cpu_count() or 1) > 1:
        small = work_picture(rgb)  # a picture this big is never a dataset-style item
        maybe_flat = small if judges.segmenter is not None else None  # without one, GrabCut runs here anyway
        measures = _Measures(rgb, timings, _side_thread(), maybe_flat)
        t = time.perf_counter()
        try:
            isolated = _isolate(rgb, judges, timings, small, measures)
        except BaseException:
            measures.result()  # waited for even when isolation failed: it reads ``rgb``
            raise
    else:
        measures = _Measures(rgb, timings)
        t = time.perf_counter()
        isolated = _isolate(rgb, judges, timings)
    timings["prepare"] = (time.perf_counter() - t) * 1e3 - timings.get("segment", 0.0) - measures.here_ms
    return measures, isolated


PICTURES_PER_MODEL_CALL = 32  # in folder runs: amortises the call without holding many photos


@dataclass(frozen=True)
class _Staged:
    """A picture decoded and measured, waiting for its turn in a batched model call."""

    rgb: np.ndarray
    source: str | None
    timings: dict
    measures: _Measures
    isolated: _Isolated
    featureless: bool

    @property
    def blur(self) -> BlurReport:
        return self.measures.result()[0]

    @property
    def edges(self) -> np.ndarray:
        return self.measures.result()[1]

    @property
    def model_input(self) -> np.ndarray:
        return self.isolated.model_input

    @property
    def nbytes(self) -> int:
        return self.rgb.nbytes + self.edges.nbytes + self.model_input.nbytes

    def analysis(self, prediction=None, known=None, item_results=(), timings=None, wall_ms=None) -> Analysis:
        iso = self.isolated
        item_results = list(item_results) or [(None, None)] * len(iso.items)
        found = tuple(Item(r, box, x, p, k) for (r, box, x), (p, k) in zip(iso.items, item_results))
        return Analysis(
            self.rgb, self.blur, self.edges, iso.model_input, prediction, known,
            timings if timings is not None else self.timings, self.source, iso.mask, iso.region, found, wall_ms,
        )  # fmt: skip


def _stage(image, judges: _Judges = _Judges(), overlap: bool = False) -> _Staged:
    timings: dict[str, float] = {}
    rgb, source = _decode(image, timings)
    measures, isolated = _features(rgb, timings, judges, overlap)
    return _Staged(rgb, source, timings, measures, isolated, is_featureless(rgb, isolated.model_input))


def _try_stage(image, judges: _Judges) -> _Staged | Exception:
    try:
        return _stage(image, judges)
    except Exception as exc:  # handed back to the caller with its file, never lost
        return exc


def failure_message(exc: Exception) -> str:
    """What a folder run shows for a file that failed: an ImageError says it in words; anything else
    is unexpected, so its type is kept."""
    return str(exc) if isinstance(exc, ImageError) else f"{type(exc).__name__}: {exc}"


def _judge(staged: _Staged, classifier: Classifier) -> Classifier:
    """The model for one picture: ``classifier`` for a dataset-style one, ``for_photos(worn=True)`` for a
    photo of a person (its main garment and other items), ``for_photos()`` for any other photo."""
    if staged.isolated.mask is None:
        return classifier
    return classifier.for_photos(worn=staged.isolated.region is not None)


def _classify(staged: list[_Staged], classifier: Classifier) -> list[Analysis]:
    """Each picture judged by its model (``_judge``); one model call per model for every main item and
    outfit item."""
    judges = [_judge(s, classifier) for s in staged]
    priors = classifier.segmenter.class_priors if classifier.segmenter is not None else {}
    out: list[Analysis] = [None] * len(staged)  # type: ignore[list-item]  # every slot is filled below
    for model in dict.fromkeys(judges):  # each model once, in the order first needed
        group = [i for i, m in enumerate(judges) if m is model]
        for i, analysis in zip(group, _classify_with([staged[i] for i in group], model, priors)):
            out[i] = analysis
    return out


def _classify_with(staged: list[_Staged], classifier: Classifier, priors: dict[str, np.ndarray]) -> list[Analysis]:
    """The model's probabilities for each main item and outfit item; a garment found on a person has them
    weighed by its region (``segment.given_region``). The "known" verdict is judged on the model's own
    probabilities, which its threshold was calibrated on."""
    if not staged:
        return []
    inputs = [x for s in staged for x in (s.model_input, *(i[2] for i in s.isolated.items))]
    t = time.perf_counter()
    probs = iter(classifier.predict(np.stack(inputs)))
    per_item = (time.perf_counter() - t) * 1e3 / len(staged)
    out = []
    for s in staged:
        s.measures.result()  # blur and edges, when the side thread measured them beside the model call too
        timings = {**s.timings, "classify": per_item}
        p = next(probs)
        known = classifier.judge_known(p)
        if s.featureless:  # a blank picture is no known item, however sure the model is of its guess
            known = KnownReport(known.score, known.threshold, False)
        main = given_region(p, priors.get(s.isolated.region)) if s.isolated.region is not None else p
        found = [(next(probs), region) for region, _, _ in s.isolated.items]
        item_results = [
            (Prediction.from_probabilities(given_region(q, priors.get(r))), classifier.judge_known(q)) for q, r in found
        ]
        out.append(s.analysis(Prediction.from_probabilities(main), known, item_results, timings))
    return out


def analyze(image: np.ndarray | str | os.PathLike | bytes, classifier: Classifier, *, overlap: bool = True) -> Analysis:
    """Analyse one picture: an RGB uint8 array, a path, or encoded bytes. Raises ImageError for bad files.

    With ``overlap`` its blur and edges are measured on a second thread while the item is isolated
    (``_features``); ``total_ms`` is the wall-clock time. A caller that already keeps every core busy with
    pictures of its own (the web server's pool) passes ``overlap=False``."""
    t = time.perf_counter()
    analysis = _classify([_stage(image, _Judges.of(classifier), overlap)], classifier)[0]
    return replace(analysis, wall_ms=(time.perf_counter() - t) * 1e3)


def analyze_without_model(image: np.ndarray | str | os.PathLike | bytes) -> Analysis:
    """What can be shown while no model is loaded: the picture, blur, edges and model input, through
    the same stages as :func:`analyze`. ``prediction`` and ``known`` are None, the one place an
    Analysis says "not classified"."""
    t = time.perf_counter()
    staged = _stage(image, overlap=True)
    return staged.analysis(wall_ms=(time.perf_counter() - t) * 1e3)


# Bytes of pictures a folder run holds at once: being decoded, measured, or waiting for their model call.
# A 12 MP photo takes about 100 MB while it is decoded and 48 MB after; a picture over the budget runs alone.
MEMORY_BUDGET = 512 * 2**20


def _in_flight_bytes(path: Path) -> int:
    """What staging ``path`` holds at its peak, from its header: the decode, then a gray copy and the edges."""
    peak, pixels = decode_footprint(path)
    return peak + 2 * pixels


def analyze_files(
    paths: Sequence[str | os.PathLike],
    classifier: Classifier,
    batch: int = PICTURES_PER_MODEL_CALL,
    workers: int | None = None,
    memory_budget: int = MEMORY_BUDGET,
) -> Iterator[tuple[Path, Analysis | Exception]]:
    """(path, Analysis) for each file in order, or (path, exception) for one that failed; the run goes on.

    Folder batches in the window and ``fashion-classify`` both use this. Files are decoded and measured
    on ``workers`` threads (default: one per core), at most ``batch`` ahead, with one model call per batch.
    Memory is bounded by ``memory_budget``, not by a count of files: each file's cost is told from its
    header before it is decoded (a 35-byte GIF can decode to 7,000 x 7,000), a file is only started while
    the pictures in flight and those waiting for the model fit the budget (one alone may exceed it), and
    a batch goes to the model early when the next file does not fit. Stopping the iteration stops the work
    after the files in hand.
    """
    files = [Path(p) for p in paths]
    judges = _Judges.of(classifier)
    # OpenCV and NumPy release the GIL, so one thread per core decodes and measures in parallel.
    pool = ThreadPoolExecutor(workers or os.cpu_count() or 1, thread_name_prefix="analyze")
    pending: deque[tuple[Path, Future, int]] = deque()  # submitted, in input order, with their cost
    ready: list[tuple[Path, _Staged | Exception]] = []  # staged, in input order, waiting for the model
    used, done, next_cost = 0, 0, None
    try:
        while done < len(files) or pending or ready:
            while done < len(files) and len(pending) + len(ready) < batch:
                if next_cost is None:
                    next_cost = _in_flight_bytes(files[done])
                if (pending or ready) and used + next_cost > memory_budget:
                    break  # wait for the pictures in hand to reach the model and go
                pending.append((files[done], pool.submit(_try_stage, files[done], judges), next_cost))
                used += next_cost
                done, next_cost = done + 1, None
            if pending and len(ready) < batch:
                path, future, cost = pending.popleft()
                staged = future.result()
                used += (staged.nbytes if isinstance(staged, _Staged) else 0) - cost  # the decode's peak is over
                ready.append((path, staged))
                continue
            analyses = iter(_classify([s for _, s in ready if isinstance(s, _Staged)], classifier))
            for path, s in ready:
                yield path, (next(analyses) if isinstance(s, _Staged) else s)
            ready, used = [], sum(cost for _, _, cost in pending)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


IMAGE_SUFFIXES = frozenset(SUPPORTED_SUFFIXES)  # one list: arrow keys, folder batches and the open dialog agree


def find_images(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given, and image files inside folders (recursively), in a stable sorted order.

    Inside folders only regular files count (a named pipe or a device named *.jpg would block the run or
    never end), links to folders are not followed (they may loop), and unreadable folders are skipped.
    Paths given explicitly are kept as they are: one that is not a picture gets its own error row."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = []
            for folder, _, names in os.walk(p):  # followlinks=False; errors (permission denied) skip a folder
                for name in names:
                    f = Path(folder, name)
                    if f.suffix.lower() in IMAGE_SUFFIXES and _is_regular_file(f):
                        inside.append(f)
            found += sorted(inside)
        else:
            found.append(p)
    return found


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)  # a link to a regular file counts; a loop or a dead link not
    except (OSError, ValueError):
        return False
