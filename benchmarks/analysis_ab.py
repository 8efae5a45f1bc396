"""``analyze`` end to end against the ``core/analysis.py`` of another git revision, in one process.

Run: ``.venv/bin/python benchmarks/analysis_ab.py [--against HEAD] [--blocks 15] [--threads 1]``.
This shared 2-core machine's speed drifts by 20-30% within minutes, so two runs of ``pipeline.py`` cannot
tell a 3 ms change. Here both versions time the same two 1 MP pictures (pipeline.py's flat-lay and person)
in alternating blocks of 10 calls (after one unmeasured call, so work one version leaves on its side thread
does not land in the other's figures), and every picture is checked to give the same blur, edges, model
input, items and label in both. The other revision's analysis.py is loaded beside this checkout's, so it
runs with this checkout's prepare, segment and classifier modules: it compares the scheduling and the
code of analysis.py alone. Last line: key=value medians (ms) and the change.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _load_other(rev: str, tmp: Path):
    source = subprocess.run(
        ["git", "show", f"{rev}:fashion_desktop/core/analysis.py"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    path = tmp / "analysis_other.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("analysis_other", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["analysis_other"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--against", default="HEAD", help="git revision whose core/analysis.py is the baseline")
    ap.add_argument("--blocks", type=int, default=15, help="blocks of 10 timed calls per version and picture")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for OpenCV and TensorFlow (default 1)")
    args = ap.parse_args()
    from benchmarks._models import use_threads

    use_threads(args.threads)
    import cv2
    import numpy as np

    import fashion_desktop.core.analysis as this
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.core.images import load_image

    clf = Classifier.load()
    samples = REPO / "resources" / "samples"
    pictures = {  # as benchmarks/pipeline.py makes them
        "flat": cv2.resize(load_image(sorted(samples.glob("*.jpg"))[0]), (864, 1152), interpolation=cv2.INTER_CUBIC),
        "person": cv2.resize(load_image(samples / "people" / "outfit.jpg"), (816, 1232)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        other = _load_other(args.against, Path(tmp))
        paths = {}
        for name, rgb in pictures.items():
            paths[name] = Path(tmp) / f"{name}.jpg"
            cv2.imwrite(str(paths[name]), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        versions = {"this": this, "other": other}
        for name, path in paths.items():  # the same results, alone and serial, in both versions
            a, b = this.analyze(path, clf), other.analyze(path, clf, overlap=False)
            assert a.blur == b.blur and a.prediction.label == b.prediction.label, name
            np.testing.assert_array_equal(a.edges, b.edges)
            np.testing.assert_array_equal(a.model_input, b.model_input)
            assert [(i.region, i.box, i.prediction.label) for i in a.items] == [
                (i.region, i.box, i.prediction.label) for i in b.items
            ]
        times: dict[tuple[str, str], list[float]] = {}
        for block in range(args.blocks):
            order = ("this", "other") if block % 2 == 0 else ("other", "this")
            for version in order:
                analyze = versions[version].analyze
                for name, path in paths.items():
                    analyze(path, clf)
                    for _ in range(10):
                        t = time.perf_counter()
                        analyze(path, clf)
                        times.setdefault((version, name), []).append((time.perf_counter() - t) * 1e3)
    figures = {}
    for name in paths:
        for version in versions:
            v = times[(version, name)]
            figures[f"{name}_{version}_ms"] = round(statistics.median(v), 2)
            p10, *_, p90 = statistics.quantiles(v, n=10)
            print(f"{name:<7} {version:<6} median {statistics.median(v):6.2f} ms  p10 {p10:6.2f}  p90 {p90:6.2f}")
        figures[f"{name}_change_ms"] = round(figures[f"{name}_this_ms"] - figures[f"{name}_other_ms"], 2)
    figures.update(calls=args.blocks * 10, threads=args.threads)
    print(f"against {args.against}")
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
