"""Installs a trained model in its folder in one atomic step, whatever stops the save (error, Ctrl-C, kill)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

STAGING_PREFIX = ".staging-"
# The names a save installs weights under: model-<sha256[:12]>.keras, and model.keras from before that.
MODEL_FILE = re.compile(r"model(-[0-9a-f]{12})?\.keras")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_file_name(digest: str) -> str:
    """Weights are installed under a name of their own content, so a name never changes what it holds."""
    return f"model-{digest[:12]}.keras"


@contextmanager
def deferred_interrupt():
    """Hold Ctrl-C while the output folder is changed, so it ends either before the change or after it."""
    caught = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def installed_file(out_dir: Path) -> str | None:
    """The weights file the folder's model.json names, when it is a plain name inside the folder."""
    try:
        meta = json.loads((Path(out_dir) / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = meta.get("file") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name and Path(name).name == name else None


def remove_leftovers(out_dir: Path) -> list[str]:
    """Remove what a killed save left in ``out_dir``: staging folders, temp files, weights nothing names.

    Weights are only removed while model.json names other weights that are there, so a folder in an
    unexpected state keeps every model file for a person to look at.
    """
    out_dir = Path(out_dir)
    current = installed_file(out_dir)
    current_ok = current is not None and (out_dir / current).is_file()
    removed = []
    for p in sorted(out_dir.iterdir()) if out_dir.is_dir() else []:
        if p.name.startswith(STAGING_PREFIX) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file():  # core/atomic.py's temp files
            p.unlink(missing_ok=True)
        elif current_ok and p.name != current and MODEL_FILE.fullmatch(p.name) and p.is_file():
            p.unlink(missing_ok=True)
        else:
            continue
        removed.append(p.name)
    return removed


def install_problems(out_dir: Path) -> list[str]:
    """What in ``out_dir`` does not belong to the model its model.json names (empty: all of it does)."""
    out_dir = Path(out_dir)
    try:
        meta = json.loads((out_dir / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["model.json is missing or damaged"]
    name = meta.get("file", "")
    if not (out_dir / name).is_file():
        return [f"{name}, which model.json names, is missing"]
    problems = []
    if sha256_file(out_dir / name) != meta.get("sha256"):
        problems.append(f"{name} does not match the sha256 in model.json")
    report = out_dir / "report.md"
    heading = f"# Fashion Lens model report: `{name}`"  # training/report.py's first line
    if not (report.is_file() and report.read_text(encoding="utf-8").startswith(heading)):
        problems.append("report.md describes another model")
    if (out_dir / "imbalance.json").is_file() and "imbalance_study" not in meta:
        problems.append("the imbalance study (imbalance.json) is not in model.json")
    return problems


def _with_imbalance_study(meta: dict, out_dir: Path) -> dict:
    """``meta`` with the folder's imbalance.json (``python -m training imbalance``) folded in, if any."""
    path = out_dir / "imbalance.json"
    if not path.is_file():
        return meta
    try:
        return {**meta, "imbalance_study": json.loads(path.read_text(encoding="utf-8"))}
    except (OSError, ValueError) as exc:  # an hour of training is not thrown away over a side file
        print(f"warning: {path} left out of model.json ({exc})", file=sys.stderr)
        return meta


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk (a power cut, not only a kill, keeps the order)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # folders cannot be opened on Windows, where a rename is durable without it
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_outputs(out_dir: Path, shipped, meta: dict, cm=None, report_md_fn=None) -> dict:
    """Install a new model in ``out_dir``: its weights, model.json, report.md and confusion_matrix.png.

    The loader reads model.json and then the weights file it names, checking the file's sha256. So the
    new weights go in beside the old ones under a name of their own content (``model_file_name``), and
    one ``os.replace`` of model.json, the commit point, switches from the old model to the new one.
    Then report.md and the confusion matrix are replaced and the old weights removed. Whatever stops
    the save (an error, Ctrl-C, a kill), model.json and the file it names are the old pair or the new
    pair. Ctrl-C is held from the first file moved into the folder to the last, so an interrupt ends
    the save before anything changed or after all of it; a kill can leave a staging folder or unnamed
    weights, which the next save removes (``remove_leftovers``) and build.spec does not bundle.
    The folder's imbalance study is folded into model.json before the commit, so it is never missing.
    Without ``cm`` and ``report_md_fn`` (the segmenter) only the weights and model.json are installed.
    """
    from training.report import confusion_png

    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    # Staged inside out_dir so that every os.replace below stays on one file system, hence atomic.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=STAGING_PREFIX) as staging:
        staged = Path(staging)
        shipped.save(staged / "model.keras")
        digest = sha256_file(staged / "model.keras")
        name = model_file_name(digest)
        meta = {
            **meta,
            "file": name,
            "sha256": digest,
            "file_bytes": (staged / "model.keras").stat().st_size,
            "parameters": int(shipped.count_params()),
        }
        meta = _with_imbalance_study(meta, out_dir)
        (staged / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        docs = []
        if cm is not None and report_md_fn is not None:
            (staged / "confusion_matrix.png").write_bytes(confusion_png(cm))
            (staged / "report.md").write_text(report_md_fn(meta), encoding="utf-8")
            docs = ["confusion_matrix.png", "report.md"]
        for f in staged.iterdir():
            f.chmod(0o644)
            _fsync(f)
        with deferred_interrupt():
            previous = installed_file(out_dir)
            os.replace(staged / "model.keras", out_dir / name)  # nothing names it yet
            _fsync(out_dir)
            os.replace(staged / "model.json", out_dir / "model.json")  # the commit point
            _fsync(out_dir)
            for doc in docs:
                os.replace(staged / doc, out_dir / doc)
            if previous and previous != name and MODEL_FILE.fullmatch(previous):
                (out_dir / previous).unlink(missing_ok=True)
            _fsync(out_dir)
    return meta


def install_imbalance_study(out_dir: Path, study: dict, report_md_fn) -> None:
    """Write imbalance.json and fold it into the folder's model.json and report.md, Ctrl-C held."""
    from fashion_desktop.core.atomic import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    with deferred_interrupt():
        atomic_write_text(out_dir / "imbalance.json", json.dumps(study, indent=2) + "\n")
        try:
            meta = json.loads((out_dir / "model.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return  # no model here yet: the next save folds it in
        meta["imbalance_study"] = study  # "file" and "sha256" stay: the model itself is unchanged
        atomic_write_text(out_dir / "model.json", json.dumps(meta, indent=2) + "\n")
        atomic_write_text(out_dir / "report.md", report_md_fn(meta))
