"""A model folder cannot run code: config.json is vetted against an allow-list before Keras reads it.

The main case is the safe_mode bypass the allow-list exists for (see fashion_desktop/core/model_config.py):
a Lambda layer whose function is ``keras.layers.TFSMLayer`` makes Keras 3.15.1 load an outside SavedModel
under ``safe_mode=True``, and loading a SavedModel runs its resource initialisers.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil
import zipfile

import pytest

from fashion_desktop.core.classifier import Classifier, ModelError
from fashion_desktop.core.model_config import (
    ALLOWED_OBJECTS,
    MEMBER_LIMITS,
    UnsafeModelError,
    check_keras_archive,
    find_refused,
)
from fashion_desktop.resources import model_dir as bundled_model_dir


@pytest.fixture(scope="module")
def bundled_archive() -> bytes:
    return (bundled_model_dir() / "model.keras").read_bytes()


@pytest.fixture(scope="module")
def bundled_config(bundled_archive) -> dict:
    with zipfile.ZipFile(io.BytesIO(bundled_archive)) as archive:
        return json.loads(archive.read("config.json"))


@pytest.fixture
def model_copy(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(bundled_model_dir(), folder)
    return folder


def _rewrite_archive(archive: bytes, config: dict | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """The bundled archive with config.json replaced and members added, stored as Keras stores them."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = json.dumps(config).encode() if name == "config.json" and config is not None else src.read(name)
            dst.writestr(name, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def _install(folder, archive: bytes) -> None:
    """Put ``archive`` in the model folder with a model.json that vouches for it (as an attacker would)."""
    (folder / "model.keras").write_bytes(archive)
    meta = json.loads((folder / "model.json").read_text())
    meta["sha256"] = hashlib.sha256(archive).hexdigest()
    (folder / "model.json").write_text(json.dumps(meta))


def _outer_layers(config: dict) -> list:
    return config["config"]["layers"]


def _inner_layers(config: dict) -> list:
    """The layers of the trained network nested inside the shipped wrapper."""
    return next(layer for layer in _outer_layers(config) if layer["class_name"] == "Functional")["config"]["layers"]


def _tfsm_lambda(target: str) -> dict:
    """The gadget: a Lambda whose "function" is the TFSMLayer class, called with the SavedModel's path."""
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "evil",
            "function": {
                "module": "keras.layers",
                "class_name": "function",
                "config": "TFSMLayer",
                "registered_name": "function",
            },
            "arguments": {"call_endpoint": "serve"},
        },
        "build_config": {"input_shape": [None, 10]},
        "name": "evil",
        "inbound_nodes": [{"args": [], "kwargs": {"inputs": target}}],
    }


def _savedmodel_that_writes(folder, marker) -> None:
    """A SavedModel whose resource initialiser writes ``marker`` when anything loads it."""
    import tensorflow as tf  # only this test needs TensorFlow directly

    class Payload(tf.saved_model.experimental.TrackableResource):
        def __init__(self, target: str):
            self._target = target
            super().__init__()

        def _create_resource(self):
            return tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[])

        def _initialize(self):
            tf.io.write_file(self._target, "code from the model folder ran")

    class Module(tf.Module):
        def __init__(self):
            super().__init__()
            self.payload = Payload(str(marker))

        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        def serve(self, x):
            return tf.zeros([tf.shape(x)[0], 10])

    module = Module()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})


def test_the_bundled_model_uses_only_allowed_classes(bundled_archive, bundled_config):
    assert find_refused(bundled_config) == set()
    check_keras_archive(bundled_archive)


def test_a_lambda_that_loads_a_savedmodel_through_tfsmlayer_is_refused_before_it_runs(
    model_copy, tmp_path, bundled_archive, bundled_config
):
    marker = tmp_path / "marker.txt"
    savedmodel = tmp_path / "savedmodel"
    _savedmodel_that_writes(savedmodel, marker)
    # The payload is live: loading the SavedModel at all writes the marker.
    import tensorflow as tf

    tf.saved_model.load(str(savedmodel))
    assert marker.exists()
    marker.unlink()

    config = copy.deepcopy(bundled_config)
    _outer_layers(config).insert(1, _tfsm_lambda(str(savedmodel)))
    _install(model_copy, _rewrite_archive(bundled_archive, config))
    with pytest.raises(ModelError, match=r"keras\.layers\.TFSMLayer") as error:
        Classifier.load(model_copy)
    assert "keras.layers.Lambda" in str(error.value) and "outside the model file" in str(error.value)
    assert not marker.exists()


