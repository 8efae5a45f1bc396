"""Per-photo labels that narrow a folder's set of classes, and the photo figures that use them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from training.photo_eval import photo_metrics
from training.photos import FOLDER_CLASSES, LABELS_FILE, find_photos, load_photo_labels

SHARED_PHOTOS = Path(__file__).resolve().parents[2].parent / "shared" / "photos" / "clothing-dataset-small"


def test_the_committed_labels_narrow_their_folders_sets():
    labels = load_photo_labels()
    assert len(labels) > 400
    for photo, classes in labels.items():
        folder = Path(photo).parent.name
        assert set(classes) < set(FOLDER_CLASSES[folder]), photo
    # Every footwear class and both long-sleeve classes the file speaks for are there.
    assert {c for v in labels.values() for c in v} >= {2, 5, 7, 9}


def test_a_label_outside_its_folders_set_is_refused_with_its_line(tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("photo,classes\ntrain/shoes/a.jpg,7\ntrain/shoes/b.jpg,3\n")
    with pytest.raises(ValueError, match=r"line 3: train/shoes/b\.jpg is labelled \(3,\)"):
        load_photo_labels(bad)


def test_find_photos_uses_a_photos_own_label_and_else_its_folders_set(tmp_path):
    for rel in ("train/shoes/a.jpg", "train/shoes/b.jpg", "train/pants/c.jpg"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.full((8, 8, 3), 200, np.uint8))
    held = {p.name for p in find_photos(tmp_path, held_out=True, labels={}).paths}
    photos = find_photos(tmp_path, held_out=False, labels={"train/shoes/a.jpg": (7,)})
    by_name = {p.name: c for p, c in zip(photos.paths, photos.classes)}
    assert by_name == {n: c for n, c in {"a.jpg": (7,), "b.jpg": (5, 7, 9), "c.jpg": (1,)}.items() if n not in held}
    targets = photos.targets()
    for row, allowed in zip(targets, photos.classes):
        assert set(np.flatnonzero(row)) == set(allowed)


def test_photo_metrics_judge_by_folder_and_by_each_photos_own_classes():
    probs = np.full((3, 10), 0.01, np.float32)
    probs[0, 9], probs[1, 7], probs[2, 2] = 0.91, 0.91, 0.91  # boot, sneaker, pullover
    folders = ["shoes", "shoes", "longsleeve"]
    m = photo_metrics(probs, folders, 0.0, [(7,), (7,), (2,)])
    assert m["top1"] == 1.0  # every prediction is in its folder's set ...
    assert m["top1_labelled"] == pytest.approx(2 / 3)  # ... but the first shoe is a sneaker, not a boot
    assert m["per_folder"]["shoes"] == {"n": 2, "top1": 1.0, "top1_labelled": 0.5}
    assert m["per_class"] == {"Pullover": {"n": 1, "top1": 1.0}, "Sneaker": {"n": 2, "top1": 0.5}}
    assert m["min_class_top1"] == 0.5
    assert photo_metrics(probs, folders, 0.0)["top1_labelled"] == 1.0  # no labels: the folders' sets


@pytest.mark.skipif(not SHARED_PHOTOS.is_dir(), reason="../shared/photos is not beside the repository")
def test_every_labelled_photo_exists_in_the_collection():
    missing = [
        p for p in load_photo_labels() if not (SHARED_PHOTOS / p).is_file() and not (SHARED_PHOTOS.parent / p).is_file()
    ]
    assert not missing
    assert LABELS_FILE.is_file()


def test_cross_fitted_verdicts_use_a_threshold_set_without_the_photos_own_fold():
    from training.photo_eval import MAX_FALSE_UNKNOWN, cross_fitted_unknown, threshold_for

    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.uniform(0.3, 1.0, 200), rng.uniform(0.0, 0.4, 50)])
    known = np.arange(250) < 200
    folds = np.arange(250) % 5
    verdict = cross_fitted_unknown(scores, known, folds)
    for fold in range(5):
        own, rest = folds == fold, folds != fold
        expected = scores[own] < threshold_for(scores[rest], known[rest])
        np.testing.assert_array_equal(verdict[own], expected)
    # Calibrated on all the photos, the known share judged unknown is the rule's own figure.
    assert np.mean(scores[known] < threshold_for(scores, known)) == pytest.approx(MAX_FALSE_UNKNOWN, abs=0.01)


def test_the_threshold_calls_at_most_the_allowed_share_of_known_photos_unknown_and_is_the_highest_that_does():
    """``threshold_for`` keeps its word for any number of photos, with ties too: at most
    MAX_FALSE_UNKNOWN of the known scores fall below it, and the next known score above it would let
    more in. (np.quantile's interpolation called 39 of 478 photos unknown, 8.16%, against 8%.)"""
    from training.photo_eval import MAX_FALSE_UNKNOWN, threshold_for

    rng = np.random.default_rng(1)
    for n in (1, 2, 12, 13, 100, 478, 479, 1000):
        for scores in (rng.uniform(0, 1, n), np.round(rng.uniform(0, 1, n), 1)):  # the second with ties
            known = np.ones(n, bool)
            t = threshold_for(scores, known)
            below = int((scores < t).sum())
            assert below <= MAX_FALSE_UNKNOWN * n, (n, below)
            higher = scores[scores > t]
            if higher.size:
                assert (scores < higher.min()).sum() > MAX_FALSE_UNKNOWN * n  # the next step up breaks the limit
    assert threshold_for(np.array([0.5, 0.1]), np.array([False, False])) == 0.0  # no known photos: nothing unknown


@pytest.mark.skipif(not SHARED_PHOTOS.is_dir(), reason="../shared/photos is not beside the repository")
def test_calibration_folds_split_the_held_out_photos_evenly():
    from training.photos import CALIBRATION_FOLDS, calibration_fold

    folds = np.bincount([calibration_fold(p) for p in find_photos(SHARED_PHOTOS, held_out=True).paths])
    assert len(folds) == CALIBRATION_FOLDS
    assert folds.min() > 0.6 * folds.mean()
