"""Accuracy of the whole app pipeline on real photos: ../shared/realworld and held-out ../shared/photos.

Run: ``.venv/bin/python benchmarks/real_photos.py [--photos DIR] [--realworld DIR]``.
Every photo goes through ``core.analyze`` exactly as in the app. Held-out photos are judged two ways:
by folder (a folder that allows several classes, longsleeve or shoes, counts as right when the
prediction is one of them: the real-photos issue's measure) and by label (each shoe and long-sleeved
top by the class it shows, from ``training/photo_labels.csv``). Per-class figures cover the photos with
a single allowed class. Last line: key=value.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=Path, default=SHARED / "photos" / "clothing-dataset-small")
    ap.add_argument("--realworld", type=Path, default=SHARED / "realworld")
    ap.add_argument("--model-dir", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from fashion_desktop.core import CLASS_NAMES
    from fashion_desktop.core.analysis import analyze
    from fashion_desktop.core.classifier import Classifier
    from training.photos import FOLDER_CLASSES, UNKNOWN_FOLDERS, find_photos

    clf = Classifier.load(args.model_dir)
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
            f"{100 * result.prediction.confidence:5.1f}%{'' if result.known.known else '  (unknown)'}"
        )
    hits = [h for v in per_class.values() for h in v]
    figures["realworld_top1"] = sum(hits) / len(hits)
    print(f"realworld: {sum(hits)}/{len(hits)} right")
    for c, v in sorted(per_class.items()):
        print(f"  {CLASS_NAMES[c]:<12} {sum(v)}/{len(v)}")

    # Held-out part of ../shared/photos (never trained on).
    photos = find_photos(args.photos, held_out=True)
    by_folder = defaultdict(list)
    by_label = defaultdict(list)
    by_class = defaultdict(list)
    unknown_flags = defaultdict(list)
    for path, folder, allowed in zip(photos.paths, photos.folders, photos.classes):
        result = analyze(path, clf)
        unknown_flags[folder].append(not result.known.known)
        if folder not in UNKNOWN_FOLDERS:
            by_folder[folder].append(result.prediction.index in FOLDER_CLASSES[folder])
            by_label[folder].append(result.prediction.index in allowed)
        if len(allowed) == 1:
            by_class[allowed[0]].append(result.prediction.index == allowed[0])
    print(f"\nheld-out photos ({len(photos.paths)}), known threshold {clf.known_threshold:.3f}:")
    for folder in sorted(set(photos.folders)):
        if folder in UNKNOWN_FOLDERS:
            v = unknown_flags[folder]
            print(f"  {folder:<11} {len(v):4d} photos  judged unknown {100 * sum(v) / len(v):5.1f}%")
        else:
            v = by_folder[folder]
            lv = by_label[folder]
            print(
                f"  {folder:<11} {len(v):4d} photos  top-1 {100 * sum(v) / len(v):5.1f}% by folder,"
                f" {100 * sum(lv) / len(lv):5.1f}% by label"
                f"   judged unknown {100 * sum(unknown_flags[folder]) / len(v):5.1f}%"
            )
    print("  photos with one allowed class, per class:")
    for c, v in sorted(by_class.items()):
        print(f"    {CLASS_NAMES[c]:<12} {sum(v):3d}/{len(v):<3d} {100 * sum(v) / len(v):5.1f}%")
    known_hits = [h for v in by_folder.values() for h in v]
    figures["photos_top1"] = sum(known_hits) / len(known_hits)
    figures["photos_min_folder_top1"] = min(sum(v) / len(v) for v in by_folder.values())
    labelled_hits = [h for v in by_label.values() for h in v]
    figures["photos_top1_labelled"] = sum(labelled_hits) / len(labelled_hits)
    figures["photos_min_class_top1"] = min(sum(v) / len(v) for v in by_class.values())
    unk = [f for k, v in unknown_flags.items() if k in UNKNOWN_FOLDERS for f in v]
    kn = [f for k, v in unknown_flags.items() if k not in UNKNOWN_FOLDERS for f in v]
    figures["unknown_detected"] = sum(unk) / max(len(unk), 1)
    figures["known_judged_unknown"] = sum(kn) / max(len(kn), 1)
    figures["n_photos"] = len(photos.paths)
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
