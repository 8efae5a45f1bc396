"""The garment segmenter and the outfit items on the held-out CCP photos, through the app's own ``analyze``.

Run: ``.venv/bin/python benchmarks/segmentation.py [--ccp DIR]``. Held out: the CCP photos whose name
hashes to 0 mod 5 (``training/ccp.py``), never trained on by the segmenter or the classifier.

- Regions: mean IoU over the regions present, and person (every region but background) vs background,
  at the working size (long side 96), from the confusion of every pixel.
- Main garment: the true one is the largest true garment region (nearest the centre on a tie, the rule
  the app applies to the segmenter's regions). Its class is right when the app's main prediction is one
  of the classes its CCP label may be (a shoe of unknown kind: Sandal, Sneaker or Ankle boot; a skirt or
  shorts, none: those are counted apart). Box IoU is between the app's main mask's box and the true box.
- Outfit items: every true garment of the ten classes covering at least 2% of the picture; found when
  the app reports an item (the main one or another) whose box has IoU >= 0.5 with its box, and right when
  that item's class is one its label may be.

The main-garment figure is a share of under 200 photos: its 95% interval (Wilson) is printed with it, about
+-7 points at 50%. ``--per-photo FILE`` writes each photo's main-garment verdict as CSV; ``--compare FILE``
sets this run against such a file from another run on the same photos, photo by photo (McNemar's exact
test, and the mean change of the probability given to the true classes), which tells a real change from
the spread of a small test set. ``--background white`` (or ``gray``) puts each person on a plain
background by the true mask, and ``--top-share 0.6`` keeps the top 60% of each photo: pictures of people
as shops show them. ``--average-with DIR`` (repeatable) averages other segmenters' probabilities with the
first's, its weights and class counts fitted for the average on the training photos: what an ensemble
would give. Last line: key=value.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def box_iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def wilson(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a share ``right`` of ``n``."""
    if n == 0:
        return 0.0, 1.0
    p = right / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def mcnemar_p(gained: int, lost: int) -> float:
    """Two-sided exact McNemar p-value: photos right only in one run (``gained``) against only in the other."""
    n = gained + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(gained, lost) + 1)) / 2**n
    return min(1.0, 2 * tail)


def compare(verdicts: dict[str, tuple[bool, float]], path: Path) -> None:
    """This run's main-garment verdicts (right, probability of the true classes) against another run's
    (``--per-photo`` CSV), photo by photo: McNemar on right / wrong, and the mean change of the probability
    the app gives the true classes with its 95% interval (a paired t interval: less spread than counts)."""
    with open(path, newline="") as fh:
        other = {
            r["photo"]: (r["main_right"] == "1", float(r["main_true_prob"]))
            for r in csv.DictReader(fh)
            if r["main_right"] != ""
        }
    both = sorted(set(verdicts) & set(other))
    gained = sum(verdicts[p][0] and not other[p][0] for p in both)
    lost = sum(other[p][0] and not verdicts[p][0] for p in both)
    diff = np.array([verdicts[p][1] - other[p][1] for p in both])
    half = 1.96 * diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    print(
        f"against {path.name} on {len(both)} photos: {sum(verdicts[p][0] for p in both)} right here, "
        f"{sum(other[p][0] for p in both)} there; right only here {gained}, only there {lost} "
        f"(McNemar exact p = {mcnemar_p(gained, lost):.3f}); probability of the true class "
        f"{diff.mean():+.3f} (95% {diff.mean() - half:+.3f} to {diff.mean() + half:+.3f})"
    )


STUDIO_GRAY = {"white": 255, "gray": 200}


def as_shot(rgb: np.ndarray, labels: np.ndarray, background: str, top_share: float):
    """A CCP photo as a shop would show it: the person (every labelled pixel) on a plain ``background``
    (``white``, ``gray``; ``street`` leaves the photo as it is), and only the top ``top_share`` of its
    height (a three-quarter shot at 0.6), its labels cut the same way."""
    import cv2

    if background != "street":
        person = cv2.GaussianBlur((labels > 0).astype(np.float32), (0, 0), 1.0)[..., None]
        rgb = (rgb * person + STUDIO_GRAY[background] * (1 - person)).astype(np.uint8)
    if top_share < 1:
        keep = max(1, round(rgb.shape[0] * top_share))
        rgb, labels = rgb[:keep], labels[:keep]
    return rgb, labels


