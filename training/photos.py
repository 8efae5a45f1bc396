"""Real phone photos for training: folder -> set of allowed Fashion-MNIST classes, run through ``prepare``.

The photos (``../shared/photos/clothing-dataset-small``, CC0) are labelled by their own categories;
each folder allows a *set* of Fashion-MNIST classes, and hat/shorts/skirt allow none (they teach the
model what "not a fashion item I know" looks like). Held out for measuring, never trained on: the
whole ``validation`` part and every train photo whose name hashes to 0 mod 10. The held-out photos
also set the "known" threshold; ``calibration_fold`` splits them so that figure is measured on photos
the threshold was not set on.

A folder's set is wide: the shoes folder cannot tell a sandal from a boot, and the set loss lets the
model put every long-sleeved top in whichever of its three classes is easiest. ``photo_labels.csv``
narrows it photo by photo: each shoe and each long-sleeved top was looked at and given the class it
shows (``5`` sandal, ``7`` sneaker, ``9`` ankle boot; ``2`` pullover, ``6`` shirt), or left at the
folder's set when it fits none clearly (pumps, ballet flats, cardigans). Photos not in the file keep
their folder's set.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core import NUM_CLASSES

FOLDER_CLASSES: dict[str, tuple[int, ...]] = {
    "t-shirt": (0,),
    "pants": (1,),
    "longsleeve": (0, 2, 6),
    "dress": (3,),
    "outwear": (4,),
    "shirt": (6,),
    "shoes": (5, 7, 9),
    "hat": (),
    "shorts": (),
    "skirt": (),
    # clothing-dataset-extra's finer folders (its README); its other, not-sure, skip and unlabelled are left out
    "polo": (0,),
    "undershirt": (0,),
    "top": (0,),
    "hoodie": (2, 4),  # a zip hoodie is closer to a coat
    "blouse": (6,),
    "blazer": (4,),
    "body": (),  # baby bodysuits and sleepsuits: none of the ten
}
UNKNOWN_FOLDERS = frozenset(k for k, v in FOLDER_CLASSES.items() if not v)


def known_mask(folders: list[str]) -> np.ndarray:
    """True for each photo of a folder of known classes, False for a hat, shorts or skirt."""
    return np.array([f not in UNKNOWN_FOLDERS for f in folders], bool)


LABELS_FILE = Path(__file__).with_name("photo_labels.csv")


@dataclass(frozen=True)
class PhotoSet:
    paths: list[Path]
    folders: list[str]
    classes: list[tuple[int, ...]]  # allowed classes of each photo: its own label, else its folder's set

    def targets(self) -> np.ndarray:
        """Multi-hot allowed-class rows; all zeros for an unknown item."""
        t = np.zeros((len(self.folders), NUM_CLASSES), np.float32)
        for i, allowed in enumerate(self.classes):
            t[i, list(allowed)] = 1.0
        return t


def load_photo_labels(path: str | os.PathLike = LABELS_FILE) -> dict[str, tuple[int, ...]]:
    """``photo_labels.csv``: photo path relative to the collection (``train/shoes/x.jpg`` in
    clothing-dataset-small; ``clothing-dataset-extra/shoes/x.jpg``, with its name, for another) -> classes.

    Each label must narrow its folder's set; anything else is a mistake in the file and is refused.
    """
    labels: dict[str, tuple[int, ...]] = {}
    with open(path, newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            photo = row["photo"]
            classes = tuple(sorted(int(c) for c in row["classes"].split()))
            folder = Path(photo).parent.name
            if not classes or not set(classes) <= set(FOLDER_CLASSES.get(folder, ())):
                raise ValueError(
                    f"{path}, line {line}: {photo} is labelled {classes}, which is not a narrowing of its "
                    f"folder's classes {FOLDER_CLASSES.get(folder)}"
                )
            labels[photo] = classes
    return labels


CALIBRATION_FOLDS = 10


def is_held_out(path: Path) -> bool:
    if "validation" in path.parts:
        return True
    return int(hashlib.sha1(path.name.encode()).hexdigest(), 16) % 10 == 0


def calibration_fold(path: Path) -> int:
    """Which of CALIBRATION_FOLDS parts a held-out photo falls in, by a hash of its name (salted, so
    it is unrelated to ``is_held_out``): the "known" figures judge each part with a threshold set on
    the others."""
    return int(hashlib.sha1(f"fold:{path.name}".encode()).hexdigest(), 16) % CALIBRATION_FOLDS


def find_photos(root: str | os.PathLike, held_out: bool, labels: dict[str, tuple[int, ...]] | None = None) -> PhotoSet:
    """The training (``held_out=False``) or measuring (``True``) part of the photo collection.

    ``labels`` (default: ``photo_labels.csv``) narrow the classes of the photos they name."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"--photos {root}: no such folder")
    if labels is None:
        labels = load_photo_labels()
    paths, folders, classes = [], [], []
    for path in sorted(root.rglob("*.jpg")):
        folder = path.parent.name
        if folder in FOLDER_CLASSES and is_held_out(path) == held_out:
            paths.append(path)
            folders.append(folder)
            rel = path.relative_to(root).as_posix()
            # clothing-dataset-small's photos are named from its root; another collection's by its name too
            own = labels.get(rel, labels.get(f"{root.name}/{rel}"))
            classes.append(own or FOLDER_CLASSES[folder])
    if not paths:
        raise FileNotFoundError(f"--photos {root}: no photos in folders named {sorted(FOLDER_CLASSES)}")
    return PhotoSet(paths, folders, classes)


