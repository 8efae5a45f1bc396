"""The one JSON-ready row for an Analysis (what ``fashion-classify --json`` prints and the web API returns),
and the one CSV layout of such rows (``fashion-classify --csv`` and the window's Export CSV)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fashion_desktop.core import CLASS_NAMES


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
        "known": analysis.known.recognised,
        "known_score": round(analysis.known.score, 6),
        "known_threshold": round(analysis.known.threshold, 6),
    }
    if top_k > 1:
        row["top_k"] = [{"label": lab, "probability": round(p, 6)} for lab, p in pred.ranked()[:top_k]]
    # The outfit: which garment region the main result is (null: the whole item, no person found) and
    # every other garment found, each judged on its own crop.
    row["region"] = analysis.region
    row["items"] = [item_row(item) for item in analysis.items]
    return _finite(row)


def item_row(item) -> dict:
    """One more garment of an outfit (``analysis.Item``) as JSON values."""
    pred = item.prediction
    return {
        "label": pred.label,
        "confidence": round(pred.confidence, 6),
        "known": item.known.recognised,
        "box": list(item.box),
        "region": item.region,
    }


def _finite(row: dict) -> dict:
    try:
        json.dumps(row, allow_nan=False)
    except ValueError:
        name = Path(row["path"]).name if row["path"] else "the picture"
        return {"path": row["path"], "error": f"{name}: the model's scores for it are not numbers (NaN or infinite)"}
    return row


# One column per field of analysis_row, the probabilities flattened; ``items`` holds the outfit's others.
CSV_FIELDS = [
    "path", "label", "index", "confidence", "known", "blur_score", "blur_threshold", "blurry",
    "region", "items", "error",
] + [f"p_{name}" for name in CLASS_NAMES]  # fmt: skip


def csv_text(rows: list[dict]) -> str:
    """``rows`` (from :func:`analysis_row`, or ``{"path", "error"}`` for a file that failed) as CSV."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        if "error" in r:
            writer.writerow({"path": r["path"], "error": r["error"]})
            continue
        flat = {k: r[k] for k in ("path", "label", "index", "confidence", "known")}
        flat.update(blur_score=r["blur"]["score"], blur_threshold=r["blur"]["threshold"], blurry=r["blur"]["blurry"])
        flat.update(region=r.get("region") or "", items=_items_cell(r.get("items", ())))
        flat.update({f"p_{n}": p for n, p in zip(CLASS_NAMES, r["probabilities"])})
        writer.writerow(flat)
    return buf.getvalue()


def _items_cell(items) -> str:
    """The outfit's other items in one cell: ``Trouser 91%; Sneaker 77%``."""
    return "; ".join(f"{i['label']} {100 * i['confidence']:.0f}%" for i in items)
