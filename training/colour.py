"""The colour photo model, as a story: data, model, train, evaluate, save. ``python -m training colour``.

A second classifier, trained from scratch, for real photos only: it sees the isolated item in colour at
64 x 64 (``prepare.colour_input``), where the 28 x 28 gray model has lost a collar's buttons, a coat's
thickness and a sandal's straps. It learns from the real photos of every source (set-valued labels, as
``training.train``), the CCP garments cut by their true masks, and a share of Fashion-MNIST brought to
that size and tinted (Bag, which no photo folder has, is still learned). The 28 x 28 model keeps
Fashion-MNIST-style pictures and the Fashion-MNIST figures.

The held-out photos are the same as ``training.train``'s (``photos.is_held_out``, ``ccp.is_held_out``);
the "known" threshold is set on clothing-dataset-small's held-out photos and its figures cross-fitted.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core import CLASS_NAMES, NUM_CLASSES
from fashion_desktop.core.degrade import random_blur
from fashion_desktop.core.prepare import COLOUR_SIDE, PREPROCESSING_VERSION
from training import train
from training.train import framework_versions, machine_description, setup

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEFAULT_OUT = RESOURCES / "photo_model"
# What a model serves (model.json's "serves"), by the folder the app loads it from.
SERVES = {
    "photo_model": "photos: every picture larger than 28 x 28 that is not judged as a garment worn by a person "
    "(resources/model keeps dataset-style pictures)",
    "worn_model": "garments worn by a person: the segmenter's main garment and the outfit's other garments",
}


@dataclass
class ColourConfig:
    photos: str = "../shared/photos/clothing-dataset-small"
    extra_photos: str | None = "../shared/photos/clothing-dataset-extra"
    ccp: str | None = "../shared/ccp"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    photo_variants: int = 2  # re-takes of each photo (crop, rotation, exposure), each isolated again
    ccp_variants: int = 2
    # A segmenter folder: the garments it finds on the CCP training photos, cut as the app cuts them, are
    # trained on too (``ccp.segmented_garment_crops``), with ``ccp_variants`` re-takes each.
    ccp_segmented: str | None = None
    fashion_mnist_per_class: int = 600  # drawn afresh every epoch from the training part
    blur_prob: float = 0.35
    shoe_turn_prob: float = 0.0  # shoes photographed from above lie any way up: turn them by 90, 180, 270
    outlier_weight: float = 1.0
    width: int = 24  # channels of the first block; the others are 2x, 4x, 8x
    seed: int = 0
    data_dir: str | None = None
    subset: int | None = None  # train on this many real items only (quick runs, tests)


# ----------------------------------------------------------------------------- data
def multi_hot(classes: list[tuple[int, ...]]) -> np.ndarray:
    t = np.zeros((len(classes), NUM_CLASSES), np.float32)
    for i, allowed in enumerate(classes):
        t[i, list(allowed)] = 1.0
    return t


def real_items(cfg: ColourConfig, held_out: bool, variants: tuple[int, int]):
    """(inputs (n, versions, 64, 64, 3), multi-hot targets, source name per item) of every photo source."""
    from training.ccp import garment_crops
    from training.photos import find_photos, prepare_photos

    xs, ys, sources = [], [], []
    for root in filter(None, (cfg.photos, cfg.extra_photos)):
        photos = find_photos(root, held_out=held_out)
        xs.append(prepare_photos(photos, variants[0], cfg.seed, train.CACHE_DIR, colour=True))
        ys.append(photos.targets())
        sources += [Path(root).name] * len(photos.paths)
    if cfg.ccp:
        crops, classes = garment_crops(cfg.ccp, held_out, variants[1], cfg.seed, train.CACHE_DIR, colour=True)
        xs.append(crops)
        ys.append(multi_hot(classes))
        sources += ["ccp"] * len(classes)
    if cfg.ccp and cfg.ccp_segmented and not held_out:
        from training.ccp import segmented_garment_crops

        crops, classes = segmented_garment_crops(cfg.ccp, cfg.ccp_segmented, variants[1], cfg.seed, train.CACHE_DIR)
        xs.append(crops)
        ys.append(multi_hot(classes))
        sources += ["ccp-segmented"] * len(classes)
    versions = min(x.shape[1] for x in xs)
    return np.concatenate([x[:, :versions] for x in xs]), np.concatenate(ys), sources


def fashion_mnist_in_colour(x: np.ndarray, side: int = COLOUR_SIDE) -> np.ndarray:
    """(n, 28, 28) Fashion-MNIST items (light on black, negated) -> (n, side, side, 3) as
    ``colour_input`` shows a photo's item: the item in its own (gray) tones, un-negated, on black."""
    out = np.empty((len(x), side, side, 3), np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    for i, img in enumerate(x):
        mask = cv2.morphologyEx((img > 0).astype(np.uint8), cv2.MORPH_CLOSE, kernel)
        item = np.where(mask > 0, 255 - img, 0).astype(np.uint8)
        big = cv2.resize(item, (side, side), interpolation=cv2.INTER_LINEAR)
        big_mask = cv2.resize(mask * 255, (side, side), interpolation=cv2.INTER_LINEAR) > 127
        out[i] = np.where(big_mask, big, 0)[..., None]
    return out


def augment(
    x: np.ndarray,
    rng: np.random.Generator,
    blur_prob: float,
    tint: np.ndarray,
    quarter_turns: np.ndarray | None = None,
) -> np.ndarray:
    """A fresh re-take of each (n, S, S, 3) item: mirror, shift, scale and turn; colour and exposure
    (gray items, ``tint`` True, get a random colour); blur as a shaky or unfocused phone gives it;
    ``quarter_turns`` (per item, 0-3) turns an item by that many right angles first.
    The black outside the item stays black, as ``colour_input`` leaves it."""
    n, side = len(x), x.shape[1]
    out = np.empty_like(x)
    centre = (side / 2 - 0.5, side / 2 - 0.5)
    for i in range(n):
        img = x[i][:, ::-1] if rng.random() < 0.5 else x[i]
        if quarter_turns is not None and quarter_turns[i]:
            img = np.rot90(img, int(quarter_turns[i]))
        m = cv2.getRotationMatrix2D(centre, rng.uniform(-10, 10), rng.uniform(0.85, 1.05))
        m[:, 2] += rng.uniform(-4, 4, size=2)
        img = cv2.warpAffine(np.ascontiguousarray(img), m, (side, side), flags=cv2.INTER_LINEAR, borderValue=0)
        inside = img.max(axis=2) > 0
        f = img.astype(np.float32)
        if tint[i]:
            f *= rng.uniform(0.4, 1.3, size=3)
        else:
            f *= rng.uniform(0.85, 1.15, size=3)
        f = f * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25)
        if rng.random() < 0.1:
            f[:] = f.mean(axis=2, keepdims=True)  # a black-and-white photo
        if rng.random() < blur_prob:
            f = random_blur(f, rng, strength=side / 56)
        out[i] = np.where(inside[..., None], np.clip(f, 0, 255), 0).astype(np.uint8)
    return out


