"""Loads a bundled Keras classifier (checked against model.json) and turns its inputs into probabilities:
28 x 28 gray items (resources/model) or, for the colour photo model, 64 x 64 RGB items."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fashion_desktop.core import CLASS_NAMES, NUM_CLASSES
from fashion_desktop.core.model_files import (
    FIX_HINT,
    ModelError,
    compiled_call,
    load_checked_model,
    quiet_native_stderr,
    read_metadata,
)
from fashion_desktop.core.prepare import COLOUR_SIDE

if TYPE_CHECKING:
    from fashion_desktop.core.segment import Segmenter

__all__ = ["Classifier", "KnownReport", "ModelError", "Prediction", "certainty"]


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    confidence: float
    probabilities: tuple[float, ...]  # in CLASS_NAMES order

    def ranked(self) -> list[tuple[str, float]]:
        """(label, probability) for every class, most likely first."""
        return sorted(zip(CLASS_NAMES, self.probabilities), key=lambda kv: -kv[1])

    @classmethod
    def from_probabilities(cls, probs: np.ndarray) -> Prediction:
        i = int(np.argmax(probs))
        return cls(i, CLASS_NAMES[i], float(probs[i]), tuple(float(p) for p in probs))


def _read_metadata(model_dir: Path) -> dict:
    """The classifier's model.json, with every field the classifier uses checked for type and value."""
    meta = read_metadata(model_dir)
    meta_path = model_dir / "model.json"

    def bad(what: str) -> ModelError:
        return ModelError(f"{meta_path}: {what}. {FIX_HINT}")

    if "class_names" not in meta:
        raise bad("it lacks the field class_names")
    names = meta["class_names"]
    if not isinstance(names, list) or names != list(CLASS_NAMES):
        raise bad(f"it lists classes {names!r}, not Fashion-MNIST's ten")
    threshold = meta.get("known_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0
    ):
        raise bad(f'"known_threshold" is {threshold!r}, not a number from 0 to 1')
    score = meta.get("known_score")
    if score is not None and (not isinstance(score, str) or score not in KNOWN_SCORES):
        raise bad(f'"known_score" is {score!r}, not one of {", ".join(sorted(KNOWN_SCORES))}')
    return meta


# Groups for the "known" verdict: which shoe it is can be unclear (a pair seen from above) while that it
# is a shoe is not, so Sandal, Sneaker and Ankle boot count as one group there.
KNOWN_GROUPS = ((0,), (1,), (2,), (3,), (4,), (6,), (8,), (5, 7, 9))


