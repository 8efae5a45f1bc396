"""The packaged installer: build.spec gives a one-folder app that starts, loads the model and classifies.

Building takes minutes, so it runs only when asked: ``FASHION_LENS_TEST_PACKAGING=1 ./test.sh
tests/packaging`` (or point FASHION_LENS_FROZEN_APP at an already built dist/FashionLens/FashionLens).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not (os.environ.get("FASHION_LENS_TEST_PACKAGING") or os.environ.get("FASHION_LENS_FROZEN_APP")),
    reason="set FASHION_LENS_TEST_PACKAGING=1 to build and test the packaged app (takes minutes)",
)


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory) -> Path:
    if os.environ.get("FASHION_LENS_FROZEN_APP"):
        return Path(os.environ["FASHION_LENS_FROZEN_APP"])
    work = tmp_path_factory.mktemp("pyinstaller")
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--workpath",
        str(work / "build"),
        "--distpath",
        str(work / "dist"),
        str(REPO / "build.spec"),
    ]
    subprocess.run(cmd, cwd=REPO, check=True, timeout=1800)
    return work / "dist" / "FashionLens" / "FashionLens"


def test_frozen_app_self_test_classifies_a_bundled_sample(frozen_app):
    assert frozen_app.is_file()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("FASHION_LENS_RESOURCES", None)
    res = subprocess.run([str(frozen_app), "--self-test"], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "self-test ok" in res.stdout
    # The model came from inside the bundle, not from the source tree.
    assert str(frozen_app.parent) in res.stdout


def test_frozen_app_classifies_a_user_photo(frozen_app):
    photo = REPO / "resources" / "samples" / "trouser.jpg"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    res = subprocess.run(
        [str(frozen_app), "--self-test", str(photo)], env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "trouser.jpg -> " in res.stdout
