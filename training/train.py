"""Training as a story: setup, data, model, train, evaluate, save. ``python -m training --help``.

Each section is one step; :func:`run`, at the end, takes them in order. Keras and TensorFlow are
imported inside the steps that need them, so importing this module (``python -m training --help``) does
not load them.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fashion_desktop.core import CLASS_NAMES, NUM_CLASSES
from fashion_desktop.core.prepare import PREPROCESSING_VERSION
from training.install import save_outputs, sha256_file  # the save step: one atomic install

if TYPE_CHECKING:
    from training.colour import ColourConfig

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "model"
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"  # prepared photos, keyed by content


@dataclass
class TrainConfig:
    arch: str = "default"
    epochs: int = 16
    batch_size: int = 128
    learning_rate: float = 2e-3
    blur_prob: float = 0.5
    val_fraction: float = 1 / 12
    seed: int = 0
    imbalance: float | None = None
    rare_order: list[int] = field(default_factory=lambda: list(range(NUM_CLASSES)))
    balance: str = "none"
    subset: int | None = None
    data_dir: str | None = None
    photos: str | None = None
    extra_photos: str | None = None  # a second collection in the same layout (clothing-dataset-extra)
    ccp: str | None = None  # CCP photos: garments as worn, cut by their true masks
    ccp_variants: int = 3
    init_from: str | None = None  # a shipped .keras file whose network training goes on from (fine-tuning)
    photo_variants: int = 7
    photo_like_prob: float = 0.2
    outlier_weight: float = 1.0


# ----------------------------------------------------------------------------- setup
def setup(seed: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # after the log level is set

    keras.utils.set_random_seed(seed)


# ----------------------------------------------------------------------------- data
def prepare_data(cfg: TrainConfig):
    """(the data set with its validation and test parts, the training part as trained on)."""
    from training import data

    ds = data.load(cfg.data_dir, cfg.val_fraction, cfg.seed)
    train = ds.train
    if cfg.imbalance:
        train = data.make_long_tailed(train, cfg.imbalance, cfg.rare_order, cfg.seed)
    if cfg.subset:
        idx = np.random.default_rng(cfg.seed).permutation(len(train.y))[: cfg.subset]
        train = data.Split(train.x[idx], train.y[idx])
    return ds, train


def load_photos(cfg: TrainConfig):
    """(inputs, multi-hot targets) from --photos: each training photo and its re-takes, or None."""
    if not cfg.photos:
        return None
    from training.photos import find_photos, prepare_photos

    xs, ys = [], []
    for root in filter(None, (cfg.photos, cfg.extra_photos)):
        photos = find_photos(root, held_out=False)
        inputs = prepare_photos(photos, cfg.photo_variants, cfg.seed, CACHE_DIR)
        versions = inputs.shape[1]
        print(f"photos: {len(photos.paths)} training photos x {versions} versions from {root}", file=sys.stderr)
        xs.append(inputs.reshape(-1, 28, 28))
        ys.append(np.repeat(photos.targets(), versions, axis=0))
    if cfg.ccp:
        from training.ccp import garment_crops

        crops, classes = garment_crops(cfg.ccp, False, cfg.ccp_variants, cfg.seed, CACHE_DIR)
        print(f"CCP: {len(classes)} worn garments x {crops.shape[1]} versions from {cfg.ccp}", file=sys.stderr)
        targets = np.zeros((len(classes), NUM_CLASSES), np.float32)
        for i, allowed in enumerate(classes):
            targets[i, list(allowed)] = 1.0
        xs.append(crops.reshape(-1, 28, 28))
        ys.append(np.repeat(targets, crops.shape[1], axis=0))
    return np.concatenate(xs), np.concatenate(ys)


def class_balance(y: np.ndarray, strategy: str):
    """(sample weights, log prior) for the chosen imbalance strategy."""
    counts = np.bincount(y, minlength=NUM_CLASSES).astype(float)
    if strategy == "none":
        return None, None
    if strategy == "weights":
        w = counts.sum() / (NUM_CLASSES * np.maximum(counts, 1))
        return w[y].astype(np.float32), None
    if strategy == "logit-adjust":
        prior = np.maximum(counts, 1) / counts.sum()
        return None, np.log(prior)
    raise ValueError(f"unknown --balance {strategy!r}; choose none, weights or logit-adjust")


def training_batches(cfg: TrainConfig, train, sample_weight, extra=None):
    """The Fashion-MNIST training part (one-hot) and the photos (multi-hot), augmented batch by batch."""
    from training.augment import AugmentedBatches

    x, targets = train.x, np.eye(NUM_CLASSES, dtype=np.float32)[train.y]
    if extra is not None:
        x, targets = np.concatenate([x, extra[0]]), np.concatenate([targets, extra[1]])
        if sample_weight is not None:
            sample_weight = np.concatenate([sample_weight, np.ones(len(extra[0]), np.float32)])
    return AugmentedBatches(
        x, targets, cfg.batch_size, cfg.blur_prob, cfg.seed, sample_weight, photo_like_prob=cfg.photo_like_prob
    )


# ----------------------------------------------------------------------------- model
def build_model(cfg: TrainConfig, steps_per_epoch: int, log_prior):
    """``cfg.arch`` compiled with the set loss and a warm-up, then cosine, learning-rate schedule."""
    import keras

    from training import models
    from training.losses import SetAccuracy, SetCrossEntropy

    model = models.build(cfg.arch)
    if cfg.init_from:
        model.set_weights(trained_network(Path(cfg.init_from)).get_weights())
    steps = cfg.epochs * steps_per_epoch
    warmup = min(steps // 10, steps_per_epoch)
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate / 10, steps - warmup, alpha=0.01, warmup_target=cfg.learning_rate, warmup_steps=warmup
    )
    model.compile(
        keras.optimizers.Adam(schedule), SetCrossEntropy(log_prior, cfg.outlier_weight), metrics=[SetAccuracy()]
    )
    return model


def trained_network(path: Path):
    """The trained network inside a shipped model file (``models.with_softmax`` wraps it), to go on
    training from; the archive is vetted as the app vets it before Keras reads it."""
    import keras

    import fashion_desktop.core.layers  # noqa: F401 - the shipped model's own layers
    from fashion_desktop.core.model_config import check_keras_archive

    check_keras_archive(path.read_bytes())
    shipped = keras.saving.load_model(path, compile=False, safe_mode=True)
    inner = [layer for layer in shipped.layers if isinstance(layer, keras.Model)]
    if len(inner) != 1:
        raise ValueError(f"{path} is not a model saved by this training (no single inner network)")
    return inner[0]


# ----------------------------------------------------------------------------- train
def fit(cfg: TrainConfig, train, val, extra=None):
    """A model trained on ``train`` (and the photos in ``extra``), with its best validation epoch's weights."""
    sample_weight, log_prior = class_balance(train.y, cfg.balance)
    batches = training_batches(cfg, train, sample_weight, extra)
    model = build_model(cfg, len(batches), log_prior)
    progress, best = Progress(cfg.epochs), BestWeights()
    model.fit(
        batches,
        epochs=cfg.epochs,
        validation_data=(val.x[..., None], np.eye(NUM_CLASSES, dtype=np.float32)[val.y]) if len(val.y) else None,
        verbose=0,
        callbacks=[progress.callback, best.callback],
    )
    best.restore(model)
    return model


