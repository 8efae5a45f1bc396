"""The bundled garment segmenter: checked on load like the classifier, and what ``analyze`` makes of an outfit."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from fashion_desktop.core import CLASS_NAMES
from fashion_desktop.core.analysis import analyze
from fashion_desktop.core.classifier import ModelError
from fashion_desktop.core.segment import (
    GARMENT_REGIONS,
    REGIONS,
    SIDE,
    Segmenter,
    class_prior,
    find_garments,
    given_region,
    letterbox,
)
from fashion_desktop.core.serialize import CSV_FIELDS, analysis_row, csv_text
from fashion_desktop.resources import resource_path, segmenter_dir
from tests.conftest import SHARED, photo_input_shape

OUTFIT = resource_path("samples", "people", "outfit.jpg")  # a CCP street photo (held out of all training)


@pytest.fixture
def segmenter_copy(tmp_path):
    folder = tmp_path / "segmenter"
    shutil.copytree(segmenter_dir(), folder)
    return folder


def test_the_bundled_segmenter_records_its_regions_figures_and_command():
    meta = json.loads((segmenter_dir() / "model.json").read_text())
    assert meta["regions"] == list(REGIONS)
    assert meta["training"]["command"].startswith("python -m training segmenter")
    assert 0 < meta["metrics"]["held_out"]["mean_iou"] <= 1
    assert meta["training"]["held_out_photos"] > 150


def test_a_tampered_segmenter_is_refused_before_it_is_loaded(segmenter_copy):
    meta = json.loads((segmenter_copy / "model.json").read_text())
    path = segmenter_copy / meta["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="segmenter file .* does not match model.json"):
        Segmenter.load(segmenter_copy)


def test_a_missing_segmenter_is_a_clear_error(segmenter_copy):
    (segmenter_copy / "model.json").unlink()
    with pytest.raises(ModelError, match="segmenter description .*model.json is missing"):
        Segmenter.load(segmenter_copy)


def test_a_segmenter_of_other_regions_is_refused(segmenter_copy):
    meta = json.loads((segmenter_copy / "model.json").read_text())
    meta["regions"] = meta["regions"][:-1]
    (segmenter_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="regions"):
        Segmenter.load(segmenter_copy)


def test_letterbox_keeps_the_aspect_and_pads_with_black():
    square, (h, w) = letterbox(np.full((300, 200, 3), 200, np.uint8))
    assert square.shape == (SIDE, SIDE, 3) and (h, w) == (96, 64)
    assert square[:, 64:].max() == 0 and square[:, :64].min() == 200


def test_the_main_garment_is_the_largest_and_the_others_are_items():
    regions = np.zeros((96, 64), np.uint8)
    regions[5:15, 25:40] = REGIONS.index("person")  # a head
    regions[15:50, 15:50] = REGIONS.index("top")
    regions[50:85, 20:45] = REGIONS.index("bottoms")
    regions[86:92, 18:30] = REGIONS.index("footwear")
    regions[86:92, 35:47] = REGIONS.index("footwear")  # a pair: two blobs, one item
    seg = find_garments(regions)
    assert seg.person and seg.main.region == "top"
    assert [g.region for g in seg.garments] == ["top", "bottoms", "footwear"]
    assert seg.garments[2].box == (18, 86, 47, 92)


def test_the_main_garment_is_chosen_by_weighed_areas_when_the_segmenter_has_weights():
    regions = np.zeros((96, 64), np.uint8)
    regions[5:15, 25:40] = REGIONS.index("person")
    regions[15:50, 15:50] = REGIONS.index("outerwear")  # 1,225 pixels
    regions[50:90, 18:50] = REGIONS.index("bottoms")  # 1,280 pixels: the largest as found
    assert find_garments(regions).main.region == "bottoms"
    weighed = find_garments(regions, {"outerwear": 1.2, "bottoms": 1.0})
    assert weighed.main.region == "outerwear" and [g.region for g in weighed.garments] == ["outerwear", "bottoms"]
    assert weighed.main.share == pytest.approx(1225 / (96 * 64))  # the share itself is not weighed


def test_main_weights_are_fitted_to_pick_the_true_main_region():
    from training.region_prior import fit_main_weights, main_regions_right

    rng = np.random.default_rng(0)
    true = rng.uniform(0.05, 0.3, (400, len(GARMENT_REGIONS)))
    shares = true * rng.uniform(0.9, 1.1, true.shape)
    outerwear = GARMENT_REGIONS.index("outerwear")
    shares[:, outerwear] *= 0.7  # the segmenter finds outerwear at 70% of its size
    weights = fit_main_weights(shares, true.argmax(axis=1))
    assert 1.25 < weights[outerwear] / np.median(weights) < 1.6
    assert main_regions_right(shares, true.argmax(axis=1), weights) > 0.8 * len(shares)


def test_the_bundled_segmenter_chooses_its_main_garment_with_weights_fitted_on_training_photos(classifier):
    field = json.loads((segmenter_dir() / "model.json").read_text())["main_garment_weights"]
    assert field["photos"] > 700 and field["command"].startswith("python -m training region-prior")
    picked = field["true_main_region_picked"]
    assert picked["weighed"] >= picked["unweighed"]  # on the photos they were fitted on, never worse
    assert classifier.segmenter.main_weights == field["weights"]
    assert set(field["weights"]) == set(GARMENT_REGIONS)


@pytest.mark.parametrize(
    "weights, match",
    [
        ({"top": 0}, "above 0"),
        ({"top": -1.0}, "above 0"),
        ({"top": True}, "above 0"),
        ({"top": "1.2"}, "above 0"),
        ({"hat": 1.0}, "not a garment region"),
        ({}, "no weights"),
    ],
)
def test_tampered_main_weights_are_refused(segmenter_copy, weights, match):
    meta = json.loads((segmenter_copy / "model.json").read_text())
    meta["main_garment_weights"]["weights"] = weights
    (segmenter_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=match):
        Segmenter.load(segmenter_copy)


def test_without_skin_or_hair_there_is_no_person_and_no_main_garment():
    regions = np.zeros((96, 64), np.uint8)
    regions[10:80, 10:50] = REGIONS.index("top")
    seg = find_garments(regions)
    assert not seg.person and seg.main is None


def test_an_outfit_photo_gives_its_main_garment_and_other_items(classifier):
    assert classifier.segmenter is not None
    a = analyze(OUTFIT, classifier)
    assert a.region in GARMENT_REGIONS
    assert a.item_mask is not None and a.item_mask.shape == (96, 64)
    assert a.items, "a full-length photo of an outfit holds more than one garment"
    h, w = a.image.shape[:2]
    for item in a.items:
        x0, y0, x1, y1 = item.box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        assert item.model_input.shape == photo_input_shape(classifier, worn=True) and item.model_input.any()
        assert abs(sum(item.prediction.probabilities) - 1) < 1e-3
    assert "segment" in a.timings_ms
    row = analysis_row(a)
    assert row["region"] == a.region
    assert [set(i) for i in row["items"]] == [{"label", "confidence", "known", "box", "region"}] * len(a.items)
    text = csv_text([row])
    header, line = text.splitlines()
    assert header.split(",") == CSV_FIELDS
    assert a.items[0].prediction.label in line


def test_a_flat_lay_photo_has_no_person_and_goes_through_isolation_as_before(classifier):
    a = analyze(resource_path("samples", "dress.jpg"), classifier)
    assert a.region is None and a.items == ()
    assert a.prediction.label == "Dress"


def test_a_dataset_item_is_judged_whole_without_the_segmenter(classifier):
    a = analyze(np.zeros((28, 28, 3), np.uint8) + 40, classifier)
    assert a.region is None and a.item_mask is None and "segment" not in a.timings_ms


def test_photos_are_judged_by_the_photo_model_and_dataset_items_by_the_dataset_model(classifier):
    """model.json of each says what it serves: resources/model the Fashion-MNIST-style pictures (and the
    Fashion-MNIST figures), resources/photo_model every photo not of a person, with its own "known" threshold."""
    photo_model = classifier.for_photos()
    assert photo_model is classifier.photo and photo_model is not classifier
    item = analyze(np.zeros((28, 28, 3), np.uint8) + 40, classifier)
    assert item.known.threshold == classifier.known_threshold
    x = item.model_input[None]
    assert item.prediction.probabilities == pytest.approx(tuple(classifier.predict(x)[0]), abs=1e-6)
    photo = analyze(resource_path("samples", "dress.jpg"), classifier)
    assert photo.known.threshold == photo_model.known_threshold != classifier.known_threshold
    y = photo.model_input[None]
    assert photo.prediction.probabilities == pytest.approx(tuple(photo_model.predict(y)[0]), abs=1e-6)


def test_a_tampered_photo_model_is_refused(tmp_path):
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.resources import photo_model_dir

    folder = tmp_path / "photo_model"
    shutil.copytree(photo_model_dir(), folder)
    meta = json.loads((folder / "model.json").read_text())
    data = bytearray((folder / meta["file"]).read_bytes())
    data[len(data) // 3] ^= 0xFF
    (folder / meta["file"]).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match model.json"):
        Classifier.load(photo_model_dir=folder, segmenter=False)


# --- what a garment's region says of its class ------------------------------------------------


def test_the_bundled_segmenter_counts_classes_by_region_on_training_photos_only():
    field = json.loads((segmenter_dir() / "model.json").read_text())["class_given_region"]
    assert field["command"].startswith(("python -m training region-prior", "python -m training segmenter"))
    assert field["photos"] > 700  # the CCP training part; the held-out photos are never counted
    assert set(field["counts"]) <= set(GARMENT_REGIONS)
    bottoms = np.array(field["counts"]["bottoms"])
    assert bottoms.shape == (11,) and int(np.argmax(bottoms[:10])) == CLASS_NAMES.index("Trouser")


def test_given_region_weighs_the_probabilities_by_bayes_rule(classifier):
    seg_priors = classifier.segmenter.class_priors
    uncertain = np.full(10, 0.1, np.float32)
    for region, trouser_like in (("bottoms", "Trouser"), ("bag", "Bag"), ("dress", "Dress")):
        fused = given_region(uncertain, seg_priors[region])
        assert fused.dtype == np.float32 and abs(fused.sum() - 1) < 1e-6
        assert CLASS_NAMES[int(np.argmax(fused))] == trouser_like
    sure = np.eye(10, dtype=np.float32)[CLASS_NAMES.index("Sneaker")] * 0.9 + 0.01
    assert CLASS_NAMES[int(np.argmax(given_region(sure, seg_priors["footwear"])))] == "Sneaker"
    assert given_region(sure, None) is sure
    assert class_prior([0] * 11).tolist() == [0.1] * 10  # nothing counted: no say


def test_garments_on_a_person_are_weighed_by_their_region_and_known_is_judged_unweighed(classifier, monkeypatch):
    weighed = analyze(OUTFIT, classifier)
    assert weighed.region is not None and weighed.items
    priors = classifier.segmenter.class_priors
    monkeypatch.setattr(classifier.segmenter, "class_priors", {})
    plain = analyze(OUTFIT, classifier)
    pairs = [(weighed.prediction, plain.prediction, weighed.region, weighed.known, plain.known)]
    pairs += [(w.prediction, p.prediction, w.region, w.known, p.known) for w, p in zip(weighed.items, plain.items)]
    for w, p, region, wk, pk in pairs:
        expected = np.array(p.probabilities) * priors[region]
        np.testing.assert_allclose(w.probabilities, expected / expected.sum(), rtol=1e-4, atol=1e-6)
        assert wk == pk  # the threshold was calibrated on the model's own probabilities


@pytest.mark.parametrize(
    "tamper, match",
    [
        (lambda f: f["counts"].update(top=[1.0] * 10), "11 counts"),
        (lambda f: f["counts"].update(top=[-1.0] + [1.0] * 10), "none negative"),
        (lambda f: f["counts"].update(hat=[1.0] * 11), "not a garment region"),
        (lambda f: f.pop("counts"), "no counts"),
    ],
)
def test_tampered_class_counts_are_refused(segmenter_copy, tamper, match):
    meta = json.loads((segmenter_copy / "model.json").read_text())
    tamper(meta["class_given_region"])
    (segmenter_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=match):
        Segmenter.load(segmenter_copy)


def test_a_segmenter_without_class_counts_still_loads_and_weighs_nothing(segmenter_copy):
    meta = json.loads((segmenter_copy / "model.json").read_text())
    del meta["class_given_region"], meta["main_garment_weights"]
    (segmenter_copy / "model.json").write_text(json.dumps(meta))
    loaded = Segmenter.load(segmenter_copy)
    assert loaded.class_priors == {} and loaded.main_weights == {}


@pytest.mark.skipif(not (SHARED / "ccp" / "photos").is_dir(), reason="../shared/ccp is not beside the repository")
def test_region_prior_command_writes_the_counts_and_leaves_the_weights(segmenter_copy, capsys):
    from training.__main__ import main

    before = json.loads((segmenter_copy / "model.json").read_text())
    del before["class_given_region"], before["main_garment_weights"]
    (segmenter_copy / "model.json").write_text(json.dumps(before))
    assert (
        main(["region-prior", "--segmenter-dir", str(segmenter_copy), "--ccp", str(SHARED / "ccp"), "--limit", "12"])
        == 0
    )
    after = json.loads((segmenter_copy / "model.json").read_text())
    field = after.pop("class_given_region")
    main_weights = after.pop("main_garment_weights")
    assert after == before  # the weights' name and sha256 untouched
    assert main_weights["photos"] <= 12 and set(main_weights["weights"]) == set(GARMENT_REGIONS)
    assert field["photos"] == 12 and field["command"].startswith("python -m training region-prior --segmenter-dir")
    assert set(field["counts"]) == set(GARMENT_REGIONS)  # zeros where it found none: never an empty table
    total = sum(sum(row) for row in field["counts"].values())
    assert total >= 12  # every photo of a person gives a main garment, most of them items too
    assert Segmenter.load(segmenter_copy).class_priors.keys() == field["counts"].keys()
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == field["counts"]


@pytest.mark.skipif(not (SHARED / "ccp" / "photos").is_dir(), reason="../shared/ccp is not beside the repository")
def test_region_prior_writes_again_the_tables_the_app_refused(segmenter_copy):
    """A model.json whose fitted tables the app refuses (an empty one, as a segmenter trained too briefly
    to find a garment used to get) is not in the way of the command that writes them again."""
    from training.__main__ import main

    meta = json.loads((segmenter_copy / "model.json").read_text())
    meta["class_given_region"]["counts"] = {}
    (segmenter_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="no counts"):
        Segmenter.load(segmenter_copy)
    args = ["region-prior", "--segmenter-dir", str(segmenter_copy), "--ccp", str(SHARED / "ccp"), "--limit", "6"]
    assert main(args) == 0
    assert set(Segmenter.load(segmenter_copy).class_priors) == set(GARMENT_REGIONS)


def test_the_segmenter_can_have_more_blocks_at_its_bottom_with_the_same_input_and_output():
    from keras.layers import Conv2D

    from training.segmenter import build_segmenter

    plain, deeper = build_segmenter(8), build_segmenter(8, bottleneck=2)
    assert plain.input_shape == deeper.input_shape == (None, SIDE, SIDE, 3)
    assert plain.output_shape == deeper.output_shape == (None, SIDE, SIDE, len(REGIONS))
    convs = [sum(isinstance(layer, Conv2D) for layer in m.layers) for m in (plain, deeper)]
    assert convs[1] == convs[0] + 2


@pytest.mark.skipif(not (SHARED / "ccp" / "photos").is_dir(), reason="../shared/ccp is not beside the repository")
def test_segmented_garment_crops_are_what_the_app_shows_the_worn_model(tmp_path):
    """``--ccp-segmented`` training items: the garments the segmenter finds on CCP training photos, cut as
    the app cuts them (the first version of each is the app's own model input for that garment), labelled
    by the true mask under them; never a held-out photo."""
    from fashion_desktop.core.classifier import Classifier
    from training.ccp import find_ccp, segmented_garment_crops

    crops, classes = segmented_garment_crops(SHARED / "ccp", segmenter_dir(), 2, 0, tmp_path, limit=4)
    assert crops.shape[1:] == (3, 64, 64, 3) and crops.dtype == np.uint8 and len(classes) == len(crops)
    assert all(set(c) <= set(range(10)) for c in classes) and any(classes)
    clf = Classifier.load()
    expected = []
    for item in find_ccp(SHARED / "ccp", held_out=False)[:4]:
        a = analyze(item.photo, clf)
        if a.region is not None:
            expected += [a.model_input, *(i.model_input for i in a.items)]
    assert len(expected) == len(crops)
    for want, got in zip(expected, crops[:, 0]):
        np.testing.assert_array_equal(got, want)
    again, _ = segmented_garment_crops(SHARED / "ccp", segmenter_dir(), 2, 0, tmp_path, limit=4)  # from its cache
    np.testing.assert_array_equal(again, crops)
