"""Reads a bundled network's folder safely: model.json checked, the .keras file's sha256 matched and its
config vetted before Keras reads it, loaded from those very bytes with ``safe_mode``. The classifier and the
garment segmenter both load through here; TensorFlow is imported only by ``load_checked_model`` and
``compiled_call``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from fashion_desktop.core.files import FileTooLarge, NotARegularFile, read_regular_file
from fashion_desktop.core.model_config import UnsafeModelError, check_keras_archive

FIX_HINT = "Reinstall Fashion Lens, or rebuild the model with 'python -m training' (see README)."


class ModelError(Exception):
    """The model cannot be used: missing, corrupt, tampered with, or of the wrong shape."""


MAX_METADATA_BYTES = 4 << 20  # model.json; ours is about 12 kB
MAX_MODEL_BYTES = 50 << 20  # the .keras file; ours is about 3 MB
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def read_model_bytes(path: Path, limit: int, what: str) -> bytes:
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


def read_metadata(model_dir: Path, what: str = "model description") -> dict:
    """A bundled network's model.json, with the fields every one of them has (file, sha256) checked."""
    meta_path = model_dir / "model.json"
    data = read_model_bytes(meta_path, MAX_METADATA_BYTES, what)
    try:
        meta = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"The {what} {meta_path} is damaged ({exc}). {FIX_HINT}") from None
    if not isinstance(meta, dict) or not all(k in meta for k in ("file", "sha256")):
        raise ModelError(f"{meta_path}: it lacks the fields file and sha256. {FIX_HINT}")
    file = meta["file"]
    # A bare name in the model folder: no folders, no "..", not absolute (on any system), no NUL.
    if isinstance(file, str) and (Path(file).name != file or any(c in file for c in "/\\:\0")):
        raise ModelError(f'{meta_path}: "file" is {file!r}; it must be a file name inside the model folder. {FIX_HINT}')
    if not isinstance(file, str) or not file.endswith(".keras") or file == ".keras":
        raise ModelError(f'{meta_path}: "file" is {file!r}, not the name of a .keras file. {FIX_HINT}')
    sha = meta["sha256"]
    if not isinstance(sha, str) or not _SHA256_HEX.fullmatch(sha.lower()):
        raise ModelError(f'{meta_path}: "sha256" is {sha!r}, not 64 hexadecimal digits. {FIX_HINT}')
    return meta


def load_checked_model(model_dir: Path, meta: dict, what: str = "model file"):
    """The Keras model ``meta`` names, after its bytes match model.json's sha256 and pass the vetting
    of model_config.py; loaded from those very bytes with ``safe_mode``. Raises ModelError."""
    path = model_dir / meta["file"]
    data = read_model_bytes(path, MAX_MODEL_BYTES, what)
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta["sha256"].lower():
        raise ModelError(
            f"The {what} {path} does not match model.json (sha256 {digest[:12]}..., expected "
            f"{meta['sha256'][:12]}...): it was changed or damaged. {FIX_HINT}"
        )
    try:
        check_keras_archive(data)  # before Keras parses a byte of it: see model_config.py
    except UnsafeModelError as exc:
        raise ModelError(f"The {what} {path} cannot be loaded: {exc}. {FIX_HINT}") from None
    with quiet_native_stderr():
        return _load_keras(data, path)


@contextlib.contextmanager
def quiet_native_stderr():
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


def compiled_call(model, shape: tuple[int, ...], batch: int | None = None):
    """``model(x, training=False)`` on uint8 input as one traced graph returning numpy: eager Keras runs
    layer by layer in Python (~30 ms for one picture); the graph takes about a millisecond. With ``batch``
    None the batch size stays free, so single pictures and folder batches share one trace. The concrete
    function is called directly: going through ``tf.function``'s argument matching costs a few tenths of a
    millisecond a call.

    Under another Keras backend (a training run on an accelerator machine without TensorFlow, with
    ``KERAS_BACKEND=jax``, evaluating through core) the model is called as it is: correct, not fast."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda x: keras.ops.convert_to_numpy(model(x, training=False))
    import tensorflow as tf  # already imported by Keras at this point

    spec = tf.TensorSpec((batch, *shape), tf.uint8)
    # autograph=False: nothing to convert, and a frozen app has no source for autograph to read.
    graph = tf.function(lambda x: model(x, training=False), autograph=False).get_concrete_function(spec)
    return lambda x: graph(tf.constant(x, tf.uint8)).numpy()
