"""``fashion-classify``: classify picture files and folders from the command line (table, JSON or CSV)."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Generator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fashion_desktop.core import CLASS_NAMES

if TYPE_CHECKING:
    from fashion_desktop.core.classifier import Classifier

PROG = "fashion-classify"

EPILOG = """\
exit status:
  0    every input was classified
  1    an input could not be classified, no pictures were found, the model could not be loaded,
       or the CSV file could not be written
  2    a usage error, or a --csv FILE that cannot be written (checked before anything runs)
  130  interrupted (Ctrl-C): the rows done so far are written to the CSV file
  141  the output was closed early (as in "| head"), like any program killed by SIGPIPE

File names are printed with control characters and bytes that are not UTF-8 escaped (\\x1b, \\xe9), so a
name cannot drive the terminal. JSON escapes them its own way (\\u001b, \\udce9). The CSV file is UTF-8,
but keeps a name that is not UTF-8 as the bytes the file system has (Python: errors="surrogateescape").
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Classify fashion photos into the 10 Fashion-MNIST categories.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="picture files, or folders searched recursively")
    p.add_argument("--json", action="store_true", help="one JSON object per line per input")
    p.add_argument("--csv", metavar="FILE", type=Path, help="also write the results to FILE (atomically)")
    p.add_argument("--top-k", type=int, default=1, metavar="K", help="show the K most likely categories (1-10)")
    p.add_argument("--model-dir", type=Path, help="folder with model.keras and model.json (default: bundled)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def shown(text: object) -> str:
    """``text`` safe to print on a terminal: control and other unprintable characters as Python escapes
    them (\\x1b, \\n, \\u202e), and a byte of a file name that is not UTF-8 as \\xNN."""
    out = []
    for ch in str(text):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    return "".join(out)


def _say(message: str) -> None:
    """A message on stderr, prefixed with the program's name; never raises (stderr may be gone too)."""
    try:
        print(f"{PROG}: {shown(message)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _results(
    paths: list[Path], classifier: Classifier, progress: _ProgressBar, total: int, before: int, top_k: int
) -> Generator[dict, None, None]:
    """Rows in input order; a file that fails becomes an error row and the run goes on. ``before`` rows
    of the ``total`` were done before these (inputs that could not be opened)."""
    from fashion_desktop.core.analysis import analyze_files, failure_message  # noqa: PLC0415
    from fashion_desktop.core.serialize import analysis_row  # noqa: PLC0415

    for done, (path, result) in enumerate(analyze_files(paths, classifier), start=before + 1):
        if isinstance(result, Exception):
            yield {"path": str(path), "error": failure_message(result)}
        else:
            yield analysis_row(result, top_k)
        progress(done, total)


class _ProgressBar:
    """The run's progress on stderr, ``[####......] done/total``; does nothing when not ``enabled``."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.open = False  # a bar line is on screen without its newline yet

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / total)
        end = "\n" if done == total else ""
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr, flush=True)
        self.open = done != total

    def finish(self) -> None:
        """End a bar line left open by a run that stopped early, so a message starts on its own line."""
        if self.open:
            print(file=sys.stderr, flush=True)
            self.open = False


def _table_line(row: dict, top_k: int) -> str:
    if "error" in row:
        return f"{shown(row['path'])}\n    error: {shown(row['error'])}"
    blur = "blurry" if row["blur"]["blurry"] else "sharp"
    label = row["label"] if row["known"] else f"{row['label']}?"
    line = f"{shown(row['path'])}\n    {label:<12} {100 * row['confidence']:5.1f}%   {blur}"
    line += f" (score {row['blur']['score']:.2f})"
    if not row["known"]:
        line += "   not a fashion item I know"
    for extra in row.get("top_k", [])[1:]:
        line += f"\n    {extra['label']:<12} {100 * extra['probability']:5.1f}%"
    if row.get("items"):  # the outfit's other garments
        also = ", ".join(f"{i['label']} {100 * i['confidence']:.0f}%" for i in row["items"])
        line += f"\n    also in the picture: {also}"
    return line


def _write_csv(target: Path, rows: list[dict]) -> None:
    """Write the CSV atomically. UTF-8, except that a file name which is not UTF-8 keeps its own bytes
    (surrogateescape), so the name in the file is the name on disk."""
    from fashion_desktop.core.atomic import atomic_write  # noqa: PLC0415
    from fashion_desktop.core.serialize import csv_text  # noqa: PLC0415

    data = csv_text(rows).encode("utf-8", "surrogateescape")
    atomic_write(target, lambda tmp: tmp.write_bytes(data))


def csv_target_problem(target: Path) -> str | None:
    """Why the CSV cannot be written to ``target``, or None; checked before the run, so that an hour of
    classifying is not lost to a typo. The check writes (and removes) a temporary file beside it."""
    folder = target.parent
    try:
        if not stat.S_ISDIR(os.stat(folder).st_mode):
            return f"{folder} is not a folder"
    except FileNotFoundError:
        return f"the folder {folder} does not exist"
    except NotADirectoryError:
        return f"{folder} is not a folder"
    except (OSError, ValueError) as exc:
        return f"the folder {folder} cannot be used ({_reason(exc)})"
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        return f"it cannot be used ({_reason(exc)})"
    else:
        if stat.S_ISDIR(mode):
            return "it is a folder; give a file name, e.g. results.csv"
        if not stat.S_ISREG(mode):  # a FIFO or a device: the atomic write would replace it with a file
            return "it exists and is not a regular file"
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except (OSError, ValueError) as exc:
        return f"nothing can be written in {folder} ({_reason(exc)})"
    os.close(fd)
    os.unlink(probe)
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _inputs(paths: list[str]) -> tuple[list[str], list[dict]]:
    """The paths that can be looked at, and an error row for each one that cannot (missing, a name too
    long, a parent that is a file or that may not be searched); none of them stops the run."""
    usable, rows = [], []
    for p in paths:
        try:
            os.stat(p)
        except FileNotFoundError:
            rows.append({"path": p, "error": f"{p} does not exist"})
        except (OSError, ValueError) as exc:
            rows.append({"path": p, "error": f"{p} cannot be opened ({_reason(exc)})"})
        else:
            usable.append(p)
    return usable, rows


class _Run:
    """What a run has printed so far, so that an interrupted one can still save it."""

    def __init__(self, args) -> None:
        self.args = args
        self.rows: list[dict] = []
        self.total = 0
        self.bar = _ProgressBar(False)

    def emit(self, row: dict) -> None:
        self.rows.append(row)
        text = json.dumps(row, allow_nan=False) if self.args.json else _table_line(row, self.args.top_k)
        print(text, flush=True)

    def classify(self) -> int:
        from fashion_desktop.core.analysis import find_images  # noqa: PLC0415
        from fashion_desktop.core.classifier import Classifier, ModelError  # noqa: PLC0415

        usable, bad = _inputs(self.args.paths)
        paths = find_images(usable)
        self.total = len(bad) + len(paths)
        try:
            classifier = Classifier.load(self.args.model_dir)
        except ModelError as exc:
            _say(str(exc))
            return 1
        except Exception as exc:  # noqa: BLE001 - whatever the model folder holds, a message, not a traceback
            _say(f"the model could not be loaded ({type(exc).__name__}: {exc})")
            return 1
        self.bar = _ProgressBar(not self.args.no_progress and sys.stderr.isatty() and self.total > 1)
        for row in bad:
            self.emit(row)
        try:
            # closing(): an interrupted run stops its decoding threads before the partial CSV is written
            with closing(_results(paths, classifier, self.bar, self.total, len(bad), self.args.top_k)) as rows:
                for row in rows:
                    self.emit(row)
        except ModelError as exc:  # the model failed on a whole batch: the rest would fail the same way
            self.bar.finish()
            _say(str(exc))
            self.save_partial("stopped")
            return 1
        if self.args.csv:
            try:
                _write_csv(self.args.csv, self.rows)
            except OSError as exc:  # the disk filled up, the folder went away...
                _say(f"the results above could not be written to {self.args.csv} ({_reason(exc)})")
                return 1
        if not self.rows:
            _say("no pictures found")
            return 1
        return 1 if any("error" in r for r in self.rows) else 0

    def save_partial(self, why: str, quiet: bool = False) -> None:
        """Write the rows done so far to the CSV (if one was asked for) and say so; ``quiet``: say nothing
        unless there is a CSV file to tell of."""
        self.bar.finish()
        done = f"{why} after {len(self.rows)} of {self.total}" if self.total else why
        if not self.args.csv:
            if not quiet:
                _say(done)
            return
        if not self.rows:  # stopped before the first row: an earlier run's file is worth more than a header
            _say(f"{done}; {self.args.csv} was not written")
            return
        try:
            _write_csv(self.args.csv, self.rows)
        except OSError as exc:
            _say(f"{done}; the CSV file {self.args.csv} could not be written ({_reason(exc)})")
        else:
            _say(f"{done}; wrote {len(self.rows)} rows to {self.args.csv} (partial)")


def _stdout_gone() -> None:
    """Point stdout at /dev/null, so that Python's final flush does not fail again (the "Note on SIGPIPE"
    in the signal module's documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # no real stdout (a test's capture)
        pass


@contextmanager
def _sigint_ignored():
    """A second Ctrl-C while the partial CSV is written must not leave a traceback instead of the file."""
    try:
        before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread (main() called from a test's thread): nothing to do
        before = None
    try:
        yield
    finally:
        if before is not None:
            signal.signal(signal.SIGINT, before)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 1 <= args.top_k <= len(CLASS_NAMES):
        _parser().error(f"--top-k must be between 1 and {len(CLASS_NAMES)}")
    if args.csv is not None:
        problem = csv_target_problem(args.csv)
        if problem:
            _say(f"--csv {args.csv}: {problem}")
            return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    run = _Run(args)
    try:
        return run.classify()
    except KeyboardInterrupt:
        with _sigint_ignored():
            run.save_partial("interrupted")
        return 130
    except BrokenPipeError:  # "| head" has read what it wanted: stop quietly, as a program killed by SIGPIPE
        _stdout_gone()
        with _sigint_ignored():
            run.save_partial("output closed", quiet=True)
        return 141


if __name__ == "__main__":
    sys.exit(main())
