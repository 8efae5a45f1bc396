"""Loading the model (every way it can be missing or damaged) and the "known item" verdict."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil

import numpy as np
import pytest

from fashion_desktop.core import CLASS_NAMES
from fashion_desktop.core.classifier import Classifier, ModelError, certainty
from fashion_desktop.core.model_files import MAX_MODEL_BYTES
from fashion_desktop.resources import model_dir as bundled_model_dir
from tests.conftest import save_tiny_model


@pytest.fixture
def model_copy(tmp_path):
    """A writable copy of the bundled model folder."""
    folder = tmp_path / "model"
    shutil.copytree(bundled_model_dir(), folder)
    return folder


def _edit_meta(folder, **changes):
    meta = json.loads((folder / "model.json").read_text())
    meta.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del meta[key]
    (folder / "model.json").write_text(json.dumps(meta))


def test_missing_model_description_is_a_clear_error(model_copy):
    (model_copy / "model.json").unlink()
    with pytest.raises(ModelError, match="model.json is missing"):
        Classifier.load(model_copy)


def test_damaged_model_description_is_a_clear_error(model_copy):
    (model_copy / "model.json").write_text('{"file": "model.keras", ')
    with pytest.raises(ModelError, match="is damaged"):
        Classifier.load(model_copy)


def test_missing_model_file_is_a_clear_error(model_copy):
    (model_copy / "model.keras").unlink()
    with pytest.raises(ModelError, match="is missing"):
        Classifier.load(model_copy)


def test_tampered_model_file_is_refused_before_it_is_loaded(model_copy):
    data = bytearray((model_copy / "model.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_copy / "model.keras").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match model.json"):
        Classifier.load(model_copy)


def test_unloadable_model_file_with_a_matching_checksum_is_a_clear_error(model_copy):
    garbage = b"not a keras archive"
    (model_copy / "model.keras").write_bytes(garbage)
    _edit_meta(model_copy, sha256=hashlib.sha256(garbage).hexdigest())
    with pytest.raises(ModelError, match="cannot be loaded"):
        Classifier.load(model_copy)


def test_wrong_class_list_is_refused(model_copy):
    _edit_meta(model_copy, class_names=list(reversed(CLASS_NAMES)))
    with pytest.raises(ModelError, match="not Fashion-MNIST's ten"):
        Classifier.load(model_copy)


def test_certainty_is_high_for_one_class_or_one_kind_of_shoe_and_low_when_spread():
    one_class = np.eye(10)[3]
    shoes_unsure_which = np.array([0, 0, 0, 0, 0, 0.34, 0, 0.33, 0, 0.33])
    tops_unsure_which = np.array([0.34, 0, 0.33, 0, 0, 0, 0.33, 0, 0, 0])
    even = np.full(10, 0.1)
    scores = certainty(np.stack([one_class, shoes_unsure_which, tops_unsure_which, even]))
    assert scores[0] == pytest.approx(1.0) and scores[1] == pytest.approx(1.0)
    assert scores[2] < 0.5 and scores[3] < 0.1


def test_known_verdict_uses_the_score_its_threshold_was_calibrated_on(model_copy):
    probs = np.array([0.5, 0, 0, 0, 0, 0, 0.5, 0, 0, 0])  # T-shirt or shirt, evenly
    _edit_meta(model_copy, known_score="certainty", known_threshold=0.8)
    report = Classifier.load(model_copy).judge_known(probs)
    assert report.score == pytest.approx(float(certainty(probs))) and not report.recognised
    # A model folder from before the certainty score: its threshold is on the top probability.
    _edit_meta(model_copy, known_score=None, known_threshold=0.4)
    report = Classifier.load(model_copy).judge_known(probs)
    assert report.score == pytest.approx(0.5) and report.recognised


# --- model.json: every field checked for type and value --------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sha256": 12345}, '"sha256" is 12345, not 64 hexadecimal digits'),
        ({"sha256": "abc"}, "not 64 hexadecimal digits"),
        ({"sha256": ["0" * 64]}, "not 64 hexadecimal digits"),
        ({"class_names": None}, "not Fashion-MNIST's ten"),
        ({"class_names": "T-shirt/top"}, "not Fashion-MNIST's ten"),
        ({"class_names": {"0": "T-shirt/top"}}, "not Fashion-MNIST's ten"),
        ({"known_threshold": "0.3"}, "\"known_threshold\" is '0.3', not a number from 0 to 1"),
        ({"known_threshold": True}, "not a number from 0 to 1"),
        ({"known_threshold": 1.5}, "not a number from 0 to 1"),
        ({"known_threshold": -0.1}, "not a number from 0 to 1"),
        ({"known_threshold": float("nan")}, "not a number from 0 to 1"),
        ({"known_score": "entropy"}, "\"known_score\" is 'entropy', not one of certainty, top_probability"),
        ({"known_score": 3}, "not one of certainty, top_probability"),
        ({"file": "/dev/zero"}, "must be a file name inside the model folder"),
        ({"file": "../../etc/passwd"}, "must be a file name inside the model folder"),
        ({"file": "notes.txt"}, "not the name of a .keras file"),
        ({"file": "../model/model.keras"}, "must be a file name inside the model folder"),
        ({"file": "sub\\model.keras"}, "must be a file name inside the model folder"),
        ({"file": "C:model.keras"}, "must be a file name inside the model folder"),
        ({"file": ""}, "not the name of a .keras file"),
        ({"file": 7}, "not the name of a .keras file"),
        ({"file": None}, "not the name of a .keras file"),
    ],
)
def test_wrong_types_and_values_in_model_json_are_clear_errors(model_copy, changes, message):
    meta = json.loads((model_copy / "model.json").read_text())
    (model_copy / "model.json").write_text(json.dumps({**meta, **changes}))  # null stays null
    with pytest.raises(ModelError, match=re.escape(message)):
        Classifier.load(model_copy)


def test_an_absolute_model_path_is_refused_even_when_it_names_the_real_file(model_copy):
    _edit_meta(model_copy, file=str((model_copy / "model.keras").resolve()))
    with pytest.raises(ModelError, match="must be a file name inside the model folder"):
        Classifier.load(model_copy)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_as_the_model_file_is_refused_without_blocking(model_copy):
    os.mkfifo(model_copy / "pipe.keras")  # nobody writes to it: reading it would wait for ever
    _edit_meta(model_copy, file="pipe.keras")
    with pytest.raises(ModelError, match="pipe.keras is not a regular file"):
        Classifier.load(model_copy)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_as_model_json_is_refused_without_blocking(model_copy):
    (model_copy / "model.json").unlink()
    os.mkfifo(model_copy / "model.json")
    with pytest.raises(ModelError, match="model.json is not a regular file"):
        Classifier.load(model_copy)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_link_to_a_device_is_refused(model_copy):
    try:
        (model_copy / "zero.keras").symlink_to("/dev/zero")
    except OSError:
        pytest.skip("cannot make symbolic links here")
    _edit_meta(model_copy, file="zero.keras")
    with pytest.raises(ModelError, match="zero.keras is not a regular file"):
        Classifier.load(model_copy)


def test_a_folder_as_the_model_file_is_refused(model_copy):
    (model_copy / "folder.keras").mkdir()
    _edit_meta(model_copy, file="folder.keras")
    with pytest.raises(ModelError, match="folder.keras (is not a regular file|cannot be read)"):
        Classifier.load(model_copy)


def test_an_oversized_model_file_is_refused_before_it_is_read(model_copy):
    with open(model_copy / "huge.keras", "wb") as huge:
        huge.truncate(MAX_MODEL_BYTES + 1)  # sparse: no disk used
    _edit_meta(model_copy, file="huge.keras")
    with pytest.raises(ModelError, match="over the 52,428,800 allowed"):
        Classifier.load(model_copy)


# --- the model must give probabilities ---------------------------------------------------------------------


def test_a_tiny_model_that_gives_probabilities_loads(tmp_path):
    clf = Classifier.load(save_tiny_model(tmp_path / "ok", softmax=True))
    probs = clf.predict(np.full((3, 28, 28), 200, np.uint8))
    assert probs.shape == (3, 10) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_a_model_without_softmax_is_refused(tmp_path):
    # Its "confidence" for a blank picture would be 13.0.
    folder = save_tiny_model(tmp_path / "logits", softmax=False, bias=[13, 2, 1, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ModelError, match=r"does not give probabilities: .* values from 0 to 13"):
        Classifier.load(folder)


def test_a_model_whose_scores_do_not_add_up_to_one_is_refused(tmp_path):
    folder = save_tiny_model(tmp_path / "half", softmax=False, bias=[0.05] * 10)
    with pytest.raises(ModelError, match="does not give probabilities: .* add up to 0.5, not 1"):
        Classifier.load(folder)


def test_a_model_that_gives_nan_is_refused(tmp_path):
    folder = save_tiny_model(tmp_path / "nan", softmax=True, bias=[float("nan")] * 10)
    with pytest.raises(ModelError, match="does not give probabilities: .* NaN"):
        Classifier.load(folder)


def test_a_model_that_stops_giving_probabilities_raises_at_predict_time(model_copy):
    clf = Classifier.load(model_copy)
    good = clf._call
    clf._call = lambda x: good(x) * 13.0  # as if some inputs drove an unnormalised output
    with pytest.raises(ModelError, match="instead of probabilities"):
        clf.predict(np.zeros((2, 28, 28), np.uint8))
    clf._call = lambda x: np.full((len(x), 10), np.nan, np.float32)
    with pytest.raises(ModelError, match="NaN or infinite values instead of probabilities"):
        clf.predict(np.zeros((1, 28, 28), np.uint8))


def test_a_load_racing_an_install_follows_the_new_model_json(model_copy, monkeypatch):
    """Training installs a model by replacing model.json, then deleting the old file. A load that read the
    old model.json just before finds its file gone: it reads model.json again and loads the new file."""
    import fashion_desktop.core.classifier as classifier_module

    meta = json.loads((model_copy / "model.json").read_text())
    old_file = meta["file"]
    new_file = "model-" + meta["sha256"][:12] + ".keras"
    real_read = classifier_module._read_metadata
    calls = []

    def read_then_install(folder):
        result = real_read(folder)
        if not calls:  # the install lands between this load's read of model.json and of the model file
            (model_copy / old_file).rename(model_copy / new_file)
            (model_copy / "model.json").write_text(json.dumps({**meta, "file": new_file}))
        calls.append(result["file"])
        return result

    monkeypatch.setattr(classifier_module, "_read_metadata", read_then_install)
    clf = Classifier.load(model_copy)
    assert calls == [old_file, new_file]
    assert clf.metadata["file"] == new_file
