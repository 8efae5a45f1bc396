"""The one JSON-ready row for an Analysis: what ``fashion-classify --json`` prints and the web API returns."""

from __future__ import annotations

import json
from pathlib import Path


def analysis_row(analysis, top_k: int = 1, path: str | None = None) -> dict:
    """``analysis`` as plain JSON values (rounded floats, no NaN): label, index, confidence, the ten
    probabilities, the blur verdict and the known verdict; ``top_k`` > 1 adds the K most likely classes.
    ``path`` names the picture (default: ``analysis.source``). A row whose figures are not finite numbers
    becomes ``{"path": ..., "error": ...}``: JSON has no NaN, and a score that is not a number is no answer.
    """
    pred, blur = analysis.prediction, analysis.blur
    row = {
        "path": path if path is not None else analysis.source,
        "label": pred.label,
        "index": pred.index,
        "confidence": round(pred.confidence, 6),
        "probabilities": [round(p, 6) for p in pred.probabilities],
        "blur": {"score": round(blur.score, 4), "threshold": round(blur.threshold, 4), "blurry": blur.blurry},
        "known": analysis.known.known,
        "known_score": round(analysis.known.score, 6),
        "known_threshold": round(analysis.known.threshold, 6),
    }
    if top_k > 1:
        row["top_k"] = [{"label": lab, "probability": round(p, 6)} for lab, p in pred.ranked()[:top_k]]
    items = getattr(analysis, "items", None)  # the other items of an outfit, once the pipeline reports them
    if items:
        row["items"] = [_item(item) for item in items]
    return _finite(row)


def _item(item) -> dict:
    if isinstance(item, dict):
        return item
    pred = getattr(item, "prediction", item)
    return {"label": pred.label, "index": pred.index, "confidence": round(pred.confidence, 6)}


def _finite(row: dict) -> dict:
    try:
        json.dumps(row, allow_nan=False)
    except ValueError:
        name = Path(row["path"]).name if row["path"] else "the picture"
        return {"path": row["path"], "error": f"{name}: the model's scores for it are not numbers (NaN or infinite)"}
    return row
