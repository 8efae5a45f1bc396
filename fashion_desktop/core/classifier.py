"""Loads the bundled Keras model (checked against model.json) and turns 28x28 inputs into probabilities."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fashion_desktop.core import CLASS_NAMES, NUM_CLASSES
from fashion_desktop.core.files import FileTooLarge, NotARegularFile, read_regular_file
from fashion_desktop.core.model_config import UnsafeModelError, check_keras_archive

FIX_HINT = "Reinstall Fashion Lens, or rebuild the model with 'python -m training' (see README)."


class ModelError(Exception):
    """The model cannot be used: missing, corrupt, tampered with, or of the wrong shape."""


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


MAX_METADATA_BYTES = 4 << 20  # model.json; ours is about 12 kB
MAX_MODEL_BYTES = 50 << 20  # the .keras file; ours is about 3 MB
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _read_regular_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes (a FIFO, a device such
    as /dev/zero or a directory would hang, exhaust memory or fail obscurely)."""
    try:
        return read_regular_file(path, limit)
    except FileNotFoundError:
        raise ModelError(f"The {what} {path} is missing. {FIX_HINT}") from None
    except NotARegularFile:
        raise ModelError(f"The {what} {path} is not a regular file. {FIX_HINT}") from None
    except FileTooLarge as exc:
        if exc.size is not None:
            raise ModelError(
                f"The {what} {path} is {exc.size:,} bytes, over the {limit:,} allowed. {FIX_HINT}"
            ) from None
        raise ModelError(f"The {what} {path} is over the {limit:,} bytes allowed. {FIX_HINT}") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ModelError(f"The {what} {path} cannot be read ({reason}). {FIX_HINT}") from None


def _read_metadata(model_dir: Path) -> dict:
    """model.json, with every field the classifier uses checked for type and value."""
    meta_path = model_dir / "model.json"
    data = _read_regular_file(meta_path, MAX_METADATA_BYTES, "model description")
    try:
        meta = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"The model description {meta_path} is damaged ({exc}). {FIX_HINT}") from None

    def bad(what: str) -> ModelError:
        return ModelError(f"{meta_path}: {what}. {FIX_HINT}")

    if not isinstance(meta, dict) or not all(k in meta for k in ("file", "sha256", "class_names")):
        raise bad("it lacks the fields file, sha256 and class_names")
    file = meta["file"]
    # A bare name in the model folder: no folders, no "..", not absolute (on any system), no NUL.
    if isinstance(file, str) and (Path(file).name != file or any(c in file for c in "/\\:\0")):
        raise bad(f'"file" is {file!r}; it must be a file name inside the model folder')
    if not isinstance(file, str) or not file.endswith(".keras") or file == ".keras":
        raise bad(f'"file" is {file!r}, not the name of a .keras file')
    sha = meta["sha256"]
    if not isinstance(sha, str) or not _SHA256_HEX.fullmatch(sha.lower()):
        raise bad(f'"sha256" is {sha!r}, not 64 hexadecimal digits')
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
    known: bool


