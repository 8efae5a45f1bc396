"""Turns a real photo into a 28x28 Fashion-MNIST-style model input: item isolated, negated, centred.

Fashion-MNIST was made from product photos on white by trimming the border that matches the corner
colour, resizing the long side to 28, sharpening, padding to 28x28, negating and converting to gray.
We do the same to user photos, with a background estimate that also copes with dark or uneven
backgrounds, so what the model sees at run time looks like what it learned from.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

# Bump when this module changes what the model is shown from a photo: training's photo cache and
# model.json record it, so a model is never used with preprocessing other than the one it learned from.
PREPROCESSING_VERSION = 2
WORK_SIZE = 96  # long side for segmentation: enough for a 28-px outline, cheap enough for live video
GRABCUT_ITERATIONS = 2
BORDER = 0.06  # share of each side sampled as "background"


DATASET_SIDE = 28  # Fashion-MNIST's size: a picture no larger than this is an item already cut out


def is_fashion_mnist_style(rgb: np.ndarray) -> bool:
    """A picture of at most 28 x 28 pixels is a dataset-style item: there is nothing to isolate in it.

    It is never sent through item isolation, whatever its border: blurred items that touch the border
    (trousers, bags) have a light border too, and GrabCut destroyed them (11-23% right on those).
    """
    return max(rgb.shape[:2]) <= DATASET_SIDE


def _dataset_item(rgb: np.ndarray) -> np.ndarray:
    """A picture of at most 28 x 28 -> the model input: gray; negated when its corners are light (a dark
    item on white, as the photos Fashion-MNIST was made from: in its test set, clean or blurred with
    sigma 2, no item has a corner median over 127 and every negated one has); long side brought to 28
    and padded with black, centred."""
    gray = _to_gray(rgb)
    corners = np.concatenate(
        [gray[:3, :3].ravel(), gray[:3, -3:].ravel(), gray[-3:, :3].ravel(), gray[-3:, -3:].ravel()]
    )
    if float(np.median(corners)) > 127:
        gray = 255 - gray
    if gray.shape == (DATASET_SIDE, DATASET_SIDE):
        return gray.copy()
    return _centred(_long_side_to(gray, DATASET_SIDE), DATASET_SIDE)


def _long_side_to(item: np.ndarray, side: int, interpolation: int | None = None) -> np.ndarray:
    """``item`` with its long side brought to ``side``, aspect kept; by ``interpolation``, else by
    INTER_LINEAR when it is enlarged and INTER_AREA when it is shrunk."""
    h, w = item.shape[:2]
    scale = side / max(h, w)
    if interpolation is None:
        interpolation = cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA
    return cv2.resize(item, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interpolation)


def _centred(small: np.ndarray, side: int) -> np.ndarray:
    """``small`` (at most ``side`` on each side) centred on a black ``side`` x ``side`` square."""
    h, w = small.shape[:2]
    out = np.zeros((side, side, *small.shape[2:]), np.uint8)
    y0, x0 = (side - h) // 2, (side - w) // 2
    out[y0 : y0 + h, x0 : x0 + w] = small
    return out


def _to_gray(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _border_pixels(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    b = max(1, int(round(min(h, w) * BORDER)))
    parts = [
        img[:b].reshape(-1, *img.shape[2:]),
        img[-b:].reshape(-1, *img.shape[2:]),
        img[:, :b].reshape(-1, *img.shape[2:]),
        img[:, -b:].reshape(-1, *img.shape[2:]),
    ]
    return np.concatenate(parts)


def foreground_mask(rgb_small: np.ndarray, iterations: int = GRABCUT_ITERATIONS) -> np.ndarray:
    """Mask (uint8 0/255) of the main item, by GrabCut seeded from the picture's border.

    The border ring is background for certain; inside it, pixels close to the border's colour start
    as probable background and the rest as probable foreground, so GrabCut begins from a good guess
    on plain backgrounds and can still learn a patterned floor or bed cover from the border.
    """
    mask = foreground_mask_unless(rgb_small, threading.Event(), iterations)  # an event nobody sets
    assert mask is not None
    return mask


def grabcut_seed(rgb_small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GrabCut's starting mask for ``foreground_mask`` (GC_* values), and the rough item mask (bool) it was
    made from: pixels farther from the border's colour than the border's own spread."""
    h, w = rgb_small.shape[:2]
    lab = cv2.cvtColor(rgb_small, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = _border_pixels(lab)
    background = np.median(border, axis=0)
    dist = np.linalg.norm(lab - background, axis=2)
    noise = float(np.percentile(np.linalg.norm(border - background, axis=1), 75))
    seed = np.where(dist > noise, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    b = max(1, int(min(h, w) * 0.03))
    seed[:b], seed[-b:], seed[:, :b], seed[:, -b:] = cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD
    return seed, dist > noise


def foreground_mask_unless(
    rgb_small: np.ndarray, stop: threading.Event, iterations: int = GRABCUT_ITERATIONS
) -> np.ndarray | None:
    """``foreground_mask``, abandoned (None) when ``stop`` is set between GrabCut's steps (its start and each
    iteration, a few ms each): the analysis that started it early has found a person in the picture."""
    seed, rough = grabcut_seed(rgb_small)
    if (seed == cv2.GC_PR_FGD).sum() < 16 or min(rgb_small.shape[:2]) < 12:
        return _main_component(rough.astype(np.uint8) * 255)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut starts its colour models from k-means on OpenCV's per-thread RNG; seeding it makes one
    # picture always give one model input (in any thread: the GUI worker, the CLI, the tests).
    cv2.setRNGSeed(0)
    bgr = rgb_small[..., ::-1].copy()
    try:
        # Its start (colour models from the seed) and each iteration as calls of their own: the same mask as one
        # call of ``iterations`` (on 287 photos, and in tests/unit/test_prepare_edges.py), and places to stop.
        for step in range(iterations + 1):
            if stop.is_set():
                return None
            mode = cv2.GC_EVAL if step else cv2.GC_INIT_WITH_MASK
            cv2.grabCut(bgr, seed, None, *models, 1 if step else 0, mode)  # type: ignore[call-overload]  # OpenCV's stubs do not take None for the unused rectangle
    except cv2.error:  # a degenerate colour model (e.g. a two-colour picture); the seed is a fair answer
        pass
    mask = np.where((seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    return _main_component(mask)


def _main_component(mask: np.ndarray) -> np.ndarray:
    """Keep the blob that best combines size and closeness to the centre; fill its holes."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return mask
    h, w = mask.shape
    centre = np.array([w / 2, h / 2])
    areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
    off = np.linalg.norm((centroids[1:] - centre) / np.array([w, h]), axis=1)
    best = 1 + int(np.argmax(areas * (1.0 - off)))
    keep = labels == best
    # Other large blobs close by (a sleeve cut off by shading) belong to the item too.
    for i in range(1, n):
        if i != best and areas[i - 1] > 0.15 * areas[best - 1] and off[i - 1] < 0.35:
            keep |= labels == i
    out = keep.astype(np.uint8) * 255
    contours, _ = cv2.findContours(out, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, 255, thickness=cv2.FILLED)
    return out


def _fit_28(item: np.ndarray) -> np.ndarray:
    """Long side to 28 (aspect kept), sharpen as Fashion-MNIST did, pad to 28x28 centred."""
    small = _long_side_to(item, DATASET_SIDE, cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), 0.6)
    return _centred(cv2.addWeighted(small, 1.5, blurred, -0.5, 0), DATASET_SIDE)


def _shrunk(picture: np.ndarray, long_side: int) -> np.ndarray:
    """``picture`` with its long side brought down to ``long_side`` (never enlarged), aspect kept."""
    h, w = picture.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    if scale == 1.0:
        return picture
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def work_picture(rgb: np.ndarray) -> np.ndarray:
    """The picture at the working size (long side WORK_SIZE, never enlarged), in RGB: what isolation and
    the garment segmenter look at, and what their masks are the size of."""
    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    return _shrunk(rgb, WORK_SIZE)


def _item_box(mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(the mask to cut by, its box y0, y1, x0, x1 exclusive). A mask of under 1% of the picture is taken as
    the whole picture: nothing stands out, and the model is better shown the whole than nothing."""
    mask = mask.copy()
    if mask.sum() < 0.01 * 255 * mask.size:
        mask[:] = 255
    x, y, w, h = cv2.boundingRect(mask)  # the box of its nonzero pixels, without listing them
    return mask, (y, y + h, x, x + w)


def item_input(small: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The model input for the item ``mask`` (uint8 0/255, the size of ``small``) covers in ``small``
    (a :func:`work_picture`): everything else blacked out, the item negated, stretched and fitted to 28."""
    mask, (y0, y1, x0, x1) = _item_box(mask)
    # Only the item's box is worked on (a garment is a small part of a picture of a person).
    box_mask = mask[y0:y1, x0:x1]
    gray = _to_gray(np.ascontiguousarray(small[y0:y1, x0:x1])).astype(np.float32)
    item = (255.0 - gray) * (box_mask / 255.0)
    # Stretch so the item spans the range the dataset's items do, whatever the exposure.
    inside = item[box_mask > 0]
    lo, hi = (np.percentile(inside, 2), np.percentile(inside, 99.5)) if inside.size else (0.0, 255.0)
    if hi - lo > 10:
        item = np.where(box_mask > 0, (item - lo * 0.5) * (235.0 / max(hi - lo * 0.5, 1)) + 20, 0)
    return _fit_28(np.clip(item, 0, 255).astype(np.uint8))


DETAIL_SIZE = 384  # long side a worn garment is cut from: on a full figure a top is a tenth of the height


def detail_picture(rgb: np.ndarray) -> np.ndarray:
    """The picture at long side DETAIL_SIZE (never enlarged): what worn garments are cut from."""
    return _shrunk(rgb, DETAIL_SIZE)


def garment_input(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The model input for a garment the segmenter found: ``mask`` (uint8 0/255, at the working size)
    brought up to a picture of long side DETAIL_SIZE, and the garment cut from that, so that a shirt on
    a person filling a tenth of the picture still has its 28 pixels of detail. Give it a
    ``detail_picture`` already to cut several garments from one picture."""
    picture = detail_picture(rgb)
    if picture.ndim == 2:
        picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2RGB)
    return item_input(picture, _mask_at(mask, picture.shape))


COLOUR_SIDE = 64  # the colour photo model's input: 64 x 64 RGB, where a collar and a strap are still there


def _mask_at(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``mask`` (uint8 0/255) brought to ``shape`` (height, width), still 0/255."""
    if mask.shape[:2] == shape[:2]:
        return mask
    mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.where(mask > 127, 255, 0).astype(np.uint8)


def colour_input(picture: np.ndarray, mask: np.ndarray, side: int = COLOUR_SIDE) -> np.ndarray:
    """The colour model's input for the item ``mask`` (uint8 0/255, any size: the working size as
    isolation and the segmenter give it) covers in ``picture`` (a :func:`detail_picture`): the item in its
    own colours, everything else black, its box's long side brought to ``side`` and centred on black.
    No negation, stretch or sharpening: the network learned colour and exposure as photos have them."""
    if picture.ndim == 2:
        picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2RGB)
    mask, (y0, y1, x0, x1) = _item_box(_mask_at(mask, picture.shape))
    item = picture[y0:y1, x0:x1] * (mask[y0:y1, x0:x1, None] > 0)
    return _centred(_long_side_to(item, side), side)


def to_colour_input(rgb: np.ndarray) -> np.ndarray:
    """Any RGB (or gray) photo -> (COLOUR_SIDE, COLOUR_SIDE, 3) uint8, the item found by GrabCut (as
    :func:`to_model_input` finds it) cut in colour from the picture at DETAIL_SIZE."""
    small = work_picture(rgb)
    return colour_input(detail_picture(rgb), foreground_mask(small))


def to_model_input(rgb: np.ndarray) -> np.ndarray:
    """Any RGB (or gray) uint8 picture -> (28, 28) uint8, light item on black, the item found by GrabCut."""
    if is_fashion_mnist_style(rgb):
        return _dataset_item(rgb)
    small = work_picture(rgb)
    return item_input(small, foreground_mask(small))
