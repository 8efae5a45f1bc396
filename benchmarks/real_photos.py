"""Accuracy of the whole app pipeline on real photos: ../shared/realworld and held-out ../shared/photos.

Run: ``.venv/bin/python benchmarks/real_photos.py [--photos DIR] [--realworld DIR]``.
Every photo goes through ``core.analyze`` exactly as in the app. Held-out photos are judged two ways:
by folder (a folder that allows several classes, longsleeve or shoes, counts as right when the
prediction is one of them: the real-photos issue's measure) and by label (each shoe and long-sleeved
top by the class it shows, from ``training/photo_labels.csv``). Per-class figures cover the photos with
a single allowed class. Training sets the "known" threshold on these same photos, so besides the app's
own verdicts the unknown shares are also given cross-fitted (``*_cross_fitted``): each photo judged by
the threshold the same rule sets on the other nine tenths (``training/photo_eval.py``), which is the
figure to hold against the targets. Last line: key=value.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"


def main() -> None:
    from benchmarks._models import add_model_options, load_classifier

    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=Path, default=SHARED / "photos" / "clothing-dataset-small")
    ap.add_argument("--realworld", type=Path, default=SHARED / "realworld")
    ap.add_argument(
        "--extra",
        type=Path,
        default=SHARED / "photos" / "clothing-dataset-extra",
        help="a second collection whose held-out part is judged by label too (skipped when absent)",
    )
    add_model_options(ap)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from fashion_desktop.core import CLASS_NAMES
    from fashion_desktop.core.analysis import analyze
    from training.photo_eval import cross_fitted_unknown, photo_metrics
    from training.photos import UNKNOWN_FOLDERS, calibration_fold, find_photos, known_mask

    clf = load_classifier(args)
    figures: dict[str, float] = {}

    # ../shared/realworld: one exact label per photo.
    with open(args.realworld / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    per_class = defaultdict(list)
    for row in rows:
        result = analyze(args.realworld / row["file"], clf)
        per_class[int(row["label_index"])].append(result.prediction.index == int(row["label_index"]))
        print(
            f"realworld {row['file']:<20} {row['label_name']:<12} -> {result.prediction.label:<12} "
            f"{100 * result.prediction.confidence:5.1f}%{'' if result.known.recognised else '  (unknown)'}"
        )
    hits = [h for v in per_class.values() for h in v]
    figures["realworld_top1"] = sum(hits) / len(hits)
    print(f"realworld: {sum(hits)}/{len(hits)} right")
    for c, v in sorted(per_class.items()):
        print(f"  {CLASS_NAMES[c]:<12} {sum(v)}/{len(v)}")

    # Held-out part of ../shared/photos (never trained on). Accuracy is counted by training's own
    # photo_metrics; "unknown" is the app's own verdict (the loaded model's score and threshold), and
    # cross-fitted from the app's scores.
    photos = find_photos(args.photos, held_out=True)
    probs, scores, app_unknown = [], [], []
    for path in photos.paths:
        result = analyze(path, clf)
        probs.append(result.prediction.probabilities)
        scores.append(result.known.score)
        app_unknown.append(not result.known.recognised)
    app_unknown, folders = np.array(app_unknown), np.array(photos.folders)
    folds = [calibration_fold(p) for p in photos.paths]
    m = photo_metrics(np.array(probs), photos.folders, clf.known_threshold, photos.classes)
    print(f"\nheld-out photos ({len(photos.paths)}), known threshold {clf.known_threshold:.3f}:")
    for folder, v in m["per_folder"].items():
        unknown = 100 * app_unknown[folders == folder].mean()
        if folder in UNKNOWN_FOLDERS:
            print(f"  {folder:<11} {v['n']:4d} photos  judged unknown {unknown:5.1f}%")
        else:
            print(
                f"  {folder:<11} {v['n']:4d} photos  top-1 {100 * v['top1']:5.1f}% by folder,"
                f" {100 * v['top1_labelled']:5.1f}% by label   judged unknown {unknown:5.1f}%"
            )
    print("  photos with one allowed class, per class:")
    for name, v in m["per_class"].items():
        print(f"    {name:<12} {round(v['top1'] * v['n']):3d}/{v['n']:<3d} {100 * v['top1']:5.1f}%")
    figures["photos_top1"] = m["top1"]
    figures["photos_min_folder_top1"] = m["min_folder_top1"]
    figures["photos_top1_labelled"] = m["top1_labelled"]
    figures["photos_min_class_top1"] = m["min_class_top1"]
    known = known_mask(photos.folders)
    verdicts = {"": app_unknown, "_cross_fitted": cross_fitted_unknown(np.array(scores), known, folds)}
    for name, unknown in verdicts.items():
        figures[f"unknown_detected{name}"] = float(unknown[~known].mean())
        figures[f"known_judged_unknown{name}"] = float(unknown[known].mean())
    print(
        f"  cross-fitted (each photo judged by the threshold set on the other nine tenths): unknown items"
        f" {100 * figures['unknown_detected_cross_fitted']:.1f}% judged unknown, known items"
        f" {100 * figures['known_judged_unknown_cross_fitted']:.1f}%"
    )
    figures["n_photos"] = len(photos.paths)

    # The held-out part of the second collection, by each photo's own label, at the model's threshold
    # (set on the first collection's held-out photos, never on these).
    if args.extra.is_dir():
        extra = find_photos(args.extra, held_out=True)
        results = [analyze(p, clf) for p in extra.paths]
        probs = np.array([r.prediction.probabilities for r in results])
        m = photo_metrics(probs, extra.folders, clf.known_threshold, extra.classes)
        app_unknown = np.array([not r.known.recognised for r in results])
        known = known_mask(extra.folders)
        print(f"\nheld-out {args.extra.name} ({len(extra.paths)}), by label:")
        for folder, v in m["per_folder"].items():
            if "top1_labelled" in v:
                print(f"  {folder:<11} {v['n']:4d} photos  top-1 {100 * v['top1_labelled']:5.1f}% by label")
            else:
                print(f"  {folder:<11} {v['n']:4d} photos  judged unknown {100 * v['judged_unknown']:5.1f}%")
        for name, v in m["per_class"].items():
            print(f"    {name:<12} {round(v['top1'] * v['n']):3d}/{v['n']:<3d} {100 * v['top1']:5.1f}%")
        figures["extra_top1_labelled"] = m["top1_labelled"]
        figures["extra_min_class_top1"] = m["min_class_top1"]
        figures["extra_unknown_detected"] = float(app_unknown[~known].mean()) if (~known).any() else 0.0
        figures["extra_known_judged_unknown"] = float(app_unknown[known].mean())
        figures["n_extra"] = len(extra.paths)
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
