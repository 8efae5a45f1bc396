"""Does a separate path for blurry pictures help? Sharpening before the model, on the blurred test sets.

The seed design asked for an edge-based path for pictures judged blurry. This measures the simplest
honest version: unsharp masking of the model input, with strength tied to how blurry the picture is,
against feeding the blurred picture as it is. Run: ``.venv/bin/python benchmarks/blur_path.py``.
Last line: key=value figures (accuracy without and with sharpening, per condition).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def sharpen(images, amount: float, sigma: float = 1.0):
    import cv2
    import numpy as np

    out = np.empty_like(images)
    for i, img in enumerate(images):
        f = img.astype(np.float32)
        out[i] = np.clip(cv2.addWeighted(f, 1 + amount, cv2.GaussianBlur(f, (0, 0), sigma), -amount, 0), 0, 255)
    return out


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from fashion_desktop.core.classifier import Classifier
    from training.data import load_raw
    from training.evaluate import blurred_test_sets

    clf = Classifier.load()
    _, test, _ = load_raw()
    figures = {}
    for name, images in blurred_test_sets(test.x).items():
        base = float((clf.predict(images).argmax(1) == test.y).mean())
        line = f"{name:<14} as is {100 * base:6.2f}%"
        figures[f"{name}_plain"] = round(base, 4)
        for amount in (0.5, 1.0, 2.0):
            acc = float((clf.predict(sharpen(images, amount)).argmax(1) == test.y).mean())
            line += f"   sharpen x{amount:g} {100 * acc:6.2f}%"
            figures[f"{name}_sharpen{amount:g}"] = round(acc, 4)
        print(line, flush=True)
    gain = max(
        np.mean([figures[f"{n}_sharpen{a:g}"] - figures[f"{n}_plain"] for n in ("gaussian_1.5", "gaussian_2.0")])
        for a in (0.5, 1.0, 2.0)
    )
    figures["best_mean_gain_on_gaussian_1.5_2.0"] = round(float(gain), 4)
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
