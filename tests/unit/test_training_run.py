"""A short real training run, atomic saving, Ctrl-C, the architectures and the committed model's figures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from training import install
from training import train as tr
from training.models import build


@pytest.mark.parametrize("arch", ["seed", "default"])
def test_architectures_build_and_stay_small(arch):
    model = build(arch)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.count_params() <= 1_000_000
    if arch == "seed":
        kinds = [type(layer).__name__ for layer in model.layers]
        assert kinds.count("Conv2D") == 3 and kinds.count("MaxPooling2D") == 3
        assert kinds.count("BatchNormalization") == 3


@pytest.fixture(scope="module")
def trained(small_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    cfg = tr.TrainConfig(arch="seed", epochs=2, batch_size=64, data_dir=str(small_data_dir), val_fraction=0.1)
    meta = tr.run(cfg, out, "python -m training --arch seed --epochs 2 (test)")
    return out, meta


@pytest.mark.slow
def test_a_rerun_with_the_same_seed_gives_the_same_weights(small_data_dir):
    """What makes "rerunning the command reproduces its figures" hold: training is deterministic."""
    cfg = tr.TrainConfig(epochs=1, batch_size=64, data_dir=str(small_data_dir), val_fraction=0.1, subset=512)

    def weights():
        tr.setup(cfg.seed)
        ds, train = tr.prepare_data(cfg)
        return tr.fit(cfg, train, ds.val).get_weights()

    first, second = weights(), weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.slow
def test_val_fraction_zero_trains_on_every_image_and_keeps_the_last_epoch(small_data_dir):
    """--val-fraction 0: all training images are fitted on; with nothing to pick by, the last epoch stays."""
    cfg = tr.TrainConfig(epochs=1, batch_size=64, data_dir=str(small_data_dir), val_fraction=0.0, subset=None)
    tr.setup(cfg.seed)
    ds, train = tr.prepare_data(cfg)
    assert len(train.y) == 1200 and len(ds.val.y) == 0
    model = tr.fit(cfg, train, ds.val)
    assert model.predict(ds.test.x[:4, ..., None], verbose=0).shape == (4, 10)
    keeper = tr.BestWeights()
    keeper.callback.set_model(model)
    for epoch in range(3):  # no val_accuracy in the logs, as when there is no validation part
        keeper.callback.on_epoch_end(epoch, {"loss": 1.0})
    assert keeper.epoch == 3


@pytest.mark.slow
@pytest.mark.parametrize("fraction", ["1", "-0.1"])
def test_an_impossible_val_fraction_is_refused_clearly(small_data_dir, tmp_path, fraction):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training",
            "--data-dir",
            str(small_data_dir),
            "--val-fraction",
            fraction,
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"--val-fraction must be at least 0 and below 1, got {float(fraction)}" in result.stderr
    assert not (tmp_path / "model.keras").exists()


@pytest.mark.slow
def test_short_run_writes_a_model_that_loads_and_matches_its_sha256(trained):
    from fashion_desktop.core.classifier import Classifier

    out, meta = trained
    assert meta["file"] == install.model_file_name(meta["sha256"])  # weights are named by their content
    assert {p.name for p in out.iterdir()} == {meta["file"], "model.json", "report.md", "confusion_matrix.png"}
    on_disk = json.loads((out / "model.json").read_text())
    assert on_disk["sha256"] == tr.sha256_file(out / on_disk["file"])
    assert set(on_disk["metrics"]["accuracy"]) == {
        "clean",
        "gaussian_1.0",
        "gaussian_1.5",
        "gaussian_2.0",
        "motion_5",
        "motion_7",
    }
    import keras
    import tensorflow as tf

    # Which framework trained it, under the backend's name (a JAX run on an accelerator says "jax").
    assert on_disk["training"]["tensorflow"] == tf.__version__ and on_disk["training"]["keras"] == keras.__version__
    assert on_disk["training"]["machine"].endswith("CPU, Linux")
    clf = Classifier.load(out)
    probs = clf.predict(np.zeros((3, 28, 28), np.uint8))
    assert probs.shape == (3, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert "Gaussian sigma 1.0" in (out / "report.md").read_text()


@pytest.mark.slow
def test_failed_save_leaves_previous_model_intact(trained, tmp_path, monkeypatch):
    out, meta = trained
    target = tmp_path / "model"
    target.mkdir()
    for f in out.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    before = {f.name: tr.sha256_file(f) for f in target.iterdir()}
    import keras

    import fashion_desktop.core.layers  # noqa: F401

    model = keras.saving.load_model(out / meta["file"], compile=False)

    def broken_png(cm):
        raise KeyboardInterrupt  # as if Ctrl-C arrived while files were being written

    monkeypatch.setattr("training.report.confusion_png", broken_png)
    with pytest.raises(KeyboardInterrupt):
        tr.save_outputs(
            target,
            model,
            {k: v for k, v in meta.items() if k not in ("sha256",)},
            meta["metrics"]["clean"]["confusion_matrix"],
            lambda m: "",
        )
    after = {f.name: tr.sha256_file(f) for f in target.iterdir()}
    assert after == before  # no half-written files, no leftovers


@pytest.mark.slow
def test_ctrl_c_during_training_keeps_the_model_in_place(small_data_dir, tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "model.keras").write_bytes(b"previous model")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "training", "--data-dir", str(small_data_dir), "--epochs", "50", "--out", str(out)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if line.startswith("epoch 1/50"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(lines) + err
    assert "model already in place is unchanged" in err
    assert [p.name for p in out.iterdir()] == ["model.keras"]
    assert (out / "model.keras").read_bytes() == b"previous model"


@pytest.mark.slow
def test_committed_model_figures_match_a_fresh_evaluation(fashion_mnist, classifier):
    from training.evaluate import predict_proba

    meta = classifier.metadata
    _, test = fashion_mnist
    import keras

    import fashion_desktop.core.layers  # noqa: F401 - registers the shipped model's layers

    model = keras.saving.load_model(Path(classifier.model_dir) / meta["file"], compile=False, safe_mode=True)
    acc = float((predict_proba(model, test.x).argmax(axis=1) == test.y).mean())
    assert acc == pytest.approx(meta["metrics"]["accuracy"]["clean"], abs=0.0006)
    assert meta["training"]["command"].startswith("python -m training")
    assert meta["parameters"] <= 1_000_000 and meta["file_bytes"] <= 5_000_000
