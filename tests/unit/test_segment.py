"""The bundled garment segmenter: checked on load like the classifier, and what ``analyze`` makes of an outfit."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from fashion_desktop.core.analysis import analyze
from fashion_desktop.core.classifier import ModelError
from fashion_desktop.core.segment import GARMENT_REGIONS, REGIONS, SIDE, Segmenter, find_garments, letterbox
from fashion_desktop.core.serialize import CSV_FIELDS, analysis_row, csv_text
from fashion_desktop.resources import resource_path, segmenter_dir
from tests.conftest import photo_input_shape

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
