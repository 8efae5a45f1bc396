"""Synthetic blur (Gaussian, motion, defocus) shared by training augmentation, evaluation and benchmarks."""

from __future__ import annotations

import cv2
import numpy as np


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Blur with an isotropic Gaussian of standard deviation ``sigma`` pixels."""
    if sigma <= 0:
        return image.copy()
    return cv2.GaussianBlur(image, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT)


def motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A normalised line kernel ``length`` pixels long at ``angle_deg`` (0 = horizontal)."""
    size = int(np.ceil(length)) | 1  # odd, so the line is centred
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(np.deg2rad(angle_deg)), np.sin(np.deg2rad(angle_deg))
    half = (length - 1) / 2
    # Draw with sub-pixel samples so that non-integer lengths and angles are smooth.
    for t in np.linspace(-half, half, max(2, int(length * 4))):
        x, y = c + t * dx, c + t * dy
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for xx, yy, w in (
            (x0, y0, (1 - fx) * (1 - fy)),
            (x0 + 1, y0, fx * (1 - fy)),
            (x0, y0 + 1, (1 - fx) * fy),
            (x0 + 1, y0 + 1, fx * fy),
        ):
            if 0 <= xx < size and 0 <= yy < size:
                kernel[yy, xx] += w
    return kernel / kernel.sum()


def motion_blur(image: np.ndarray, length: float, angle_deg: float = 0.0) -> np.ndarray:
    """Linear motion blur over ``length`` pixels in direction ``angle_deg``."""
    if length <= 1:
        return image.copy()
    return cv2.filter2D(image, -1, motion_kernel(length, angle_deg), borderType=cv2.BORDER_REFLECT)


def defocus_kernel(radius: float) -> np.ndarray:
    """A normalised anti-aliased disc (the point-spread function of an out-of-focus lens)."""
    size = 2 * int(np.ceil(radius)) + 1
    c = size // 2
    yy, xx = np.mgrid[:size, :size].astype(np.float32) - c
    # Coverage of each pixel by the disc, approximated by a 1-px linear ramp at the rim.
    kernel = np.clip(radius + 0.5 - np.sqrt(xx**2 + yy**2), 0.0, 1.0)
    return kernel / kernel.sum()


def defocus_blur(image: np.ndarray, radius: float) -> np.ndarray:
    """Out-of-focus blur with a disc of ``radius`` pixels."""
    if radius <= 0.5:
        return image.copy()
    return cv2.filter2D(image, -1, defocus_kernel(radius), borderType=cv2.BORDER_REFLECT)


def random_blur(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """One of Gaussian, motion or defocus blur, of random strength scaled to a 28-px picture.

    ``strength`` scales the pixel extents so the same call serves pictures of other sizes
    (pass ``long_side / 28``).
    """
    kind = rng.integers(3)
    if kind == 0:
        return gaussian_blur(image, rng.uniform(0.4, 2.3) * strength)
    if kind == 1:
        return motion_blur(image, rng.uniform(2.0, 9.0) * strength, rng.uniform(0, 180))
    return defocus_blur(image, rng.uniform(0.8, 2.6) * strength)