class Progress:
    """Prints one line per epoch with elapsed time and an ETA for the whole run."""

    def __init__(self, epochs: int):
        import keras

        self.epochs = epochs
        self.start = time.monotonic()
        self.callback = keras.callbacks.LambdaCallback(on_train_begin=self.train_begins, on_epoch_end=self.epoch_ends)

    def train_begins(self, logs=None) -> None:
        self.start = time.monotonic()

    def epoch_ends(self, epoch: int, logs=None) -> None:
        done = epoch + 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / done * (self.epochs - done)
        figures = "  ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items() if k != "learning_rate")
        print(
            f"epoch {done}/{self.epochs}  {figures}  elapsed {elapsed / 60:.1f} min  ETA {eta / 60:.1f} min",
            file=sys.stderr,
            flush=True,
        )


class BestWeights:
    """Keeps the weights of the epoch with the best validation accuracy (never the test set).

    Ties go to the later epoch, so with no validation part (``--val-fraction 0``) every epoch ties and
    the last one is kept.
    """

    def __init__(self):
        import keras

        self.best, self.weights, self.epoch = -1.0, None, 0
        self.callback = keras.callbacks.LambdaCallback(on_epoch_end=self.epoch_ends)

    def epoch_ends(self, epoch: int, logs=None) -> None:
        acc = (logs or {}).get("val_accuracy", 0.0)
        if acc >= self.best:
            self.best, self.weights, self.epoch = acc, self.callback.model.get_weights(), epoch + 1

    def restore(self, model) -> None:
        if self.weights is not None:
            model.set_weights(self.weights)


