"""Fixtures for the window tests: real model, real sample photos, real widgets, offscreen.

Every test fails if it leaves a QThread running, ours or any other (as napari's fixtures do).
"""

from __future__ import annotations

import shutil
import sys
import weakref
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "samples"


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail the test if a QThread it started outlives it (after pytest-qt has closed the test's widgets).

    Every QThread counts, not only the app's workers: ``QThread.start`` is wrapped for the test's
    duration (as napari's ``dangling_qthreads`` fixture does) to remember each thread and where it was
    started. A thread that was asked to stop gets a moment to finish before it counts as left running.
    """
    from PySide6.QtCore import QThread

    started: weakref.WeakKeyDictionary[QThread, str] = weakref.WeakKeyDictionary()
    base_start = QThread.start

    def start_and_remember(self, *args, **kwargs):
        started[self] = _caller()
        return base_start(self, *args, **kwargs)

    QThread.start = start_and_remember  # type: ignore[method-assign]
    try:
        yield
    finally:
        QThread.start = base_start  # type: ignore[method-assign]
    left = []
    for thread, where in list(started.items()):
        try:
            if thread.isRunning() and not (thread.isInterruptionRequested() and thread.wait(STOPPING_GRACE_MS)):
                left.append((thread, where))
        except RuntimeError:  # its C++ object is gone, so it is not running
            continue
    if left:
        for thread, _ in left:  # stop them so the next test starts clean
            thread.requestInterruption()
            thread.quit()
            stop = getattr(thread, "stop", None)  # ui.threads.LoopThread also wakes its loop
            if callable(stop):
                stop()
            else:
                thread.wait(5_000)
        names = "; ".join(f"{t.objectName() or type(t).__name__} (started at {where})" for t, where in left)
        pytest.fail(f"test left QThreads running: {names}")


STOPPING_GRACE_MS = 2_000  # how long a thread told to stop may take to end after the test


def _caller() -> str:
    """Where the code that started a thread is: the innermost frame outside this file and Qt's wrappers."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} ({frame.f_code.co_name})"


@pytest.fixture
def sample_paths() -> list[Path]:
    paths = sorted(SAMPLES.glob("*.jpg"))
    if len(paths) < 3:
        pytest.skip(f"needs 3 sample photos in {SAMPLES}")
    return paths


@pytest.fixture
def sample(sample_paths) -> Path:
    return sample_paths[0]


@pytest.fixture
def drawn_face(tmp_path) -> Path:
    """A drawing of a face: none of the ten categories (the bundled model's certainty for it is ~0.05,
    far below its threshold), so the window must call it unrecognised rather than a confident anything."""
    import cv2
    import numpy as np

    img = np.full((480, 640, 3), 240, np.uint8)
    cv2.ellipse(img, (320, 260), (120, 150), 0, 0, 360, (180, 140, 120), -1)
    for x in (280, 360):
        cv2.circle(img, (x, 230), 15, (40, 40, 40), -1)
    cv2.ellipse(img, (320, 320), (50, 20), 0, 0, 180, (40, 40, 150), 5)
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), img)
    return path


@pytest.fixture
def photo_folder(tmp_path, sample_paths) -> Path:
    """A folder of three real photos, in a known order."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, path in enumerate(sample_paths[:3]):
        shutil.copy(path, folder / f"{i}_{path.name}")
    return folder


@pytest.fixture
def settings(tmp_path):
    from fashion_desktop.ui.settings import Settings

    return Settings.at(tmp_path / "settings.ini")


@pytest.fixture
def make_window(qtbot, settings, classifier):
    """Build a shown MainWindow that shares the session's loaded model (or loads one if told to)."""
    from fashion_desktop.ui.main_window import MainWindow

    def make(share_model: bool = True, **kwargs):
        kwargs.setdefault("settings", settings)
        if share_model:
            kwargs.setdefault("classifier", classifier)
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        if share_model:
            with qtbot.waitSignal(window.worker.model_ready, timeout=10_000):
                window.show()
        else:
            window.show()
        qtbot.waitExposed(window)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()
