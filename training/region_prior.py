"""What a garment's region says of its class: ``python -m training region-prior``.

The segmenter is run as the app runs it on the CCP *training* photos (the held-out ones stay unseen);
every garment the app would judge there (the main garment and the outfit's items) is counted under
the class its true mask gives it (a label of several classes is shared between them; a label of none
of the ten, or a region that fell on skin or background, counts as none). model.json's
``class_given_region`` keeps the counts; the app weighs the classifier's probabilities by them
(``fashion_desktop.core.segment.given_region``). Counting the segmenter's own regions, not the true
ones, keeps its confusions in: its "top" is sometimes an open coat.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core import NUM_CLASSES
from fashion_desktop.core.prepare import work_picture
from fashion_desktop.core.segment import GARMENT_REGIONS, outfit_items
from training.ccp import find_ccp, label_classes, label_names, label_under, read_pair


def count_classes_by_region(segmenter, ccp_root: Path, limit: int | None = None) -> dict:
    """model.json's ``class_given_region`` for ``segmenter`` (a ``core.segment.Segmenter``)."""
    ccp_root = Path(ccp_root)
    names = label_names(ccp_root)
    classes_of = label_classes(names)
    counts = {r: np.zeros(NUM_CLASSES + 1) for r in GARMENT_REGIONS}
    photos = find_ccp(ccp_root, held_out=False)[:limit]
    t0 = time.time()
    for n, item in enumerate(photos, 1):
        rgb, labels = read_pair(item)
        small = work_picture(rgb)
        labels = cv2.resize(labels, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        seg = segmenter.segment(small)
        if seg.main is None:  # no person: the app judges it as a flat-lay, with no region
            continue
        for garment in (seg.main, *outfit_items(seg)):
            classes = classes_of[label_under(labels, garment.mask, len(names))]
            for c in classes:
                counts[garment.region][c] += 1 / len(classes)
            if not classes:
                counts[garment.region][NUM_CLASSES] += 1
        if n % 200 == 0:
            print(f"region prior: {n}/{len(photos)} photos ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    return {
        "what": "how often each garment region this segmenter finds on the CCP training photos is each class "
        "(CLASS_NAMES order, then none of the ten); the app weighs the classifier's probabilities for a "
        "garment on a person by these counts, add-one smoothed",
        "photos": len(photos),
        "counts": {r: [round(float(v), 2) for v in row] for r, row in counts.items() if row.sum() > 0},
    }


def run(segmenter_dir: Path, ccp_root: Path, command: str, limit: int | None = None) -> dict:
    """Count with the segmenter in ``segmenter_dir`` and write the counts into its model.json, atomically
    (the weights and their sha256 are untouched)."""
    from fashion_desktop.core.atomic import atomic_write_text
    from fashion_desktop.core.segment import Segmenter

    segmenter = Segmenter.load(segmenter_dir)
    field = {**count_classes_by_region(segmenter, ccp_root, limit), "command": command}
    meta_path = Path(segmenter_dir) / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["class_given_region"] = field
    atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
    return field
