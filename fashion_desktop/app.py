"""``fashion-desktop``: builds the QApplication and the main window; ``--self-test`` checks an install headlessly."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

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
        help="load the model, classify a bundled sample (or PICTURE), print the result and exit 0 (ok) or 1",
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


def _ensure_streams() -> None:
    """A windowed (PyInstaller) build has no stdout/stderr; TensorFlow and print() need somewhere to write."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the app


def _is_file(path: Path) -> bool:
    """Path.is_file(), but False rather than OSError for a name too long or a folder that may not be searched."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def self_test(model_dir: Path | None = None, sample: Path | None = None) -> int:
    """Load the model and classify a bundled sample without a window; 0 when everything works."""
    started = time.perf_counter()
    try:
        import PySide6.QtWidgets  # noqa: F401 - a frozen build must carry Qt too

        from fashion_desktop.core.analysis import analyze
        from fashion_desktop.core.classifier import Classifier
        from fashion_desktop.resources import resource_path

        if sample is None:
            samples = sorted(resource_path("samples").glob("*.jpg"))
            if not samples:
                raise FileNotFoundError(f"no sample pictures in {resource_path('samples')}")
            sample = samples[0]
        classifier = Classifier.load(model_dir)
        a = analyze(sample, classifier)
    except Exception as exc:  # noqa: BLE001 - the self-test reports whatever is broken
        print(f"self-test FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    p, blur = a.prediction, a.blur
    print(
        f"self-test ok: {Path(sample).name} -> {p.label} ({100 * p.confidence:.1f}%), "
        f"{'blurry' if blur.blurry else 'sharp'} (score {blur.score:.0f}), analysed in {a.total_ms:.0f} ms, "
        f"model from {classifier.model_dir}, total {time.perf_counter() - started:.1f} s"
    )
    return 0


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
    _ensure_streams()
    parser = build_parser()
    args, qt_args = parser.parse_known_args(argv)
    if args.camera_source is not None and not _is_file(args.camera_source):
        parser.error(f"--camera-source {args.camera_source}: no such video file")
    if args.self_test:
        return self_test(args.model_dir, Path(args.paths[0]) if args.paths else None)

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from fashion_desktop.resources import resource_path
    from fashion_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
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
