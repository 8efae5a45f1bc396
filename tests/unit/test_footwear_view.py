"""The footwear view: one shoe of a pair, levelled, as a second look at pictures taken for footwear."""

from __future__ import annotations

import contextlib

import cv2
import numpy as np
import pytest

from fashion_desktop.core.analysis import analyze
from fashion_desktop.core.classifier import FOOTWEAR_CLASSES, merge_footwear_view
from fashion_desktop.core.images import load_image
from fashion_desktop.core.prepare import footwear_view, isolate, one_of_a_pair, render, to_model_input
from tests.conftest import REPO


def _pair_from_above(gap: int = 0, tilt: float = 0.0) -> np.ndarray:
    """A left and a right shoe side by side, toes up, on a light floor (as phone photos show pairs)."""
    img = np.full((600, 600, 3), 225, np.uint8)
    for x, turn in ((300 - 62 - gap // 2, 6), (300 + 62 + gap // 2, -6)):
        cv2.ellipse(img, (x, 300), (62, 190), turn, 0, 360, (50, 40, 40), -1)
    if tilt:
        m = cv2.getRotationMatrix2D((300, 300), tilt, 1.0)
        img = cv2.warpAffine(img, m, (600, 600), borderValue=(225, 225, 225))
    return img


def _extent(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1  # width, height


@pytest.mark.parametrize(("gap", "tilt"), [(0, 0.0), (40, 0.0), (0, 30.0)])
def test_a_pair_gives_one_shoe_with_its_long_axis_level(gap, tilt):
    isolated = isolate(_pair_from_above(gap, tilt))
    pair_area = np.count_nonzero(isolated.mask)
    view = footwear_view(isolated)
    assert 0.4 < np.count_nonzero(view.mask) / pair_area < 0.6  # one of two equal shoes
    width, height = _extent(view.mask)
    assert width > 2.2 * height  # about 3:1, lying level
    x = render(view)
    rows, cols = np.nonzero(x > 30)
    assert np.ptp(cols) >= 26 and np.ptp(rows) <= 13  # a long low shoe across the 28x28 input


def test_one_shoe_side_on_and_a_failed_mask_are_left_as_they_are():
    side_on = np.full((400, 700, 3), 230, np.uint8)
    cv2.ellipse(side_on, (350, 220), (260, 90), 0, 0, 360, (40, 40, 60), -1)
    isolated = isolate(side_on)
    np.testing.assert_array_equal(one_of_a_pair(isolated.mask), isolated.mask)
    np.testing.assert_array_equal(render(footwear_view(isolated)), render(isolated))
    whole_frame = np.full((40, 60), 255, np.uint8)  # segmentation found nothing: not a pair to halve
    np.testing.assert_array_equal(one_of_a_pair(whole_frame), whole_frame)


def test_an_ankle_boot_side_on_is_not_halved_or_turned():
    boot = np.full((500, 500, 3), 235, np.uint8)
    cv2.rectangle(boot, (150, 80), (290, 400), (30, 30, 30), -1)  # shaft
    cv2.rectangle(boot, (150, 300), (400, 400), (30, 30, 30), -1)  # foot, toe to the right
    isolated = isolate(boot)
    np.testing.assert_array_equal(render(footwear_view(isolated)), render(isolated))


def test_fashion_mnist_items_pass_through_the_footwear_view_unchanged(fashion_mnist):
    _, test = fashion_mnist
    for img in test.x[test.y == 7][:10]:
        np.testing.assert_array_equal(to_model_input(img, footwear=True), img)


@contextlib.contextmanager
def _footwear_view(classifier, on: bool):
    """The bundled classifier as if its model.json said "footwear_view": on."""
    saved, classifier.footwear_view = classifier.footwear_view, on
    try:
        yield classifier
    finally:
        classifier.footwear_view = saved


def test_analysis_averages_the_two_views_of_a_shoe_photo(classifier):
    rgb = load_image(REPO / "resources" / "samples" / "sneaker.jpg")
    with _footwear_view(classifier, True):
        result = analyze(rgb, classifier)
    first = classifier.predict(to_model_input(rgb))[0]
    assert int(np.argmax(first)) in FOOTWEAR_CLASSES
    assert result.footwear_input is not None and result.footwear_input.shape == (28, 28)
    np.testing.assert_array_equal(result.footwear_input, to_model_input(rgb, footwear=True))
    expected = merge_footwear_view(first, classifier.predict(result.footwear_input)[0])
    np.testing.assert_allclose(result.prediction.probabilities, expected, atol=1e-6)
    # A model trained without the view keeps its first answer and shows one input.
    with _footwear_view(classifier, False):
        plain = analyze(rgb, classifier)
    assert plain.footwear_input is None
    np.testing.assert_allclose(plain.prediction.probabilities, first, atol=1e-6)


def test_pictures_not_taken_for_footwear_get_no_second_look(classifier):
    rgb = load_image(REPO / "resources" / "samples" / "trouser.jpg")
    with _footwear_view(classifier, True):
        result = analyze(rgb, classifier)
    assert result.prediction.label == "Trouser" and result.footwear_input is None
