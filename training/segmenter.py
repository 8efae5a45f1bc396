"""Trains the garment segmenter from scratch on the CCP photos: ``python -m training segmenter``.

Set-up, data, model, train, evaluate, install, as the keras-io examples read. The network is a small
U-Net over a 96 x 96 picture (the long side; the short side padded with black, as the app pads), with
one output per region of ``fashion_desktop.core.segment.REGIONS``. The held-out CCP photos
(``training.ccp.is_held_out``) are never trained on; they give the figures in model.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core.segment import REGIONS, SIDE, letterbox
from training.ccp import DEFAULT_CCP, find_ccp, label_names, read_pair, region_table
from training.train import framework_versions, machine_description, setup

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "resources" / "segmenter"
BASE_SIDE = 2 * SIDE  # photos are kept at twice the working size, so crops still have detail


@dataclass(frozen=True)
class SegmenterConfig:
    ccp: str = str(DEFAULT_CCP)
    epochs: int = 40
    variants: int = 2  # augmented versions of each photo per epoch
    batch_size: int = 16
    learning_rate: float = 2e-3
    width: int = 16  # channels of the first block; each block below doubles it (capped at 6x)
    # More blocks at the 6 x 6 bottom, where each sees the whole figure: cheap (36 pixels) context for
    # telling a top from the open coat over it.
    bottleneck: int = 0
    seed: int = 0
    # Flat-lay photos (clothing-dataset-small's layout), their item labelled by GrabCut as their folder's
    # region and no person: without them the segmenter, which has only seen people, finds skin in a
    # shirt on a bed. This many of them join each epoch, drawn afresh.
    photos: str | None = None
    photos_per_epoch: int = 800


# --- data -------------------------------------------------------------------------------------


def at_base_size(rgb: np.ndarray, regions_full: np.ndarray):
    """A photo and its region map (of the photo's aspect, any size) at long side BASE_SIDE, padded to a
    square with black (background), and the (width, height) of the picture inside."""
    h, w = rgb.shape[:2]
    s = BASE_SIDE / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    photo = np.zeros((BASE_SIDE, BASE_SIDE, 3), np.uint8)
    regions = np.zeros((BASE_SIDE, BASE_SIDE), np.uint8)
    photo[: size[1], : size[0]] = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    regions[: size[1], : size[0]] = cv2.resize(regions_full, size, interpolation=cv2.INTER_NEAREST)
    return photo, regions, size


def load_split(root: Path, held_out: bool) -> tuple[np.ndarray, np.ndarray, list]:
    """(photos, region maps) of one part of CCP, long side BASE_SIDE, padded to a square with black."""
    names = label_names(root)
    table = region_table(names)

    def one(item):
        rgb, labels = read_pair(item)
        return at_base_size(rgb, table[labels])

    items = find_ccp(root, held_out)
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        done = list(pool.map(one, items))
    return np.stack([d[0] for d in done]), np.stack([d[1] for d in done]), [d[2] for d in done]


# Flat-lay folder -> the region its item is (as CCP groups the same garments).
FOLDER_REGION = {
    **dict.fromkeys(["t-shirt", "longsleeve", "shirt", "polo", "undershirt", "top", "blouse", "hoodie"], "top"),
    **dict.fromkeys(["outwear", "blazer"], "outerwear"),
    "dress": "dress",
    **dict.fromkeys(["pants", "shorts", "skirt"], "bottoms"),
    "shoes": "footwear",
    **dict.fromkeys(["hat", "body"], "other"),
}


def load_flat_lays(root: Path):
    """(photos, region maps, sizes) of the training part of a flat-lay collection: the item GrabCut
    finds (``core.prepare.foreground_mask``, as the app isolates such photos) is its folder's region."""
    from fashion_desktop.core.images import load_image
    from fashion_desktop.core.prepare import foreground_mask, work_picture
    from training.photos import find_photos

    photos = find_photos(root, held_out=False)

    def one(args):
        path, folder = args
        rgb = load_image(path)
        mask = foreground_mask(work_picture(rgb))
        # The item's region at the mask's (working) size; at_base_size brings both to BASE_SIDE.
        item = np.where(mask > 0, REGIONS.index(FOLDER_REGION[folder]), 0).astype(np.uint8)
        return at_base_size(rgb, item)

    jobs = [(p, f) for p, f in zip(photos.paths, photos.folders) if f in FOLDER_REGION]
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        done = list(pool.map(one, jobs))
    return np.stack([d[0] for d in done]), np.stack([d[1] for d in done]), [d[2] for d in done]


def augment(photo: np.ndarray, regions: np.ndarray, size: tuple[int, int], rng: np.random.Generator):
    """A re-take of one photo as a user might take it: the whole figure or a part (upper body, legs),
    mirrored, tilted, lit and coloured differently, sometimes blurred; letterboxed to SIDE."""
    w, h = size
    photo, regions = photo[:h, :w], regions[:h, :w]
    if rng.random() < 0.6:  # a part of the figure: from a close-up of the torso to most of it
        ch = int(h * rng.uniform(0.3, 1.0))
        cw = min(w, int(ch * rng.uniform(0.55, 1.4)))
        y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        photo, regions = photo[y0 : y0 + ch, x0 : x0 + cw], regions[y0 : y0 + ch, x0 : x0 + cw]
    if rng.random() < 0.5:
        photo, regions = photo[:, ::-1], regions[:, ::-1]
    ph, pw = photo.shape[:2]
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), rng.uniform(-10, 10), rng.uniform(0.9, 1.1))
    photo = cv2.warpAffine(np.ascontiguousarray(photo), m, (pw, ph), borderMode=cv2.BORDER_REFLECT)
    regions = cv2.warpAffine(
        np.ascontiguousarray(regions), m, (pw, ph), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT
    )
    img = photo.astype(np.float32) * rng.uniform(0.75, 1.25, 3) * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25)
    if rng.random() < 0.1:
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
    photo = np.clip(img, 0, 255).astype(np.uint8)
    square, (nh, nw) = letterbox(photo)
    target = np.zeros((SIDE, SIDE), np.uint8)
    target[:nh, :nw] = cv2.resize(regions, (nw, nh), interpolation=cv2.INTER_NEAREST)
    if rng.random() < 0.3:
        square = cv2.GaussianBlur(square, (0, 0), rng.uniform(0.5, 1.5))
    return square, target


