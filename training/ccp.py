"""The Clothing Co-Parsing photos (``../shared/ccp``): people wearing outfits, with pixel-level masks.

CCP labels each pixel with one of 59 names (``label_names.csv``). For the segmenter they are grouped
into the few regions that matter here (``fashion_desktop.core.segment.REGIONS``); for judging and for
classifier training each garment label stands for a *set* of Fashion-MNIST classes (the table in
CCP's README): "shoes" may be a sandal, a sneaker or a boot, and a skirt is none of the ten.

Held out, never trained on: every photo whose name hashes to 0 mod 5 (about 200 of 1,004).
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core.segment import GARMENT_REGIONS, ITEM_MIN_SHARE, REGIONS

DEFAULT_CCP = Path(__file__).resolve().parents[1].parent / "shared" / "ccp"

# CCP label name -> region name. Every one of the 59 names is here, so a new name is a mistake.
_REGION_OF: dict[str, str] = {
    "null": "background",
    **dict.fromkeys(["skin", "hair", "glasses", "sunglasses"], "person"),
    **dict.fromkeys(
        [
            "t-shirt", "top", "vest", "shirt", "blouse", "sweater", "sweatshirt", "jumper", "cardigan",
            "hoodie", "bodysuit", "bra",
        ],
        "top",
    ),
    **dict.fromkeys(["coat", "blazer", "jacket", "cape", "suit"], "outerwear"),
    **dict.fromkeys(["dress", "romper"], "dress"),
    **dict.fromkeys(["pants", "jeans", "leggings", "shorts", "skirt"], "bottoms"),
    **dict.fromkeys(
        ["boots", "sandals", "sneakers", "shoes", "heels", "pumps", "loafers", "flats", "wedges", "clogs"],
        "footwear",
    ),
    **dict.fromkeys(["bag", "purse", "wallet"], "bag"),
    **dict.fromkeys(
        [
            "accessories", "belt", "bracelet", "earrings", "gloves", "hat", "necklace", "ring", "scarf",
            "socks", "stockings", "tie", "tights", "watch", "intimate", "panties", "swimwear",
        ],
        "other",
    ),
}  # fmt: skip

# CCP label name -> the Fashion-MNIST classes it may be (CCP's README); () for none of the ten.
SHOE_OF_UNKNOWN_KIND = (5, 7, 9)
_CLASSES_OF: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(["t-shirt", "top", "vest"], (0,)),
    **dict.fromkeys(["pants", "jeans", "leggings"], (1,)),
    **dict.fromkeys(["sweater", "sweatshirt", "jumper", "cardigan", "hoodie"], (2,)),
    "dress": (3,),
    **dict.fromkeys(["coat", "blazer", "jacket", "cape", "suit"], (4,)),
    "sandals": (5,),
    **dict.fromkeys(["shirt", "blouse"], (6,)),
    "sneakers": (7,),
    **dict.fromkeys(["bag", "purse", "wallet"], (8,)),
    "boots": (9,),
    **dict.fromkeys(["shoes", "heels", "pumps", "loafers", "flats", "wedges", "clogs"], SHOE_OF_UNKNOWN_KIND),
}


def label_names(root: Path) -> list[str]:
    with open(root / "label_names.csv", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["index"]))
    names = [r["name"] for r in rows]
    unknown = sorted(set(names) - set(_REGION_OF))
    if unknown:
        raise ValueError(f"{root}/label_names.csv names labels this code does not place: {unknown}")
    return names


def region_table(names: list[str]) -> np.ndarray:
    """uint8 lookup: CCP label index -> region index."""
    return np.array([REGIONS.index(_REGION_OF[n]) for n in names] + [0] * (256 - len(names)), np.uint8)


def label_classes(names: list[str]) -> list[tuple[int, ...]]:
    """For each CCP label index, the Fashion-MNIST classes it may be (() for none of the ten)."""
    return [_CLASSES_OF.get(n, ()) for n in names]


def is_held_out(name: str) -> bool:
    return int(hashlib.sha1(Path(name).stem.encode()).hexdigest(), 16) % 5 == 0


@dataclass(frozen=True)
class CCPPhoto:
    photo: Path
    mask: Path


def find_ccp(root: str | os.PathLike = DEFAULT_CCP, held_out: bool = False) -> list[CCPPhoto]:
    root = Path(root)
    if not (root / "photos").is_dir():
        raise FileNotFoundError(f"{root}: no CCP photos folder (expected {root}/photos and {root}/masks)")
    out = []
    for photo in sorted((root / "photos").glob("*.jpg")):
        mask = root / "masks" / f"{photo.stem}.png"
        if mask.exists() and is_held_out(photo.name) == held_out:
            out.append(CCPPhoto(photo, mask))
    return out


def read_pair(item: CCPPhoto) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 photo, label map) of one CCP photo, same height and width."""
    bgr = cv2.imread(str(item.photo), cv2.IMREAD_COLOR)
    labels = cv2.imread(str(item.mask), cv2.IMREAD_UNCHANGED)
    if bgr is None or labels is None:
        raise OSError(f"cannot read {item.photo} or {item.mask}")
    if labels.shape[:2] != bgr.shape[:2]:
        labels = cv2.resize(labels, (bgr.shape[1], bgr.shape[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), labels


@dataclass(frozen=True)
class TrueGarment:
    """One garment region of a CCP photo, from its true mask."""

    region: str
    label: str  # the CCP label covering most of the region
    classes: tuple[int, ...]  # Fashion-MNIST classes that label may be; () for none of the ten
    mask: np.ndarray  # bool, photo size
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    share: float  # of the picture


def label_under(labels: np.ndarray, mask: np.ndarray, n_labels: int) -> int:
    """The CCP label index covering most of ``mask`` (bool, or uint8 0/255) in the label map ``labels``."""
    return int(np.argmax(np.bincount(labels[mask > 0], minlength=n_labels)))


def true_garments(labels: np.ndarray, names: list[str], table: np.ndarray) -> list[TrueGarment]:
    """The garment regions of a label map, largest first."""
    regions = table[labels]
    out = []
    classes_of = label_classes(names)
    for r in GARMENT_REGIONS:
        m = regions == REGIONS.index(r)
        n = int(m.sum())
        if not n:
            continue
        label = label_under(labels, m, len(names))
        ys, xs = np.nonzero(m)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        out.append(TrueGarment(r, names[label], classes_of[label], m, box, n / m.size))
    return sorted(out, key=lambda g: -g.share)


CROP_MIN_SHARE = ITEM_MIN_SHARE  # of the picture: smaller garments are not trained on, as they are not reported


def _crops_of_one(args) -> list[tuple[tuple[int, ...], list[np.ndarray]]]:
    """Model inputs of each garment of one photo, by its true mask: the crop, then ``variants`` re-takes
    (exposure, colour, mirror, a mask a pixel wider or narrower, as a segmenter's would be)."""
    from fashion_desktop.core.prepare import DETAIL_SIZE, WORK_SIZE, colour_input, garment_input, work_picture

    item, names, variants, seed, colour = args
    cut = colour_input if colour else garment_input
    rgb, labels = read_pair(item)
    table = region_table(names)
    # The mask at the working size, as the segmenter gives it; the pixels at the size garments are cut from.
    h, w = work_picture(rgb).shape[:2]
    small_labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
    s = DETAIL_SIZE / max(rgb.shape[:2])
    photo = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
    assert max(h, w) == WORK_SIZE
    rng = np.random.default_rng(seed)
    out = []
    for g in true_garments(small_labels, names, table):
        if g.share < CROP_MIN_SHARE:
            continue
        out.append((g.classes, _versions(photo, g.mask.astype(np.uint8) * 255, cut, variants, rng)))
    return out


def _versions(photo: np.ndarray, mask: np.ndarray, cut, variants: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``cut(photo, mask)``, then ``variants`` re-takes: exposure, colour, mirror, a mask a pixel wider or
    narrower, as a segmenter's would be."""
    versions = [cut(photo, mask)]
    for _ in range(variants):
        img = np.clip(photo.astype(np.float32) * rng.uniform(0.8, 1.2, 3) + rng.uniform(-20, 20), 0, 255)
        m = mask
        r = rng.integers(-1, 2)
        if r:
            kernel = np.ones((3, 3), np.uint8)
            m = cv2.dilate(m, kernel) if r > 0 else cv2.erode(m, kernel)
        img = img.astype(np.uint8)
        if rng.random() < 0.5:
            img, m = img[:, ::-1].copy(), m[:, ::-1].copy()
        versions.append(cut(img, m))
    return versions


def _cached(cache: Path) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    data = np.load(cache)
    return data["inputs"], [tuple(int(c) for c in np.flatnonzero(row)) for row in data["targets"]]


def _stacked(garments: list, cache: Path | None) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """(classes, versions) per garment -> (inputs, classes), kept in ``cache`` when given."""
    inputs = np.stack([np.stack(v) for _, v in garments])
    classes = [c for c, _ in garments]
    if cache:
        targets = np.zeros((len(classes), 10), np.uint8)
        for i, c in enumerate(classes):
            targets[i, list(c)] = 1
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, inputs=inputs, targets=targets)
    return inputs, classes


def segmented_garment_crops(
    root: str | os.PathLike,
    segmenter_dir: str | os.PathLike,
    variants: int,
    seed: int,
    cache_dir: Path | None = None,
    limit: int | None = None,
) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """(n, 1 + variants, 64, 64, 3) colour inputs of the garments a segmenter finds on the CCP *training*
    photos, cut as the app cuts them (the main garment chosen with the segmenter's weights, and the outfit's
    items; ``colour_input`` from the picture at DETAIL_SIZE), and the classes each one's true mask gives it
    (() where it fell on skin, background or a label of none of the ten). What the worn-garment model is
    shown in the app, rather than ``garment_crops``' true masks: fragments, merged regions and all.
    ``limit``: the first photos only (tests)."""
    from fashion_desktop.core.prepare import PREPROCESSING_VERSION, colour_input, detail_picture, work_picture
    from fashion_desktop.core.segment import Segmenter, outfit_items
    from training.install import sha256_file

    meta = Path(segmenter_dir) / "model.json"
    root = Path(root)
    items = find_ccp(root, held_out=False)[:limit]
    names = label_names(root)
    classes_of = label_classes(names)
    key = hashlib.sha1(
        f"ccp-segmented:{PREPROCESSING_VERSION}:{sha256_file(meta)}:{variants}:{seed}:".encode()
        + "\n".join(str(i.photo) for i in items).encode()
    ).hexdigest()[:16]
    cache = (cache_dir / f"ccp-segmented-{key}.npz") if cache_dir else None
    if cache and cache.exists():
        return _cached(cache)
    segmenter = Segmenter.load(Path(segmenter_dir))  # only when the crops are made: it loads TensorFlow
    rng = np.random.default_rng(seed)
    garments = []
    for item in items:
        rgb, labels = read_pair(item)
        small = work_picture(rgb)
        small_labels = cv2.resize(labels, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        seg = segmenter.segment(small)
        if seg.main is None:  # no person found: the app would judge it as a flat-lay
            continue
        detail = detail_picture(rgb)
        for g in (seg.main, *outfit_items(seg)):
            classes = classes_of[label_under(small_labels, g.mask, len(names))]
            garments.append((classes, _versions(detail, g.mask, colour_input, variants, rng)))
    return _stacked(garments, cache)


def garment_crops(
    root: str | os.PathLike,
    held_out: bool,
    variants: int,
    seed: int,
    cache_dir: Path | None = None,
    colour: bool = False,
) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """(n, 1 + variants, 28, 28) model inputs (with ``colour``: (n, 1 + variants, 64, 64, 3) inputs of the
    colour photo model) of the garments of the CCP photos of one part, by their true masks, and each
    garment's allowed Fashion-MNIST classes (() for none of the ten)."""
    from fashion_desktop.core.prepare import COLOUR_SIDE, PREPROCESSING_VERSION
    from training.photos import worker_pool

    root = Path(root)
    items = find_ccp(root, held_out)
    names = label_names(root)
    kind = f"colour{COLOUR_SIDE}:" if colour else ""
    key = hashlib.sha1(
        f"ccp:{kind}{PREPROCESSING_VERSION}:{CROP_MIN_SHARE}:{variants}:{seed}:{held_out}:".encode()
        + "\n".join(str(i.photo) for i in items).encode()
    ).hexdigest()[:16]
    cache = (cache_dir / f"ccp-{key}.npz") if cache_dir else None
    if cache and cache.exists():
        return _cached(cache)
    jobs = [(item, names, variants, seed * 100_003 + i, colour) for i, item in enumerate(items)]
    with worker_pool() as pool:
        per_photo = list(pool.map(_crops_of_one, jobs, chunksize=8))
    garments = [g for photo in per_photo for g in photo]
    return _stacked(garments, cache)
