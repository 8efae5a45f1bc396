"""``python -m training recalibrate``: an installed model's known threshold set again by the current rule."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import REPO, SHARED

PHOTO_MODEL = REPO / "resources" / "photo_model"
FIGURES = (
    "top1",
    "top1_labelled",
    "unknown_detected",
    "known_judged_unknown",
    "unknown_detected_cross_fitted",
    "known_judged_unknown_cross_fitted",
)


@pytest.fixture
def photo_model_copy(tmp_path):
    copy = tmp_path / "photo_model"
    shutil.copytree(PHOTO_MODEL, copy)
    return copy


@pytest.mark.skipif(not (SHARED / "photos").is_dir(), reason="../shared/photos is not beside the repository")
def test_recalibrating_the_shipped_photo_model_gives_back_its_model_json(photo_model_copy, monkeypatch, capsys):
    """The shipped model.json is what the command writes today: the same threshold (to float noise) and
    figures; the weights and their sha256 untouched; the command recorded."""
    from training.__main__ import main

    monkeypatch.chdir(REPO)  # model.json records its photo folders relative to the repository
    weights = (photo_model_copy / json.loads((PHOTO_MODEL / "model.json").read_text())["file"]).read_bytes()
    assert main(["recalibrate", "--model-dir", str(photo_model_copy)]) == 0
    shipped = json.loads((PHOTO_MODEL / "model.json").read_text())
    again = json.loads((photo_model_copy / "model.json").read_text())
    assert again["sha256"] == shipped["sha256"] and (photo_model_copy / again["file"]).read_bytes() == weights
    assert again["known_threshold"] == pytest.approx(shipped["known_threshold"], abs=1e-5)
    for source in ("real_photos", "real_photos_extra"):
        for key in FIGURES:
            assert again["metrics"][source][key] == shipped["metrics"][source][key], (source, key)
    assert again["recalibrated"]["command"] == f"python -m training recalibrate --model-dir {photo_model_copy}"
    assert again["recalibrated"]["previous_threshold"] == shipped["known_threshold"]
    assert "known threshold" in capsys.readouterr().out


def test_a_changed_model_file_is_not_recalibrated(photo_model_copy):
    from training.__main__ import main

    meta_before = (photo_model_copy / "model.json").read_bytes()
    weights = photo_model_copy / json.loads(meta_before)["file"]
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte of the weights changed
    weights.write_bytes(bytes(data))
    assert main(["recalibrate", "--model-dir", str(photo_model_copy)]) == 2  # a clear error, not a traceback
    assert (photo_model_copy / "model.json").read_bytes() == meta_before


def test_a_model_trained_without_photos_has_no_threshold_to_set(photo_model_copy, capsys):
    from training.__main__ import main

    meta = json.loads((photo_model_copy / "model.json").read_text())
    meta["training"]["photos"] = None
    meta["known_threshold"] = None
    (photo_model_copy / "model.json").write_text(json.dumps(meta))
    assert main(["recalibrate", "--model-dir", str(photo_model_copy)]) == 2
    assert "no known threshold to set" in capsys.readouterr().err
