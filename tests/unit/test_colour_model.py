"""The colour photo model: its input (``prepare.colour_input``), loading and routing, and a short real
training run of ``python -m training colour``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fashion_desktop.core.analysis import analyze, analyze_files
from fashion_desktop.core.classifier import COLOUR_INPUT, Classifier, ModelError
from fashion_desktop.core.prepare import COLOUR_SIDE, colour_input, to_colour_input
from fashion_desktop.core.segment import given_region
from fashion_desktop.resources import resource_path
from tests.conftest import SHARED, photo_input_shape, save_tiny_model

OUTFIT = resource_path("samples", "people", "outfit.jpg")
DRESS = resource_path("samples", "dress.jpg")


def test_colour_input_keeps_the_items_colours_and_blacks_out_the_rest():
    picture = np.full((300, 200, 3), (20, 200, 30), np.uint8)  # a green background
    picture[100:250, 50:110] = (200, 40, 40)  # a red item, 150 tall and 60 wide
    mask = np.zeros((96, 64), np.uint8)  # at the working size, as isolation gives it
    mask[32:80, 16:35] = 255
    x = colour_input(picture, mask)
    assert x.shape == (COLOUR_SIDE, COLOUR_SIDE, 3) and x.dtype == np.uint8
    inside = x.max(axis=2) > 0
    ys, xs = np.nonzero(inside)
    assert ys.min() == 0 and ys.max() == COLOUR_SIDE - 1  # the long side fills the input
    assert 20 <= xs.max() - xs.min() + 1 <= 30  # aspect kept: about 64 * 60 / 150 wide, centred
    assert abs((xs.min() + xs.max()) / 2 - (COLOUR_SIDE - 1) / 2) <= 1.5
    colours = x[inside].reshape(-1, 3)
    assert (np.abs(colours.astype(int) - (200, 40, 40)).max(axis=1) <= 2).mean() > 0.95  # the item's own red
    assert not (x[~inside]).any()  # and no green at all


def test_a_mask_that_finds_nothing_shows_the_whole_picture():
    picture = np.random.default_rng(0).integers(30, 220, (90, 120, 3), dtype=np.uint8)
    x = colour_input(picture, np.zeros((72, 96), np.uint8))
    assert x.shape == (COLOUR_SIDE, COLOUR_SIDE, 3)
    assert x[16:48].all(axis=2).mean() > 0.99  # the whole (letterboxed) picture


def test_a_real_photo_gives_a_colour_item_on_black():
    from fashion_desktop.core.images import load_image

    x = to_colour_input(load_image(DRESS))
    assert x.shape == (COLOUR_SIDE, COLOUR_SIDE, 3)
    assert (x[0, 0] == 0).all() and 0.2 < (x.max(axis=2) > 0).mean() < 0.95
    assert np.ptp(x.reshape(-1, 3).astype(int).mean(axis=0)) > 3 or x.std() > 10  # not a blank


def _save_tiny_colour_model(folder, side=COLOUR_SIDE):
    """A real (side, side, 3) -> 10 softmax model of allowed layers, with a model.json vouching for it."""
    return save_tiny_model(folder, shape=(side, side, 3))


def test_a_colour_photo_model_judges_photos_in_colour_and_dataset_items_stay_gray(tmp_path):
    colour = _save_tiny_colour_model(tmp_path / "colour")
    clf = Classifier.load(photo_model_dir=colour, worn_model_dir=colour)
    photos = clf.for_photos()
    assert photos.colour and photos.input_shape == COLOUR_INPUT and not clf.colour
    flat = analyze(DRESS, clf)
    assert flat.model_input.shape == COLOUR_INPUT and flat.item_mask is not None
    assert flat.prediction.probabilities == pytest.approx(tuple(photos.predict(flat.model_input[None])[0]), abs=1e-6)
    assert flat.known.threshold == photos.known_threshold
    worn = analyze(OUTFIT, clf)
    assert worn.region is not None and worn.model_input.shape == COLOUR_INPUT
    assert worn.items and all(i.model_input.shape == COLOUR_INPUT for i in worn.items)
    item = analyze(np.zeros((28, 28, 3), np.uint8) + 40, clf)
    assert item.model_input.shape == (28, 28)  # a dataset-style picture: the 28 x 28 model, as before
    batch = dict(analyze_files([DRESS, OUTFIT], clf))
    assert batch[DRESS].prediction.probabilities == pytest.approx(flat.prediction.probabilities, abs=1e-5)
    assert batch[OUTFIT].model_input.shape == COLOUR_INPUT


def test_a_colour_model_cannot_serve_dataset_pictures(tmp_path):
    folder = _save_tiny_colour_model(tmp_path / "colour")
    with pytest.raises(ModelError, match=r"takes \(64, 64, 3\).*needs \(28, 28, 1\) -> \(10,\) there"):
        Classifier.load(folder, segmenter=False)


def test_a_photo_model_of_another_size_is_refused(tmp_path):
    folder = _save_tiny_colour_model(tmp_path / "colour48", side=48)
    with pytest.raises(ModelError, match=r"takes \(48, 48, 3\)"):
        Classifier.load(photo_model_dir=folder, segmenter=False)


def test_an_input_of_the_wrong_shape_is_refused_not_guessed(tmp_path):
    clf = Classifier.load(photo_model_dir=_save_tiny_colour_model(tmp_path / "colour"), segmenter=False)
    with pytest.raises(ValueError, match=r"takes inputs of shape \(64, 64, 3\), not \(28, 28, 1\)"):
        clf.for_photos().predict(np.zeros((2, 28, 28, 1), np.uint8))


def test_the_bundled_photo_model_says_what_it_takes_and_serves(classifier):
    photos = classifier.for_photos()
    meta = photos.metadata
    assert tuple(meta["input"]["shape"]) == photos.input_shape
    assert photos.input_shape in ((28, 28, 1), COLOUR_INPUT)
    assert meta["training"]["command"].startswith("python -m training ")
    if photos.colour:
        assert "photos" in meta["serves"]
        assert photos._model.count_params() <= 3_000_000  # the limit


SMALL = SHARED / "photos" / "clothing-dataset-small"


@pytest.mark.slow
@pytest.mark.skipif(not SMALL.is_dir(), reason="../shared/photos is not beside the repository")
def test_a_short_colour_training_run_installs_a_model_the_app_loads(tmp_path, small_data_dir, monkeypatch):
    """``python -m training colour`` on a few real photos: it trains, evaluates on the held-out ones,
    installs a checked model and the app judges photos with it."""
    from training import train
    from training.colour import ColourConfig, run

    monkeypatch.setattr(train, "CACHE_DIR", tmp_path / "cache")  # not the repository's photo cache
    photos = tmp_path / "photos"
    for part, per_folder in (("train", 6), ("validation", 3)):
        for folder in ("t-shirt", "pants", "dress", "shoes", "hat"):
            target = photos / part / folder
            target.mkdir(parents=True)
            for src in sorted((SMALL / part / folder).glob("*.jpg"))[:per_folder]:
                shutil.copy(src, target / src.name)
    cfg = ColourConfig(
        photos=str(photos), extra_photos=None, ccp=None, epochs=1, batch_size=16, photo_variants=1,
        fashion_mnist_per_class=4, data_dir=str(small_data_dir),
    )  # fmt: skip
    out = tmp_path / "out"
    meta = run(cfg, out, "python -m training colour (test)")
    assert meta["input"]["shape"] == [COLOUR_SIDE, COLOUR_SIDE, 3]
    from training.photos import find_photos

    assert meta["training"]["real_items"] == {"photos": len(find_photos(photos, held_out=False).paths)}
    assert 0.0 <= meta["metrics"]["real_photos"]["top1_labelled"] <= 1.0
    assert "fashion_mnist_in_colour" in meta["metrics"]
    clf = Classifier.load(photo_model_dir=out, segmenter=False)
    assert clf.for_photos().colour and clf.for_photos().known_threshold == meta["known_threshold"]
    assert analyze(DRESS, clf).model_input.shape == COLOUR_INPUT


def test_training_re_takes_keep_the_black_outside_and_turn_shoes_on_request():
    from training.colour import augment

    x = np.zeros((2, COLOUR_SIDE, COLOUR_SIDE, 3), np.uint8)
    x[:, 2:62, 24:40] = (180, 120, 60)  # a tall item, 60 by 16
    rng = np.random.default_rng(0)
    out = augment(x, rng, 0.0, np.zeros(2, bool), np.array([0, 1]))
    for img, tall in zip(out, (True, False)):
        ys, xs = np.nonzero(img.max(axis=2))
        height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
        assert (height > 2 * width) if tall else (width > 2 * height)  # the second was turned a right angle
        assert img[0, 0].sum() == 0 and img[-1, -1].sum() == 0


def test_garments_on_people_go_to_the_worn_model_and_flat_lays_to_the_photo_model(tmp_path, classifier):
    """A worn-garment model (here a tiny colour one) judges the main garment and the other items of a
    photo of a person; a flat-lay photo stays with the photo model, a dataset item with resources/model."""
    clf = Classifier.load(worn_model_dir=_save_tiny_colour_model(tmp_path / "worn"))
    worn = clf.for_photos(worn=True)
    assert worn is clf.worn and worn is not clf.for_photos() and worn.colour
    person = analyze(OUTFIT, clf)
    assert person.region is not None and person.model_input.shape == COLOUR_INPUT
    assert person.known.threshold == worn.known_threshold
    priors = clf.segmenter.class_priors  # a garment on a person is weighed by its region

    def judged(x, region):
        return tuple(given_region(worn.predict(x[None])[0], priors[region]))

    assert person.prediction.probabilities == pytest.approx(judged(person.model_input, person.region), abs=1e-6)
    for item in person.items:
        assert item.model_input.shape == COLOUR_INPUT
        assert item.prediction.probabilities == pytest.approx(judged(item.model_input, item.region), abs=1e-6)
    flat = analyze(DRESS, clf)
    photos = clf.for_photos()
    assert (
        flat.region is None and flat.model_input.shape == photos.input_shape[: 2 if photos.input_shape[-1] == 1 else 3]
    )
    assert flat.prediction.probabilities == pytest.approx(
        tuple(analyze(DRESS, classifier).prediction.probabilities), abs=1e-6
    )  # as without a worn model
    batch = dict(analyze_files([DRESS, OUTFIT], clf))  # one folder run, two models
    assert batch[OUTFIT].prediction.probabilities == pytest.approx(person.prediction.probabilities, abs=1e-5)
    assert batch[DRESS].prediction.probabilities == pytest.approx(flat.prediction.probabilities, abs=1e-5)


def test_the_bundled_worn_model_says_what_it_serves_and_judges_people(classifier):
    worn = classifier.for_photos(worn=True)
    if worn is classifier.for_photos():
        pytest.skip("no resources/worn_model bundled: the photo model judges garments on people too")
    meta = worn.metadata
    assert meta["serves"].startswith("garments worn by a person")
    assert tuple(meta["input"]["shape"]) == worn.input_shape and worn._model.count_params() <= 3_000_000
    assert meta["training"]["command"].startswith("python -m training colour")
    person = analyze(OUTFIT, classifier)
    assert person.known.threshold == worn.known_threshold
    assert person.model_input.shape == photo_input_shape(classifier, worn=True)