class Classifier:
    """A loaded, verified and warmed-up model. Thread-safe: calls are serialised."""

    def __init__(self, model, metadata: dict, model_dir: Path):
        self._model = model
        self._call = _compiled_call(model)
        self.metadata = metadata
        self.model_dir = model_dir
        self.known_threshold = float(metadata.get("known_threshold") or 0.0)
        # Models calibrated before the certainty score have a threshold on the top probability.
        self._known_score = KNOWN_SCORES[metadata.get("known_score") or "top_probability"]
        self._lock = threading.Lock()

    def judge_known(self, probabilities) -> KnownReport:
        score = float(self._known_score(np.asarray(probabilities)))
        return KnownReport(score, self.known_threshold, score >= self.known_threshold)

    @classmethod
    def load(cls, model_dir: str | os.PathLike | None = None) -> Classifier:
        """Load ``model_dir`` (default: the bundled model). Raises ModelError with a clear message."""
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
        data = _read_regular_file(path, MAX_MODEL_BYTES, "model file")
        digest = hashlib.sha256(data).hexdigest()
        if digest != meta["sha256"].lower():
            raise ModelError(
                f"The model file {path} does not match model.json (sha256 {digest[:12]}..., expected "
                f"{meta['sha256'][:12]}...): it was changed or damaged. {FIX_HINT}"
            )
        try:
            check_keras_archive(data)  # before Keras parses a byte of it: see model_config.py
        except UnsafeModelError as exc:
            raise ModelError(f"The model file {path} cannot be loaded: {exc}. {FIX_HINT}") from None
        with _quiet_native_stderr():
            model = _load_keras(data, path)
        shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
        if shape != (28, 28, 1) or tuple(model.output_shape[1:]) != (NUM_CLASSES,):
            raise ModelError(
                f"The model in {path} takes {shape} and gives {model.output_shape[1:]}; "
                f"Fashion Lens needs (28, 28, 1) -> ({NUM_CLASSES},). {FIX_HINT}"
            )
        clf = cls(model, meta, model_dir)
        with _quiet_native_stderr():
            probs = clf._raw_predict(np.zeros((1, 28, 28), np.uint8))  # warm-up: builds the graph once
        problem = _not_probabilities(probs)
        if problem:
            raise ModelError(
                f"The model in {path} does not give probabilities: for a blank picture it gives {problem}. {FIX_HINT}"
            )
        return clf

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """(n, 28, 28) uint8 -> (n, 10) probabilities. Raises ModelError if the model gives anything else."""
        probs = self._raw_predict(inputs)
        problem = _not_probabilities(probs)
        if problem:
            # A NaN or an unnormalised score would show as a confident, wrong answer (a "confidence" of 13).
            raise ModelError(f"The model gave {problem} instead of probabilities. {FIX_HINT}")
        return probs

    def _raw_predict(self, inputs: np.ndarray) -> np.ndarray:
        x = np.asarray(inputs, np.uint8)
        if x.ndim == 2:
            x = x[None]
        with self._lock:
            return np.asarray(self._call(x[..., None]), np.float32)


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


def _compiled_call(model):
    """``model(x, training=False)`` as one traced graph: eager Keras runs layer by layer in Python
    (~30 ms for one picture); the graph takes about a millisecond. Batch size stays free, so single
    pictures and folder batches share one trace. The concrete function is called directly: going
    through ``tf.function``'s argument matching costs a few tenths of a millisecond a call."""
    import tensorflow as tf  # already imported by Keras at this point

    spec = tf.TensorSpec((None, 28, 28, 1), tf.uint8)
    # autograph=False: nothing to convert, and a frozen app has no source for autograph to read.
    graph = tf.function(lambda x: model(x, training=False), autograph=False).get_concrete_function(spec)
    return lambda x: graph(tf.constant(x, tf.uint8)).numpy()


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence what TensorFlow's C++ side prints while it is imported ("oneDNN custom operations are on",
    "Could not find cuda drivers"): absl writes it before any log level applies. Python-level errors
    are raised as exceptions after the stream is restored, so nothing a person needs is lost."""
    if os.environ.get("FASHION_LENS_VERBOSE"):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (a windowed build): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _load_keras(data: bytes, path: Path):
    """Load the very bytes that were hashed and vetted: Keras reads a private copy, so the file in the
    model folder cannot be swapped between the checks and the load."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras  # TensorFlow is imported only when a model is loaded

        import fashion_desktop.core.layers  # noqa: F401 - registers the model's own layers
    except ImportError as exc:
        raise ModelError(f"TensorFlow/Keras is not installed ({exc}). Install Fashion Lens's dependencies.") from None
    try:
        with tempfile.TemporaryDirectory(prefix="fashion-lens-", ignore_cleanup_errors=True) as folder:
            copy = Path(folder) / "model.keras"
            copy.write_bytes(data)
            return keras.saving.load_model(copy, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a bad file; one message for all
        raise ModelError(f"The model file {path} cannot be loaded ({type(exc).__name__}: {exc}). {FIX_HINT}") from None
