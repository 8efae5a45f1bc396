"""The camera list: cameras that really open and deliver a frame (found in a thread), plus a video file if given."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from fashion_desktop.ui.threads import ThreadWorker

NO_CAMERA = "No camera found. Connect one and choose Refresh; pictures and folders work without one."
SCANNING = "Looking for cameras…"


class CameraScan(ThreadWorker):
    """Probes the cameras once, in its thread, and reports what it found (``found``)."""

    found = Signal(object)  # list[core.frame_sources.CameraInfo]; empty when the probe fails

    def _run(self) -> None:
        try:
            from fashion_desktop.core.frame_sources import available_cameras

            cameras = available_cameras()
        except Exception:  # a failing probe means no usable camera, and the list says so
            cameras = []
        self.found.emit(cameras)


class CameraChooser(QWidget):
    scanning = Signal()
    cameras_found = Signal(object)  # list[core.frame_sources.CameraInfo]; emitted in the GUI thread

    def __init__(
        self,
        parent: QWidget | None = None,
        video_file: str | os.PathLike | None = None,
        loop_video: bool = False,
    ):
        super().__init__(parent)
        self.video_file = Path(video_file) if video_file else None
        self.loop_video = loop_video
        self.cameras: list = []
        self._scan: CameraScan | None = None
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("Camera")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        label = QLabel("&Camera:", self)
        label.setBuddy(self.combo)
        self.refresh_button = QToolButton(self)
        self.refresh_button.setText("&Refresh")
        self.refresh_button.setToolTip("Look for cameras again")
        self.refresh_button.clicked.connect(self.refresh)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.refresh_button)
        self._fill()

    def _fill(self) -> None:
        previous = self.combo.currentData()
        self.combo.clear()
        if self.video_file is not None:
            self.combo.addItem(f"Video file: {self.video_file.name}", ("file", str(self.video_file)))
        for camera in self.cameras:
            self.combo.addItem(camera.name, ("camera", camera.index))
        if self.combo.count() == 0:
            self.combo.addItem("No camera found", None)
        index = self.combo.findData(previous)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def set_video_file(self, path: str | os.PathLike | None, loop: bool | None = None) -> None:
        """Offer a video file as a camera; it becomes the choice."""
        self.video_file = Path(path) if path else None
        if loop is not None:
            self.loop_video = loop
        self._fill()
        if self.video_file is not None:
            self.combo.setCurrentIndex(0)

    def has_source(self) -> bool:
        return self.combo.currentData() is not None

    def selected_source(self):
        """A new core.frame_sources.FrameSource for the chosen entry, or None when there is none."""
        data = self.combo.currentData()
        if not data:
            return None
        from fashion_desktop.core.frame_sources import CameraSource, VideoFileSource

        kind, value = data
        return VideoFileSource(value, loop=self.loop_video) if kind == "file" else CameraSource(value)

    def is_scanning(self) -> bool:
        return self._scan is not None and self._scan.is_running()

    def refresh(self) -> None:
        """Probe cameras in a thread: opening one takes a while and wakes it (its light goes on)."""
        if self.is_scanning():
            return
        self._scan = CameraScan()
        self._scan.found.connect(self._on_scanned)
        self._scan.start()
        self.refresh_button.setEnabled(False)
        self.scanning.emit()

    def _on_scanned(self, cameras: list) -> None:
        self.cameras = list(cameras)
        self._fill()
        self.refresh_button.setEnabled(self.isEnabled())
        self.cameras_found.emit(self.cameras)

    def shutdown(self) -> None:
        if self._scan is not None:
            self._scan.wait()  # a probe cannot be interrupted; it ends by itself
