"""Keeps the figures in README.md and docs/ true to resources/model/model.json and to the benchmarks.

    .venv/bin/python scripts/check_docs.py            # check; exit 1 with what is out of date
    .venv/bin/python scripts/check_docs.py --write    # regenerate the figure tables from model.json
    .venv/bin/python benchmarks/real_photos.py | .venv/bin/python scripts/check_docs.py \
        --last-line benchmarks/real_photos.py [--write]   # a fresh last line against the recorded one

What it checks, in README.md, CONTRIBUTING.md and docs/*.md:

- every figure table between ``<!-- figures:start NAME -->`` and ``<!-- figures:end -->`` (NAME omitted:
  ``headline``) is exactly what this script makes from model.json; README.md and docs/model-card.md
  must have the headline table;
- the command that built the bundled model (``training.command`` in model.json) is quoted in
  docs/training.md and docs/model-card.md;
- every source file the docs name exists (``core/images.py``, ``training/install.py``, ``tests/...``),
  so a renamed module is caught, and so does every ``benchmarks/NAME.py`` they name;
- every benchmark in benchmarks/ has its own ``## `benchmarks/NAME.py` `` section in docs/benchmarks.md,
  and every last line recorded there (a code block after ``<!-- last-line benchmarks/NAME.py -->``) is
  ``key=value`` pairs;
- with ``--last-line``: the last ``key=value`` line of standard input against the recorded one, key by
  key (``--write`` records the new one).

Standard library only (no TensorFlow), so tests/unit/test_docs.py runs it in well under a second.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_JSON = ROOT / "resources" / "model" / "model.json"
BENCHMARKS_MD = ROOT / "docs" / "benchmarks.md"

BLOCK = re.compile(r"(<!-- figures:start(?: (?P<name>[\w-]+))? -->\n)(?P<body>.*?)(<!-- figures:end -->)", re.S)
LAST_LINE = re.compile(r"<!-- last-line (?P<script>benchmarks/[\w.-]+\.py) -->\n```(?:text)?\n(?P<line>[^\n]*)\n```")
BENCHMARK_NAMED = re.compile(r"benchmarks/([a-z0-9_]+)\.py")  # NAME.py is a placeholder
# Source files the docs name: core/x.py, ui/x.py, web/x.py (under fashion_desktop/), and paths under
# training/, tests/, scripts/, benchmarks/. Lower case only: benchmarks/NAME.py is a placeholder.
SOURCE_NAMED = re.compile(
    r"(?<![\w/.-])((?:fashion_desktop/)?(?:core|ui|web)/[a-z0-9_]+\.py|fashion_desktop/[a-z0-9_]+\.py"
    r"|(?:training|tests|scripts|benchmarks)/[a-z0-9_/]+\.(?:py|sh|csv))"
)

# The targets of the project's issues (#2 for Fashion-MNIST, the real-photos issue for photos).
ACCURACY_ROWS = [
    ("clean", "clean", 0.94),
    ("gaussian_1.0", "Gaussian blur sigma 1.0", 0.925),
    ("gaussian_1.5", "Gaussian blur sigma 1.5", 0.91),
    ("gaussian_2.0", "Gaussian blur sigma 2.0", 0.88),
    ("motion_5", "motion blur 5 px", None),
    ("motion_7", "motion blur 7 px", 0.90),
]


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def _target(value: float, target: float | None, at_most: bool = False) -> str:
    if target is None:
        return ""
    met = value <= target if at_most else value >= target
    return f"{'<=' if at_most else '>='} {100 * target:g}% ({'met' if met else '**missed**'})"


def _table(rows: list[tuple[str, str, str]], head: tuple[str, str, str]) -> str:
    lines = [f"| {head[0]} | {head[1]} | {head[2]} |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"


def headline(meta: dict) -> str:
    """The current model's figures: Fashion-MNIST clean and blurred, held-out real photos, the model."""
    acc = meta["metrics"]["accuracy"]
    rows = [
        (f"Fashion-MNIST test set, {label}", _pct(acc[key], 2), _target(acc[key], t)) for key, label, t in ACCURACY_ROWS
    ]
    rp = meta["metrics"].get("real_photos")
    if rp:
        n_known, n_unknown = rp["n_known"], rp["n_unknown"]
        false_unknown = rp["known_judged_unknown_cross_fitted"]
        rows += [
            (
                f"held-out real photos ({n_known} of the ten classes), top-1 by folder",
                _pct(rp["top1"]),
                _target(rp["top1"], 0.80),
            ),
            ("lowest folder, top-1", _pct(rp["min_folder_top1"]), _target(rp["min_folder_top1"], 0.50)),
            ("the same photos by their own label", _pct(rp["top1_labelled"]), ""),
            (
                f"hat, shorts and skirt photos ({n_unknown}) judged unknown, cross-fitted",
                _pct(rp["unknown_detected_cross_fitted"]),
                _target(rp["unknown_detected_cross_fitted"], 0.80),
            ),
            (
                "known-class photos judged unknown, cross-fitted",
                f"{_pct(false_unknown)} ({round(false_unknown * n_known)} of {n_known})",
                _target(false_unknown, 0.10, at_most=True),
            ),
        ]
    rows += [
        ("parameters / file", f"{meta['parameters']:,} / {meta['file_bytes'] / 1e6:.2f} MB", "<= 1,000,000 parameters"),
        ("known threshold", f"{meta['known_threshold']:.3f} on {meta.get('known_score', 'top probability')}", ""),
    ]
    return _table(rows, ("measured on", "figure", "target"))


