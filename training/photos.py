"""Real phone photos for training: folder -> set of allowed Fashion-MNIST classes, run through ``prepare``.

The photos (``../shared/photos/clothing-dataset-small``, CC0) are labelled by their own categories;
each folder allows a *set* of Fashion-MNIST classes, and hat/shorts/skirt allow none (they teach the
model what "not a fashion item I know" looks like). Held out for measuring, never trained on: the
whole ``validation`` part and every train photo whose name hashes to 0 mod 10.
"""

from __future__ import annotations

import hashlib
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
}
UNKNOWN_FOLDERS = frozenset(k for k, v in FOLDER_CLASSES.items() if not v)


@dataclass(frozen=True)
class PhotoSet:
    paths: list[Path]
    folders: list[str]

    def targets(self) -> np.ndarray:
        """Multi-hot allowed-class rows; all zeros for an unknown item."""
        t = np.zeros((len(self.folders), NUM_CLASSES), np.float32)
        for i, folder in enumerate(self.folders):
            t[i, list(FOLDER_CLASSES[folder])] = 1.0
        return t


def is_held_out(path: Path) -> bool:
    if "validation" in path.parts:
        return True
    return int(hashlib.sha1(path.name.encode()).hexdigest(), 16) % 10 == 0


def find_photos(root: str | os.PathLike, held_out: bool) -> PhotoSet:
    """The training (``held_out=False``) or measuring (``True``) part of the photo collection."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"--photos {root}: no such folder")
    paths, folders = [], []
    for path in sorted(root.rglob("*.jpg")):
        folder = path.parent.name
        if folder in FOLDER_CLASSES and is_held_out(path) == held_out:
            paths.append(path)
            folders.append(folder)
    if not paths:
        raise FileNotFoundError(f"--photos {root}: no photos in folders named {sorted(FOLDER_CLASSES)}")
    return PhotoSet(paths, folders)


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


def _prepare_one(args) -> list[np.ndarray]:
    path, variants, seed = args
    from fashion_desktop.core.images import load_image  # noqa: PLC0415
    from fashion_desktop.core.prepare import to_model_input  # noqa: PLC0415

    rgb = load_image(path)
    long_side = max(rgb.shape[:2])
    if long_side > 512:  # the photos are re-taken at a modest size; prepare works at 96 px anyway
        s = 512 / long_side
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    out = [to_model_input(rgb)]
    out += [to_model_input(photo_variant(rgb, rng)) for _ in range(variants)]
    return out


def prepare_photos(photos: PhotoSet, variants: int, seed: int, cache_dir: Path | None = None) -> np.ndarray:
    """(n, 1 + variants, 28, 28) model inputs, computed in parallel and cached by content."""
    from training.train import PREPROCESSING_VERSION  # noqa: PLC0415

    key = hashlib.sha1(
        f"{PREPROCESSING_VERSION}:{variants}:{seed}:".encode() + "\n".join(map(str, photos.paths)).encode()
    ).hexdigest()[:16]
    cache = (cache_dir / f"photos-{key}.npy") if cache_dir else None
    if cache and cache.exists():
        return np.load(cache)
    jobs = [(p, variants, seed * 100_003 + i) for i, p in enumerate(photos.paths)]
    print(f"preparing {len(jobs)} photos x {1 + variants} versions...", file=sys.stderr, flush=True)
    with ProcessPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        out = np.stack([np.stack(v) for v in pool.map(_prepare_one, jobs, chunksize=16)])
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, out)
    return out