def certainty(probabilities) -> np.ndarray:
    """1 - entropy / log(groups) of the probability per group: 1 when it is all on one, 0 when spread evenly.

    The "is this one of the ten at all" score. An unfamiliar item (a hat, shorts, a skirt) spreads its
    probability over several kinds of thing, which the entropy sees in full where the top probability
    sees one class; shoes count as one group, so "which shoe" doubt is not taken for "not a shoe".
    How it was chosen over the other scores is in docs/experiments.md.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    grouped = np.stack([p[..., list(g)].sum(axis=-1) for g in KNOWN_GROUPS], axis=-1)
    grouped = np.clip(grouped, 1e-12, 1.0)
    return 1.0 + (grouped * np.log(grouped)).sum(axis=-1) / np.log(len(KNOWN_GROUPS))


KNOWN_SCORES = {"certainty": certainty, "top_probability": lambda p: np.max(p, axis=-1)}


@dataclass(frozen=True)
class KnownReport:
    """Whether the picture looks like one of the ten classes at all (a hat or a cup does not)."""

    score: float  # certainty (see ``certainty``), or the top probability for models calibrated on that
    threshold: float  # below it: "not a fashion item I know"; 0 when the model was not calibrated
    recognised: bool  # False: "not a fashion item I know" (the prediction is then a guess)


GRAY_INPUT = (28, 28, 1)  # Fashion-MNIST's items: the 28 x 28 model, which judges dataset-style pictures
COLOUR_INPUT = (COLOUR_SIDE, COLOUR_SIDE, 3)  # the isolated item in colour: a colour photo model
INPUT_SHAPES = (GRAY_INPUT, COLOUR_INPUT)


class Classifier:
    """A loaded, verified and warmed-up model. Thread-safe: calls are serialised."""

    def __init__(self, model, metadata: dict, model_dir: Path):
        self._model = model
        self.input_shape: tuple[int, ...] = tuple(model.input_shape[1:])
        self._call = compiled_call(model, self.input_shape)
        self.metadata = metadata
        self.model_dir = model_dir
        self.known_threshold = float(metadata.get("known_threshold") or 0.0)
        # Models calibrated before the certainty score have a threshold on the top probability.
        self._known_score = KNOWN_SCORES[metadata.get("known_score") or "top_probability"]
        self._lock = threading.Lock()
        self.segmenter: Segmenter | None = None  # finds the garment in pictures of people; None: GrabCut only
        # The model for photos (resources/photo_model: this network trained on more real photos and on worn
        # garments) when bundled; this one keeps Fashion-MNIST-style pictures and the Fashion-MNIST figures.
        self.photo: Classifier | None = None
        # The model for garments worn by a person (the segmenter's main garment and the outfit's other
        # garments; resources/worn_model) when bundled; without it the model for photos judges them too.
        self.worn: Classifier | None = None

    @property
    def colour(self) -> bool:
        """True for a colour photo model: it is given ``prepare.colour_input`` items, not 28 x 28 gray ones."""
        return self.input_shape == COLOUR_INPUT

    def for_photos(self, worn: bool = False) -> Classifier:
        """The classifier that judges photos (anything but a picture of at most 28 x 28); with ``worn``, the
        one that judges a garment the segmenter found on a person."""
        if worn and self.worn is not None:
            return self.worn
        return self.photo or self

    def judge_known(self, probabilities) -> KnownReport:
        score = float(self._known_score(np.asarray(probabilities)))
        return KnownReport(score, self.known_threshold, score >= self.known_threshold)

    @classmethod
    def load(
        cls,
        model_dir: str | os.PathLike | None = None,
        segmenter_dir: str | os.PathLike | None = None,
        *,
        segmenter: bool = True,
        photo_model_dir: str | os.PathLike | None = None,
        photos_only: bool = False,
        worn_model_dir: str | os.PathLike | None = None,
    ) -> Classifier:
        """Load ``model_dir`` (default: the bundled model) and, unless ``segmenter`` is False, the garment
        segmenter in ``segmenter_dir`` (default: the bundled one). The model for photos comes from
        ``photo_model_dir``, or with the bundled model from the bundled ``resources/photo_model`` when it is
        there, and the model for garments worn by a person from ``worn_model_dir`` or, with the bundled model,
        ``resources/worn_model`` when it is there; a model folder given alone serves every picture, so it must
        be a 28 x 28 one (``photos_only``: the folder serves photos only, and may hold a colour model).
        Raises ModelError with a clear message."""
        bundled_set = model_dir is None
        if model_dir is None:
            from fashion_desktop.resources import model_dir as bundled

            model_dir = bundled()
        model_dir = Path(model_dir)
        meta = _read_metadata(model_dir)
        path = model_dir / meta["file"]
        if not os.path.lexists(path):
            # Training installs a model by replacing model.json and then deleting the file the old one
            # named (training/install.py): a load that read model.json just before finds that file gone.
            again = _read_metadata(model_dir)
            meta, path = again, model_dir / again["file"]
        model = load_checked_model(model_dir, meta)
        shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
        # The colour model judges photos only: the folder that serves dataset-style pictures must be 28 x 28.
        allowed = INPUT_SHAPES if photos_only else (GRAY_INPUT,)
        if shape not in allowed or tuple(model.output_shape[1:]) != (NUM_CLASSES,):
            needs = " or ".join(f"{s} -> ({NUM_CLASSES},)" for s in allowed)
            raise ModelError(
                f"The model in {path} takes {shape} and gives {model.output_shape[1:]}; "
                f"Fashion Lens needs {needs} there. {FIX_HINT}"
            )
        clf = cls(model, meta, model_dir)
        with quiet_native_stderr():
            blank = np.zeros((1, *clf.input_shape), np.uint8)
            probs = clf._raw_predict(blank)  # warm-up: builds the graph once
        problem = _not_probabilities(probs)
        if problem:
            raise ModelError(
                f"The model in {path} does not give probabilities: for a blank picture it gives {problem}. {FIX_HINT}"
            )
        from fashion_desktop import resources

        clf.photo = cls._photo_model(photo_model_dir, resources.photo_model_dir if bundled_set else None)
        clf.worn = cls._photo_model(worn_model_dir, resources.worn_model_dir if bundled_set else None)
        if segmenter:
            from fashion_desktop.core.segment import Segmenter

            clf.segmenter = Segmenter.load(segmenter_dir)
        return clf

    @classmethod
    def _photo_model(cls, folder: str | os.PathLike | None, bundled: Callable[[], Path] | None) -> Classifier | None:
        """The model in ``folder``, else in the bundled folder ``bundled()`` names when it holds one, else
        None; loaded as a model for photos (a colour one allowed), without a segmenter of its own."""
        if folder is None and bundled is not None and (bundled() / "model.json").exists():
            folder = bundled()
        return None if folder is None else cls.load(folder, segmenter=False, photos_only=True)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """(n, 28, 28) uint8 (a colour model: (n, 64, 64, 3)) -> (n, 10) probabilities. Raises ModelError
        if the model gives anything else."""
        probs = self._raw_predict(inputs)
        problem = _not_probabilities(probs)
        if problem:
            # A NaN or an unnormalised score would show as a confident, wrong answer (a "confidence" of 13).
            raise ModelError(f"The model gave {problem} instead of probabilities. {FIX_HINT}")
        return probs

    def _raw_predict(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.uint8)
        gray = self.input_shape[-1] == 1  # given as (n, 28, 28): the channel axis is added here
        if x.ndim == (2 if gray else 3):
            x = x[None]  # one picture
        if gray and x.ndim == 3:
            x = x[..., None]
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"this model takes inputs of shape {self.input_shape}, not {x.shape[1:]}")
        with self._lock:
            return np.asarray(self._call(x), np.float32)


def _not_probabilities(probs: np.ndarray, tolerance: float = 1e-3) -> str | None:
    """What is wrong with ``probs`` as rows of probabilities (finite, in [0, 1], summing to 1), or None."""
    if probs.ndim != 2 or probs.shape[1] != NUM_CLASSES:
        return f"an output of shape {probs.shape}"
    if not np.isfinite(probs).all():
        return "NaN or infinite values"
    if probs.min(initial=0.0) < -tolerance or probs.max(initial=0.0) > 1.0 + tolerance:
        return f"values from {probs.min():.3g} to {probs.max():.3g}"
    sums = probs.sum(axis=1)
    worst = float(sums[np.argmax(np.abs(sums - 1.0))]) if len(sums) else 1.0
    if abs(worst - 1.0) > tolerance:
        return f"scores that add up to {worst:.4g}, not 1"
    return None
