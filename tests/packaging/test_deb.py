"""The .deb, installed for real (``dpkg -i``, as root): its launchers, its menu entry, its window under Xvfb,
and a removal that leaves nothing. The package is removed at the end even when a test fails.
See conftest.py for how to run these."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.packaging.conftest import SAMPLES, needs_packaging, run_json, user_env

pytestmark = needs_packaging

PACKAGE = "fashion-lens"
MAX_DEB_MB = 350
SCREENSHOT = os.environ.get("FASHION_LENS_SCREENSHOT")  # where to keep a picture of the installed window


def is_installed() -> bool:
    res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True)
    return "install ok installed" in res.stdout


def remove() -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg", "--purge", PACKAGE], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def deb(packaged) -> Path:
    if packaged["deb"] is None:
        pytest.skip("no .deb given (FASHION_LENS_DEB)")
    if shutil.which("dpkg") is None or os.geteuid() != 0:
        pytest.skip("installs the .deb: needs dpkg and root")
    return packaged["deb"]


@pytest.fixture(scope="module")
def installed(deb):
    if is_installed():
        pytest.skip(f"{PACKAGE} is installed on this machine already: remove it to run this test")
    files: list[str] = []
    try:
        res = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stdout + res.stderr
        files = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True).stdout.split()
        yield files
    finally:
        if is_installed():
            remove()


def test_the_deb_is_small_and_says_what_it_needs(deb):
    assert deb.stat().st_size <= MAX_DEB_MB * 1e6, f"{deb.stat().st_size / 1e6:.0f} MB"
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    depends = next(line for line in fields.splitlines() if line.startswith("Depends:"))
    for lib in ("libc6 (>=", "libgl1", "libegl1", "libxcb1", "fontconfig-config"):
        assert lib in depends


def test_it_installs_into_opt_with_launchers_and_a_menu_entry(installed):
    for path in (
        "/opt/fashion-lens/FashionLens",
        "/usr/bin/fashion-lens",
        "/usr/bin/fashion-classify",
        "/usr/share/applications/fashion-lens.desktop",
        "/usr/share/icons/hicolor/256x256/apps/fashion-lens.png",
    ):
        assert path in installed and Path(path).exists(), path
    desktop = Path("/usr/share/applications/fashion-lens.desktop").read_text()
    assert "Exec=fashion-lens %F" in desktop and "Icon=fashion-lens" in desktop
    if shutil.which("desktop-file-validate"):
        res = subprocess.run(["desktop-file-validate", "/usr/share/applications/fashion-lens.desktop"], text=True)
        assert res.returncode == 0


def test_the_installed_launcher_passes_its_self_test(installed, tmp_path):
    res, summary = run_json(["fashion-lens", "--self-test"], user_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert summary["ok"] is True and summary["model_dir"].startswith("/opt/fashion-lens/")


def test_fashion_classify_classifies_a_photo(installed, tmp_path):
    res = subprocess.run(
        ["fashion-classify", str(SAMPLES / "trouser.jpg")],
        env=user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Trouser" in res.stdout


def test_the_installed_app_opens_its_window_on_a_screen(installed, xvfb, tmp_path):
    env = user_env(tmp_path, DISPLAY=xvfb.display, QT_QPA_PLATFORM="xcb")
    output = tmp_path / "output.txt"
    with open(output, "wb") as sink:
        proc = subprocess.Popen(["fashion-lens", str(SAMPLES / "dress.jpg")], env=env, stdout=sink, stderr=sink)
    try:
        shown = xvfb.wait_for_window("Fashion Lens", timeout=90, alive=lambda: proc.poll() is None)
        assert shown is not None, (
            f"no Fashion Lens window (exit {proc.poll()}): {xvfb.window_names()[-1500:]}\n"
            + output.read_text(errors="replace")[-3000:]
        )
        if SCREENSHOT and shutil.which("import"):
            time.sleep(8)  # the model loads and the picture is classified
            subprocess.run(
                ["import", "-window", "root", SCREENSHOT], env={**os.environ, "DISPLAY": xvfb.display}, check=True
            )
        assert proc.poll() is None, output.read_text(errors="replace")[-3000:]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_removal_leaves_nothing_behind(installed):
    res = remove()
    assert res.returncode == 0, res.stdout + res.stderr
    assert not is_installed()
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True)
    assert "config-files" not in status.stdout
    left = [f for f in installed if Path(f).is_file() or (f.startswith("/opt/fashion-lens") and Path(f).exists())]
    assert not left, left[:20]
    assert not Path("/opt/fashion-lens").exists()
