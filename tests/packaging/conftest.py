"""The packaged app, built once per run: ``packaging/build.sh`` (the one-folder app from .venv-app, the .deb,
the tarball). Building takes minutes, so these tests run only when asked:

    FASHION_LENS_TEST_PACKAGING=1 ./test.sh tests/packaging      # builds, then tests (.ci/run does this)
    FASHION_LENS_FROZEN_APP=dist/FashionLens/FashionLens FASHION_LENS_DEB=dist/packages/x.deb ./test.sh tests/packaging
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

SAMPLES = REPO / "resources" / "samples"
ASKED = bool(
    os.environ.get("FASHION_LENS_TEST_PACKAGING")
    or os.environ.get("FASHION_LENS_FROZEN_APP")
    or os.environ.get("FASHION_LENS_DEB")
)
needs_packaging = pytest.mark.skipif(
    not ASKED, reason="set FASHION_LENS_TEST_PACKAGING=1 to build and test the packaged app (takes minutes)"
)


@pytest.fixture(scope="session")
def packaged() -> dict[str, Path]:
    """``app`` (the frozen executable) and ``deb``: given, or built by packaging/build.sh."""
    app, deb = os.environ.get("FASHION_LENS_FROZEN_APP"), os.environ.get("FASHION_LENS_DEB")
    if not (app or deb):
        subprocess.run(["bash", str(REPO / "packaging" / "build.sh")], cwd=REPO, check=True, timeout=1800)
        app = str(REPO / "dist" / "FashionLens" / "FashionLens")
        debs = sorted((REPO / "dist" / "packages").glob("fashion-lens_*.deb"), key=lambda p: p.stat().st_mtime)
        deb = str(debs[-1]) if debs else None
    return {"app": Path(app).resolve() if app else None, "deb": Path(deb).resolve() if deb else None}


def run_json(cmd: list[str], env: dict[str, str], timeout: float = 300) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a self-test; its last line of output is the JSON summary."""
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    lines = res.stdout.strip().splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else {}
    except ValueError:
        summary = {}
    return res, summary


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment with its own HOME, so nothing the app writes lands in the real one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASHION_LENS", "XDG_", "QT_"))}
    env.update(HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


def reference_probabilities() -> dict[str, list[float]]:
    """What the dev venv (tensorflow, not tensorflow-cpu) gives for each bundled sample, with the same
    bundled networks as the app (the photo model judges the samples, the segmenter looks for people)."""
    from fashion_desktop.core.analysis import analyze
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.resources import resources_dir

    assert resources_dir() == REPO / "resources"
    classifier = Classifier.load()
    return {p.name: list(analyze(p, classifier).prediction.probabilities) for p in sorted(SAMPLES.glob("*.jpg"))}


class Xvfb:
    """A virtual X screen for the window tests; ``display`` is ":N"."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as fh:
            self.display = ":" + fh.readline().strip()

    def window_names(self) -> str:
        res = subprocess.run(
            ["xwininfo", "-root", "-tree"], env={**os.environ, "DISPLAY": self.display}, capture_output=True, text=True
        )
        return res.stdout

    def wait_for_window(self, name: str, timeout: float, alive=lambda: True) -> float | None:
        """Seconds until a window whose title ends with ``name`` ("dress.jpg – Fashion Lens") and is larger
        than 100 x 100 is on the screen; None after ``timeout`` or once ``alive()`` says the app ended."""
        pattern = re.compile(r'"[^"\n]*' + re.escape(name) + r'": \([^)]*\)\s+(\d+)x(\d+)')
        started = time.monotonic()
        while time.monotonic() - started < timeout and alive():
            if any(int(w) > 100 and int(h) > 100 for w, h in pattern.findall(self.window_names())):
                return time.monotonic() - started
            time.sleep(0.05)
        return None

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def xvfb():
    if subprocess.run(["sh", "-c", "command -v Xvfb && command -v xwininfo"], capture_output=True).returncode:
        pytest.skip("needs Xvfb and xwininfo (apt-get install xvfb x11-utils)")
    screen = Xvfb()
    yield screen
    screen.close()
