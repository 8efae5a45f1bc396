"""Compares training on long-tailed data with and without an imbalance-aware method."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from fashion_desktop.core import CLASS_NAMES, NUM_CLASSES


def study(base, ratio: float, strategies: list[str], out_dir: Path, command: str) -> dict:
    """Train ``base.arch`` once per strategy on the same long-tailed set; test on the balanced test set."""
    from training import train as tr
    from training.evaluate import class_metrics, confusion_matrix, predict_proba

    runs = {}
    for strategy in strategies:
        cfg = replace(base, imbalance=ratio, balance=strategy)
        tr.setup(cfg.seed)
        ds, train = tr.prepare_data(cfg)
        print(f"[{strategy}] {len(train.y)} long-tailed training images", file=sys.stderr)
        model = tr.fit(cfg, train, ds.val)
        pred = predict_proba(model, ds.test.x).argmax(axis=1)
        metrics = class_metrics(confusion_matrix(ds.test.y, pred))
        rarest = [CLASS_NAMES[c] for c in cfg.rare_order[-3:]]
        metrics["rarest3_recall"] = float(np.mean([metrics["per_class_recall"][n] for n in rarest]))
        runs[strategy] = metrics
        print(
            f"[{strategy}] accuracy {metrics['accuracy']:.4f} balanced {metrics['balanced_accuracy']:.4f}",
            file=sys.stderr,
        )
    from training.data import long_tail_counts

    result = {
        "command": command,
        "ratio": ratio,
        "arch": base.arch,
        "epochs": base.epochs,
        "rare_order": list(base.rare_order),
        "train_counts": long_tail_counts(int(np.bincount(ds.train.y, minlength=NUM_CLASSES).min()), ratio).tolist(),
        "runs": runs,
    }
    from training.install import install_imbalance_study
    from training.report import markdown

    install_imbalance_study(out_dir, result, markdown)
    return result
