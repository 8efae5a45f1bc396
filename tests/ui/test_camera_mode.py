"""Camera mode inside the main window: a video file as the camera, results, and release on leaving."""

from __future__ import annotations

import threading

import numpy as np
from camera_video import write_item_video

from tests.conftest import REPO


def _video(tmp_path, fashion_mnist):
    _, test = fashion_mnist
    idx = [int(np.flatnonzero(test.y == 1)[0]), int(np.flatnonzero(test.y == 8)[0])]
    path = tmp_path / "camera.avi"
    write_item_video(path, test.x[idx], test.y[idx], fps=30.0, seconds_per_item=1.0)
    return path


def _readers():
    return [t for t in threading.enumerate() if t.name.startswith("FrameReader") and t.is_alive()]


def test_video_as_camera_classifies_live_and_opening_a_picture_releases_it(
    qtbot, make_window, tmp_path, fashion_mnist, sample
):
    window = make_window(camera_source=_video(tmp_path, fashion_mnist), camera_loop=True)
    results = []
    window.camera_panel.result_shown.connect(results.append)
    window.show_camera_mode(start=True)
    qtbot.waitUntil(lambda: len(results) >= 5, timeout=20_000)
    assert window.mode_tabs.currentWidget() is window.camera_page
    assert _readers(), "the camera should be running"

    with qtbot.waitSignal(window.result_shown, timeout=20_000):
        window.open_path(sample)
    assert window.mode_tabs.currentWidget() is window.splitter
    qtbot.waitUntil(lambda: not _readers(), timeout=5_000)  # leaving camera mode released the camera


def test_app_rejects_a_missing_camera_source(capsys):
    import pytest

    from fashion_desktop.app import main

    with pytest.raises(SystemExit) as exc:
        main(["--camera-source", str(REPO / "no-such-video.avi")])
    assert exc.value.code == 2
    assert "no such video file" in capsys.readouterr().err
