"""The main window's widgets and how they sit: the picture with its edge overlay, the result column, the
camera tab, the folder-batch dock and the status bar, and the window's geometry kept in Settings.

What the window does with them (pictures in, the worker's results out, folder batches) is MainWindow's,
in ui/main_window.py, which builds on this class.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fashion_desktop.ui.batch_panel import BatchPanel
from fashion_desktop.ui.camera_panel import CameraPanel
from fashion_desktop.ui.camera_worker import ClassifierProvider
from fashion_desktop.ui.image_view import ImageView
from fashion_desktop.ui.overlay_controls import OverlayControls
from fashion_desktop.ui.result_panel import ResultPanel
from fashion_desktop.ui.settings import Settings


class WindowLayout(QMainWindow):
    """The widgets of the main window, made and arranged; no picture handling (see MainWindow)."""

    def __init__(
        self,
        settings: Settings,
        camera_classifier: ClassifierProvider,
        camera_source: str | os.PathLike | None = None,
        camera_loop: bool = False,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Fashion Lens")
        self._status_error = False  # the status bar shows an error now
        self._build_central(camera_classifier, camera_source, camera_loop)
        self._build_batch_dock()
        self._build_status_bar()

    def _build_central(
        self, camera_classifier: ClassifierProvider, camera_source: str | os.PathLike | None, camera_loop: bool
    ) -> None:
        self.image_view = ImageView(self)

        self.overlay_action = QAction("&Edge Overlay", self, checkable=True, shortcut=QKeySequence("E"))
        self.overlay_action.setToolTip("Paint the Canny edges over the picture (E)")
        self.addAction(self.overlay_action)
        self.overlay = OverlayControls(self.overlay_action, self)
        self.overlay.changed.connect(self.image_view.set_overlay)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.image_view, 1)
        left_layout.addWidget(self.overlay)

        self.result_panel = ResultPanel(self)
        self.result_panel.item_picked.connect(lambda box: self.image_view.set_frame(tuple(box) if box else None))
        scroll = QScrollArea(self)
        scroll.setWidget(self.result_panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(self.result_panel.minimumSizeHint().width() + 24)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        # Picture and camera are two modes; the camera panel has its own live result column. Leaving the
        # camera tab hides the panel, which stops it and releases the camera.
        self.camera_panel = CameraPanel(camera_classifier, self, video_file=camera_source, loop_video=camera_loop)
        self.camera_panel.status.connect(self.show_status)
        # In a scroll area so that the camera's controls do not set a minimum size for the whole window.
        self.camera_page = QScrollArea(self)
        self.camera_page.setWidget(self.camera_panel)
        self.camera_page.setWidgetResizable(True)
        self.camera_page.setFrameShape(QScrollArea.Shape.NoFrame)
        self.mode_tabs = QTabWidget(self)
        self.mode_tabs.setDocumentMode(True)
        self.mode_tabs.addTab(self.splitter, "&Picture")
        self.mode_tabs.addTab(self.camera_page, "C&amera")
        self.mode_tabs.setAccessibleName("Picture or camera mode")
        self.setCentralWidget(self.mode_tabs)

    def show_picture_mode(self) -> None:
        self.mode_tabs.setCurrentWidget(self.splitter)

    def show_camera_mode(self, start: bool = False) -> None:
        self.mode_tabs.setCurrentWidget(self.camera_page)
        if start:
            self.camera_panel.start_selected()

    def _build_batch_dock(self) -> None:
        self.batch_panel = BatchPanel(self)
        self.batch_panel.status.connect(self.show_status)
        self.batch_panel.error.connect(lambda message: self.show_status(message, error=True))
        self.batch_dock = QDockWidget("Folder batch", self)
        self.batch_dock.setObjectName("batchDock")
        self.batch_dock.setWidget(self.batch_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.batch_dock)
        self.batch_dock.hide()

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.timing_label = QLabel(self)
        self.timing_label.setAccessibleName("Time taken")
        self.model_label = QLabel("Loading the model…", self)
        self.model_label.setAccessibleName("Model status")
        status.addPermanentWidget(self.timing_label)
        status.addPermanentWidget(self.model_label)
        status.showMessage("Loading the model in the background; you can open a picture now.")

    def sizeHint(self) -> QSize:
        return QSize(1180, 760)

    def show_status(self, message: str, error: bool = False, timeout_ms: int = 0) -> None:
        self._status_error = error
        self.statusBar().showMessage(("⚠ " if error else "") + message, timeout_ms)

    # -- settings ------------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        if s.geometry is not None:
            self.restoreGeometry(s.geometry)
        else:
            self.resize(self.sizeHint())
        if s.window_state is not None:
            self.restoreState(s.window_state)
        if s.splitter_state is not None:
            self.splitter.restoreState(s.splitter_state)
        self.batch_dock.hide()  # a batch panel left open last time is empty now
        self.overlay.set_state(s.overlay_enabled, s.overlay_opacity)

    def save_settings(self) -> None:
        s = self.settings
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        s.splitter_state = self.splitter.saveState()
        s.overlay_enabled = self.overlay.shown()
        s.overlay_opacity = self.overlay.opacity_percent()
        problem = s.sync()
        if problem:
            self.show_status(problem, error=True)
