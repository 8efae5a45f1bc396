"""Judges whether a picture is blurry from how steep its strongest edges are, relative to their contrast.

Method. The picture is converted to gray and, if its long side is over ``WORK_SIZE`` (384 px), shrunk
to that size with area averaging, so the score measures blur relative to the picture's size and not
its pixel count (a 50 MP photo and its 1 MP copy get nearly the same score). Smaller pictures, such as
28x28 Fashion-MNIST items, are measured as they are: enlarging them would only add blur.

At every pixel we take the gradient (2x2 differences) and the local contrast (max - min in a 9x9
window). On a step edge blurred by a Gaussian of ``s`` pixels, their ratio at the edge's centre line
is about ``1 / (2.5 s)``, whatever the edge's contrast: it is a per-edge steepness that does not care
how bright or dark the picture is. Only edge centre lines (maxima of the gradient across the edge, as in Canny) with a
contrast of at least ``MIN_CONTRAST`` gray levels count, so flat areas (a white background, a plain
wall) neither lower the score nor raise it; this is where the classic variance-of-Laplacian fails, as
it averages over the whole picture and calls a sharp product on a big white background blurry.

The score looks at eight directions, 22.5 degrees apart. Each is judged on the edges whose gradient
lies within 33.75 degrees of it, weighted by cos^4 of that angle, and speaks through the
``PERCENTILE``-th percentile of their steepness (its sharpest edges, not its average: a sharp subject
in front of a soft background is a sharp photo). The score is the lowest of the eight, times 100:
motion blur smears only the edges across the direction of motion, so one direction going soft is
enough to call the picture blurry. Directions with too few edges to judge are skipped.

Threshold. ``BLUR_THRESHOLD`` = 31.0 comes from ``benchmarks/blur_detection.py``: 300 clothing photos
(phone pictures, many on plain backgrounds) and blurred copies of them (Gaussian, defocus and motion
blur from 0.5% / 1% / 1.5% of the long side up, with a little noise and JPEG), split in halves by
photo. On the calibration half it is halfway between the 1st percentile of the sharp photos' scores
(35.4) and the 99th percentile of the blurred copies' (27.1), rounded down to 0.5; the benchmark
reports on the other half (99.9% right, no sharp photo called blurry) and on 28x28 Fashion-MNIST
items (99.0% right). Sharp photos score about 37-52 there, blurred copies 12-28. A 1 MP photo takes
about 4-7 ms on one core (the shrink to 384 px is 2 of them).

Limits. Pictures enlarged from a small original (a 28x28 item blown up to 280 px) are, for their
size, as soft as a strong blur, and are called blurry: a picture's content cannot tell an enlarged
thumbnail from a blurred photo. On 28x28 items, blur of about a pixel is at the edge of what can be
seen, and motion along an item's long edges changes little (96% of 5.8 px motion blurs are caught,
5% of 3 px ones).

Flat pictures. A picture without a single edge of enough contrast (a blank frame, a lens cap, or a
photo so far out of focus that everything has melted) gets score 0 and is reported blurry: there is
nothing sharp in it, and that is what a badly defocused photo of a plain surface looks like.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIZE = 384  # long side (px) at which larger pictures are measured
WINDOW = 9  # side of the square in which the local contrast is taken (px at WORK_SIZE)
MIN_CONTRAST = 24.0  # gray levels; edges fainter than this are JPEG noise, texture or melted by blur
MIN_GRADIENT = 2.0  # gray levels per pixel; drops flat pixels that pass the local-maximum test by ties
# An edge ramp, however soft, that crosses the window is at least 1/(WINDOW - 1) steep; a flatter
# local maximum is a faint ripple beside some stronger edge (texture inside a dark garment), not an edge.
MIN_STEEPNESS = 1.0 / WINDOW
PERCENTILE = 97.0  # which of an orientation's edges speak for it: its sharpest few, not its average
ORIENTATIONS = 8
MIN_EDGES = 8  # fewer edge pixels than this in the whole picture: nothing to judge (score 0)
SECTOR_EDGES = 30  # a direction with fewer edges than this is not judged ...
# ... or, in small pictures, fewer than 1/SECTOR_SHARE of all edges: motion blur across a 28x28 item
# leaves only a few soft edges in the directions it smears, and they must still be heard.
SECTOR_SHARE = 16
MIN_SECTOR_EDGES = 5  # ... but never fewer: a 28x28 item's few diagonal pixels are jagged stairs, not blur
BLUR_THRESHOLD: float = 31.0  # see the module docstring and benchmarks/blur_detection.py

_WINDOW_KERNEL = np.ones((WINDOW, WINDOW), np.uint8)
_SECTOR_HALF_WIDTH_SIN = float(np.sin(3 * np.pi / 16))  # 33.75 degrees: 1.5 of the 22.5-degree steps
_DIRECTIONS = np.arange(ORIENTATIONS) * (np.pi / ORIENTATIONS)
_DIRECTIONS_COS, _DIRECTIONS_SIN = np.cos(_DIRECTIONS), np.sin(_DIRECTIONS)


@dataclass(frozen=True)
class BlurReport:
    score: float  # higher = sharper: steepness of the sharpest edges, % of their contrast per pixel
    threshold: float  # score below this = blurry
    blurry: bool


def measure_blur(rgb: np.ndarray) -> BlurReport:
    """Blur verdict for an RGB, RGBA or gray picture of any size (uint8; other dtypes are converted)."""
    score = sharpness_score(rgb)
    return BlurReport(score=score, threshold=BLUR_THRESHOLD, blurry=score < BLUR_THRESHOLD)


def sharpness_score(rgb: np.ndarray) -> float:
    """The score behind :func:`measure_blur`: higher = sharper, 0 when there are no edges to judge."""
    gray = _working_gray(rgb)
    if min(gray.shape) < 2:
        return 0.0
    steepness, gx, gy = _edge_steepness(gray)
    if steepness.size < MIN_EDGES:
        return 0.0
    return 100.0 * _weakest_orientation(steepness, gx, gy)


def _working_gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8:
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        elif img.dtype == np.bool_:
            img = img.astype(np.uint8) * 255
        else:
            img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 3:
        channels = img.shape[2]
        if channels == 1:
            img = img[:, :, 0]
        elif channels == 3:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        elif channels == 4:
            img = cv2.cvtColor(img, cv2.COLOR_RGBA2GRAY)
        else:
            raise ValueError(f"expected a gray, RGB or RGBA picture, got {channels} channels")
    elif img.ndim != 2:
        raise ValueError(f"expected a 2-D or 3-D picture array, got shape {img.shape}")
    return _shrink(img).astype(np.float32)


def _shrink(gray: np.ndarray) -> np.ndarray:
    """Area-average down to a long side of WORK_SIZE; pictures that are smaller stay as they are."""
    h, w = gray.shape
    factor = max(h, w) / WORK_SIZE
    if factor <= 1:
        return gray
    # Big photos first take OpenCV's fast whole-number area path (used when fx = 1/k), leaving at least
    # a 2x area step: a last step close to 1x would resample at every sub-pixel phase and soften
    # sharp edges by up to 20%. A 1 MP photo goes in one step (~1.5 ms).
    k = int(factor // 2)
    if k >= 2:
        # A side shorter than k (a 1 x 10,000 strip) is averaged only as far as it goes, never to 0 pixels.
        kx, ky = min(k, w), min(k, h)
        gray = cv2.resize(gray, None, fx=1 / kx, fy=1 / ky, interpolation=cv2.INTER_AREA)
        h, w = gray.shape
    scale = WORK_SIZE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def _edge_steepness(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient / local contrast at the centre lines of strong edges, with the gradients there."""
    # 2x2 differences (on the pixel-corner grid): a pixel-sharp step gives its full height, where
    # central differences would give half of it and leave less room between sharp and soft.
    a, b, c, d = gray[:-1, :-1], gray[:-1, 1:], gray[1:, :-1], gray[1:, 1:]
    gx = (b - a + d - c) * 0.5
    gy = (c - a + d - b) * 0.5
    # NumPy, not cv2.magnitude: OpenCV's gives a last-bit different answer when another thread is in
    # OpenCV at the same time, and a last bit moves which pixels pass the tests below: one picture must
    # get one score whichever thread measures it (analysis measures it beside item isolation).
    magnitude = np.sqrt(gx * gx + gy * gy)
    contrast = cv2.dilate(gray, _WINDOW_KERNEL) - cv2.erode(gray, _WINDOW_KERNEL)
    contrast = contrast[:-1, :-1]
    ridge = _across_edge_maxima(magnitude, gx, gy)
    keep = ridge & (magnitude > MIN_GRADIENT) & (contrast >= MIN_CONTRAST) & (magnitude >= MIN_STEEPNESS * contrast)
    return magnitude[keep] / contrast[keep], gx[keep], gy[keep]