# ----------------------------------------------------------------------------- evaluate
def evaluate_model(model, cfg: TrainConfig, test) -> dict:
    """The Fashion-MNIST test part, and with --photos the held-out photos of every source."""
    from training.evaluate import evaluate

    metrics = evaluate(model, test.x, test.y)
    if cfg.photos:
        metrics["real_photos"] = evaluate_photos(model, cfg)
        metrics.update(evaluate_other_sources(model, cfg, metrics["real_photos"]["known_threshold"]))
    return metrics


def _held_out_proba(model, x: np.ndarray) -> np.ndarray:
    """Probabilities of held-out inputs: 1,000 gray 28 x 28 ones a call, or 256 of the colour model's."""
    from training.evaluate import predict_proba

    return predict_proba(model, x, 1000 if x.ndim == 3 else 256)


def evaluate_photos(model, cfg: TrainConfig | ColourConfig, colour: bool = False) -> dict:
    """Held-out photos: figures, and the "known" threshold set on all of them (its own figures cross-fitted).
    ``colour``: the photos prepared for the colour model (``training.colour``), whose config has the
    same photo fields."""
    from training.photo_eval import calibrate_known_threshold, photo_metrics
    from training.photos import calibration_fold, find_photos, prepare_photos

    photos = find_photos(cfg.photos, held_out=True)
    probs = _held_out_proba(model, prepare_photos(photos, 0, cfg.seed, CACHE_DIR, colour=colour)[:, 0])
    threshold = calibrate_known_threshold(probs, photos.folders)
    folds = [calibration_fold(p) for p in photos.paths]
    return photo_metrics(probs, photos.folders, threshold, photos.classes, folds)


def evaluate_other_sources(model, cfg: TrainConfig | ColourConfig, threshold: float, colour: bool = False) -> dict:
    """The held-out part of the other photo sources, by each photo's own label, at the threshold set on
    ``--photos`` (never fitted to these); ``colour`` as for :func:`evaluate_photos`."""
    from training.photo_eval import photo_metrics
    from training.photos import find_photos, prepare_photos

    out = {}
    if cfg.extra_photos:
        photos = find_photos(cfg.extra_photos, held_out=True)
        probs = _held_out_proba(model, prepare_photos(photos, 0, cfg.seed, CACHE_DIR, colour=colour)[:, 0])
        out["real_photos_extra"] = photo_metrics(probs, photos.folders, threshold, photos.classes)
    if cfg.ccp:
        from training.ccp import garment_crops

        crops, classes = garment_crops(cfg.ccp, True, 0, cfg.seed, CACHE_DIR, colour=colour)
        probs = _held_out_proba(model, crops[:, 0])
        out["ccp_worn_garments"] = _by_label(probs, classes, threshold)
    return out


def _by_label(probs: np.ndarray, classes: list[tuple[int, ...]], threshold: float) -> dict:
    """Top-1 by each item's own allowed classes, overall and per class; unknown rates at ``threshold``."""
    from fashion_desktop.core.classifier import KNOWN_SCORES
    from training.photo_eval import KNOWN_SCORE

    pred, score = probs.argmax(axis=1), KNOWN_SCORES[KNOWN_SCORE](probs)
    known = np.array([bool(c) for c in classes])
    right = np.array([pred[i] in c for i, c in enumerate(classes)])
    per_class = {}
    for c in sorted(set(classes)):
        if not c:
            continue
        idx = [i for i, a in enumerate(classes) if a == c]
        name = " / ".join(CLASS_NAMES[k] for k in c)
        per_class[name] = {"n": len(idx), "top1": float(right[idx].mean())}
    return {
        "top1_labelled": float(right[known].mean()) if known.any() else 0.0,
        "per_class": per_class,
        "n_known": int(known.sum()),
        "n_unknown": int((~known).sum()),
        "unknown_detected": float((score[~known] < threshold).mean()) if (~known).any() else None,
        "known_judged_unknown": float((score[known] < threshold).mean()) if known.any() else None,
    }


