"""``fashion-desktop``: builds the QApplication and the main window; ``--self-test`` checks an install headlessly."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

from fashion_desktop import __version__

APP_NAME = "Fashion Lens"


def build_parser() -> argparse.ArgumentParser:
    """The command line; other picture sources (e.g. ``--camera-source FILE``) add their options here."""
    p = argparse.ArgumentParser(prog="fashion-desktop", description="Fashion Lens: classify fashion photos.")
    p.add_argument("paths", nargs="*", metavar="PICTURE", help="pictures to open (the first is shown) or a folder")
    p.add_argument("--model-dir", type=Path, help="folder with model.keras and model.json (default: bundled)")
    p.add_argument(
        "--self-test",
        action="store_true",
        help="classify the bundled samples (or PICTURE) offscreen, check them, print a JSON summary; exit 0 (ok) or 1",
    )
    p.add_argument(
        "--camera-source",
        type=Path,
        metavar="FILE",
        help="use a video file as the camera (demos, tests) and start in camera mode",
    )
    p.add_argument("--camera-loop", action="store_true", help="replay --camera-source when it ends")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # For benchmarks/startup.py: print when the window is shown and the model is ready, then quit.
    p.add_argument("--startup-report", action="store_true", help=argparse.SUPPRESS)
    return p


def user_data_dir() -> Path:
    """Where this user's files live (the log); never inside the app folder, which may be read-only."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_NAME


LOG_MAX_BYTES = 1 << 20  # past this the log is moved to fashion-lens.log.1 at the next start