def averaged(segmenter, others: list[Path], ccp: Path):
    """``segmenter`` with its call replaced by the mean of its and ``others``' probabilities, its main-garment
    weights and class counts fitted for that average on the CCP training photos as region-prior fits them."""
    from fashion_desktop.core.segment import Segmenter, class_prior
    from training import region_prior

    calls = [segmenter._call, *(Segmenter.load(d)._call for d in others)]
    segmenter._call = lambda x: sum(call(x) for call in calls) / len(calls)
    class_field, weights_field = region_prior.count_classes_by_region(segmenter, ccp)
    segmenter.main_weights = weights_field["weights"]
    segmenter.class_priors = {r: class_prior(np.array(v)) for r, v in class_field["counts"].items()}
    print(f"{len(calls)} segmenters averaged; main-garment weights {weights_field['weights']}")
    return segmenter


def main() -> None:
    from benchmarks._models import add_model_options, load_classifier

    ap = argparse.ArgumentParser()
    ap.add_argument("--ccp", type=Path, default=REPO.parent / "shared" / "ccp")
    ap.add_argument(
        "--background",
        choices=("street", *STUDIO_GRAY),
        default="street",
        help="the photos as they are (street), or the person cut out onto plain white or gray, as shops show them",
    )
    ap.add_argument(
        "--top-share", type=float, default=1.0, help="keep only this top part of each photo (0.6: a three-quarter shot)"
    )
    ap.add_argument(
        "--average-with",
        type=Path,
        action="append",
        default=[],
        help="another segmenter folder whose probabilities are averaged with the first's (repeatable)",
    )
    ap.add_argument("--per-photo", type=Path, help="write each photo's main-garment verdict to this CSV")
    ap.add_argument("--compare", type=Path, help="a --per-photo CSV of another run to set this one against")
    add_model_options(ap)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import cv2

    from fashion_desktop.core import CLASS_NAMES
    from fashion_desktop.core.analysis import analyze
    from fashion_desktop.core.prepare import work_picture
    from fashion_desktop.core.segment import ITEM_MIN_SHARE as ITEM_SHARE
    from fashion_desktop.core.segment import REGIONS, find_garments
    from training.ccp import find_ccp, label_classes, label_names, label_under, read_pair, region_table
    from training.segmenter import iou_figures

    clf = load_classifier(args)
    assert clf.segmenter is not None
    if args.average_with:
        averaged(clf.segmenter, args.average_with, args.ccp)
    names = label_names(args.ccp)
    table, classes_of = region_table(names), label_classes(names)
    cm = np.zeros((len(REGIONS), len(REGIONS)), np.int64)
    main_right, main_iou, main_unknown, person_found = [], [], 0, 0
    per_class_main: dict[str, list[bool]] = defaultdict(list)
    found, item_right = [], []
    per_class_item: dict[str, list[bool]] = defaultdict(list)
    seg_ms = []
    # photo, main right (None: none of the ten), the probability of its true classes, box IoU
    rows: list[tuple[str, bool | None, float, float]] = []
    photos = find_ccp(args.ccp, held_out=True)
    for item in photos:
        rgb, labels = as_shot(*read_pair(item), args.background, args.top_share)
        small = work_picture(rgb)
        h, w = small.shape[:2]
        small_labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        truth_regions = table[small_labels]
        t = time.perf_counter()
        predicted = clf.segmenter.regions(small)
        seg_ms.append((time.perf_counter() - t) * 1e3)
        cm += np.bincount(
            truth_regions.ravel() * len(REGIONS) + predicted.ravel(), minlength=len(REGIONS) ** 2
        ).reshape(len(REGIONS), len(REGIONS))

        a = analyze(rgb, clf)
        truth = find_garments(truth_regions)

        def classes(g, small_labels=small_labels):
            return classes_of[label_under(small_labels, g.mask, len(names))]

        true_main = truth.garments[0]
        main_classes = classes(true_main)
        if a.region is not None:
            person_found += 1
        app_box = mask_box(a.item_mask) if a.item_mask is not None and a.item_mask.any() else (0, 0, w, h)
        main_iou.append(box_iou(app_box, true_main.box))
        if not main_classes:
            main_unknown += 1
            rows.append((item.photo.name, None, float("nan"), main_iou[-1]))
        else:
            ok = a.prediction.index in main_classes
            main_right.append(ok)
            per_class_main[" / ".join(CLASS_NAMES[c] for c in main_classes)].append(ok)
            true_prob = float(sum(a.prediction.probabilities[c] for c in main_classes))
            rows.append((item.photo.name, ok, true_prob, main_iou[-1]))

        sx, sy = w / rgb.shape[1], h / rgb.shape[0]
        reported = [(app_box, a.prediction.index)] + [
            ((i.box[0] * sx, i.box[1] * sy, i.box[2] * sx, i.box[3] * sy), i.prediction.index) for i in a.items
        ]
        for g in truth.garments:
            c = classes(g)
            if not c or g.share < ITEM_SHARE:
                continue
            best = max(reported, key=lambda r: box_iou(r[0], g.box))
            hit = box_iou(best[0], g.box) >= 0.5
            found.append(hit)
            if hit:
                item_right.append(best[1] in c)
                per_class_item[" / ".join(CLASS_NAMES[k] for k in c)].append(best[1] in c)

    regions = iou_figures(cm)
    print(f"held-out CCP photos: {len(photos)}; a person found in {person_found}")
    print(f"regions: mean IoU {regions['mean_iou']:.3f}, person vs background IoU {regions['person_iou']:.3f}")
    for r, v in regions["iou"].items():
        print(f"  {r:<11} IoU {v if v is None else round(v, 3)}")
    iou70 = float(np.mean(np.array(main_iou) >= 0.7))
    print(
        f"main garment: class right {100 * np.mean(main_right):.1f}% of {len(main_right)} of the ten classes"
        f" ({main_unknown} more are none of the ten); box IoU >= 0.7 for {100 * iou70:.1f}%,"
        f" median {np.median(main_iou):.3f}"
    )
    low, high = wilson(sum(main_right), len(main_right))
    print(f"  its 95% interval (Wilson): {100 * low:.1f}-{100 * high:.1f}%")
    for name, v in sorted(per_class_main.items()):
        print(f"  {name:<28} {sum(v):3d}/{len(v):<3d} {100 * np.mean(v):5.1f}%")
    if args.per_photo:
        with open(args.per_photo, "w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["photo", "main_right", "main_true_prob", "main_box_iou"])
            out.writerows(
                (p, "" if ok is None else int(ok), "" if ok is None else f"{q:.4f}", f"{iou:.4f}")
                for p, ok, q, iou in rows
            )
    if args.compare:
        compare({p: (ok, q) for p, ok, q, _ in rows if ok is not None}, args.compare)
    print(
        f"outfit items (of the ten, >= {100 * ITEM_SHARE:.0f}% of the picture): recall {100 * np.mean(found):.1f}%"
        f" of {len(found)}, class right {100 * np.mean(item_right):.1f}% of those found"
    )
    for name, v in sorted(per_class_item.items()):
        print(f"  {name:<28} {sum(v):3d}/{len(v):<3d} {100 * np.mean(v):5.1f}%")
    figures = {
        "photos": len(photos),
        "mean_iou": regions["mean_iou"],
        "person_iou": regions["person_iou"],
        "main_class_right": float(np.mean(main_right)),
        "main_box_iou70": iou70,
        "main_box_iou_median": float(np.median(main_iou)),
        "items_recall": float(np.mean(found)),
        "items_class_right": float(np.mean(item_right)),
        "segment_ms_median": statistics.median(seg_ms),
    }
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