def per_class(meta: dict) -> str:
    """Recall per class: clean and at Gaussian 2.0 (Fashion-MNIST), and held-out real photos by label."""
    clean = meta["metrics"]["clean"]["per_class_recall"]
    g2 = meta["metrics"]["per_condition"]["gaussian_2.0"]["per_class_recall"]
    photos = meta["metrics"].get("real_photos", {}).get("per_class", {})
    lines = ["| class | clean | Gaussian 2.0 | real photos by label |", "| --- | --- | --- | --- |"]
    for name in meta["class_names"]:
        p = photos.get(name)
        real = f"{_pct(p['top1'])} ({round(p['top1'] * p['n'])} of {p['n']})" if p else "none held out"
        lines.append(f"| {name} | {_pct(clean[name])} | {_pct(g2[name])} | {real} |")
    return "\n".join(lines) + "\n"


def real_photo_folders(meta: dict) -> str:
    """Held-out real photos per folder: top-1 (known folders) or the share judged unknown (the others)."""
    folders = meta["metrics"]["real_photos"]["per_folder"]
    lines = ["| folder | photos | top-1 by folder | by label | judged unknown |", "| --- | --- | --- | --- | --- |"]
    for name, f in sorted(folders.items()):
        if "top1" in f:
            lines.append(f"| {name} | {f['n']} | {_pct(f['top1'])} | {_pct(f['top1_labelled'])} | |")
        else:
            lines.append(f"| {name} | {f['n']} | | | {_pct(f['judged_unknown'])} |")
    return "\n".join(lines) + "\n"


def imbalance(meta: dict) -> str:
    """The long-tailed study (python -m training imbalance), per strategy."""
    study = meta["imbalance_study"]
    lines = [
        "| strategy | accuracy = balanced accuracy | macro-F1 | recall of the 3 rarest classes |",
        "| --- | --- | --- | --- |",
    ]
    for name, run in study["runs"].items():
        figures = (_pct(run[k], 2) for k in ("balanced_accuracy", "macro_f1", "rarest3_recall"))
        lines.append(f"| `{name}` | " + " | ".join(figures) + " |")
    runs = study["runs"]
    if "none" in runs and "logit-adjust" in runs:
        gain = 100 * (runs["logit-adjust"]["balanced_accuracy"] - runs["none"]["balanced_accuracy"])
        lines += ["", f"Logit adjustment: {gain:+.2f} points of balanced accuracy over `none` (target: at least +3)."]
    return "\n".join(lines) + "\n"


GENERATORS = {
    "headline": headline,
    "per-class": per_class,
    "real-photo-folders": real_photo_folders,
    "imbalance": imbalance,
}


def documents() -> list[Path]:
    docs = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [p for p in docs if p.is_file()]


def regenerate(text: str, meta: dict) -> str:
    def fill(m: re.Match) -> str:
        name = m.group("name") or "headline"
        if name not in GENERATORS:
            raise KeyError(f"unknown figures block {name!r} (known: {', '.join(GENERATORS)})")
        return m.group(1) + GENERATORS[name](meta) + m.group(4)

    return BLOCK.sub(fill, text)


def missing_sources(text: str) -> list[str]:
    """The source paths ``text`` names that are not in the repository (core/x.py is fashion_desktop/core/x.py)."""
    names = sorted(set(SOURCE_NAMED.findall(text)))
    return [n for n in names if not (ROOT / n).is_file() and not (ROOT / "fashion_desktop" / n).is_file()]