# ----------------------------------------------------------------------------- model
def build_colour(width: int = 24, side: int = COLOUR_SIDE):
    """Four stages of 3x3 conv + batch-norm + ReLU (one, two, two, one convs), each followed by
    max-pooling and dropout, then global average pooling and a dense head; outputs logits."""
    import keras
    from keras import layers

    from training.models import conv_bn, dense_head

    inputs = keras.Input((side, side, 3), name="image")
    x = layers.Rescaling(1 / 255)(inputs)
    for filters, convs, drop in ((width, 1, 0.05), (2 * width, 2, 0.1), (4 * width, 2, 0.15), (8 * width, 1, 0.2)):
        for _ in range(convs):
            x = conv_bn(x, filters)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(drop)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, dense_head(x), name="fashion_lens_colour")


# ----------------------------------------------------------------------------- train
def fit(cfg: ColourConfig, real_x: np.ndarray, real_y: np.ndarray, fmnist):
    import keras

    from training.losses import SetAccuracy, SetCrossEntropy

    rng = np.random.default_rng(cfg.seed)
    per_epoch = len(real_x) + cfg.fashion_mnist_per_class * NUM_CLASSES
    steps_per_epoch = int(np.ceil(per_epoch / cfg.batch_size))
    steps = cfg.epochs * steps_per_epoch
    warmup = min(steps // 10, steps_per_epoch)
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate / 10, steps - warmup, alpha=0.01, warmup_target=cfg.learning_rate, warmup_steps=warmup
    )
    model = build_colour(cfg.width)
    model.compile(keras.optimizers.Adam(schedule), SetCrossEntropy(None, cfg.outlier_weight), metrics=[SetAccuracy()])
    by_class = [np.flatnonzero(fmnist.y == c) for c in range(NUM_CLASSES)]
    # Real photos of shoes only (a set within Sandal, Sneaker, Ankle boot): from above, any way up.
    shoes = (real_y.sum(axis=1) > 0) & (real_y[:, [0, 1, 2, 3, 4, 6, 8]].sum(axis=1) == 0)
    start = time.monotonic()
    for epoch in range(cfg.epochs):
        pick = np.concatenate([rng.choice(idx, cfg.fashion_mnist_per_class, replace=False) for idx in by_class])
        version = rng.integers(0, real_x.shape[1], size=len(real_x))
        x = np.concatenate([real_x[np.arange(len(real_x)), version], fashion_mnist_in_colour(fmnist.x[pick])])
        y = np.concatenate([real_y, np.eye(NUM_CLASSES, dtype=np.float32)[fmnist.y[pick]]])
        tint = np.r_[np.zeros(len(real_x), bool), np.ones(len(pick), bool)]
        turns = np.r_[rng.integers(1, 4, len(real_x)) * (shoes & (rng.random(len(real_x)) < cfg.shoe_turn_prob)),
                      np.zeros(len(pick), int)]  # fmt: skip
        order = rng.permutation(len(x))
        x = augment(x[order], rng, cfg.blur_prob, tint[order], turns[order])
        hist = model.fit(x, y[order], batch_size=cfg.batch_size, epochs=1, verbose=0)
        elapsed = time.monotonic() - start
        print(
            f"epoch {epoch + 1}/{cfg.epochs}  loss={hist.history['loss'][-1]:.4f}  "
            f"accuracy={hist.history['accuracy'][-1]:.4f}  elapsed {elapsed / 60:.1f} min  "
            f"ETA {elapsed / (epoch + 1) * (cfg.epochs - epoch - 1) / 60:.1f} min",
            file=sys.stderr,
            flush=True,
        )
    return model


