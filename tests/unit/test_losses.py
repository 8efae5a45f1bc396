"""The set loss (allowed classes, unknown items) and the set accuracy, against plain formulas."""

from __future__ import annotations

import numpy as np
import pytest

from training.losses import SetAccuracy, SetCrossEntropy

LOGITS = np.array(
    [
        [2.0, 0.5, -1.0, 0.0, 0.3, -0.2, 1.0, 0.1, -0.5, 0.2],
        [0.1, 0.2, 0.3, -0.4, 1.5, 0.6, -0.7, 0.8, 0.9, -1.0],
        [1.0, -1.0, 0.5, 0.5, 0.0, 0.2, 0.3, -0.3, 0.4, 0.1],
    ],
    np.float32,
)


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _targets():
    y = np.zeros((3, 10), np.float32)
    y[0, 0] = 1  # one allowed class: a Fashion-MNIST item
    y[1, [5, 7, 9]] = 1  # a set: a photo from the shoes folder
    return y  # row 2 allows nothing: an unknown item (a hat)


def test_set_loss_is_cross_entropy_over_the_allowed_set_and_uniform_for_unknown_items():
    logp = _log_softmax(LOGITS)
    loss = np.asarray(SetCrossEntropy(outlier_weight=0.5)(_targets(), LOGITS, sample_weight=None))
    per_row = [
        -logp[0, 0],
        -np.log(np.exp(logp[1, [5, 7, 9]]).sum()),
        0.5 * -logp[2].mean(),  # cross-entropy to the uniform distribution
    ]
    assert loss == pytest.approx(np.mean(per_row), rel=1e-5)


def test_set_accuracy_counts_a_prediction_inside_the_set_and_unknown_items_as_right():
    # Row 0 predicts class 0 (allowed), row 1 predicts class 4 (not in {5, 7, 9}), row 2 is unknown.
    metric = SetAccuracy()
    metric.update_state(_targets(), LOGITS)
    assert float(metric.result()) == pytest.approx(2 / 3)


def test_set_loss_round_trips_through_its_config():
    loss = SetCrossEntropy(log_prior=np.log(np.full(10, 0.1)), outlier_weight=0.25)
    again = SetCrossEntropy.from_config(loss.get_config())
    assert again.outlier_weight == 0.25 and again.log_prior == pytest.approx([np.log(0.1)] * 10)


def test_logit_adjustment_adds_the_log_prior_before_the_softmax():
    prior = np.linspace(0.01, 0.19, 10)
    prior /= prior.sum()
    y = np.eye(10, dtype=np.float32)[[0, 3, 9]]
    adjusted = np.asarray(SetCrossEntropy(log_prior=np.log(prior))(y, LOGITS))
    logp = _log_softmax(LOGITS + np.log(prior).astype(np.float32))
    assert adjusted == pytest.approx(-np.mean([logp[0, 0], logp[1, 3], logp[2, 9]]), rel=1e-5)
