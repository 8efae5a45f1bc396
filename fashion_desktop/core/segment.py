"""Finds where the garments are in a picture of a person, with the bundled garment segmenter.

The segmenter (trained by ``python -m training segmenter`` on the CCP street photos) labels each
pixel of a small picture with one of ``REGIONS``. A picture shows a person when it has skin or hair and
at least one garment region; then the *main garment* (the largest garment region, nearest the centre
on a tie) is what the classifier judges, and every other garment region large enough is an item of the
outfit of its own. TensorFlow is imported only when the segmenter is loaded.

Where a garment was found also says something of what it is: a garment the segmenter calls "bottoms"
is seldom a coat. The segmenter's model.json may hold how often each region it found on the CCP
training photos was each class (``class_given_region``, written by ``python -m training region-prior``);
``given_region`` weighs the classifier's probabilities by it (Bayes' rule, with add-one smoothing).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core import NUM_CLASSES

REGIONS = ("background", "person", "top", "outerwear", "dress", "bottoms", "footwear", "bag", "other")
GARMENT_REGIONS = ("top", "outerwear", "dress", "bottoms", "footwear", "bag")
SIDE = 96  # the segmenter's square input: the picture's long side, the short side padded with black

# A picture shows a person when this share of it is skin or hair, and a garment region is found.
PERSON_MIN_SHARE = 0.02
ITEM_MIN_SHARE = 0.02  # of the picture: a smaller garment region is not reported as an item
# Pixels of a region in smaller blobs than this share of its largest blob are noise, not garment.
_BLOB_KEEP = 0.15


@dataclass(frozen=True)
class Garment:
    """One garment region found in a picture."""

    region: str  # one of GARMENT_REGIONS
    mask: np.ndarray  # uint8 0/255, the size of the picture given to ``find_garments``
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), in that picture's pixels
    share: float  # of the picture


@dataclass(frozen=True)
class Segmentation:
    regions: np.ndarray  # uint8 region index per pixel, the size of the picture segmented
    garments: tuple[Garment, ...]  # main garment first, then by size
    person: bool  # skin or hair, and a garment: the garments are what the picture is about

    @property
    def main(self) -> Garment | None:
        return self.garments[0] if self.person and self.garments else None


def letterbox(rgb: np.ndarray, side: int = SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """``rgb`` with its long side brought to ``side`` and padded with black at the right or bottom to a
    square; and the (height, width) of the picture inside."""
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out = np.zeros((side, side, 3), np.uint8)
    out[:nh, :nw] = cv2.resize(rgb, (nw, nh), interpolation=interp) if (nh, nw) != (h, w) else rgb
    return out, (nh, nw)


def _clean(mask: np.ndarray) -> np.ndarray:
    """Keep a region's large blobs (a pair of shoes is two), drop specks."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= _BLOB_KEEP * areas.max())
    return np.isin(labels, keep).astype(np.uint8) * 255


def find_garments(regions: np.ndarray, area_weights: dict[str, float] | None = None) -> Segmentation:
    """The garments of a region map (from the segmenter, or a true mask grouped the same way), the main
    one first: the largest, each region's area weighed by ``area_weights`` (``read_main_weights``; none
    for a true map) when the segmenter is known to find some regions smaller than they are."""
    weights = area_weights or {}
    h, w = regions.shape
    counts = np.bincount(regions.ravel(), minlength=len(REGIONS))
    garments = []
    for name in GARMENT_REGIONS:
        i = REGIONS.index(name)
        if counts[i] == 0:
            continue
        mask = _clean((regions == i).astype(np.uint8) * 255)
        x, y, bw, bh = cv2.boundingRect(mask)
        garments.append(Garment(name, mask, (x, y, x + bw, y + bh), cv2.countNonZero(mask) / (h * w)))

    def order(g: Garment) -> tuple[float, float]:
        cx, cy = (g.box[0] + g.box[2]) / 2 / w, (g.box[1] + g.box[3]) / 2 / h
        return (-round(g.share * weights.get(g.region, 1.0), 3), float(np.hypot(cx - 0.5, cy - 0.5)))

    garments.sort(key=order)
    person = counts[REGIONS.index("person")] >= PERSON_MIN_SHARE * h * w and bool(garments)
    return Segmentation(regions, tuple(garments), person)


def outfit_items(seg: Segmentation) -> list[Garment]:
    """The garments reported besides the main one: each at least ITEM_MIN_SHARE of the picture."""
    return [g for g in seg.garments[1:] if g.share >= ITEM_MIN_SHARE] if seg.person else []


def class_prior(counts) -> np.ndarray:
    """One region's counts (the ten classes, then none of the ten) -> P(class | region), add-one smoothed."""
    q = np.asarray(counts, np.float64)[:NUM_CLASSES] + 1.0
    return q / q.sum()


