"""Vets a .keras archive (its members and every class its config.json names) before Keras reads any of it.

Keras's ``safe_mode`` only blocks Python lambdas. A config.json can still name any importable function
as a ``Lambda`` layer's function, and Keras calls it when it rebuilds the model: CVE-2025-1550 (any
module), CVE-2025-8747 / CVE-2025-9906 (Keras's own ``keras.utils.get_file`` and
``enable_unsafe_deserialization`` as gadgets; io-no/CVE-Reports#2 and #5). The Keras we ship (3.15.1)
guards ``TFSMLayer.from_config`` (keras-team/keras#22035) but not its constructor, so a Lambda whose
function is ``keras.layers.TFSMLayer`` still loads an outside SavedModel (keras-team/keras#23654, open
when this was written). The sha256 in model.json is no defence: it travels with the model. So nothing
gets to Keras unless it is built only from the classes our own models use (``ALLOWED_OBJECTS``), read
from resources/model/model.keras; a retrained model that needs another class has to add it here.
"""

from __future__ import annotations

import io
import json
import zipfile

# (module, class_name, registered_name) of every object the bundled models serialise, and nothing else.
_KERAS_LAYERS = (
    "Activation",
    "Average",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "InputLayer",
    "MaxPooling2D",
    "Rescaling",
    "Softmax",
    "UpSampling2D",
    "Concatenate",
)
ALLOWED_OBJECTS = frozenset(
    {("keras.layers", name, None) for name in _KERAS_LAYERS}
    | {("keras.initializers", name, None) for name in ("GlorotUniform", "Ones", "Zeros")}
    | {
        ("keras", "DTypePolicy", None),
        ("keras.src.models.functional", "Functional", "Functional"),
        ("fashion_desktop.core.layers", "HorizontalFlip", "fashion_lens>HorizontalFlip"),
        (None, "__keras_tensor__", None),  # a reference to another layer's output, not an object
    }
)
# Keras turns these strings into objects by name; only plain built-in names are allowed.
ALLOWED_STRINGS = {"activation": frozenset({"linear", "relu", "softmax"}), "dtype": frozenset({"float32", "uint8"})}
# Keys whose value Keras deserialises: it must be null or a dict (checked like every other dict).
_OBJECT_KEY_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
_OBJECT_KEYS = frozenset({"quantization_config", "function", "output_shape"})
# Named in the message in so many words: the two ways a config reaches code outside the file.
NEVER_ALLOWED = frozenset({"Lambda", "TFSMLayer"})

# What a .keras file of ours holds, and the most each member may expand to.
MEMBER_LIMITS = {"config.json": 1 << 20, "metadata.json": 64 << 10, "model.weights.h5": 256 << 20}
REQUIRED_MEMBERS = ("config.json", "model.weights.h5")
MAX_NODES = 200_000  # dicts, lists and values in config.json; ours has about 1,500
MAX_DEPTH = 64  # ours is 12 deep


class UnsafeModelError(Exception):
    """The archive is malformed, oversized, or names something our models never use."""


def check_keras_archive(data: bytes) -> None:
    """Raise UnsafeModelError unless ``data`` is a .keras archive built only from ``ALLOWED_OBJECTS``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            config_bytes = _read_config(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise UnsafeModelError(f"it is not a readable .keras archive ({exc})") from None
    try:
        config = json.loads(config_bytes.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UnsafeModelError(f"its config.json is not valid JSON ({str(exc)[:200]})") from None
    refused = sorted(find_refused(config))
    if refused:
        never = [r for r in refused if any(name in r for name in NEVER_ALLOWED)]
        why = (
            "Lambda and TFSMLayer layers can run code or load a SavedModel from outside the model file"
            if never
            else "Fashion Lens's models are built from a fixed set of Keras layers and never use these"
        )
        shown = ", ".join(refused[:6]) + (f" and {len(refused) - 6} more" if len(refused) > 6 else "")
        raise UnsafeModelError(f"it uses {shown}, which Fashion Lens refuses ({why})")


def _read_config(archive: zipfile.ZipFile) -> bytes:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(names) != len(set(names)):
        raise UnsafeModelError("it holds the same member twice")
    unexpected = sorted(set(names) - set(MEMBER_LIMITS))
    if unexpected:
        raise UnsafeModelError(f"it holds {', '.join(map(repr, unexpected[:5]))}, which a Keras model file does not")
    missing = [name for name in REQUIRED_MEMBERS if name not in names]
    if missing:
        raise UnsafeModelError(f"it lacks {', '.join(missing)}")
    for info in infos:
        if info.file_size > MEMBER_LIMITS[info.filename]:
            raise UnsafeModelError(
                f"its {info.filename} unpacks to {info.file_size:,} bytes "
                f"(at most {MEMBER_LIMITS[info.filename]:,} expected)"
            )
    limit = MEMBER_LIMITS["config.json"]
    with archive.open("config.json") as member:  # the header's size can lie: read no more than the limit
        config_bytes = member.read(limit + 1)
    if len(config_bytes) > limit:
        raise UnsafeModelError(f"its config.json is over {limit:,} bytes")
    return config_bytes


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"a key appears twice in one object: {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def find_refused(config: object) -> set[str]:
    """Everything in a (parsed) config.json outside the allow-list, described for a person."""
    refused: set[str] = set()
    stack = [(config, 0)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            raise UnsafeModelError(f"its config.json is far larger or deeper than a model of ours ({nodes} nodes)")
        if isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, dict):
            refused |= _refused_in(node)
            stack.extend((value, depth + 1) for value in node.values())
    return refused


def _refused_in(node: dict) -> set[str]:
    """What this one dict names that is not allowed (its children are walked separately)."""
    refused = set()
    if {"class_name", "module", "registered_name"} & node.keys():
        key = (node.get("module"), node.get("class_name"), node.get("registered_name"))
        if not all(part is None or isinstance(part, str) for part in key) or key not in ALLOWED_OBJECTS:
            refused.add(_describe(node))
    for field, value in node.items():
        allowed = ALLOWED_STRINGS.get(field)
        if allowed is not None and isinstance(value, str) and value not in allowed:
            refused.add(f"{field} {value!r}")
        is_object_key = field in _OBJECT_KEYS or field.endswith(_OBJECT_KEY_SUFFIXES)
        if is_object_key and value is not None and not isinstance(value, dict):
            refused.add(f"{field} {str(value)[:80]!r}")
    return refused


def _describe(node: dict) -> str:
    module, class_name = node.get("module"), node.get("class_name")
    if class_name == "function":  # a function by name, e.g. a Lambda's: {"module": m, "config": name}
        return f"the function {module}.{node.get('config')}"[:120]
    if class_name == "__lambda__":
        return "a Python lambda"
    name = f"{module}.{class_name}" if module else str(class_name)
    registered = node.get("registered_name")
    if registered not in (None, class_name):
        name += f" (registered as {registered})"
    return name[:120]
