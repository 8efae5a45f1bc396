"""Turns a real photo into a 28x28 Fashion-MNIST-style model input: item isolated, negated, centred.

Fashion-MNIST was made from product photos on white by trimming the border that matches the corner
colour, resizing the long side to 28, sharpening, padding to 28x28, negating and converting to gray.
We do the same to user photos, with a background estimate that also copes with dark or uneven
backgrounds, so what the model sees at run time looks like what it learned from.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FOOTWEAR = (5, 7, 9)  # Sandal, Sneaker, Ankle boot
WORK_SIZE = 96  # long side for segmentation: enough for a 28-px outline, cheap enough for live video
GRABCUT_ITERATIONS = 2
BORDER = 0.06  # share of each side sampled as "background"


def is_fashion_mnist_style(rgb: np.ndarray) -> bool:
    """A 28x28 picture with a dark border already is a model input and passes through unchanged."""
    if rgb.shape[:2] != (28, 28):
        return False
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ring = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(ring)) < 40


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
    h, w = rgb_small.shape[:2]
    lab = cv2.cvtColor(rgb_small, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = _border_pixels(lab)
    background = np.median(border, axis=0)
    dist = np.linalg.norm(lab - background, axis=2)
    noise = float(np.percentile(np.linalg.norm(border - background, axis=1), 75))
    seed = np.where(dist > noise, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    b = max(1, int(min(h, w) * 0.03))
    seed[:b], seed[-b:], seed[:, :b], seed[:, -b:] = cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD
    if (seed == cv2.GC_PR_FGD).sum() < 16 or min(h, w) < 12:
        return _main_component((dist > noise).astype(np.uint8) * 255)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut starts its colour models from k-means on OpenCV's per-thread RNG; seeding it makes one
    # picture always give one model input (in any thread: the GUI worker, the CLI, the tests).
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(rgb_small[..., ::-1].copy(), seed, None, *models, iterations, cv2.GC_INIT_WITH_MASK)
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
    h, w = item.shape
    scale = 28.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.resize(item, (nw, nh), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), 0.6)
    small = cv2.addWeighted(small, 1.5, blurred, -0.5, 0)
    out = np.zeros((28, 28), np.uint8)
    y0, x0 = (28 - nh) // 2, (28 - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return out


@dataclass(frozen=True)
class Isolated:
    """A photo at segmentation size and the mask (uint8 0/255) of the item found in it."""

    small: np.ndarray  # RGB uint8, long side WORK_SIZE at most
    mask: np.ndarray


def isolate(rgb: np.ndarray) -> Isolated:
    """Shrink to WORK_SIZE and find the item (GrabCut); an RGB or gray uint8 picture of any size."""
    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIZE / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    mask = foreground_mask(small)
    if mask.sum() < 0.01 * 255 * mask.size:
        mask[:] = 255  # nothing stands out: show the model the whole picture rather than nothing
    return Isolated(small, mask)


def render(isolated: Isolated) -> np.ndarray:
    """The isolated item as a (28, 28) uint8 model input: cropped, negated onto black, stretched, centred."""
    small, mask = isolated.small, isolated.mask
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    gray = _to_gray(small).astype(np.float32)
    negated = (255.0 - gray) * (mask / 255.0)
    item = negated[y0:y1, x0:x1]
    # Stretch so the item spans the range the dataset's items do, whatever the exposure.
    inside = item[mask[y0:y1, x0:x1] > 0]
    lo, hi = (np.percentile(inside, 2), np.percentile(inside, 99.5)) if inside.size else (0.0, 255.0)
    if hi - lo > 10:
        item = np.where(mask[y0:y1, x0:x1] > 0, (item - lo * 0.5) * (235.0 / max(hi - lo * 0.5, 1)) + 20, 0)
    return _fit_28(np.clip(item, 0, 255).astype(np.uint8))


def to_model_input(rgb: np.ndarray, footwear: bool = False) -> np.ndarray:
    """Any RGB (or gray) uint8 picture -> (28, 28) uint8, light item on black.

    ``footwear``: the footwear view (:func:`footwear_view`): one shoe of a pair, long axis level."""
    if is_fashion_mnist_style(rgb):
        return _to_gray(rgb).copy()
    isolated = isolate(rgb)
    return render(footwear_view(isolated) if footwear else isolated)


# Footwear view. Fashion-MNIST shows one shoe, side-on and level; people photograph pairs, often from
# above, which shrink to a square blob that reads as an ankle boot. For a picture first classified as
# footwear the classifier also looks at one shoe of the pair, turned so its long axis is level.
PAIR_MIN_SYMMETRY = 0.7  # IoU of the mask with its mirror image across its long axis: a left and a right shoe
PAIR_MAX_ASPECT = 1.9  # a pair side by side is about as long as wide; one shoe is 2.5-3 times
PAIR_MAX_EXTENT = 0.92  # a mask that fills its box is a failed segmentation (the whole frame), not a pair
PAIR_MIN_PART = 0.3  # the smaller of two separate shoes has at least this share of the larger's area
LEVEL_MIN_ASPECT = 1.6  # only an elongated item has a long axis to level (not an ankle boot side-on)
LEVEL_MIN_DEGREES = 10.0  # a shoe tilted less than this is level enough: turning it would only resample it


def _axis(mask: np.ndarray) -> tuple[float, float, float]:
    """Centroid and the angle (radians, image coordinates) of the mask's long axis."""
    m = cv2.moments(mask, binaryImage=True)
    return m["m10"] / m["m00"], m["m01"] / m["m00"], 0.5 * float(np.arctan2(2 * m["mu11"], m["mu20"] - m["mu02"]))


