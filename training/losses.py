"""Cross-entropy over a set of allowed classes, with optional logit adjustment for long-tailed data."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="fashion_lens")
class SetCrossEntropy(keras.losses.Loss):
    """``-log(sum of softmax over the allowed classes)``; with one allowed class it is plain cross-entropy.

    ``log_prior`` (per class) is added to the logits during training only (logit adjustment,
    Menon et al. 2021): the model must beat the prior of a frequent class, so rare ones are not drowned.
    A row with no allowed class is an item of none of the classes (a hat, a skirt): its loss is the
    cross-entropy to the uniform distribution, times ``outlier_weight`` (outlier exposure,
    Hendrycks et al. 2019), which teaches the model to be unsure rather than confidently wrong.
    """

    def __init__(self, log_prior=None, outlier_weight=0.5, name="set_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.log_prior = None if log_prior is None else [float(v) for v in log_prior]
        self.outlier_weight = float(outlier_weight)

    def call(self, y_true, y_pred):
        logits = y_pred
        if self.log_prior is not None:
            logits = logits + ops.convert_to_tensor(np.asarray(self.log_prior, np.float32))
        total = ops.logsumexp(logits, axis=-1)
        allowed = ops.where(y_true > 0, logits, ops.full_like(logits, -1e9))
        known = ops.sum(y_true, axis=-1) > 0
        outlier = self.outlier_weight * (total - ops.mean(logits, axis=-1))
        return ops.where(known, total - ops.logsumexp(allowed, axis=-1), outlier)

    def get_config(self):
        return {**super().get_config(), "log_prior": self.log_prior, "outlier_weight": self.outlier_weight}


@keras.saving.register_keras_serializable(package="fashion_lens")
class SetAccuracy(keras.metrics.MeanMetricWrapper):
    """Share of samples whose top class is one of the allowed classes."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=_set_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _set_accuracy(y_true, y_pred):
    """Top class within the allowed set; rows of unknown items (no allowed class) count as right."""
    top = ops.argmax(y_pred, axis=-1)
    hit = ops.take_along_axis(y_true, top[:, None], axis=-1)[:, 0] > 0
    return ops.cast(ops.logical_or(hit, ops.sum(y_true, axis=-1) == 0), "float32")