def photo_variant(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible re-take of the same photo: crop, small rotation, exposure and colour shifts."""
    h, w = rgb.shape[:2]
    scale = rng.uniform(0.85, 1.0)
    ch, cw = int(h * scale), int(w * scale)
    y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    img = rgb[y0 : y0 + ch, x0 : x0 + cw]
    angle = rng.uniform(-12, 12)
    m = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
    img = cv2.warpAffine(img, m, (cw, ch), borderMode=cv2.BORDER_REFLECT)
    gain = rng.uniform(0.75, 1.25, size=3) * rng.uniform(0.8, 1.2)
    img = np.clip(img.astype(np.float32) * gain + rng.uniform(-20, 20), 0, 255).astype(np.uint8)
    return img


def worker_pool() -> ProcessPoolExecutor:
    """Processes that prepare photos in parallel (at most 4). Started by a fork server, not forked from
    this process: by now Keras's backend has its threads running (TensorFlow's, or JAX's on an accelerator
    machine, which warns that a fork may deadlock), and a forked child inherits them mid-flight."""
    return ProcessPoolExecutor(
        max_workers=max(1, min(4, os.cpu_count() or 1)), mp_context=multiprocessing.get_context("forkserver")
    )


def _prepare_one(args) -> list[np.ndarray]:
    path, variants, seed, colour = args
    from fashion_desktop.core.images import load_image
    from fashion_desktop.core.prepare import to_colour_input, to_model_input

    cut = to_colour_input if colour else to_model_input

    rgb = load_image(path)
    long_side = max(rgb.shape[:2])
    if long_side > 512:  # the photos are re-taken at a modest size; prepare works at 96 px anyway
        s = 512 / long_side
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    out = [cut(rgb)]
    out += [cut(photo_variant(rgb, rng)) for _ in range(variants)]
    return out


def prepare_photos(
    photos: PhotoSet, variants: int, seed: int, cache_dir: Path | None = None, colour: bool = False
) -> np.ndarray:
    """(n, 1 + variants, 28, 28) model inputs, or with ``colour`` (n, 1 + variants, 64, 64, 3) inputs of
    the colour photo model, computed in parallel and cached by content."""
    from fashion_desktop.core.prepare import COLOUR_SIDE, PREPROCESSING_VERSION

    kind = f"colour{COLOUR_SIDE}:" if colour else ""
    key = hashlib.sha1(
        f"{kind}{PREPROCESSING_VERSION}:{variants}:{seed}:".encode() + "\n".join(map(str, photos.paths)).encode()
    ).hexdigest()[:16]
    cache = (cache_dir / f"photos-{key}.npy") if cache_dir else None
    if cache and cache.exists():
        return np.load(cache)
    jobs = [(p, variants, seed * 100_003 + i, colour) for i, p in enumerate(photos.paths)]
    print(f"preparing {len(jobs)} photos x {1 + variants} versions...", file=sys.stderr, flush=True)
    with worker_pool() as pool:
        out = np.stack([np.stack(v) for v in pool.map(_prepare_one, jobs, chunksize=16)])
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, out)
    return out
