"""The packaged app: folder, .deb and tarball sizes, the .deb's build time, and how fast the frozen and the
installed app start (launch to window shown, to model ready, to the first picture classified).

Runs ``packaging/build.sh --skip-app`` on the already built dist/FashionLens (``--build-app`` builds it
first), then launches ``FashionLens --startup-report PICTURE`` a few times on a virtual screen (Xvfb)
and, as root with ``--install``, installs the .deb, times the installed ``fashion-lens`` the same way
and removes it again. Targets: .deb <= 350 MB built in <= 180 s; installed window <= 1 s, first result
<= 6 s. Run: ``.venv/bin/python benchmarks/installers.py [--runs 3] [--install]``. Last line: key=value.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from startup import startup_marks  # noqa: E402 - benchmarks/startup.py, beside this script

from tests.packaging.conftest import Xvfb  # noqa: E402 - the same virtual screen the tests use


def build(build_app: bool) -> dict[str, str]:
    cmd = ["bash", str(REPO / "packaging" / "build.sh")] + ([] if build_app else ["--skip-app"])
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True).stdout
    print(out.strip())
    return dict(item.split("=", 1) for item in out.strip().splitlines()[-1].split())


def launch_once(cmd: list[str], display: str, picture: Path, timeout: float) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "FASHION_LENS"))}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", TF_CPP_MIN_LOG_LEVEL="2")
    launched = time.time()
    proc = subprocess.run(
        [*cmd, "--startup-report", str(picture)], env=env, capture_output=True, text=True, timeout=timeout
    )
    marks = startup_marks(proc.stdout, launched)
    if proc.returncode != 0 or "result" not in marks:
        raise SystemExit(f"{cmd[0]} did not start (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return marks


def startup(name: str, cmd: list[str], display: str, runs: int) -> dict[str, float]:
    picture = REPO / "resources" / "samples" / "trouser.jpg"
    launch_once(cmd, display, picture, 300)  # a first, cold run fills the page cache; not counted
    marks = [launch_once(cmd, display, picture, 300) for _ in range(runs)]
    for i, m in enumerate(marks):
        print(f"{name} run {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in m.items()))
    names = {"shown": "window_s", "model": "model_s", "result": "first_result_s"}
    return {f"{name}_{names[k]}": statistics.median(m[k] for m in marks) for k in names}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build-app", action="store_true", help="rebuild dist/FashionLens first")
    ap.add_argument("--install", action="store_true", help="install the .deb (root), time it, remove it")
    args = ap.parse_args()
    figures: dict[str, object] = dict(build(args.build_app))
    screen = Xvfb()
    try:
        frozen = [str(REPO / "dist" / "FashionLens" / "FashionLens")]
        figures.update(startup("frozen", frozen, screen.display, args.runs))
        if args.install:
            deb = sorted((REPO / "dist" / "packages").glob("fashion-lens_*.deb"))[-1]
            subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True)
            try:
                figures.update(startup("installed", ["fashion-lens"], screen.display, args.runs))
            finally:
                subprocess.run(["dpkg", "--purge", "fashion-lens"], check=True, capture_output=True)
    finally:
        screen.close()
    print(
        " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
        + f" runs={args.runs} target_deb_mb=350 target_deb_build_s=180 target_window_s=1 target_first_result_s=6"
    )


if __name__ == "__main__":
    main()
