"""Canny edges with thresholds taken from the picture itself, and the one way they are drawn over a picture."""

from __future__ import annotations

import cv2
import numpy as np

WORK_SIZE = 640  # about the long side at which edges are found: detail of a screen view, cost of a thumbnail
EDGE_COLOUR = (0, 255, 64)  # RGB: a green that stands out on skin, cloth and most backgrounds


def _median(gray: np.ndarray) -> float:
    """np.median of a uint8 picture from its histogram: a third of the time of a partial sort."""
    counts = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    n = gray.size
    return (
        int(np.searchsorted(counts, (n - 1) // 2, side="right")) + int(np.searchsorted(counts, n // 2, side="right"))
    ) / 2


def auto_canny(gray: np.ndarray, sigma: float = 0.33) -> np.ndarray:
    """Canny with thresholds at (1 -/+ sigma) x the median intensity, the usual automatic rule."""
    median = _median(gray) if gray.dtype == np.uint8 else float(np.median(gray))
    lower = int(max(0, (1.0 - sigma) * median))
    upper = int(min(255, max(lower + 1, (1.0 + sigma) * median)))
    if median < 8 or median > 247:
        # A near-black or near-white picture has a median that says nothing about its contrast.
        lower, upper = 30, 90
    return cv2.Canny(gray, lower, upper, L2gradient=True)


def detect_edges(rgb: np.ndarray, work_size: int = WORK_SIZE) -> np.ndarray:
    """Edge mask (uint8, 0 or 255) at the picture's own size.

    Edges are found after shrinking by the whole number nearest to long side / ``work_size`` (a 1 MP
    photo by 2, a 12 MP one by 6): OpenCV averages whole-number blocks some fifty times faster than
    it resamples by a fraction, and the working long side stays between about 430 and 960 px."""
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    k = round(max(h, w) / work_size)
    if k >= 2:  # a side shorter than k (a 1 x 10,000 strip) is averaged only as far as it goes
        gray = cv2.resize(gray, None, fx=1 / min(k, w), fy=1 / min(k, h), interpolation=cv2.INTER_AREA)
    gray = cv2.GaussianBlur(gray, (3, 3), 0)
    edges = auto_canny(gray)
    if edges.shape != (h, w):
        edges = cv2.resize(edges, (w, h), interpolation=cv2.INTER_NEAREST)
    return edges


def edge_layer(edges: np.ndarray, colour=EDGE_COLOUR) -> np.ndarray:
    """An RGBA layer (H, W, 4) of the edge mask: ``colour`` where there are edges, transparent elsewhere.

    A mask shrunk for display (INTER_AREA) turns one-pixel lines into partial values; their alpha is
    doubled so thin lines fade rather than vanish. A full-size 0/255 mask is unchanged by that."""
    layer = np.zeros((*edges.shape[:2], 4), np.uint8)
    layer[..., :3] = colour
    layer[..., 3] = np.minimum(255, edges.astype(np.uint16) * 2).astype(np.uint8)
    return layer


def render_overlay(rgb: np.ndarray, edges: np.ndarray, colour=EDGE_COLOUR, opacity: float = 0.8) -> np.ndarray:
    """The picture with ``edge_layer(edges)`` laid over it at ``opacity`` (0..1), as the window paints it."""
    if edges.shape[:2] != rgb.shape[:2]:
        edges = cv2.resize(edges, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_AREA)
    out = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB) if rgb.ndim == 2 else rgb
    layer = edge_layer(edges, colour)
    alpha = layer[..., 3:].astype(np.float32) * (opacity / 255.0)
    blend = out.astype(np.float32) * (1 - alpha) + layer[..., :3].astype(np.float32) * alpha
    return np.clip(np.rint(blend), 0, 255).astype(np.uint8)
