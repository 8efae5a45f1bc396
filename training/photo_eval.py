"""Scores a model on held-out real photos and calibrates the "known item" threshold."""

from __future__ import annotations

import numpy as np

from fashion_desktop.core import CLASS_NAMES
from fashion_desktop.core.classifier import KNOWN_SCORES
from training.photos import FOLDER_CLASSES, UNKNOWN_FOLDERS

KNOWN_SCORE = "certainty"  # recorded in model.json; the app judges "known" with the same score
_known_score = KNOWN_SCORES[KNOWN_SCORE]

MAX_FALSE_UNKNOWN = 0.08  # share of known-class photos we accept to call "unrecognised" when calibrating


def calibrate_known_threshold(probs: np.ndarray, folders: list[str]) -> float:
    """The highest KNOWN_SCORE threshold that calls at most MAX_FALSE_UNKNOWN of known photos unknown."""
    known = np.array([f not in UNKNOWN_FOLDERS for f in folders])
    if not known.any():
        return 0.0
    return float(np.quantile(_known_score(probs[known]), MAX_FALSE_UNKNOWN))


def photo_metrics(
    probs: np.ndarray, folders: list[str], threshold: float, classes: list[tuple[int, ...]] | None = None
) -> dict:
    """Top-1 (right when the prediction is one of the photo's allowed classes: its own label from
    ``photo_labels.csv``, else its folder's set), per folder, per class for photos with one allowed
    class, and unknown rates."""
    pred = probs.argmax(axis=1)
    conf = _known_score(probs)
    if classes is None:
        classes = [FOLDER_CLASSES[f] for f in folders]
    per_folder, right_all = {}, []
    for folder in sorted(set(folders)):
        idx = [i for i, f in enumerate(folders) if f == folder]
        if folder in UNKNOWN_FOLDERS:
            per_folder[folder] = {"n": len(idx), "judged_unknown": float((conf[idx] < threshold).mean())}
            continue
        right = [pred[i] in classes[i] for i in idx]
        right_all += right
        per_folder[folder] = {"n": len(idx), "top1": float(np.mean(right))}
    per_class = {}
    for c in sorted({a[0] for a in classes if len(a) == 1}):
        idx = [i for i, a in enumerate(classes) if a == (c,)]
        per_class[CLASS_NAMES[c]] = {"n": len(idx), "top1": float(np.mean([pred[i] == c for i in idx]))}
    known = np.array([f not in UNKNOWN_FOLDERS for f in folders])
    return {
        "top1": float(np.mean(right_all)) if right_all else 0.0,
        "min_folder_top1": min((v["top1"] for v in per_folder.values() if "top1" in v), default=0.0),
        "min_class_top1": min((v["top1"] for v in per_class.values()), default=0.0),
        "unknown_detected": float((conf[~known] < threshold).mean()) if (~known).any() else None,
        "known_judged_unknown": float((conf[known] < threshold).mean()) if known.any() else None,
        "known_threshold": threshold,
        "known_score": KNOWN_SCORE,
        "per_folder": per_folder,
        "per_class": per_class,
        "n_known": int(known.sum()),
        "n_unknown": int((~known).sum()),
    }