_TAN_22_5 = float(np.tan(np.pi / 8))
# Each pixel's two neighbours along one of four directions (with itself): -, |, \ and /.
_ALONG = {
    "horizontal": np.ones((1, 3), np.uint8),
    "vertical": np.ones((3, 1), np.uint8),
    "falling": np.eye(3, dtype=np.uint8),
    "rising": np.fliplr(np.eye(3, dtype=np.uint8)).copy(),
}


def _across_edge_maxima(magnitude: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Pixels whose gradient is at least that of both neighbours across the edge (Canny's thinning).

    Only the two neighbours along the gradient count, so a straight edge keeps its whole centre line.
    (A 3x3 maximum test keeps only the odd pixel along it, which leaves a 28x28 item a dozen edge
    pixels.) Ties pass, so an edge smeared into a flat ramp by motion blur counts along its whole
    width, with the low steepness that gives it away.
    """
    peak = {name: magnitude >= cv2.dilate(magnitude, kernel) for name, kernel in _ALONG.items()}
    ax, ay = np.abs(gx), np.abs(gy)
    horizontal = ay <= _TAN_22_5 * ax
    vertical = ax <= _TAN_22_5 * ay
    falling = gx * gy > 0  # y grows downwards: gx and gy of one sign point along the falling diagonal
    diagonal = ~(horizontal | vertical)
    return (
        (horizontal & peak["horizontal"])
        | (vertical & peak["vertical"])
        | (diagonal & falling & peak["falling"])
        | (diagonal & ~falling & peak["rising"])
    )


def _weakest_orientation(steepness: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> float:
    """The sharpest-edges percentile of the softest orientation that has enough edges to judge."""
    norm = np.hypot(gx, gy)  # > MIN_GRADIENT, never 0
    ux, uy = gx / norm, gy / norm
    # Each of ORIENTATIONS directions is judged on the edges whose gradient lies within 33.75 degrees
    # of it (motion blur softens all of them by at least 83% of its length; small pictures, with a
    # few dozen edge pixels, still get enough per direction), weighted by cos^4 of the angle so that
    # the sector's rim counts less: corner pixels, whose gradient points between two edges, sit there.
    needed = min(SECTOR_EDGES, max(MIN_SECTOR_EDGES, steepness.size // SECTOR_SHARE))
    sin_off = np.outer(_DIRECTIONS_COS, uy) - np.outer(_DIRECTIONS_SIN, ux)  # sine of angle to each direction
    per_sector = []
    for row in sin_off:
        inside = np.abs(row) <= _SECTOR_HALF_WIDTH_SIN
        if np.count_nonzero(inside) >= needed:
            cos2 = 1.0 - row[inside] ** 2
            per_sector.append(_percentile(steepness[inside] * cos2 * cos2, PERCENTILE))
    if not per_sector:
        return _percentile(steepness, PERCENTILE)
    return min(per_sector)


def _percentile(values: np.ndarray, q: float) -> float:
    """np.percentile's default (linear) answer, by partial sort: 5-10x quicker on these small arrays."""
    pos = (values.size - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, values.size - 1)
    part = np.partition(values, (lo, hi))
    return float(part[lo] + (part[hi] - part[lo]) * (pos - lo))