def _open_log() -> TextIO | None:
    """The app's log file in the user's data folder (the previous one kept as .1); None if unwritable."""
    try:
        folder = user_data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "fashion-lens.log"
        if log.is_file() and log.stat().st_size > LOG_MAX_BYTES:
            os.replace(log, log.with_name(log.name + ".1"))
        return open(log, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives as long as the app
    except OSError:
        return None


def _ensure_streams(log_to_file: bool = False) -> None:
    """A windowed (PyInstaller) build has no stdout/stderr; TensorFlow and print() need somewhere to write.
    A packaged GUI run (``log_to_file``) also sends Python's logging, warnings and uncaught exceptions to
    the log file, since nobody sees the terminal of an app started from a menu."""
    log = _open_log() if log_to_file else None
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, log or open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the app
    if log is not None:
        import logging

        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        logging.captureWarnings(True)
        logging.getLogger("fashion_desktop").info("Fashion Lens %s started: %s", __version__, sys.executable)

        def log_uncaught(kind, value, tb) -> None:
            logging.getLogger("fashion_desktop").critical("uncaught exception", exc_info=(kind, value, tb))
            sys.__excepthook__(kind, value, tb)

        sys.excepthook = log_uncaught


def _is_file(path: Path) -> bool:
    """Path.is_file(), but False rather than OSError for a name too long or a folder that may not be searched."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _expected_labels(samples: Path) -> dict[str, str]:
    """samples/expected.json: the category each bundled sample must be classified as."""
    import json

    try:
        data = json.loads((samples / "expected.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def self_test(model_dir: Path | None = None, pictures: Sequence[Path] = ()) -> int:
    """Load the model and classify every bundled sample (or ``pictures``) without a window, checking each
    bundled sample against its expected category. Prints one line per picture, then a JSON summary as
    the last line; 0 when everything works, 1 otherwise."""
    import json

    started = time.perf_counter()
    summary: dict[str, object] = {"ok": False, "version": __version__, "frozen": bool(getattr(sys, "frozen", False))}
    results: list[dict[str, object]] = []
    summary["pictures"] = results
    try:
        import PySide6.QtWidgets  # noqa: F401 - a frozen build must carry Qt too

        from fashion_desktop.core.analysis import analyze
        from fashion_desktop.core.classifier import Classifier
        from fashion_desktop.resources import resource_path

        samples = resource_path("samples")
        expected = {} if pictures else _expected_labels(samples)
        if not pictures:
            pictures = sorted(samples.glob("*.jpg"))
            if not pictures:
                raise FileNotFoundError(f"no sample pictures in {samples}")
            if not expected:
                raise FileNotFoundError(f"no expected categories in {samples / 'expected.json'}")
        classifier = Classifier.load(model_dir)
        summary["model_dir"] = str(classifier.model_dir)
        summary["load_s"] = round(time.perf_counter() - started, 3)
        for picture in pictures:
            a = analyze(picture, classifier)
            p = a.prediction
            if p is None:  # analyze gives a prediction whenever it is given a classifier
                raise RuntimeError(f"{picture} was analysed without a prediction")
            want = expected.get(Path(picture).name)
            results.append(
                {
                    "picture": str(picture),
                    "label": p.label,
                    "confidence": p.confidence,
                    "expected": want,
                    "ok": want is None or p.label == want,
                    "blurry": a.blur.blurry,
                    "probabilities": list(p.probabilities),
                    "ms": round(a.total_ms, 1),
                }
            )
            verdict = "" if want is None else (" (as expected)" if p.label == want else f" (expected {want})")
            print(f"{Path(picture).name} -> {p.label} ({100 * p.confidence:.1f}%){verdict}", flush=True)
        summary["ok"] = bool(results) and all(r["ok"] for r in results)
    except Exception as exc:  # noqa: BLE001 - the self-test reports whatever is broken
        summary["error"] = f"{type(exc).__name__}: {exc}"
        print(f"self-test FAILED: {summary['error']}", file=sys.stderr)
    summary["total_s"] = round(time.perf_counter() - started, 3)
    if summary["ok"]:
        print(f"self-test ok: {len(results)} pictures, model from {summary['model_dir']}, {summary['total_s']:.1f} s")
    elif "error" not in summary:
        print("self-test FAILED: a sample was not classified as expected", file=sys.stderr)
    print(json.dumps(summary), flush=True)
    return 0 if summary["ok"] else 1


def _startup_report(app, window, with_picture: bool) -> None:
    def mark(what: str) -> None:
        print(f"startup {what}={time.time():.4f}", flush=True)

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, lambda: mark("shown"))  # the first turn of the event loop paints the window
    done = {"model": False, "result": not with_picture}

    def check(what: str) -> None:
        mark(what)
        done[what] = True
        if all(done.values()):
            QTimer.singleShot(0, window.close)

    window.worker.model_ready.connect(lambda _info: check("model"))
    window.worker.model_failed.connect(lambda _msg: check("model"))
    window.result_shown.connect(lambda _r: check("result") if not done["result"] else None)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    gui_run = not {"--self-test", "--startup-report"} & set(words)
    _ensure_streams(log_to_file=gui_run and bool(getattr(sys, "frozen", False)))  # before argparse prints
    parser = build_parser()
    args, qt_args = parser.parse_known_args(argv)
    if args.camera_source is not None and not _is_file(args.camera_source):
        parser.error(f"--camera-source {args.camera_source}: no such video file")
    if args.self_test:
        return self_test(args.model_dir, [Path(p) for p in args.paths])

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from fashion_desktop.resources import resource_path
    from fashion_desktop.ui.main_window import MainWindow

    # instance() is typed QCoreApplication; the one made here (or by pytest-qt) is a QApplication
    app = cast(QApplication, QApplication.instance()) or QApplication([sys.argv[0], *qt_args])
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("fashion-lens")
    # Ctrl+C in the terminal closes the window cleanly. The close is posted to the event loop: a window
    # closed before app.exec() starts would leave exec() waiting forever.
    signal.signal(signal.SIGINT, lambda *_: QTimer.singleShot(0, app.closeAllWindows))
    icon = resource_path("icons", "fashion-lens.png")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))

    window = MainWindow(model_dir=args.model_dir, camera_source=args.camera_source, camera_loop=args.camera_loop)
    window.show()
    if args.paths:
        window.open_paths(args.paths)
    elif args.camera_source is not None:
        window.show_camera_mode(start=True)
    if args.startup_report:
        _startup_report(app, window, bool(args.paths))

    wake = QTimer()  # lets Python see Ctrl+C while Qt waits for events
    wake.timeout.connect(lambda: None)
    wake.start(250)

    code = app.exec()
    window.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
