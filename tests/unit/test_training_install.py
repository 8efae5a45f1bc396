"""Installing a trained model is one atomic step: a kill or Ctrl-C at any point leaves the old model or the new.

The folder starts as a copy of the bundled model (``model.keras``, its model.json and an imbalance study);
a tiny real Keras model is saved over it with training's own save_outputs, killed (SIGKILL, in a child
process) before each file system change in turn, or given a real SIGINT in the middle of a real run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fashion_desktop.resources import model_dir as bundled_model_dir
from tests.conftest import REPO
from training import install

COMPUTED = ("file", "sha256", "file_bytes", "parameters", "imbalance_study")
NEW_COMMAND = "python -m training (install test)"

# Saves a tiny model into argv[1] with save_outputs, SIGKILLed before the argv[2]-th file system change
# (rename, delete) of the save, or while the outputs are staged (argv[2] == "staging").
CHILD = r"""
import json, os, signal, sys
from pathlib import Path

import keras
import training.report
from training import train as tr
from training.models import build, with_softmax

out, point = Path(sys.argv[1]), sys.argv[2]
meta = {k: v for k, v in json.loads((out / "model.json").read_text()).items() if k not in COMPUTED}
meta["training"]["command"] = NEW_COMMAND
keras.utils.set_random_seed(1)
model = with_softmax(build("seed"))  # untrained: what matters here is how it is installed
changes = 0