def test_a_tfsmlayer_named_directly_is_refused(model_copy, bundled_archive, bundled_config):
    config = copy.deepcopy(bundled_config)
    layer = {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/tmp/x"}, "name": "t"}
    _outer_layers(config).insert(1, layer)
    _install(model_copy, _rewrite_archive(bundled_archive, config))
    with pytest.raises(ModelError, match=r"keras\.layers\.TFSMLayer"):
        Classifier.load(model_copy)


def test_an_unknown_custom_class_is_refused(model_copy, bundled_archive, bundled_config):
    config = copy.deepcopy(bundled_config)
    flip = next(layer for layer in _outer_layers(config) if layer["class_name"] == "HorizontalFlip")
    flip.update(module="someone_else.layers", class_name="Mirror", registered_name="someone>Mirror")
    _install(model_copy, _rewrite_archive(bundled_archive, config))
    with pytest.raises(ModelError, match=r"someone_else\.layers\.Mirror \(registered as someone>Mirror\)"):
        Classifier.load(model_copy)


def test_an_allowed_class_name_from_a_module_outside_keras_is_refused(bundled_config):
    config = copy.deepcopy(bundled_config)
    dense = next(layer for layer in _inner_layers(config) if layer["class_name"] == "Dense")
    dense["module"] = "os"
    assert find_refused(config) == {"os.Dense"}


def test_an_allowed_class_that_borrows_our_registered_name_is_refused(bundled_config):
    config = copy.deepcopy(bundled_config)
    dense = next(layer for layer in _inner_layers(config) if layer["class_name"] == "Dense")
    dense["registered_name"] = "fashion_lens>HorizontalFlip"
    assert find_refused(config) == {"keras.layers.Dense (registered as fashion_lens>HorizontalFlip)"}


@pytest.mark.parametrize(
    ("field", "value", "refused"),
    [
        ("kernel_initializer", {"module": "builtins", "class_name": "function", "config": "exec"}, "builtins.exec"),
        ("kernel_initializer", "keras.utils.get_file", "'keras.utils.get_file'"),
        ("activation", "keras.config.enable_unsafe_deserialization", "enable_unsafe_deserialization"),
        ("kernel_regularizer", {"module": "keras.regularizers", "class_name": "L2", "config": {}}, "regularizers.L2"),
        ("dtype", {"module": "keras", "class_name": "__lambda__", "config": {"code": "..."}}, "a Python lambda"),
    ],
)
def test_something_refused_deep_inside_a_nested_layer_is_found(bundled_config, field, value, refused):
    config = copy.deepcopy(bundled_config)
    conv = next(layer for layer in _inner_layers(config) if layer["class_name"] == "Conv2D")
    conv["config"][field] = value
    found = find_refused(config)
    assert len(found) == 1 and refused in next(iter(found))


def test_a_lambda_inside_the_inner_network_is_refused(model_copy, bundled_archive, bundled_config):
    config = copy.deepcopy(bundled_config)
    _inner_layers(config).insert(1, _tfsm_lambda("/nonexistent/savedmodel"))
    _install(model_copy, _rewrite_archive(bundled_archive, config))
    with pytest.raises(ModelError, match="Lambda and TFSMLayer layers can run code"):
        Classifier.load(model_copy)


def _archive(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_archive_members_beyond_the_three_of_a_keras_file_are_refused(bundled_archive):
    with pytest.raises(UnsafeModelError, match="assets/payload.py"):
        check_keras_archive(_rewrite_archive(bundled_archive, extra={"assets/payload.py": b"import os"}))


def test_an_archive_without_weights_is_refused():
    with pytest.raises(UnsafeModelError, match="lacks model.weights.h5"):
        check_keras_archive(_archive({"config.json": b"{}"}))


def test_an_oversized_config_is_refused_before_it_is_parsed():
    big = b'{"x": "' + b"a" * MEMBER_LIMITS["config.json"] + b'"}'
    with pytest.raises(UnsafeModelError, match="config.json unpacks to"):
        check_keras_archive(_archive({"config.json": big, "model.weights.h5": b""}))


def test_a_config_with_a_duplicated_key_is_refused():
    # json keeps the last of two keys: the allow-list must not see one value while Keras reads another.
    twice = b'{"class_name": "Functional", "class_name": "Lambda"}'
    with pytest.raises(UnsafeModelError, match="twice"):
        check_keras_archive(_archive({"config.json": twice, "model.weights.h5": b""}))


def test_a_config_nested_absurdly_deep_is_refused():
    deep = b'{"a": ' * 500 + b"1" + b"}" * 500
    with pytest.raises(UnsafeModelError, match="deeper"):
        check_keras_archive(_archive({"config.json": deep, "model.weights.h5": b""}))


def test_the_allow_list_names_nothing_that_runs_outside_code():
    names = {part for key in ALLOWED_OBJECTS for part in key if part}
    assert not names & {"Lambda", "TFSMLayer", "function", "__lambda__"}


def test_training_evaluate_vets_the_archive_too(tmp_path, bundled_archive, bundled_config, capsys):
    from training.__main__ import main

    config = copy.deepcopy(bundled_config)
    _outer_layers(config).insert(1, _tfsm_lambda(str(tmp_path / "elsewhere")))
    path = tmp_path / "evil.keras"
    path.write_bytes(_rewrite_archive(bundled_archive, config))
    assert main(["evaluate", "--model", str(path)]) == 2
    assert "TFSMLayer" in capsys.readouterr().err
