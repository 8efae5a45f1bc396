"""Fixtures for the window tests: real model, real sample photos, real widgets, offscreen.

Every test fails if it leaves a worker QThread running (as napari's fixtures do).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "resources" / "samples"


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail the test if a worker thread outlives it (after pytest-qt has closed the test's widgets)."""
    yield
    from fashion_desktop.ui.worker import running_threads

    left = running_threads()
    if left:
        names = ", ".join(t.objectName() for t in left)
        for t in left:  # stop them so the next test starts clean
            t.stop()
        pytest.fail(f"test left worker threads running: {names}")


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
