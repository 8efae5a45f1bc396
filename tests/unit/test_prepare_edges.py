"""core/prepare.py (photo -> 28x28 model input) and core/edges.py on real and drawn pictures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fashion_desktop.core.edges import detect_edges, render_overlay
from fashion_desktop.core.images import load_image
from fashion_desktop.core.prepare import is_fashion_mnist_style, to_model_input
from tests.conftest import REPO


def _product(background, item_colour, size=(900, 600)):
    """A tall trouser-like item drawn on a plain background, as a product photo would show it."""
    h, w = size
    img = np.full((h, w, 3), background, np.uint8)
    cv2.rectangle(img, (220, 150), (380, 750), item_colour, -1)
    cv2.rectangle(img, (290, 400), (310, 750), background, -1)  # the gap between the legs
    return img


def test_fashion_mnist_item_passes_through_unchanged(fashion_mnist):
    _, test = fashion_mnist
    for img in test.x[:50]:
        assert is_fashion_mnist_style(img)
        np.testing.assert_array_equal(to_model_input(img), img)
        rgb = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        np.testing.assert_array_equal(to_model_input(rgb), img)


@pytest.mark.parametrize(("background", "item"), [((255, 255, 255), (40, 40, 120)), ((30, 30, 30), (200, 180, 150))])
def test_item_is_isolated_light_on_black_centred_with_aspect_kept(background, item):
    x = to_model_input(_product(background, item))
    assert x.shape == (28, 28) and x.dtype == np.uint8
    on = x > 30
    rows, cols = np.nonzero(on)
    assert rows.min() <= 1 and rows.max() >= 26  # tall item: fills the height
    width = cols.max() - cols.min() + 1
    assert 5 <= width <= 11  # 160:600 aspect -> about 7.5 px wide, not stretched
    assert abs((cols.min() + cols.max()) / 2 - 13.5) <= 1.5  # centred
    assert x[:, :3].max() < 20 and x[:, -3:].max() < 20  # background is black


def test_flat_and_tiny_pictures_do_not_crash():
    for img in (np.full((50, 80, 3), 128, np.uint8), np.zeros((1, 1, 3), np.uint8), np.zeros((3, 200, 3), np.uint8)):
        x = to_model_input(img)
        assert x.shape == (28, 28)


def test_real_photo_gives_an_item_on_black():
    rgb = load_image(REPO / "resources" / "samples" / "trouser.jpg")
    x = to_model_input(rgb)
    ring = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    assert np.median(ring) < 10 and x.max() > 150


@pytest.mark.parametrize("s", [1, 4])  # 1000 px: shrunk by 2 to find edges; 4000 px: by 6
def test_edges_follow_the_outline_at_picture_size(s):
    img = np.full((400 * s, 1000 * s, 3), 255, np.uint8)
    cv2.rectangle(img, (300 * s, 100 * s), (700 * s, 300 * s), (20, 20, 20), -1)
    edges = detect_edges(img)
    assert edges.shape == (400 * s, 1000 * s) and set(np.unique(edges)) <= {0, 255}
    ys, xs = np.nonzero(edges)
    tol = 4 * s
    assert abs(xs.min() - 300 * s) <= tol and abs(xs.max() - 700 * s) <= tol and abs(ys.min() - 100 * s) <= tol
    assert edges[150 * s : 250 * s, 400 * s : 600 * s].max() == 0  # nothing inside the flat rectangle
    # The pipeline hands blur and edges one gray copy; it gives the same edges as the colour picture.
    assert np.array_equal(detect_edges(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)), edges)


def test_overlay_paints_edges_only():
    img = np.full((60, 60, 3), 100, np.uint8)
    edges = np.zeros((60, 60), np.uint8)
    edges[30, :] = 255
    out = render_overlay(img, edges, colour=(0, 255, 0), opacity=1.0)
    assert (out[30] == [0, 255, 0]).all() and (out[:30] == 100).all()
    half = render_overlay(img, edges, colour=(0, 255, 0), opacity=0.5)
    assert tuple(half[30, 0]) == (50, 178, 50) or tuple(half[30, 0]) == (50, 177, 50)


def test_blurred_dataset_items_pass_through_unchanged_even_when_they_touch_the_border(fashion_mnist):
    """Blur spreads items that touch the border (trousers, bags) into a light border; they are still
    dataset items, never sent through isolation (which destroyed them)."""
    from training.evaluate import blurred_test_sets

    _, test = fashion_mnist
    for name, images in blurred_test_sets(test.x[:300]).items():
        for img in images:
            assert is_fashion_mnist_style(img), name
            np.testing.assert_array_equal(to_model_input(img), img)


def test_dataset_items_on_white_are_negated_and_small_ones_brought_to_28(fashion_mnist):
    _, test = fashion_mnist
    for img in test.x[:100]:
        np.testing.assert_array_equal(to_model_input(255 - img), img)  # dark on white, as the source photos
    small = cv2.resize(test.x[1], (14, 14), interpolation=cv2.INTER_AREA)
    x = to_model_input(small)
    assert x.shape == (28, 28)
    assert np.corrcoef(x.ravel().astype(float), test.x[1].ravel().astype(float))[0, 1] > 0.9
    wide = to_model_input(np.full((10, 20), 0, np.uint8))
    assert wide.shape == (28, 28) and not wide.any()


def test_one_edge_layer_for_the_window_the_camera_and_the_web_page():
    from fashion_desktop.core.edges import EDGE_COLOUR, edge_layer

    edges = np.zeros((4, 4), np.uint8)
    edges[1, :] = 255  # a full-size mask, as the camera's
    edges[2, :] = 60  # a line faded by shrinking for display
    layer = edge_layer(edges)
    assert layer.shape == (4, 4, 4) and (layer[..., :3] == EDGE_COLOUR).all()
    assert list(layer[:, 0, 3]) == [0, 255, 120, 0]
    img = np.full((4, 4, 3), 100, np.uint8)
    out = render_overlay(img, edges, opacity=1.0)
    assert tuple(out[1, 0]) == EDGE_COLOUR and (out[0] == 100).all()
    assert 100 < out[2, 0, 1] < 255  # the faded line is blended, as the window paints it


def test_grabcut_in_steps_gives_the_one_calls_mask_and_stops_when_told():
    """``foreground_mask_unless`` runs GrabCut's start and each iteration as calls of their own so that an
    analysis can stop it; the mask is the one a single call of all the iterations gives."""
    import threading

    from fashion_desktop.core.prepare import (
        GRABCUT_ITERATIONS,
        _main_component,
        foreground_mask,
        foreground_mask_unless,
        grabcut_seed,
        work_picture,
    )

    for name in ("tshirt.jpg", "trouser.jpg", "sneaker.jpg", "dress.jpg"):
        small = work_picture(load_image(REPO / "resources" / "samples" / name))
        mask = foreground_mask(small)
        np.testing.assert_array_equal(foreground_mask_unless(small, threading.Event()), mask)
        # The same seed through one grabCut call, as foreground_mask made it before it ran in steps.
        seed, _ = grabcut_seed(small)
        models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)
        cv2.grabCut(small[..., ::-1].copy(), seed, None, *models, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
        one_call = np.where((seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
        np.testing.assert_array_equal(_main_component(one_call), mask)
        stop = threading.Event()
        stop.set()
        assert foreground_mask_unless(small, stop) is None