def given_region(probabilities: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
    """The classifier's probabilities weighed by what the garment's region says of its class."""
    if prior is None:
        return probabilities
    fused = np.asarray(probabilities, np.float64) * prior
    return (fused / fused.sum()).astype(np.float32)


def _per_region(meta: dict, meta_path: Path, field_name: str, inner: str) -> dict:
    """model.json's ``meta[field_name][inner]``: a value per garment region, unchecked but for its keys.
    Absent field: {} (older segmenters). Raises ModelError when it is there but holds no such table."""
    from fashion_desktop.core.model_files import FIX_HINT, ModelError

    field = meta.get(field_name)
    if field is None:
        return {}
    table = field.get(inner) if isinstance(field, dict) else None
    if not isinstance(table, dict) or not table:
        raise ModelError(f"{meta_path}: {field_name} has no {inner} per region. {FIX_HINT}")
    for region in table:
        if region not in GARMENT_REGIONS:
            raise ModelError(f"{meta_path}: {field_name} names {region!r}, not a garment region. {FIX_HINT}")
    return table


def read_class_priors(meta: dict, meta_path: Path) -> dict[str, np.ndarray]:
    """model.json's ``class_given_region`` checked: a count per class and one for none of the ten, for
    garment regions only, finite and not negative. Absent: no priors (older segmenters)."""
    from fashion_desktop.core.model_files import FIX_HINT, ModelError

    priors = {}
    for region, row in _per_region(meta, meta_path, "class_given_region", "counts").items():
        values = np.asarray(row, np.float64) if isinstance(row, list) else np.zeros(0)
        if values.shape != (NUM_CLASSES + 1,) or not np.all(np.isfinite(values)) or (values < 0).any():
            raise ModelError(
                f"{meta_path}: class_given_region[{region!r}] must be {NUM_CLASSES + 1} counts, none negative "
                f"(the ten classes, then none of them); it is {row!r}. {FIX_HINT}"
            )
        priors[region] = class_prior(values)
    return priors


def read_main_weights(meta: dict, meta_path: Path) -> dict[str, float]:
    """model.json's ``main_garment_weights``: a positive, finite weight per garment region by which its
    area is multiplied when the main garment is chosen. Absent: every weight 1 (older segmenters)."""
    from fashion_desktop.core.model_files import FIX_HINT, ModelError

    out = {}
    for region, value in _per_region(meta, meta_path, "main_garment_weights", "weights").items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 100:
            raise ModelError(
                f"{meta_path}: main_garment_weights[{region!r}] must be a number above 0 (and below 100); "
                f"it is {value!r}. {FIX_HINT}"
            )
        out[region] = float(value)
    return out


class Segmenter:
    """A loaded, verified and warmed-up segmenter. Thread-safe: calls are serialised."""

    def __init__(self, model, metadata: dict, model_dir: Path):
        from fashion_desktop.core.model_files import compiled_call

        self.metadata = metadata
        self.model_dir = model_dir
        # P(class | region) for the garments it finds, when model.json has them (read_class_priors).
        self.class_priors: dict[str, np.ndarray] = read_class_priors(metadata, model_dir / "model.json")
        # How much larger each region truly is than this segmenter finds it, for choosing the main garment.
        self.main_weights: dict[str, float] = read_main_weights(metadata, model_dir / "model.json")
        self._call = compiled_call(model, (SIDE, SIDE, 3), batch=1)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir=None, *, fitted: bool = True) -> Segmenter:
        """Load ``model_dir`` (default: the bundled segmenter), checked as the classifier is. Raises ModelError.

        ``fitted=False`` leaves out what ``python -m training region-prior`` fits from the segmenter's own
        output (``class_given_region``, ``main_garment_weights``): what it is about to write again."""
        from fashion_desktop.core.model_files import ModelError, load_checked_model, read_metadata

        if model_dir is None:
            from fashion_desktop.resources import segmenter_dir

            model_dir = segmenter_dir()
        model_dir = Path(model_dir)
        meta = read_metadata(model_dir, "segmenter description")
        if meta.get("regions") != list(REGIONS):
            raise ModelError(
                f"{model_dir / 'model.json'}: it lists regions {meta.get('regions')!r}, not {list(REGIONS)}"
            )
        model = load_checked_model(model_dir, meta, "segmenter file")
        shape, out = tuple(model.input_shape[1:]), tuple(model.output_shape[1:])
        if shape != (SIDE, SIDE, 3) or out != (SIDE, SIDE, len(REGIONS)):
            raise ModelError(
                f"The segmenter in {model_dir} takes {shape} and gives {out}; Fashion Lens needs "
                f"({SIDE}, {SIDE}, 3) -> ({SIDE}, {SIDE}, {len(REGIONS)})."
            )
        if not fitted:
            meta = {k: v for k, v in meta.items() if k not in ("class_given_region", "main_garment_weights")}
        seg = cls(model, meta, model_dir)
        seg.regions(np.zeros((SIDE, SIDE, 3), np.uint8))  # warm-up: builds the graph once
        return seg

    def regions(self, rgb: np.ndarray) -> np.ndarray:
        """RGB uint8 picture -> uint8 region index per pixel, at the picture's size."""
        if rgb.ndim == 2:
            rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
        square, (nh, nw) = letterbox(rgb)
        with self._lock:
            probs = self._call(square[None])[0]
        regions = np.argmax(probs[:nh, :nw], axis=-1).astype(np.uint8)
        h, w = rgb.shape[:2]
        if (nh, nw) != (h, w):
            regions = cv2.resize(regions, (w, h), interpolation=cv2.INTER_NEAREST)
        return regions

    def segment(self, rgb: np.ndarray) -> Segmentation:
        return find_garments(self.regions(rgb), self.main_weights)
