"""Start-up of the desktop app: launch to window shown, to model ready, to the first picture classified.

Launches ``python -m fashion_desktop --startup-report PICTURE`` a few times (offscreen unless a display
is set) and reads the times the app prints. Target: window shown within 1.5 s of launch.
Run: ``.venv/bin/python benchmarks/startup.py [--runs 3]``. Last line: key=value figures.
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


def startup_marks(stdout: str, launched: float) -> dict[str, float]:
    """Seconds from ``launched`` to each mark the app printed with --startup-report ("startup KEY=TIME")."""
    marks = {}
    for line in stdout.splitlines():
        if line.startswith("startup ") and "=" in line:
            key, value = line[len("startup ") :].split("=", 1)
            marks[key] = float(value) - launched
    return marks


def launch_once(picture: Path, timeout: float) -> dict[str, float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    launched = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "fashion_desktop", "--startup-report", str(picture)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    marks = startup_marks(proc.stdout, launched)
    if proc.returncode != 0 or "shown" not in marks:
        raise SystemExit(f"the app did not start (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return marks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()
    picture = sorted((REPO / "resources" / "samples").glob("*.jpg"))[0]
    runs = []
    for i in range(args.runs):
        marks = launch_once(picture, args.timeout)
        runs.append(marks)
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in marks.items()))
    figures = {f"{k}_s": statistics.median(r[k] for r in runs) for k in ("shown", "model", "result") if k in runs[0]}
    names = {"shown_s": "window_shown_s", "model_s": "model_ready_s", "result_s": "first_result_s"}
    print(" ".join(f"{names[k]}={v:.2f}" for k, v in figures.items()) + f" runs={args.runs} target_shown_s=1.5")


if __name__ == "__main__":
    main()
