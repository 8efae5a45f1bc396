"""Batches for Keras with on-the-fly augmentation: flips, shifts and the app's own blur synthesis."""

from __future__ import annotations

import math

import cv2
import keras
import numpy as np

from fashion_desktop.core.degrade import random_blur


def photo_like(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make a dataset item look like ``prepare``'s output from a phone photo.

    Photos give uneven lighting across the item, a looser or tighter crop than the dataset's, and
    masks that bite into the item or leave a rim of background.
    """
    out = img.astype(np.float32)
    yy, xx = np.mgrid[:28, :28].astype(np.float32) / 27.0
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)
    out *= 1.0 + rng.uniform(0.2, 0.6) * ramp
    out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** rng.uniform(0.6, 1.5)
    scale = rng.uniform(0.8, 1.0)
    m = cv2.getRotationMatrix2D((13.5, 13.5), rng.uniform(-8, 8), scale)
    out = cv2.warpAffine(out, m, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0)
    if rng.random() < 0.5:  # a bite out of the mask's edge
        cy, cx = rng.integers(0, 28, size=2)
        cv2.circle(out, (int(cx), int(cy)), int(rng.integers(2, 6)), 0.0, -1)
    return np.clip(out, 0, 255).astype(np.uint8)


def augment_batch(
    x: np.ndarray, rng: np.random.Generator, blur_prob: float, shift: int = 2, photo_like_prob: float = 0.0
) -> np.ndarray:
    """Augment a (n, 28, 28) uint8 batch: flip, shift by up to ``shift`` px, photo look, random blur."""
    n = len(x)
    out = np.empty_like(x)
    flips = rng.random(n) < 0.5
    photos = rng.random(n) < photo_like_prob
    blurs = rng.random(n) < blur_prob
    shifts = rng.integers(-shift, shift + 1, size=(n, 2))
    padded = np.pad(x, ((0, 0), (shift, shift), (shift, shift)))
    for i in range(n):
        dy, dx = shifts[i] + shift
        img = padded[i, dy : dy + 28, dx : dx + 28]
        if flips[i]:
            img = img[:, ::-1]
        if photos[i]:
            img = photo_like(img, rng)
        if blurs[i]:
            img = np.clip(np.rint(random_blur(img.astype(np.float32), rng)), 0, 255).astype(np.uint8)
        out[i] = img
    return out


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled batches of (image, target[, sample weight]); a fresh augmentation every epoch.

    Targets are multi-hot "allowed class" vectors, so a photo whose folder allows several classes
    and a Fashion-MNIST item with one label go through the same loss.
    """

    def __init__(self, x, targets, batch_size, blur_prob, seed, sample_weight=None, augment=True, photo_like_prob=0.0):
        super().__init__(workers=1, use_multiprocessing=False)
        self.x, self.targets, self.sample_weight = x, targets.astype(np.float32), sample_weight
        self.batch_size, self.blur_prob, self.augment = batch_size, blur_prob, augment
        self.photo_like_prob = photo_like_prob
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        xb = self.x[idx]
        if self.augment:
            xb = augment_batch(xb, self.rng, self.blur_prob, photo_like_prob=self.photo_like_prob)
        batch = (xb[..., None], self.targets[idx])
        return batch + (self.sample_weight[idx],) if self.sample_weight is not None else batch

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))