def augmented_epoch(photos, regions, sizes, variants: int, rng: np.random.Generator):
    pairs = [augment(p, r, s, rng) for _ in range(variants) for p, r, s in zip(photos, regions, sizes)]
    order = rng.permutation(len(pairs))
    return np.stack([pairs[i][0] for i in order]), np.stack([pairs[i][1] for i in order])


def region_weights(regions: np.ndarray) -> np.ndarray:
    """Per-region loss weights, (median share / share) ** 0.5: small regions (shoes, bags) still count."""
    share = np.bincount(regions.ravel(), minlength=len(REGIONS)).astype(np.float64)
    share = np.maximum(share / share.sum(), 1e-6)
    return np.clip((np.median(share) / share) ** 0.5, 0.2, 5.0).astype(np.float32)


# --- model ------------------------------------------------------------------------------------


def build_segmenter(width: int = 16, bottleneck: int = 0):
    """A small U-Net: four stride-2 blocks down to 6 x 6 (and ``bottleneck`` more there), three up with
    skip connections, region scores at 48 x 48 brought to 96 x 96 bilinearly."""
    import keras
    from keras import layers

    def block(x, channels, stride=1):
        x = layers.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(x)

    inputs = keras.Input((SIDE, SIDE, 3), dtype="uint8")
    x = layers.Rescaling(1 / 255.0)(inputs)
    skips = []
    for i, mult in enumerate((1, 2, 4, 6)):
        x = block(x, width * mult, stride=2)
        x = block(x, width * mult)
        if i < 3:
            skips.append(x)
    for _ in range(bottleneck):
        x = block(x, width * 6)
    for skip, mult in zip(reversed(skips), (4, 2, 1)):
        x = layers.UpSampling2D(2, interpolation="bilinear")(x)
        x = layers.Concatenate()([x, skip])
        x = block(x, width * mult)
    x = layers.Conv2D(len(REGIONS), 1)(x)
    x = layers.UpSampling2D(2, interpolation="bilinear")(x)
    outputs = layers.Softmax()(x)
    return keras.Model(inputs, outputs, name="garment_segmenter")


# --- evaluate ---------------------------------------------------------------------------------


