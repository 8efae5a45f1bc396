"""Loads and validates Fashion-MNIST, splits off validation data and builds long-tailed copies."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashion_desktop.core import NUM_CLASSES

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
HOW_TO_GET = (
    "Install it with 'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu), or pass "
    "--data-dir pointing at a folder with the four Fashion-MNIST IDX .gz files."
)
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


class DataError(Exception):
    """The data set is missing or not what it claims to be; the message says which file and why."""


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # (n, 28, 28) uint8, light item on black
    y: np.ndarray  # (n,) uint8 class index


@dataclass(frozen=True)
class FashionMNIST:
    train: Split
    val: Split
    test: Split
    source: str


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path} is missing. {HOW_TO_GET}") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path} cannot be read ({exc}); the file is damaged. {HOW_TO_GET}") from None
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated: only {len(raw)} bytes. {HOW_TO_GET}")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"{path} is not an IDX file of the expected kind (magic {found}, expected {magic}).")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(
            f"{path} holds {len(raw) - header} data bytes but its header promises {expected} "
            f"(shape {tuple(dims)}); the file is truncated or corrupt. {HOW_TO_GET}"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def read_split(images_path: Path, labels_path: Path) -> Split:
    """Read one image/label file pair and check that they belong together."""
    x = _read_idx(images_path, IMAGE_MAGIC, 3)
    y = _read_idx(labels_path, LABEL_MAGIC, 1)
    if x.shape[1:] != (28, 28):
        raise DataError(f"{images_path} holds {x.shape[1]}x{x.shape[2]} images; Fashion-MNIST is 28x28.")
    if len(x) != len(y):
        raise DataError(f"{images_path} has {len(x)} images but {labels_path} has {len(y)} labels.")
    if len(y) and int(y.max()) >= NUM_CLASSES:
        raise DataError(f"{labels_path} has label {int(y.max())}; labels must be 0-{NUM_CLASSES - 1}.")
    return Split(x, y)


def _keras_fallback() -> tuple[Split, Split]:
    import keras  # only off Debian

    try:
        (xt, yt), (xs, ys) = keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # network or cache trouble, reported as one message
        raise DataError(f"Fashion-MNIST is not installed and Keras could not fetch it ({exc}). {HOW_TO_GET}") from None
    return Split(xt, yt), Split(xs, ys)


def load_raw(data_dir: str | os.PathLike | None = None) -> tuple[Split, Split, str]:
    """Train and test splits from ``data_dir``, else the Debian package, else Keras's loader."""
    candidates = [Path(data_dir)] if data_dir else [DEBIAN_DIR]
    for folder in candidates:
        if data_dir or (folder / FILES["train_images"]).exists():
            train = read_split(folder / FILES["train_images"], folder / FILES["train_labels"])
            test = read_split(folder / FILES["test_images"], folder / FILES["test_labels"])
            return train, test, str(folder)
    train, test = _keras_fallback()
    return train, test, "keras.datasets.fashion_mnist"


def stratified_split(split: Split, val_fraction: float, seed: int) -> tuple[Split, Split]:
    """Hold out ``val_fraction`` of every class, chosen with a fixed seed (0: an empty validation part)."""
    if not 0 <= val_fraction < 1:
        raise DataError(f"--val-fraction must be at least 0 and below 1, got {val_fraction}")
    rng = np.random.default_rng(seed)
    val_idx = []
    for c in range(NUM_CLASSES):
        idx = np.flatnonzero(split.y == c)
        val_idx.append(rng.choice(idx, int(round(len(idx) * val_fraction)), replace=False))
    mask = np.zeros(len(split.y), bool)
    mask[np.concatenate(val_idx)] = True
    return Split(split.x[~mask], split.y[~mask]), Split(split.x[mask], split.y[mask])


def load(data_dir: str | os.PathLike | None = None, val_fraction: float = 1 / 12, seed: int = 0) -> FashionMNIST:
    train, test, source = load_raw(data_dir)
    fit, val = stratified_split(train, val_fraction, seed)
    return FashionMNIST(fit, val, test, source)


def long_tail_counts(n_max: int, ratio: float, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Exponential profile: rank r gets ``n_max * ratio ** (-r / (C - 1))``; first/last = ``ratio``."""
    ranks = np.arange(num_classes)
    return np.floor(n_max * ratio ** (-ranks / (num_classes - 1)) + 1e-9).astype(int)


def make_long_tailed(split: Split, ratio: float, rare_order: list[int] | None = None, seed: int = 0) -> Split:
    """A long-tailed subset: ``rare_order`` lists classes from most to least frequent."""
    order = list(rare_order) if rare_order is not None else list(range(NUM_CLASSES))
    if sorted(order) != list(range(NUM_CLASSES)):
        raise ValueError(f"--rare-order must list each of the classes 0-{NUM_CLASSES - 1} once, got {order}")
    n_max = int(min(np.bincount(split.y, minlength=NUM_CLASSES)))
    counts = long_tail_counts(n_max, ratio)
    rng = np.random.default_rng(seed)
    keep = []
    for rank, c in enumerate(order):
        idx = np.flatnonzero(split.y == c)
        keep.append(rng.choice(idx, counts[rank], replace=False))
    keep = np.sort(np.concatenate(keep))
    return Split(split.x[keep], split.y[keep])