# ----------------------------------------------------------------------------- save
def model_metadata(
    cfg: TrainConfig,
    command: str,
    duration: float,
    data_source: str,
    train_labels: np.ndarray,
    metrics: dict,
    extra_meta: dict | None = None,
) -> dict:
    """model.json as training writes it (save_outputs adds the file's name, size and sha256)."""
    from training.photos import LABELS_FILE

    return {
        "class_names": list(CLASS_NAMES),
        "input": {
            "shape": [28, 28, 1],
            "dtype": "uint8",
            "range": [0, 255],
            "description": "Fashion-MNIST style: light item on black, grayscale, centred",
        },
        "output": "probabilities over class_names (softmax)",
        "preprocessing_version": PREPROCESSING_VERSION,
        "training": {
            **asdict(cfg),
            "command": command,
            "duration_s": round(duration, 1),
            "machine": machine_description(),
            "data_source": data_source,
            "train_class_counts": np.bincount(train_labels, minlength=NUM_CLASSES).tolist(),
            **({"photo_labels_sha256": sha256_file(LABELS_FILE)} if cfg.photos else {}),
            **({"init_from_sha256": sha256_file(Path(cfg.init_from))} if cfg.init_from else {}),
            **framework_versions(),
        },
        "metrics": metrics,
        # Below this score (certainty) a picture is "not a fashion item I know"; null: not calibrated.
        "known_threshold": metrics["real_photos"]["known_threshold"] if cfg.photos else None,
        "known_score": metrics["real_photos"]["known_score"] if cfg.photos else None,
        **(extra_meta or {}),
    }


def accelerators() -> list[str]:
    """The GPUs Keras's backend trains on (none on this project's CPU machines)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def machine_description() -> str:
    cpu = f"{os.cpu_count()}-core {platform.machine()} CPU, {platform.system()}"
    gpus = accelerators()
    return f"{', '.join(gpus)} beside a {cpu}" if gpus else cpu


def framework_versions() -> dict[str, str]:
    """Keras's version and its backend's, under the backend's name: TensorFlow's here; JAX's or PyTorch's
    where a run on an accelerator machine without TensorFlow trained with ``KERAS_BACKEND`` set."""
    import importlib

    import keras

    backend = keras.backend.backend()
    return {backend: importlib.import_module(backend).__version__, "keras": keras.__version__}


# ----------------------------------------------------------------------------- the whole run
def run(cfg: TrainConfig, out_dir: Path, command: str, extra_meta: dict | None = None) -> dict:
    """Train, evaluate and install a model into ``out_dir``; returns its model.json."""
    setup(cfg.seed)
    from training.models import with_softmax
    from training.report import markdown

    started = time.monotonic()
    ds, train = prepare_data(cfg)
    print(
        f"data: {len(train.y)} training, {len(ds.val.y)} validation, {len(ds.test.y)} test images from {ds.source}",
        file=sys.stderr,
    )
    photos = load_photos(cfg)
    model = with_softmax(fit(cfg, train, ds.val, photos))  # the model as shipped is scored
    metrics = evaluate_model(model, cfg, ds.test)
    duration = time.monotonic() - started
    meta = model_metadata(cfg, command, duration, ds.source, train.y, metrics, extra_meta)
    meta = save_outputs(out_dir, model, meta, metrics["clean"]["confusion_matrix"], markdown)
    print(
        f"wrote {out_dir / meta['file']}; clean accuracy {metrics['accuracy']['clean']:.4f}; {duration / 60:.1f} min",
        file=sys.stderr,
    )
    return meta
