"""Set an installed classifier's "known" threshold again by the current rule, without retraining.

``python -m training recalibrate --model-dir DIR`` scores the model in DIR on its held-out photos exactly
as training's evaluation does (``train.evaluate_photos`` and ``evaluate_other_sources``, with the photo
sources and seed its model.json records), sets the threshold by ``photo_eval.threshold_for``, and rewrites
model.json's threshold and held-out photo figures (and report.md where there is one), atomically. The
weights and their sha256 stay. For a change to the calibration rule: the model.json is then what the
command that built the model would write today. model.json's ``recalibrated`` records this command and the
threshold it replaced.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from training.data import DataError


def _config(meta: dict):
    """The training configuration model.json records: the colour model's, or the 28 x 28 one's."""
    from training.colour import ColourConfig
    from training.train import TrainConfig

    kind = ColourConfig if meta["input"]["shape"][-1] == 3 else TrainConfig
    names = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in meta["training"].items() if k in names}), kind is ColourConfig


def run(model_dir: Path, command: str) -> dict:
    """Recalibrate the model in ``model_dir``; returns its new model.json."""
    from fashion_desktop.core.atomic import atomic_write_text
    from fashion_desktop.core.model_files import ModelError, load_checked_model, read_metadata
    from training import train
    from training.install import deferred_interrupt

    model_dir = Path(model_dir)
    try:
        meta = read_metadata(model_dir)
        cfg, colour = _config(meta)
        if not cfg.photos or meta.get("known_threshold") is None:
            raise DataError(f"{model_dir} was trained without --photos: it has no known threshold to set")
        model = load_checked_model(model_dir, meta)  # its sha256 matched and the archive vetted, as the app does
    except ModelError as exc:
        raise DataError(f"not recalibrating: {exc}") from None
    photos = train.evaluate_photos(model, cfg, colour=colour)
    others = train.evaluate_other_sources(model, cfg, photos["known_threshold"], colour=colour)
    previous = meta["known_threshold"]
    meta["metrics"] = {**meta["metrics"], "real_photos": photos, **others}
    meta["known_threshold"] = photos["known_threshold"]
    meta["recalibrated"] = {"command": command, "previous_threshold": previous}
    with deferred_interrupt():  # model.json and report.md change together or not at all on Ctrl-C
        atomic_write_text(model_dir / "model.json", json.dumps(meta, indent=2) + "\n")
        if (model_dir / "report.md").exists():
            from training.report import markdown

            atomic_write_text(model_dir / "report.md", markdown(meta))
    return meta
