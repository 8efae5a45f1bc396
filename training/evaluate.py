"""Scores a model on the clean test set and on fixed, deterministic blurred copies of it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fashion_desktop.core import CLASS_NAMES, NUM_CLASSES
from fashion_desktop.core.degrade import gaussian_blur, motion_blur

EVAL_SEED = 2024  # fixes the motion-blur directions, so every evaluation sees the same pictures


def _map(images: np.ndarray, fn: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    out = np.empty_like(images)
    for i, img in enumerate(images):
        out[i] = np.clip(np.rint(fn(img.astype(np.float32), i)), 0, 255).astype(np.uint8)
    return out


def blurred_test_sets(x: np.ndarray) -> dict[str, np.ndarray]:
    """The evaluation protocol: clean, Gaussian sigma 1.0/1.5/2.0, motion 5/7 px at random fixed angles."""
    angles = np.random.default_rng(EVAL_SEED).uniform(0, 180, len(x))
    sets = {"clean": x}
    for sigma in (1.0, 1.5, 2.0):
        sets[f"gaussian_{sigma}"] = _map(x, lambda img, i, s=sigma: gaussian_blur(img, s))
    for length in (5, 7):
        sets[f"motion_{length}"] = _map(x, lambda img, i, n=length: motion_blur(img, n, angles[i]))
    return sets


def predict_proba(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Probabilities for (n, 28, 28) uint8 images, or (n, h, w, 3) colour ones; accepts a logits or a
    softmax model."""
    if x.ndim == 3:
        x = x[..., None]  # gray: the channel axis
    out = []
    for start in range(0, len(x), batch_size):
        out.append(np.asarray(model(x[start : start + batch_size], training=False)))
    p = np.concatenate(out)
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-3) or p.min() < 0:
        p = np.exp(p - p.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
    return p


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return np.bincount(y_true * NUM_CLASSES + y_pred, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


def class_metrics(cm: np.ndarray) -> dict:
    """Accuracy, per-class recall, balanced accuracy and macro-F1 from a confusion matrix."""
    tp = np.diag(cm).astype(float)
    recall = tp / np.maximum(cm.sum(axis=1), 1)
    precision = tp / np.maximum(cm.sum(axis=0), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return {
        "accuracy": float(tp.sum() / cm.sum()),
        "balanced_accuracy": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class_recall": {name: round(float(r), 4) for name, r in zip(CLASS_NAMES, recall)},
    }


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Every figure of the protocol; accuracies as fractions in [0, 1]."""
    results = {"accuracy": {}, "per_condition": {}}
    for name, images in blurred_test_sets(x_test).items():
        pred = predict_proba(model, images).argmax(axis=1)
        cm = confusion_matrix(y_test, pred)
        metrics = class_metrics(cm)
        results["accuracy"][name] = round(metrics["accuracy"], 4)
        if name == "clean":
            results["clean"] = {**metrics, "confusion_matrix": cm.tolist()}
        else:
            results["per_condition"][name] = {"per_class_recall": metrics["per_class_recall"]}
    return results
