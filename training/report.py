"""Writes the human-readable training report and the confusion-matrix picture."""

from __future__ import annotations

import cv2
import numpy as np

from fashion_desktop.core import CLASS_NAMES

CONDITION_LABELS = {
    "clean": "Clean",
    "gaussian_1.0": "Gaussian sigma 1.0",
    "gaussian_1.5": "Gaussian sigma 1.5",
    "gaussian_2.0": "Gaussian sigma 2.0",
    "motion_5": "Motion 5 px",
    "motion_7": "Motion 7 px",
}


def confusion_png(cm: list[list[int]]) -> bytes:
    """A labelled heat map of the confusion matrix (rows: true class, columns: predicted)."""
    cm = np.asarray(cm, float)
    cell, left, top = 54, 130, 120
    size = len(cm)
    img = np.full((top + cell * size + 40, left + cell * size + 20, 3), 255, np.uint8)
    rownorm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i in range(size):
        for j in range(size):
            shade = int(255 - 200 * rownorm[i, j])
            colour = (255, shade, shade) if i == j else (shade, shade, 255)
            x0, y0 = left + j * cell, top + i * cell
            cv2.rectangle(img, (x0, y0), (x0 + cell - 1, y0 + cell - 1), colour, -1)
            text = str(int(cm[i, j]))
            ink = (255, 255, 255) if rownorm[i, j] > 0.55 else (0, 0, 0)
            (tw, th), _ = cv2.getTextSize(text, font, 0.42, 1)
            cv2.putText(img, text, (x0 + (cell - tw) // 2, y0 + (cell + th) // 2), font, 0.42, ink, 1, cv2.LINE_AA)
        cv2.putText(img, CLASS_NAMES[i], (6, top + i * cell + cell // 2 + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    for j, name in enumerate(CLASS_NAMES):
        # Column labels are drawn rotated so that long names fit above narrow cells.
        label = np.full((cell, 110, 3), 255, np.uint8)
        cv2.putText(label, name, (2, cell // 2 + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        img[top - 112 : top - 2, left + j * cell : left + (j + 1) * cell] = cv2.rotate(
            label, cv2.ROTATE_90_COUNTERCLOCKWISE
        )
    cv2.putText(
        img,
        "true class (rows) vs predicted (columns)",
        (left, img.shape[0] - 14),
        font,
        0.45,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def _pct(v: float) -> str:
    return f"{100 * v:.2f}%"


def markdown(meta: dict) -> str:
    """report.md: what was trained, how, and every figure of the evaluation."""
    ev = meta["metrics"]
    lines = [
        f"# Fashion Lens model report: `{meta['file']}`",
        "",
        f"Built with `{meta['training']['command']}`",
        f"({meta['training']['duration_s'] / 60:.1f} min on {meta['training']['machine']}).",
        f"Architecture `{meta['training']['arch']}`, {meta['parameters']:,} parameters, "
        f"{meta['file_bytes'] / 1e6:.2f} MB.",
        "",
        "## Test accuracy (10,000 Fashion-MNIST test images)",
        "",
        "| condition | accuracy |",
        "| --- | --- |",
    ]
    lines += [f"| {CONDITION_LABELS.get(k, k)} | {_pct(v)} |" for k, v in ev["accuracy"].items()]
    lines += [
        "",
        "## Per-class recall",
        "",
        "| class | clean | " + " | ".join(CONDITION_LABELS[k] for k in ev["per_condition"]) + " |",
        "| --- " * (2 + len(ev["per_condition"])) + "|",
    ]
    for name in CLASS_NAMES:
        row = [_pct(ev["clean"]["per_class_recall"][name])]
        row += [_pct(c["per_class_recall"][name]) for c in ev["per_condition"].values()]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    lines += [
        "",
        f"Balanced accuracy {_pct(ev['clean']['balanced_accuracy'])}, "
        f"macro-F1 {_pct(ev['clean']['macro_f1'])} (clean).",
        "",
        "![confusion matrix](confusion_matrix.png)",
        "",
    ]
    if ev.get("real_photos"):
        lines += photos_markdown(ev["real_photos"], meta["training"].get("photos"))
    if meta.get("imbalance_study"):
        lines += imbalance_markdown(meta["imbalance_study"])
    return "\n".join(lines)


def imbalance_markdown(study: dict) -> list[str]:
    runs = study["runs"]
    names = list(runs)
    lines = [
        f"## Long-tailed training (ratio {study['ratio']:g})",
        "",
        f"`{study['command']}`: the `{study['arch']}` design trained on a long-tailed copy of the training "
        f"set ({study['train_counts']} images per class, most to least frequent in the order "
        f"{study['rare_order']}); the test set stays balanced.",
        "",
        "| figure | " + " | ".join(f"`{n}`" for n in names) + " |",
        "| --- " * (1 + len(names)) + "|",
    ]
    for key, label in (
        ("accuracy", "accuracy"),
        ("balanced_accuracy", "balanced accuracy"),
        ("macro_f1", "macro-F1"),
        ("rarest3_recall", "recall of the 3 rarest classes"),
    ):
        lines.append(f"| {label} | " + " | ".join(_pct(runs[n][key]) for n in names) + " |")
    for name in CLASS_NAMES:
        lines.append(f"| recall {name} | " + " | ".join(_pct(runs[n]["per_class_recall"][name]) for n in names) + " |")
    return lines + [""]


def photos_markdown(rp: dict, root: str | None) -> list[str]:
    lines = [
        "## Held-out real photos",
        "",
        f"Photos from `{root}` never trained on ({rp['n_known']} of known classes, {rp['n_unknown']} of "
        "hats, shorts and skirts), through the app's own `prepare`. By folder, a folder that allows several "
        "classes counts as right when the prediction is one of them; by label, each photo is judged by its "
        "own classes from `training/photo_labels.csv` (shoes and long-sleeved tops), else its folder's.",
        "",
        f"Top-1 by folder {_pct(rp['top1'])} (lowest folder {_pct(rp['min_folder_top1'])}), by label "
        f"{_pct(rp.get('top1_labelled', rp['top1']))}; "
        f"unknown items judged unrecognised {_pct(rp['unknown_detected'] or 0)}, known items judged "
        f"unrecognised {_pct(rp['known_judged_unknown'] or 0)} at threshold {rp['known_threshold']:.3f} "
        f"on the {rp.get('known_score', 'top probability')} score"
        + (
            f" (set on these photos; cross-fitted, each photo judged by a threshold set on the other "
            f"nine tenths: {_pct(rp['unknown_detected_cross_fitted'])} and "
            f"{_pct(rp['known_judged_unknown_cross_fitted'])})."
            if rp.get("known_judged_unknown_cross_fitted") is not None
            else "."
        ),
        "",
        "| folder | photos | top-1 by folder / judged unknown | top-1 by label |",
        "| --- | --- | --- | --- |",
    ]
    for folder, v in rp["per_folder"].items():
        figure = _pct(v["top1"]) if "top1" in v else f"{_pct(v['judged_unknown'])} unknown"
        labelled = _pct(v["top1_labelled"]) if "top1_labelled" in v else ""
        lines.append(f"| {folder} | {v['n']} | {figure} | {labelled} |")
    if rp.get("per_class"):
        lines += ["", "Photos with exactly one allowed class, per class:", "", "| class | photos | top-1 |"]
        lines.append("| --- | --- | --- |")
        for name, v in rp["per_class"].items():
            lines.append(f"| {name} | {v['n']} | {_pct(v['top1'])} |")
    return lines + [""]
