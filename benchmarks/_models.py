"""Not a benchmark: the model options the accuracy benchmarks share, and the classifier they load.

``--model-dir``, ``--photo-model-dir`` and ``--worn-model-dir`` pick the classifiers to measure (the
bundled ones by default), so two models can be compared side by side on the same pictures.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_model_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--model-dir", type=Path)
    ap.add_argument(
        "--photo-model-dir",
        type=Path,
        help="the model that judges photos (default: the bundled resources/photo_model); to compare two side by side",
    )
    ap.add_argument(
        "--worn-model-dir",
        type=Path,
        help="the model that judges garments on people (default: the bundled resources/worn_model, if any)",
    )


def load_classifier(args: argparse.Namespace, segmenter_dir: Path | None = None):
    """``Classifier.load`` with the options of :func:`add_model_options`."""
    from fashion_desktop.core.classifier import Classifier

    return Classifier.load(
        args.model_dir, segmenter_dir, photo_model_dir=args.photo_model_dir, worn_model_dir=args.worn_model_dir
    )
