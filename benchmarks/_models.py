"""Not a benchmark: the model options the accuracy benchmarks share, the classifier they load, and the CPU
threads the timing benchmarks give OpenCV and TensorFlow.

``--model-dir``, ``--photo-model-dir``, ``--worn-model-dir`` and ``--segmenter-dir`` pick the networks to
measure (the bundled ones by default), so two can be compared side by side on the same pictures.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def use_threads(n: int) -> None:
    """OpenCV and TensorFlow on ``n`` CPU threads each; call before anything else imports TensorFlow."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    os.environ["OMP_NUM_THREADS"] = str(n)
    import cv2
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)
    cv2.setNumThreads(n)


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
    ap.add_argument(
        "--segmenter-dir",
        type=Path,
        help="the garment segmenter, with its class counts by region (default: the bundled resources/segmenter)",
    )


def load_classifier(args: argparse.Namespace):
    """``Classifier.load`` with the options of :func:`add_model_options`."""
    from fashion_desktop.core.classifier import Classifier

    return Classifier.load(
        args.model_dir, args.segmenter_dir, photo_model_dir=args.photo_model_dir, worn_model_dir=args.worn_model_dir
    )
