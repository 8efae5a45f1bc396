"""The one-folder app (build.spec, from .venv-app): its self-test, its probabilities, its CLI, its log, and
what it leaves out. See conftest.py for how to run these."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.packaging.conftest import SAMPLES, needs_packaging, reference_probabilities, run_json, user_env

pytestmark = needs_packaging


@pytest.fixture(scope="module")
def frozen_app(packaged) -> Path:
    if packaged["app"] is None:
        pytest.skip("no frozen app given (FASHION_LENS_FROZEN_APP)")
    assert packaged["app"].is_file()
    return packaged["app"]


def bundle_listing(app: Path) -> set[str]:
    return {str(p.relative_to(app.parent)) for p in app.parent.rglob("*")}


def test_self_test_classifies_every_bundled_sample_as_expected(frozen_app, tmp_path):
    res, summary = run_json([str(frozen_app), "--self-test"], user_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert summary["ok"] is True and summary["frozen"] is True
    assert {Path(r["picture"]).name for r in summary["pictures"]} == {p.name for p in SAMPLES.glob("*.jpg")}
    assert all(r["label"] == r["expected"] for r in summary["pictures"])
    # The model and the samples came from inside the bundle, not from the source tree.
    assert summary["model_dir"].startswith(str(frozen_app.parent))


def test_frozen_app_gives_bitwise_the_same_probabilities_as_the_dev_venv(frozen_app, tmp_path):
    _res, summary = run_json([str(frozen_app), "--self-test"], user_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    frozen = {Path(r["picture"]).name: r["probabilities"] for r in summary["pictures"]}
    assert frozen == reference_probabilities()


def test_self_test_of_a_user_photo_and_of_a_missing_one(frozen_app, tmp_path):
    """A user photo has no expected category: it is classified and reported; a missing one fails."""
    photo = SAMPLES / "trouser.jpg"
    res, summary = run_json(
        [str(frozen_app), "--self-test", str(photo)], user_env(tmp_path, QT_QPA_PLATFORM="offscreen")
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "trouser.jpg -> Trouser" in res.stdout
    res, summary = run_json(
        [str(frozen_app), "--self-test", str(tmp_path / "missing.jpg")],
        user_env(tmp_path, QT_QPA_PLATFORM="offscreen"),
    )
    assert res.returncode == 1 and summary["ok"] is False and "error" in summary


def test_classify_runs_the_command_line_classifier(frozen_app, tmp_path):
    res = subprocess.run(
        [str(frozen_app), "--classify", "--json", str(SAMPLES / "sneaker.jpg")],
        env=user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Sneaker" in res.stdout


def test_a_window_run_logs_to_the_user_data_folder_and_writes_nothing_in_the_bundle(frozen_app, tmp_path):
    before = bundle_listing(frozen_app)
    env = user_env(tmp_path, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path / "data"))
    log = tmp_path / "data" / "Fashion Lens" / "fashion-lens.log"
    proc = subprocess.Popen(
        [str(frozen_app), str(SAMPLES / "dress.jpg")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (log.is_file() and "started" in log.read_text()):
            time.sleep(0.2)
        time.sleep(3)  # let the model load, so whatever it writes is written
    finally:
        proc.send_signal(signal.SIGINT)  # the app closes its window cleanly on Ctrl+C
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert log.is_file() and "Fashion Lens" in log.read_text()
    assert bundle_listing(frozen_app) == before


def test_the_bundle_leaves_out_what_the_app_never_loads(frozen_app):
    names = bundle_listing(frozen_app)
    internal = "_internal" + os.sep
    for unused in (
        "grpc",
        "libgtk-3.so.0",
        "PySide6/Qt/translations",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "tensorflow/compiler/tf2xla/ops/_xla_ops.so",
    ):
        assert internal + unused not in names, unused
    assert not [n for n in names if "/resources/model/." in n or "staging" in n]
    assert not [n for n in names if n.startswith(internal + "tensorboard")]
    assert internal + "resources/samples/expected.json" in names
