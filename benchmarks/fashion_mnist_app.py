"""Fashion-MNIST test images written as PNG files and classified through ``fashion-classify``, clean and blurred,
against the bundled model's own accuracy on the same arrays.

    .venv/bin/python benchmarks/fashion_mnist_app.py [--n 2000]

The blurred copies are training/evaluate.py's (Gaussian sigma 1.0/1.5/2.0, motion 5 and 7 px at fixed
angles). The last line gives, per condition, the app's accuracy, the model's own, and the gap in points
(target: within 0.3).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from fashion_desktop.cli import main as classify  # noqa: E402
from fashion_desktop.core.classifier import Classifier  # noqa: E402
from training import data  # noqa: E402
from training.evaluate import blurred_test_sets  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="test images per condition (the first N)")
    args = parser.parse_args()
    _, test, _ = data.load_raw()
    x, y = test.x[: args.n], test.y[: args.n]
    model = Classifier.load()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, images in blurred_test_sets(x).items():
            folder = Path(tmp) / name
            folder.mkdir()
            for i, img in enumerate(images):
                cv2.imwrite(str(folder / f"{i:05d}.png"), img)
            own = float((model.predict(images).argmax(axis=1) == y).mean())
            out = io.StringIO()
            t = time.perf_counter()
            with contextlib.redirect_stdout(out):
                classify([str(folder), "--json", "--no-progress"])
            took = time.perf_counter() - t
            rows = [json.loads(line) for line in out.getvalue().splitlines()]
            assert len(rows) == len(images) and not any("error" in r for r in rows)
            app = float(np.mean([r["index"] == y[int(Path(r["path"]).stem)] for r in rows]))
            print(f"{name:<13} app {100 * app:6.2f}%  model {100 * own:6.2f}%  ({len(rows) / took:.0f} files/s)")
            figures[f"app_{name}"], figures[f"model_{name}"] = app, own
            figures[f"gap_{name}_points"] = 100 * (own - app)
    print(f"n={args.n} " + " ".join(f"{k}={v:.4f}" if "gap" not in k else f"{k}={v:.2f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