# ----------------------------------------------------------------------------- evaluate
def evaluate(model, cfg: ColourConfig, test) -> dict:
    """Held-out photos of every source by each photo's own label; the "known" threshold set on
    ``--photos``'s held-out photos (cross-fitted figures); Fashion-MNIST's test part in colour, for
    information (this model never judges dataset-style pictures)."""
    from training.evaluate import class_metrics, confusion_matrix, predict_proba

    metrics: dict = {"real_photos": train.evaluate_photos(model, cfg, colour=True)}
    threshold = metrics["real_photos"]["known_threshold"]
    metrics.update(train.evaluate_other_sources(model, cfg, threshold, colour=True))
    pred = predict_proba(model, fashion_mnist_in_colour(test.x), 256).argmax(axis=1)
    metrics["fashion_mnist_in_colour"] = class_metrics(confusion_matrix(test.y, pred))
    return metrics


# ----------------------------------------------------------------------------- the whole run
def run(cfg: ColourConfig, out_dir: Path, command: str) -> dict:
    """Train, evaluate and install the colour photo model into ``out_dir``; returns its model.json."""

    from training import data
    from training.install import save_outputs, sha256_file
    from training.photos import LABELS_FILE

    setup(cfg.seed)
    started = time.monotonic()
    ds = data.load(cfg.data_dir, 0.0, cfg.seed)
    real_x, real_y, sources = real_items(cfg, False, (cfg.photo_variants, cfg.ccp_variants))
    if cfg.subset:
        keep = np.random.default_rng(cfg.seed).permutation(len(real_x))[: cfg.subset]
        real_x, real_y, sources = real_x[keep], real_y[keep], [sources[i] for i in keep]
    counts = {s: sources.count(s) for s in dict.fromkeys(sources)}
    print(
        f"data: {len(real_x)} real items x {real_x.shape[1]} versions ({counts}); "
        f"{cfg.fashion_mnist_per_class} Fashion-MNIST items per class each epoch from {ds.source}",
        file=sys.stderr,
        flush=True,
    )
    from training.models import with_softmax

    # The model shipped: the mean of the item's and its mirror image's probabilities, as the 28 x 28 one.
    model = with_softmax(fit(cfg, real_x, real_y, ds.train))
    metrics = evaluate(model, cfg, ds.test)
    duration = time.monotonic() - started
    rp = metrics["real_photos"]
    meta = {
        "class_names": list(CLASS_NAMES),
        "input": {
            "shape": [COLOUR_SIDE, COLOUR_SIDE, 3],
            "dtype": "uint8",
            "range": [0, 255],
            "description": "the isolated item in colour (RGB) on black, its long side 64, centred "
            "(prepare.colour_input)",
        },
        "output": "probabilities over class_names (softmax)",
        "serves": SERVES.get(out_dir.name, SERVES["photo_model"]),
        "preprocessing_version": PREPROCESSING_VERSION,
        "training": {
            **asdict(cfg),
            "command": command,
            "duration_s": round(duration, 1),
            "machine": machine_description(),
            "data_source": ds.source,
            "real_items": counts,
            "photo_labels_sha256": sha256_file(LABELS_FILE),
            **framework_versions(),
        },
        "metrics": metrics,
        "known_threshold": rp["known_threshold"],
        "known_score": rp["known_score"],
    }
    meta = save_outputs(out_dir, model, meta)
    print(
        f"wrote {out_dir / meta['file']}; held-out photos by label {rp['top1_labelled']:.4f}; {duration / 60:.1f} min",
        file=sys.stderr,
    )
    return meta