def confusion(model, photos, regions, sizes) -> np.ndarray:
    """Region confusion matrix (true x predicted pixels) over the held-out photos at working size."""
    import keras

    cm = np.zeros((len(REGIONS), len(REGIONS)), np.int64)
    for photo, truth, (w, h) in zip(photos, regions, sizes):
        square, (nh, nw) = letterbox(photo[:h, :w])
        pred = np.argmax(keras.ops.convert_to_numpy(model(square[None], training=False))[0][:nh, :nw], axis=-1)
        true = cv2.resize(truth[:h, :w], (nw, nh), interpolation=cv2.INTER_NEAREST)
        cm += np.bincount(true.ravel() * len(REGIONS) + pred.ravel(), minlength=len(REGIONS) ** 2).reshape(
            len(REGIONS), len(REGIONS)
        )
    return cm


def iou_figures(cm: np.ndarray) -> dict:
    inter = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - inter
    per_region = {r: round(float(i / u), 4) if u else None for r, i, u in zip(REGIONS, inter, union)}
    present = [v for v in per_region.values() if v is not None]
    fg_true, fg_pred = cm[1:].sum(), cm[:, 1:].sum()
    fg_inter = cm[1:, 1:].sum()
    return {
        "mean_iou": round(float(np.mean(present)), 4),
        "person_iou": round(float(fg_inter / (fg_true + fg_pred - fg_inter)), 4),
        "pixel_accuracy": round(float(inter.sum() / cm.sum()), 4),
        "iou": per_region,
    }


# --- train, evaluate, install -----------------------------------------------------------------


def run(cfg: SegmenterConfig, out_dir: Path, command: str) -> dict:
    import keras

    setup(cfg.seed)
    t0 = time.time()
    root = Path(cfg.ccp)
    photos, regions, sizes = load_split(root, held_out=False)
    test_photos, test_regions, test_sizes = load_split(root, held_out=True)
    print(f"CCP: {len(photos)} photos to train on, {len(test_photos)} held out", file=sys.stderr, flush=True)
    weights = region_weights(regions)
    flat = load_flat_lays(Path(cfg.photos)) if cfg.photos else None
    if flat is not None:
        print(f"flat-lay photos: {len(flat[0])} from {cfg.photos}", file=sys.stderr, flush=True)

    model = build_segmenter(cfg.width, cfg.bottleneck)
    steps = cfg.epochs * int(np.ceil(len(photos) * cfg.variants / cfg.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, steps, warmup_steps=steps // 20)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(cfg.seed)
    for epoch in range(cfg.epochs):
        x, y = augmented_epoch(photos, regions, sizes, cfg.variants, rng)
        if flat is not None:
            pick = rng.permutation(len(flat[0]))[: cfg.photos_per_epoch]
            fx, fy = augmented_epoch(flat[0][pick], flat[1][pick], [flat[2][i] for i in pick], 1, rng)
            order = rng.permutation(len(x) + len(fx))
            x, y = np.concatenate([x, fx])[order], np.concatenate([y, fy])[order]
        hist = model.fit(x, y, sample_weight=weights[y], batch_size=cfg.batch_size, epochs=1, verbose=0)
        print(
            f"epoch {epoch + 1}/{cfg.epochs}: loss {hist.history['loss'][-1]:.4f} ({time.time() - t0:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    figures = iou_figures(confusion(model, test_photos, test_regions, test_sizes))
    print(json.dumps(figures), file=sys.stderr, flush=True)

    meta = {
        "what": "garment segmenter: a region per pixel of a picture of a person",
        "regions": list(REGIONS),
        "input": {
            "shape": [SIDE, SIDE, 3],
            "dtype": "uint8",
            "description": "RGB, long side 96, padded with black at the right or bottom to a square",
        },
        "output": "probabilities over regions per pixel (softmax), 96 x 96",
        "training": {
            **asdict(cfg),
            "command": command,
            "duration_s": round(time.time() - t0, 1),
            "machine": machine_description(),
            "train_photos": len(photos),
            "held_out_photos": len(test_photos),
            "held_out_rule": "CCP photos whose name's sha1 is 0 mod 5 (training/ccp.py is_held_out)",
            "flat_lay_photos": len(flat[0]) if flat is not None else 0,
            "region_weights": [round(float(v), 3) for v in weights],
            **framework_versions(),
        },
        "metrics": {"held_out": figures},
    }
    installed = install(model, meta, out_dir)
    from training import region_prior

    installed["class_given_region"] = region_prior.run(out_dir, root, command)  # what its regions say of class
    return installed


def install(model, meta: dict, out_dir: Path) -> dict:
    """Install the weights without the optimizer (the app never trains, and the vetting refuses it)."""
    import keras

    from training.install import save_outputs

    shipped = keras.Model.from_config(model.get_config())
    shipped.set_weights(model.get_weights())
    return save_outputs(out_dir, shipped, meta)
