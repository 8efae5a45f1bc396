"""Load on the window: open-picture requests fired as fast as the event loop takes them.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/load.py [--requests 1000] [--rounds 3]

The real MainWindow with the bundled model is sent ``--requests`` open_path calls back to back (the
samples in turn, each a real file decoded by the worker), ``--rounds`` times. A 5 ms heartbeat timer on
the GUI thread measures how long the event loop was kept from running (its longest gap less 5 ms).
Checks that only the latest request's result ends on screen, and how far the process's memory is from
where it was after the first round once all work is done. Targets: block <= 50 ms, memory within 20 MB.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

HEARTBEAT_MS = 5


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    import tempfile

    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.ui.main_window import MainWindow
    from fashion_desktop.ui.settings import Settings

    samples = sorted((ROOT / "resources" / "samples").glob("*.jpg"))
    settings = Settings.at(Path(tempfile.mkdtemp()) / "settings.ini")
    window = MainWindow(classifier=Classifier.load(), settings=settings)
    window.show()

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last_tick = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last_tick[0])
        last_tick[0] = now

    heartbeat = QTimer(interval=HEARTBEAT_MS, timerType=Qt.TimerType.PreciseTimer)
    heartbeat.timeout.connect(tick)

    def wait_until(condition, timeout_s: float = 120) -> None:
        end = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > end:
                raise SystemExit("timed out waiting for the window")
            app.processEvents()
            time.sleep(0.001)

    def one_round() -> tuple[float, int, bool]:
        """Fire the requests from the event loop, one per iteration, as fast as it turns."""
        shown_before = window._shown_request
        fired = [0]
        results_seen = [0]

        def count(_result) -> None:
            results_seen[0] += 1

        window.worker.finished.connect(count)

        def fire() -> None:
            path = samples[fired[0] % len(samples)]
            window.open_path(path)
            fired[0] += 1
            if fired[0] < args.requests:
                QTimer.singleShot(0, fire)

        gaps.clear()
        last_tick[0] = clock.elapsed()
        heartbeat.start()
        t = time.perf_counter()
        QTimer.singleShot(0, fire)
        wait_until(lambda: fired[0] == args.requests and window._shown_request == window._latest_request)
        took = time.perf_counter() - t
        for _ in range(20):  # let late signals in
            app.processEvents()
            time.sleep(0.01)
        heartbeat.stop()
        window.worker.finished.disconnect(count)
        last_name = samples[(args.requests - 1) % len(samples)].name
        latest_shown = window.last_result.name == last_name and window._shown_request > shown_before
        return took, results_seen[0], latest_shown

    wait_until(lambda: window.model_info is not None)
    one_round()  # warm-up: caches, Qt's image pools, the first allocations
    gc.collect()
    baseline = rss_mb()
    worst_block, computed, all_latest, took_total = 0.0, 0, True, 0.0
    for r in range(args.rounds):
        took, seen, latest = one_round()
        block = max(gaps) - HEARTBEAT_MS if gaps else 0.0
        worst_block = max(worst_block, block)
        computed += seen
        all_latest &= latest
        took_total += took
        print(f"round {r + 1}: {args.requests} requests in {took:.2f} s, {seen} computed, longest block {block:.1f} ms")
    gc.collect()
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    growth = rss_mb() - baseline
    window.close()
    window.worker.stop()
    print(
        f"requests={args.requests * args.rounds} computed={computed} latest_shown={int(all_latest)} "
        f"max_event_loop_block_ms={worst_block:.1f} memory_growth_mb={growth:.1f} "
        f"requests_per_s={args.requests * args.rounds / took_total:.0f} target_block_ms=50 target_growth_mb=20"
    )


if __name__ == "__main__":
    main()
