"""Live camera classification through the real camera panel, from a 640x480 video played as the camera.

Writes a video of Fashion-MNIST test items (two of each class, negated to a product-on-white look and
enlarged over a cluttered room, with per-frame jitter and noise like a webcam), plays it in a loop at
its own frame rate through ``CameraPanel`` (offscreen unless a display is set) with the bundled model,
and measures what a person would see:

- classifications/s (target >= 20) and display FPS (target >= 30, i.e. every camera frame shown);
- frame-to-result latency, from the frame's arrival to its result reaching the GUI (median <= 60 ms);
- memory (RSS) after 1 minute and at the end (target: after 10 minutes within 50 MB of after 1 minute);
- how often the live result names the item shown (raw and smoothed), as a sanity figure.

Run: ``.venv/bin/python benchmarks/camera.py [--minutes 1.5] [--fps 30]`` (use --minutes 10 for the
memory target). Last line: key=value figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

WARMUP_S = 5.0  # not counted: the first frames, the first model calls
SETTLE_S = 0.35  # results this soon after a change of item are not counted for agreement


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc; falls back to the peak elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=1.5, help="how long to run (10 for the memory target)")
    ap.add_argument("--fps", type=float, default=30.0, help="frame rate of the video played as the camera")
    ap.add_argument("--seconds-per-item", type=float, default=2.0)
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import numpy as np
    from camera_video import write_item_video
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from fashion_desktop.core import CLASS_NAMES
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.core.frame_sources import VideoFileSource
    from fashion_desktop.ui.camera_panel import CameraPanel
    from training.data import load_raw

    _, test, _ = load_raw()
    rng = np.random.default_rng(0)
    picks = [int(i) for c in range(10) for i in rng.choice(np.flatnonzero(test.y == c), 2, replace=False)]
    rng.shuffle(picks)
    app = QApplication([sys.argv[0]])
    classifier = Classifier.load()
    duration = max(args.minutes * 60.0, WARMUP_S + 5.0)
    memory_mark = 60.0 if duration >= 75.0 else duration / 2  # the 1-minute reading (earlier in short runs)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "camera.avi"
        segments = write_item_video(path, test.x[picks], test.y[picks], args.fps, args.seconds_per_item)
        total_frames = segments[-1].last + 1
        label_of = np.empty(total_frames, np.int64)
        changed_at = np.empty(total_frames, np.int64)
        for seg in segments:
            label_of[seg.first : seg.last + 1] = seg.label
            changed_at[seg.first : seg.last + 1] = seg.first

        panel = CameraPanel(classifier, scan_cameras=False)
        panel.resize(1100, 650)
        panel.show()
        painted: list[tuple[float, int]] = []
        # Only figures are kept: holding on to the results (each with its frame) would be the leak measured.
        results: list[tuple] = []
        faults: list[str] = []
        memory: dict[str, float] = {}
        panel.view.frame_painted.connect(lambda index: painted.append((time.monotonic(), index)))
        panel.result_shown.connect(
            lambda r: results.append(
                (
                    time.monotonic(),
                    r.frame.captured,
                    r.frame.index,
                    r.analysis.prediction.label,
                    r.prediction.label,
                    r.analysis.total_ms,
                    (r.started - r.frame.captured) * 1e3,  # how old the newest frame was when taken
                    (r.finished - r.started) * 1e3,  # worker time for it
                )
            )
        )
        panel.fault.connect(faults.append)
        started = time.monotonic()
        panel.start_source(VideoFileSource(path, loop=True))

        def sample() -> None:
            elapsed = time.monotonic() - started
            if "at_mark" not in memory and elapsed >= memory_mark:
                memory["at_mark"] = rss_mb()
            if elapsed >= duration or faults:
                memory["end"] = rss_mb()
                app.quit()

        timer = QTimer()
        timer.timeout.connect(sample)
        timer.start(250)
        app.exec()
        panel.shutdown()
        if faults:
            raise SystemExit(f"the camera stopped: {faults[0]}")

    begin, end = started + WARMUP_S, time.monotonic()
    window = end - begin
    shown = [index for t, index in painted if t >= begin]
    counted = [r for r in results if r[0] >= begin]
    display_fps = len(shown) / window
    delivered = shown[-1] - shown[0] + 1 if shown else 0
    rate = len(counted) / window
    latencies = [(t - captured) * 1e3 for t, captured, *_ in counted]
    # A soak must not slow down: the first and the last minute's latency side by side.
    first_min = [(t - c) * 1e3 for t, c, *_ in counted if t < begin + 60] or latencies
    last_min = [(t - c) * 1e3 for t, c, *_ in counted if t >= end - 60] or latencies
    analysis_ms = [r[5] for r in counted]
    waited_ms = [r[6] for r in counted]
    worked_ms = [r[7] for r in counted]
    delivered_ms = [(t - captured) * 1e3 - wait - work for (t, captured, *_, wait, work) in counted]
    raw_ok = smooth_ok = judged = 0
    settle = round(SETTLE_S * args.fps)
    for _, _, index, raw_label, smoothed_label, *_ in counted:
        position = (index - 1) % total_frames
        if position - changed_at[position] < settle:
            continue
        judged += 1
        expected = CLASS_NAMES[label_of[position]]
        raw_ok += raw_label == expected
        smooth_ok += smoothed_label == expected

    print(f"video: {total_frames} frames of 640x480 at {args.fps:g} fps, looped for {window + WARMUP_S:.0f} s")
    print(f"display: {display_fps:.1f} FPS, {len(shown)} of {delivered} camera frames shown")
    print(
        f"classification: {rate:.1f}/s, analysis median {statistics.median(analysis_ms):.1f} ms, "
        f"latency median {statistics.median(latencies):.1f} ms, 90th percentile "
        f"{float(np.percentile(latencies, 90)):.1f} ms"
    )
    print(
        f"latency = frame age when taken {statistics.median(waited_ms):.1f} + worker "
        f"{statistics.median(worked_ms):.1f} + delivery to the GUI {statistics.median(delivered_ms):.1f} ms (medians)"
    )
    print(f"names the item shown: raw {100 * raw_ok / judged:.1f}%, smoothed {100 * smooth_ok / judged:.1f}%")
    print(f"memory: {memory['at_mark']:.1f} MB after {memory_mark / 60:.1f} min, {memory['end']:.1f} MB at the end")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    figures = dict(
        classifications_per_s=round(rate, 1),
        display_fps=round(display_fps, 1),
        source_fps=args.fps,
        frames_shown_ratio=round(len(shown) / max(1, delivered), 3),
        latency_median_ms=round(statistics.median(latencies), 1),
        latency_p90_ms=round(float(np.percentile(latencies, 90)), 1),
        latency_first_min_median_ms=round(statistics.median(first_min), 1),
        latency_last_min_median_ms=round(statistics.median(last_min), 1),
        analysis_median_ms=round(statistics.median(analysis_ms), 1),
        agreement_raw=round(raw_ok / judged, 3),
        agreement_smoothed=round(smooth_ok / judged, 3),
        rss_1min_mb=round(memory["at_mark"], 1),
        rss_first_at_min=round(memory_mark / 60, 2),
        rss_end_mb=round(memory["end"], 1),
        rss_growth_mb=round(memory["end"] - memory["at_mark"], 1),
        minutes=round((end - started) / 60, 2),
    )
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
