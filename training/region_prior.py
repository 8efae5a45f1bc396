"""What a garment's region says of its class: ``python -m training region-prior``.

The segmenter is run as the app runs it on the CCP *training* photos (the held-out ones stay unseen);
every garment the app would judge there (the main garment and the outfit's items) is counted under
the class its true mask gives it (a label of several classes is shared between them; a label of none
of the ten, or a region that fell on skin or background, counts as none). model.json's
``class_given_region`` keeps the counts; the app weighs the classifier's probabilities by them
(``fashion_desktop.core.segment.given_region``). Counting the segmenter's own regions, not the true
ones, keeps its confusions in: its "top" is sometimes an open coat.

The same pass fits ``main_garment_weights``: the segmenter finds some regions smaller than they are (an
open coat partly as the top under it, a dress partly as a skirt), so "its largest region" is not always
the true largest garment. Six weights on its regions' areas, chosen on the training photos to pick the
true main garment's region most often, correct that; the app chooses its main garment with them.
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
from fashion_desktop.core.segment import GARMENT_REGIONS, find_garments, outfit_items
from training.ccp import find_ccp, label_classes, label_names, label_under, read_pair, region_table

# Weights tried for each region's area when choosing the main garment: 0.5 to 2, in 29 even steps of log.
WEIGHT_GRID = np.exp(np.linspace(-0.7, 0.7, 29))
WEIGHT_ROUNDS = 4  # coordinate-search passes over the six regions


def _training_maps(segmenter, ccp_root: Path, limit: int | None):
    """For each CCP training photo: (its labels at the working size, the segmenter's region map, the true
    main garment's region or None)."""
    names = label_names(ccp_root)
    table = region_table(names)
    photos = find_ccp(ccp_root, held_out=False)[:limit]
    t0 = time.time()
    for n, item in enumerate(photos, 1):
        rgb, labels = read_pair(item)
        small = work_picture(rgb)
        labels = cv2.resize(labels, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        truth = find_garments(table[labels])
        yield labels, segmenter.regions(small), truth.garments[0].region if truth.garments else None
        if n % 200 == 0:
            print(f"region prior: {n}/{len(photos)} photos ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)


def main_regions_right(shares: np.ndarray, truth: np.ndarray, weights: np.ndarray) -> int:
    """On how many photos "the largest weighed area" is the true main garment's region (``fit_main_weights``
    has the arguments)."""
    weighed = np.where(shares > 0, shares * weights, -1.0)
    return int((weighed.argmax(axis=1) == truth).sum()) if len(shares) else 0


def fit_main_weights(shares: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Weights (GARMENT_REGIONS order) for the area of each region the segmenter finds that make "the largest
    weighed area" the true main garment's region on the most photos. ``shares``: (photos, regions) the
    share of each photo the segmenter gives each region (0: not found); ``truth``: the true main region's
    index. Coordinate search over WEIGHT_GRID, the weight nearest 1 on a tie: six numbers, not a model."""
    weights = np.ones(shares.shape[1])
    for _ in range(WEIGHT_ROUNDS):
        for i in range(len(weights)):
            scored = []
            for g in WEIGHT_GRID:
                trial = weights.copy()
                trial[i] = g
                scored.append((main_regions_right(shares, truth, trial), -abs(np.log(g)), g))
            weights[i] = max(scored)[2]
    return weights


def count_classes_by_region(segmenter, ccp_root: Path, limit: int | None = None) -> tuple[dict, dict]:
    """model.json's ``class_given_region`` and ``main_garment_weights`` for ``segmenter`` (a
    ``core.segment.Segmenter``): the weights are fitted first, and the classes counted for the garments
    the app then judges (the main garment chosen with them, and the outfit's items)."""
    ccp_root = Path(ccp_root)
    names = label_names(ccp_root)
    classes_of = label_classes(names)
    maps = list(_training_maps(segmenter, ccp_root, limit))
    fit = [(find_garments(regions), main) for _, regions, main in maps if main is not None]
    share_of = [{g.region: g.share for g in seg.garments} for seg, _ in fit]
    shares = np.array([[s.get(r, 0.0) for r in GARMENT_REGIONS] for s in share_of]).reshape(-1, len(GARMENT_REGIONS))
    truth = np.array([GARMENT_REGIONS.index(main) for _, main in fit], int)
    weights = fit_main_weights(shares, truth)
    by_region = dict(zip(GARMENT_REGIONS, (round(float(w), 3) for w in weights)))
    before = main_regions_right(shares, truth, np.ones(len(GARMENT_REGIONS)))
    after = main_regions_right(shares, truth, weights)
    counts = {r: np.zeros(NUM_CLASSES + 1) for r in GARMENT_REGIONS}
    for labels, regions, _ in maps:
        seg = find_garments(regions, by_region)
        if seg.main is None:  # no person: the app judges it as a flat-lay, with no region
            continue
        for garment in (seg.main, *outfit_items(seg)):
            classes = classes_of[label_under(labels, garment.mask, len(names))]
            for c in classes:
                counts[garment.region][c] += 1 / len(classes)
            if not classes:
                counts[garment.region][NUM_CLASSES] += 1
    class_field = {
        "what": "how often each garment region this segmenter finds on the CCP training photos is each class "
        "(CLASS_NAMES order, then none of the ten); the app weighs the classifier's probabilities for a "
        "garment on a person by these counts, add-one smoothed",
        "photos": len(maps),
        # Every garment region, zeros where none was found (a uniform prior once smoothed): a table the
        # app reads, even from a segmenter trained too briefly to find any garment.
        "counts": {r: [round(float(v), 2) for v in row] for r, row in counts.items()},
    }
    weights_field = {
        "what": "a weight per garment region for the area this segmenter finds it at, when the main garment "
        "(the largest) is chosen: fitted on the CCP training photos to pick the true largest garment's region "
        "(training/region_prior.py fit_main_weights)",
        "photos": len(fit),
        "true_main_region_picked": {"unweighed": before, "weighed": after},
        "weights": by_region,
    }
    return class_field, weights_field


def run(segmenter_dir: Path, ccp_root: Path, command: str, limit: int | None = None) -> dict:
    """Count with the segmenter in ``segmenter_dir`` and write the counts into its model.json, atomically
    (the weights and their sha256 are untouched)."""
    from fashion_desktop.core.atomic import atomic_write_text
    from fashion_desktop.core.segment import Segmenter

    segmenter = Segmenter.load(segmenter_dir, fitted=False)  # its old counts and weights are rewritten
    class_field, weights_field = count_classes_by_region(segmenter, ccp_root, limit)
    class_field["command"] = weights_field["command"] = command
    meta_path = Path(segmenter_dir) / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["class_given_region"], meta["main_garment_weights"] = class_field, weights_field
    atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
    return class_field