def parse_line(line: str) -> dict[str, str]:
    pairs = line.split()
    if not pairs or not all("=" in p and not p.startswith("=") for p in pairs):
        raise ValueError(f"not key=value pairs: {line!r}")
    return dict(p.split("=", 1) for p in pairs)


def problems(meta: dict | None = None) -> list[str]:
    """Everything out of date, one message each (empty when the docs are current)."""
    meta = meta if meta is not None else json.loads(MODEL_JSON.read_text(encoding="utf-8"))
    found: list[str] = []
    texts = {p: p.read_text(encoding="utf-8") for p in documents()}
    for path, text in texts.items():
        rel = path.relative_to(ROOT)
        try:
            fresh = regenerate(text, meta)
        except KeyError as exc:
            found.append(f"{rel}: {exc.args[0]}")
            continue
        if fresh != text:
            found.append(f"{rel}: a figures table no longer matches model.json (run scripts/check_docs.py --write)")
        for name in sorted(set(BENCHMARK_NAMED.findall(text))):
            if not (ROOT / "benchmarks" / f"{name}.py").is_file():
                found.append(f"{rel}: names benchmarks/{name}.py, which does not exist")
        for name in missing_sources(text):
            if not name.startswith("benchmarks/"):
                found.append(f"{rel}: names {name}, which does not exist (renamed?)")
    for name in ("README.md", "docs/model-card.md"):
        if (ROOT / name).is_file() and not BLOCK.search(texts.get(ROOT / name, "")):
            found.append(f"{name}: has no <!-- figures:start --> table")
    command = meta.get("training", {}).get("command")
    for name in ("docs/training.md", "docs/model-card.md"):
        if command and command not in texts.get(ROOT / name, ""):
            found.append(f"{name}: does not quote the command that built the model: {command}")
    bench_text = texts.get(BENCHMARKS_MD, "")
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        if f"## `benchmarks/{script.name}`" not in bench_text:
            found.append(f"docs/benchmarks.md: no section '## `benchmarks/{script.name}`'")
    for m in LAST_LINE.finditer(bench_text):
        try:
            parse_line(m.group("line"))
        except ValueError as exc:
            found.append(f"docs/benchmarks.md, {m.group('script')}: recorded last line is {exc}")
    return found


def compare_last_line(script: str, output: str, write: bool) -> int:
    lines = [ln for ln in output.splitlines() if ln.strip()]
    if not lines:
        print("check_docs: no output on standard input", file=sys.stderr)
        return 2
    fresh = parse_line(lines[-1].strip())
    text = BENCHMARKS_MD.read_text(encoding="utf-8")
    m = next((m for m in LAST_LINE.finditer(text) if m.group("script") == script), None)
    if m is None:
        print(f"check_docs: docs/benchmarks.md records no last line for {script}", file=sys.stderr)
        return 2
    if write:
        BENCHMARKS_MD.write_text(text[: m.start("line")] + lines[-1].strip() + text[m.end("line") :], encoding="utf-8")
        print(f"recorded {script}'s last line in docs/benchmarks.md; update the figures quoted beside it")
        return 0
    recorded = parse_line(m.group("line"))
    changed = [
        f"  {k}: recorded {v}, now {fresh.get(k, '(missing)')}" for k, v in recorded.items() if fresh.get(k) != v
    ]
    new = [f"  {k}={v} (not recorded)" for k, v in fresh.items() if k not in recorded]
    for line in changed + new:
        print(line)
    if changed:
        print(f"{script}: {len(changed)} figure(s) differ from docs/benchmarks.md (--write records the new line)")
        return 1
    print(f"{script}: the recorded figures match")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="regenerate the figure tables (or record --last-line)")
    ap.add_argument("--last-line", metavar="benchmarks/NAME.py", help="compare standard input's last line")
    args = ap.parse_args(argv)
    if args.last_line:
        return compare_last_line(args.last_line, sys.stdin.read(), args.write)
    if args.write:
        meta = json.loads(MODEL_JSON.read_text(encoding="utf-8"))
        for path in documents():
            text = path.read_text(encoding="utf-8")
            fresh = regenerate(text, meta)
            if fresh != text:
                path.write_text(fresh, encoding="utf-8")
                print(f"updated {path.relative_to(ROOT)}")
    found = problems()
    for p in found:
        print(p)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