def killed_before(name, real):
    def change(*args, **kwargs):
        global changes
        changes += 1
        if str(changes) == point:
            print(f"killed before change {changes}: {name}{args}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return change

for name in ("replace", "rename", "unlink", "remove", "rmdir"):
    setattr(os, name, killed_before(name, getattr(os, name)))
if point == "staging":
    png = training.report.confusion_png
    def confusion_png(cm):
        data = png(cm)
        os.kill(os.getpid(), signal.SIGKILL)
    training.report.confusion_png = confusion_png
tr.save_outputs(out, model, meta, meta["metrics"]["clean"]["confusion_matrix"], training.report.markdown)
print(f"completed after {changes} changes", file=sys.stderr)
""".replace("COMPUTED", repr(COMPUTED)).replace("NEW_COMMAND", repr(NEW_COMMAND))


@pytest.fixture
def old_model(tmp_path):
    """A copy of the bundled model folder, as installed before content-addressed names: model.keras."""
    root = tmp_path / "root"
    shutil.copytree(bundled_model_dir(), root / "resources" / "model")
    folder = root / "resources" / "model"
    assert json.loads((folder / "model.json").read_text())["file"] == "model.keras"
    assert (folder / "imbalance.json").is_file()
    return folder


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: install.sha256_file(p) for p in folder.iterdir() if p.is_file()}


def bundled_by_build_spec(root: Path) -> list[str]:
    """The resources/model files build.spec puts in the app, the spec run as PyInstaller runs it."""
    source = (REPO / "build.spec").read_text().split("\na = Analysis(")[0]
    scope = {"SPECPATH": str(root)}
    exec(compile(source, "build.spec", "exec"), scope)
    return sorted(Path(src).name for src, dest in scope["datas"] if dest == "resources/model")


def assert_whole_model(folder: Path, old: dict[str, str], old_meta: bytes) -> str:
    """model.json and the file it names belong together and are entirely the old model or the new: which."""
    raw = (folder / "model.json").read_bytes()
    meta = json.loads(raw)
    named = folder / meta["file"]
    assert named.is_file(), f"model.json names {meta['file']}, which is not there"
    assert install.sha256_file(named) == meta["sha256"]
    if raw == old_meta:
        assert meta["file"] == "model.keras" and install.sha256_file(named) == old["model.keras"]
        return "old"
    assert meta["file"] == install.model_file_name(meta["sha256"])
    assert meta["training"]["command"] == NEW_COMMAND
    assert meta["imbalance_study"] == json.loads((folder / "imbalance.json").read_text())
    return "new"


@pytest.mark.slow
def test_a_kill_at_any_point_of_the_install_leaves_the_old_model_or_the_new(old_model):
    from fashion_desktop.core.classifier import Classifier

    old, old_meta = _snapshot(old_model), (old_model / "model.json").read_bytes()
    expected = ["confusion_matrix.png", "imbalance.json", "model.json", "report.md"]
    root = old_model.parent.parent
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    seen = {}
    points = ["staging", *map(str, range(1, 30))]
    for point in points:
        shutil.rmtree(old_model)
        shutil.copytree(bundled_model_dir(), old_model)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(old_model), point],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        completed = child.returncode == 0
        assert completed or child.returncode == -signal.SIGKILL, child.stderr
        state = assert_whole_model(old_model, old, old_meta)
        seen[point] = state
        named = json.loads((old_model / "model.json").read_text())["file"]
        # The app takes the folder as it is, and build.spec bundles none of what the kill left behind.
        Classifier.load(old_model)
        assert bundled_by_build_spec(root) == sorted([*expected, named]), child.stderr
        if completed:
            assert state == "new" and install.install_problems(old_model) == []
            assert sorted(p.name for p in old_model.iterdir()) == sorted([*expected, named])
            break
        # The next save starts by clearing what this one left: only the installed model stays.
        install.remove_leftovers(old_model)
        assert sorted(p.name for p in old_model.iterdir()) == sorted([*expected, named]), child.stderr
        if state == "old":
            assert _snapshot(old_model) == old
    else:
        pytest.fail(f"the save never completed: {seen}")
    assert seen["staging"] == "old" and seen["1"] == "old" and "new" in seen.values(), seen
    # Once the commit point is passed the model stays new: no step after it undoes it.
    states = list(seen.values())
    assert states == sorted(states, key=["old", "new"].index), seen


def test_leftovers_are_cleared_only_while_the_installed_model_is_whole(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / ".staging-abc").mkdir()
    (folder / ".staging-abc" / "model.keras").write_bytes(b"half")
    (folder / ".model.json.x1y2.tmp").write_text("{")
    (folder / "model-0123456789ab.keras").write_bytes(b"unnamed weights")
    (folder / "model.keras").write_bytes(b"weights model.json names")
    (folder / "notes.keras").write_bytes(b"not a name training writes")
    # model.json names a file that is not there: weights are kept for a person to look at.
    (folder / "model.json").write_text(json.dumps({"file": "model-ffffffffffff.keras"}))
    assert install.remove_leftovers(folder) == [".model.json.x1y2.tmp", ".staging-abc"]
    (folder / "model.json").write_text(json.dumps({"file": "model.keras"}))
    assert install.remove_leftovers(folder) == ["model-0123456789ab.keras"]
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.keras", "notes.keras"]


def _interrupted_run(folder: Path, small_data_dir, monkeypatch, capsys, at: str):
    """``python -m training`` in this process, sent a real SIGINT at ``at`` during the save."""
    from training.__main__ import main

    real_replace, real_png = os.replace, None
    calls = []

    def replace(src, dst, *args, **kwargs):
        if Path(dst).parent == folder:
            calls.append(Path(dst).name)
            if at == f"replace {len(calls)}":
                signal.raise_signal(signal.SIGINT)
        return real_replace(src, dst, *args, **kwargs)

    import training.report

    real_png = training.report.confusion_png

    def png(cm):
        if at == "staging":
            signal.raise_signal(signal.SIGINT)
        return real_png(cm)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(training.report, "confusion_png", png)
    args = ["--arch", "seed", "--epochs", "1", "--subset", "256", "--batch-size", "64"]
    code = main([*args, "--data-dir", str(small_data_dir), "--out", str(folder)])
    monkeypatch.undo()
    return code, capsys.readouterr().err, calls


@pytest.mark.slow
def test_ctrl_c_while_staging_says_nothing_changed_and_nothing_did(old_model, small_data_dir, monkeypatch, capsys):
    before = _snapshot(old_model)
    code, err, calls = _interrupted_run(old_model, small_data_dir, monkeypatch, capsys, "staging")
    assert code == 130 and calls == []
    assert "interrupted: nothing was written; the model already in place is unchanged." in err
    assert _snapshot(old_model) == before
    assert sorted(p.name for p in old_model.iterdir()) == sorted(before)  # no .staging-* left


@pytest.mark.slow
def test_ctrl_c_during_the_renames_finishes_the_install_and_says_so(old_model, small_data_dir, monkeypatch, capsys):
    """The tester's case: Ctrl-C among the renames installed the model and then said nothing was written."""
    code, err, calls = _interrupted_run(old_model, small_data_dir, monkeypatch, capsys, "replace 1")
    assert code == 130
    meta = json.loads((old_model / "model.json").read_text())
    assert calls == [meta["file"], "model.json", "confusion_matrix.png", "report.md"]  # the hold saw it through
    assert f"interrupted after the new model was installed ({old_model / 'model.json'} names {meta['file']})." in err
    assert "nothing was written" not in err
    assert install.install_problems(old_model) == []
    assert meta["imbalance_study"] == json.loads((old_model / "imbalance.json").read_text())
    assert "## Long-tailed training" in (old_model / "report.md").read_text()
    assert sorted(p.name for p in old_model.iterdir()) == sorted(
        ["confusion_matrix.png", "imbalance.json", "model.json", "report.md", meta["file"]]
    )  # the old model.keras went once nothing named it


def test_interrupt_message_names_what_an_imbalance_study_changed(old_model):
    from training.__main__ import _folder_state, _what_changed
    from training.report import markdown

    before = _folder_state(old_model)
    meta = json.loads((old_model / "model.json").read_text())
    study = {**meta["imbalance_study"], "command": "python -m training imbalance (test)"}
    install.install_imbalance_study(old_model, study, markdown)
    message = _what_changed(old_model, before)
    assert message.startswith(f"interrupted after the imbalance study was written to {old_model / 'imbalance.json'}")
    assert "(the model's weights are unchanged)." in message and ", but" not in message
    assert json.loads((old_model / "model.json").read_text())["imbalance_study"] == study
    assert install.sha256_file(old_model / "model.keras") == meta["sha256"]
