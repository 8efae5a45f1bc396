"""Fuzz load_image and the whole analyze path with the real bundled model: mutated real files and random bytes.

    .venv/bin/python benchmarks/fuzz.py [--examples 10000] [--save tests/data/fuzz]

Every input must give a picture or an ImageError, in under 2 s, holding under 1 GB more than before the
call. Inputs that break that are written to --save (replayed by tests/unit/test_fuzz.py). The last line
gives the counts: inputs, decoded, refused (ImageError), other exceptions, slow calls, big calls, and the
slowest call and largest per-call peak memory seen.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fuzz_inputs import hostile_files, peak_rss_mb, reset_peak_rss  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from fashion_desktop.core.analysis import analyze  # noqa: E402
from fashion_desktop.core.classifier import Classifier  # noqa: E402
from fashion_desktop.core.images import ImageError  # noqa: E402

SLOW_S, BIG_MB = 2.0, 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, default=ROOT / "tests" / "data" / "fuzz")
    args = parser.parse_args()

    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # thousands of "can't read header"
    classifier = Classifier.load()
    outcomes: Counter[str] = Counter()
    worst = {"time_s": 0.0, "peak_mb": 0.0}
    failures: list[str] = []

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=hostile_files())
    def one(data: bytes) -> None:
        base = reset_peak_rss()
        t = time.perf_counter()
        try:
            analyze(data, classifier)
            outcome = "decoded"
        except ImageError:
            outcome = "refused"
        except Exception as exc:  # counting exactly these is the point
            outcome = f"exception:{type(exc).__name__}"
        took, peak = time.perf_counter() - t, peak_rss_mb() - base
        worst["time_s"], worst["peak_mb"] = max(worst["time_s"], took), max(worst["peak_mb"], peak)
        outcomes["inputs"] += 1
        outcomes[outcome] += 1
        bad = outcome.startswith("exception") or took > SLOW_S or peak > BIG_MB
        outcomes["slow"] += took > SLOW_S
        outcomes["big"] += peak > BIG_MB
        if bad:
            args.save.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha256(data).hexdigest()[:16] + ".bin"
            (args.save / name).write_bytes(data)
            failures.append(f"{name}: {outcome}, {took:.2f} s, {peak:.0f} MB")

    import random

    random.seed(args.seed)
    t0 = time.perf_counter()
    one()
    elapsed = time.perf_counter() - t0
    for line in failures:
        print("kept", line)
    others = sum(v for k, v in outcomes.items() if k.startswith("exception"))
    print(
        f"inputs={outcomes['inputs']} decoded={outcomes['decoded']} refused={outcomes['refused']} "
        f"other_exceptions={others} slow_over_2s={outcomes['slow']} over_1gb={outcomes['big']} "
        f"slowest_s={worst['time_s']:.3f} max_call_peak_mb={worst['peak_mb']:.0f} elapsed_s={elapsed:.0f}"
    )


if __name__ == "__main__":
    main()