def _aspect(mask: np.ndarray, cx: float, cy: float, theta: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Length along the long axis / width across it, with each pixel's (ys, xs)."""
    ys, xs = np.nonzero(mask)
    along = (xs - cx) * np.cos(theta) + (ys - cy) * np.sin(theta)
    across = -(xs - cx) * np.sin(theta) + (ys - cy) * np.cos(theta)
    return float(np.ptp(along) / max(np.ptp(across), 1.0)), across, np.stack([ys, xs])


def one_of_a_pair(mask: np.ndarray) -> np.ndarray:
    """The larger shoe of a pair (two blobs, or a mirrored pair side by side); any other mask as it is."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n > 2:
        areas = stats[1:, cv2.CC_STAT_AREA]
        first, second = np.argsort(areas)[::-1][:2]
        if areas[second] >= PAIR_MIN_PART * areas[first]:
            return (labels == 1 + first).astype(np.uint8) * 255
        return mask
    cx, cy, theta = _axis(mask)
    aspect, across, (ys, xs) = _aspect(mask, cx, cy, theta)
    extent = ys.size / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1))
    if aspect > PAIR_MAX_ASPECT or extent > PAIR_MAX_EXTENT:
        return mask
    # Mirror across the long axis: a left and a right shoe side by side map onto each other.
    c, s = np.cos(2 * theta), np.sin(2 * theta)
    mirror = np.array([[c, s, cx - c * cx - s * cy], [s, -c, cy - s * cx + c * cy]], np.float32)
    mirrored = cv2.warpAffine(mask, mirror, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_NEAREST)
    iou = np.count_nonzero(mirrored & mask) / max(1, np.count_nonzero(mirrored | mask))
    side = across < 0
    if iou < PAIR_MIN_SYMMETRY or not 0.35 <= side.mean() <= 0.65:
        return mask
    keep = side if side.sum() >= side.size / 2 else ~side
    out = np.zeros_like(mask)
    out[ys[keep], xs[keep]] = 255
    return _main_component(out)


def footwear_view(isolated: Isolated) -> Isolated:
    """One shoe of a pair, turned (by the smaller angle) so that its long axis is level."""
    mask = one_of_a_pair(isolated.mask)
    cx, cy, theta = _axis(mask)
    if abs(np.degrees(theta)) < LEVEL_MIN_DEGREES or _aspect(mask, cx, cy, theta)[0] < LEVEL_MIN_ASPECT:
        return Isolated(isolated.small, mask)
    h, w = mask.shape
    side = int(np.ceil(np.hypot(h, w)))
    turn = cv2.getRotationMatrix2D((cx, cy), float(np.degrees(theta)), 1.0)
    turn[:, 2] += (side / 2 - cx, side / 2 - cy)  # centre on a canvas the turned item fits in
    small = cv2.warpAffine(isolated.small, turn, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(mask, turn, (side, side), flags=cv2.INTER_NEAREST, borderValue=0)
    return Isolated(small, mask)
