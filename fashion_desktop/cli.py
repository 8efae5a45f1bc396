"""``fashion-classify``: classify picture files and folders from the command line (table, JSON or CSV)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from fashion_desktop.core import CLASS_NAMES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fashion-classify", description="Classify fashion photos into the 10 Fashion-MNIST categories."
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="picture files, or folders searched recursively")
    p.add_argument("--json", action="store_true", help="one JSON object per line per input")
    p.add_argument("--csv", metavar="FILE", type=Path, help="also write the results to FILE (atomically)")
    p.add_argument("--top-k", type=int, default=1, metavar="K", help="show the K most likely categories (1-10)")
    p.add_argument("--model-dir", type=Path, help="folder with model.keras and model.json (default: bundled)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def _row(analysis, top_k: int) -> dict:
    pred, blur = analysis.prediction, analysis.blur
    row = {
        "path": analysis.source,
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
    return row


def _results(paths: list[Path], classifier, progress) -> Iterator[dict]:
    """Rows in input order; a file that fails becomes an error row and the run goes on."""
    from fashion_desktop.core.analysis import analyze_files, failure_message  # noqa: PLC0415

    for done, (path, result) in enumerate(analyze_files(paths, classifier), start=1):
        if isinstance(result, Exception):
            result = {"path": str(path), "error": failure_message(result)}
        yield result
        progress(done, len(paths))


def _progress_bar(enabled: bool):
    def show(done: int, total: int) -> None:
        if not enabled:
            return
        width = 30
        filled = int(width * done / total)
        end = "\n" if done == total else ""
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _table_line(row: dict, top_k: int) -> str:
    if "error" in row:
        return f"{row['path']}\n    error: {row['error']}"
    blur = "blurry" if row["blur"]["blurry"] else "sharp"
    label = row["label"] if row["known"] else f"{row['label']}?"
    line = f"{row['path']}\n    {label:<12} {100 * row['confidence']:5.1f}%   {blur} (score {row['blur']['score']:.2f})"
    if not row["known"]:
        line += "   not a fashion item I know"
    for extra in row.get("top_k", [])[1:]:
        line += f"\n    {extra['label']:<12} {100 * extra['probability']:5.1f}%"
    return line


CSV_FIELDS = ["path", "label", "index", "confidence", "known", "blur_score", "blur_threshold", "blurry", "error"] + [
    f"p_{name}" for name in CLASS_NAMES
]


def _csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        if "error" in r:
            writer.writerow({"path": r["path"], "error": r["error"]})
            continue
        flat = {k: r[k] for k in ("path", "label", "index", "confidence", "known")}
        flat.update(blur_score=r["blur"]["score"], blur_threshold=r["blur"]["threshold"], blurry=r["blur"]["blurry"])
        flat.update({f"p_{n}": p for n, p in zip(CLASS_NAMES, r["probabilities"])})
        writer.writerow(flat)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 1 <= args.top_k <= len(CLASS_NAMES):
        _parser().error(f"--top-k must be between 1 and {len(CLASS_NAMES)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from fashion_desktop.core.analysis import find_images  # noqa: PLC0415
    from fashion_desktop.core.classifier import Classifier, ModelError  # noqa: PLC0415

    missing = [p for p in args.paths if not Path(p).exists()]
    paths = find_images([p for p in args.paths if Path(p).exists()])
    try:
        classifier = Classifier.load(args.model_dir)
    except ModelError as exc:
        print(f"fashion-classify: {exc}", file=sys.stderr)
        return 1
    show_bar = not args.no_progress and sys.stderr.isatty() and len(paths) > 1
    rows = [{"path": str(p), "error": f"{p} does not exist"} for p in missing]
    for row in rows:
        print(json.dumps(row) if args.json else _table_line(row, args.top_k), flush=True)
    for item in _results(paths, classifier, _progress_bar(show_bar)):
        row = item if isinstance(item, dict) else _row(item, args.top_k)
        rows.append(row)
        print(json.dumps(row) if args.json else _table_line(row, args.top_k), flush=True)
    if args.csv:
        from fashion_desktop.core.atomic import atomic_write_text  # noqa: PLC0415

        atomic_write_text(args.csv, _csv_text(rows))
    if not rows:
        print("fashion-classify: no pictures found", file=sys.stderr)
        return 1
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
