"""Camera mode's widgets: the live picture with its guide box, the controls, the live bars, blur verdict and edges.

The panel shows what its one ``camera_session.CameraSession`` at a time (the source's reader and its
classification worker) sends, and turns the buttons into calls on it. The display takes the newest
frame when it is ready for one, so neither the screen nor the classifier ever builds a backlog.
Faults end the session, release the camera and offer Reconnect. The model comes from outside
(``classifier_provider``), so the main window's loaded model is shared.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fashion_desktop.ui.camera_chooser import NO_CAMERA, SCANNING, CameraChooser
from fashion_desktop.ui.camera_session import CameraSession
from fashion_desktop.ui.camera_view import LiveView
from fashion_desktop.ui.camera_worker import CameraResult, ClassifierProvider, resolve_classifier
from fashion_desktop.ui.live_stats import LiveStats
from fashion_desktop.ui.result_panel import ResultPanel

if TYPE_CHECKING:
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.core.live_camera import Frame

__all__ = ["NO_CAMERA", "CameraPanel"]


class CameraPanel(QWidget):
    """Live classification from a camera or a video file played as one.

    ``classifier_provider``: the loaded Classifier, or a callable returning it (None until one is
    loaded: frames are then shown with blur and edges, but not classified). ``clock`` dates frames and
    times faults and lag (``time.monotonic``; tests give a fake one).
    """

    started = Signal(str)  # source name
    stopped = Signal()
    fault = Signal(str)  # a message for a person; the camera is released and Reconnect is offered
    result_shown = Signal(CameraResult)  # now on screen
    status = Signal(str)  # short messages for the window's status bar
    snapshot_saved = Signal(str)  # path of the picture (its .json is beside it)
    cameras_found = Signal(object)  # list[CameraInfo] after a scan

    def __init__(
        self,
        classifier_provider: Classifier | ClassifierProvider | None = None,
        parent: QWidget | None = None,
        *,
        video_file: str | os.PathLike | None = None,
        loop_video: bool = False,
        scan_cameras: bool = True,
        guide_fraction: float = 0.6,
        snapshot_dir: str | os.PathLike | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(parent)
        self.clock = clock
        self.classifier_provider = classifier_provider
        self.guide_fraction = guide_fraction
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir else _default_snapshot_dir()
        self.last_result: CameraResult | None = None
        self.last_error = None  # core.frame_sources.CameraError of the last fault
        self._scan_on_show = scan_cameras
        self._session: CameraSession | None = None
        self._last_source = None  # what Reconnect reopens
        self._frozen_frame: Frame | None = None
        self._shown_frame: Frame | None = None  # on screen
        self.stats = LiveStats()  # rates and lag, shown under the picture while live
        self._rate_timer = QTimer(self)
        self._rate_timer.setInterval(500)
        self._rate_timer.timeout.connect(self._show_rates)
        self._build(video_file, loop_video)
        self._update_controls()

    # -- layout --------------------------------------------------------------------------------------
    def _action(self, text: str, slot, tip: str, shortcut: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self, checkable=checkable)
        action.setToolTip(tip)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _build(self, video_file, loop_video: bool) -> None:
        self.chooser = CameraChooser(self, video_file, loop_video)
        self.chooser.scanning.connect(self._on_scanning)
        self.chooser.cameras_found.connect(self._on_cameras_found)
        self.start_action = self._action("&Start", self.start_selected, "Start the chosen camera")
        self.stop_action = self._action("S&top", self.stop, "Stop and release the camera")
        self.mirror_action = self._action(
            "&Mirror", self.set_mirror, "Show the picture as in a mirror", "M", checkable=True
        )
        self.freeze_action = self._action(
            "&Freeze", self.set_frozen, "Hold the current frame still to inspect it", "F", checkable=True
        )
        self.snapshot_action = self._action(
            "Sna&pshot", self.save_snapshot, "Save the classified frame and its result (PNG + JSON)", "Ctrl+S"
        )
        self.edges_action = self._action("&Edges", self._apply_edges, "Show the edges found in the box", checkable=True)
        self.reconnect_action = self._action("Re&connect", self.reconnect, "Open the camera again")

        bar = QHBoxLayout()
        bar.addWidget(self.chooser)
        for action in (self.start_action, self.stop_action):
            bar.addWidget(self._button(action))
        bar.addSpacing(12)
        for action in (self.mirror_action, self.freeze_action, self.edges_action, self.snapshot_action):
            bar.addWidget(self._button(action))
        bar.addStretch(1)

        self.view = LiveView(self)
        self.view.set_guide_fraction(self.guide_fraction)
        self.view.frame_painted.connect(self._on_frame_painted)
        self.edges_action.setChecked(True)

        self.rate_label = QLabel("", self)
        self.rate_label.setAccessibleName("Display and classification rates")
        self.message_label = QLabel("", self)
        self.message_label.setAccessibleName("Camera message")
        self.message_label.setWordWrap(True)
        self.message_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.reconnect_button = QPushButton(self)
        self.reconnect_button.setText(self.reconnect_action.text())
        self.reconnect_button.clicked.connect(self.reconnect)
        footer = QHBoxLayout()
        footer.addWidget(self.message_label, 1)
        footer.addWidget(self.reconnect_button)
        footer.addWidget(self.rate_label)

        left = QVBoxLayout()
        left.addLayout(bar)
        left.addWidget(self.view, 1)
        left.addLayout(footer)

        # The same side panel as for pictures: category, bars (smoothed live), blur verdict, model input.
        self.results = ResultPanel(self)
        self.results.confidence.setText("Start a camera to classify what it sees.")
        self.results.setMinimumWidth(260)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addWidget(self.results, 1)

    # -- sources -------------------------------------------------------------------------------------
    def set_video_file(self, path: str | os.PathLike | None, loop: bool | None = None) -> None:
        """Offer a video file as a camera (``fashion-desktop --camera-source FILE``); it becomes the choice."""
        self.chooser.set_video_file(path, loop)
        self._update_controls()

    def refresh_cameras(self) -> None:
        """Look for cameras that open and deliver a frame (in a thread; not while one is running)."""
        if self.is_running():
            self.status.emit("Stop the camera before looking for others.")
            return
        self.chooser.refresh()

    def _on_scanning(self) -> None:
        self.message_label.setText(SCANNING)
        self._update_controls()

    def _on_cameras_found(self, cameras: list) -> None:
        if not cameras and self.chooser.video_file is None:
            self.message_label.setText(NO_CAMERA)
            self.status.emit(NO_CAMERA)
        elif self.message_label.text() == SCANNING:
            self.message_label.setText(f"{len(cameras)} camera{'s' if len(cameras) != 1 else ''} found.")
        self._update_controls()
        self.cameras_found.emit(cameras)

    def selected_source(self):
        """A new FrameSource for the entry chosen in the camera list, or None when there is none."""
        return self.chooser.selected_source()

    # -- running -------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._session is not None

    def start_selected(self) -> bool:
        source = self.selected_source()
        if source is None:
            self.message_label.setText(NO_CAMERA)
            self.status.emit(NO_CAMERA)
            return False
        self.start_source(source)
        return True

    def start_source(self, source) -> None:
        """Start live classification from ``source`` (a core.frame_sources.FrameSource); stops any current one."""
        self.stop()
        self._last_source = source
        self.last_error = None
        self.stats.clear()
        session = CameraSession(
            source, self._provide, self.guide_fraction, self.mirror_action.isChecked(), self, clock=self.clock
        )
        session.frame_ready.connect(self._on_frame_ready)
        session.fault.connect(self._on_fault)
        session.result.connect(self._on_result)
        session.failed.connect(self._on_worker_failed)
        session.snapshot_saved.connect(self._on_snapshot_saved)
        session.snapshot_failed.connect(self._on_snapshot_failed)
        self._session = session
        session.start()
        self.freeze_action.setChecked(False)
        self._shown_frame = None
        self.view.clear(f"Starting {source.name}…")
        self.message_label.setText("")
        self._rate_timer.start()
        self._update_controls()
        self.status.emit(f"Starting {source.name}…")
        self.started.emit(source.name)

    def _provide(self):
        return resolve_classifier(self.classifier_provider)  # asked again for every frame: a model may arrive late

    def stop(self, message: str = "Stopped. Press Start to go live again.") -> None:
        """Stop classifying and release the camera (waits for the threads; a hung camera is let go of)."""
        session, self._session = self._session, None
        if session is None:
            return
        released = session.stop(timeout=2.0)
        session.deleteLater()  # not at once: one of its signals may be what led here
        self._rate_timer.stop()
        self._frozen_frame = self._shown_frame = None
        self.freeze_action.setChecked(False)
        self.view.clear(message)
        self.rate_label.setText("")
        self._update_controls()
        if not released:
            self.status.emit(f"{session.source.name} does not respond; it is released as soon as it does.")
        self.stopped.emit()

    def reconnect(self) -> None:
        """Open the last source again (after a fault, or the end of a video)."""
        source = self._last_source or self.selected_source()
        if source is None:
            self.status.emit(NO_CAMERA)
            return
        self.start_source(source)

    def shutdown(self) -> None:
        """Stop everything and wait for the threads; call before the app quits. Safe to call twice."""
        self.stop()
        self.chooser.shutdown()

    # -- live frames and results ---------------------------------------------------------------------
    def _on_frame_ready(self) -> None:
        session = self._session
        if session is None or self.sender() is not session:
            return  # from a session that has ended
        frame = session.take_frame()
        if self._frozen_frame is not None:
            return
        if frame is None or frame.index == self.view.shown_index():
            return
        if not self.view.has_frame():  # the first picture
            self.view.set_message("")
            self.status.emit(f"{session.source.name} is live.")
        self._shown_frame = frame
        self.view.set_frame(frame.image, frame.index)

    def _on_frame_painted(self, _index: int) -> None:
        self.stats.frame_painted()

    def _on_result(self, result: CameraResult) -> None:
        session = self._session
        if session is None or self.sender() is not session:
            return  # from a session that has ended
        if self._frozen_frame is not None and not result.frozen:
            return  # a live frame finished after Freeze was pressed
        self.stats.result_shown(result.frame.captured, self.clock())
        self.last_result = result
        self._show_result(result)
        self.result_shown.emit(result)

    def _show_result(self, result: CameraResult) -> None:
        # The side panel shows what it is given as the prediction and verdict: the smoothed ones while live.
        shown = dataclasses.replace(result.analysis, prediction=result.prediction, known=result.known)
        self.results.show_result(shown, result.model_input)
        self.view.set_edges(result.edge_layer if result.mirrored == self.mirror_action.isChecked() else None)

    def _on_worker_failed(self, message: str) -> None:
        self.message_label.setText("⚠ " + message)
        self.status.emit(message)

    def _on_fault(self, error) -> None:
        session = self._session
        if session is None or self.sender() is not session:
            return  # a fault of a session already stopped
        self._session = None
        session.stop(timeout=0)  # the reader releases the camera itself; a hung driver must not hang us
        session.deleteLater()
        self.last_error = error
        self._rate_timer.stop()
        self._frozen_frame = None
        self.freeze_action.setChecked(False)
        self.view.set_message(str(error))
        self.message_label.setText("⚠ " + str(error))
        self.rate_label.setText("")
        self._update_controls()
        self.status.emit(str(error))
        self.fault.emit(str(error))

    # -- controls ------------------------------------------------------------------------------------
    def set_mirror(self, mirror: bool) -> None:
        if self.mirror_action.isChecked() != bool(mirror):
            self.mirror_action.setChecked(bool(mirror))  # comes back here through toggled
            return
        self.view.set_mirror(mirror)
        self.view.set_edges(None)  # the old edges face the other way; the next result brings new ones
        if self._session is not None:
            self._session.set_mirror(mirror)

    def set_frozen(self, frozen: bool) -> None:
        if self.freeze_action.isChecked() != bool(frozen):
            self.freeze_action.setChecked(bool(frozen))
            return
        session = self._session
        if not frozen:
            self._frozen_frame = None
            if session is not None:
                session.freeze(None)
                self.view.set_message("")
            return
        frame = self._shown_frame  # hold exactly what is on screen
        if session is None or frame is None:
            self.freeze_action.setChecked(False)
            return
        self._frozen_frame = frame
        self.view.set_frame(frame.image, frame.index)
        self.view.set_message("Frozen: press Freeze again to go live.")
        session.freeze(frame)

    def save_snapshot(self) -> None:
        """Write the last classified frame (the frozen one, when frozen) and its result to ``snapshot_dir``."""
        if self._session is None:
            self.status.emit("Start the camera to take a snapshot.")
            return
        self._session.save_snapshot(self.snapshot_dir)

    def _on_snapshot_saved(self, path: str) -> None:
        self.message_label.setText(f"Snapshot saved: {path}")
        self.status.emit(f"Snapshot saved: {path} (and its result beside it as .json)")
        self.snapshot_saved.emit(path)

    def _on_snapshot_failed(self, message: str) -> None:
        self.message_label.setText("⚠ " + message)
        self.status.emit(message)

    def _apply_edges(self, show: bool) -> None:
        self.view.set_show_edges(show)

    def _update_controls(self) -> None:
        running = self._session is not None
        self.chooser.setEnabled(not running)
        self.chooser.refresh_button.setEnabled(not running and not self.chooser.is_scanning())
        self.start_action.setEnabled(not running and self.chooser.has_source())
        self.stop_action.setEnabled(running)
        self.freeze_action.setEnabled(running)
        self.snapshot_action.setEnabled(running)
        can_reconnect = not running and self.last_error is not None
        self.reconnect_action.setEnabled(can_reconnect)
        self.reconnect_button.setVisible(can_reconnect)

    def _show_rates(self) -> None:
        self.rate_label.setText(self.stats.text())

    # -- Qt events -----------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # Qt's name
        super().showEvent(event)
        if self._scan_on_show:
            self._scan_on_show = False  # probing cameras wakes them (their light goes on): only when asked for
            self.refresh_cameras()

    def hideEvent(self, event: QHideEvent) -> None:  # Qt's name
        # Switching to another page releases the camera; minimising the window (spontaneous) does not.
        if not event.spontaneous() and self.is_running():
            self.stop()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        self.shutdown()
        super().closeEvent(event)


def _default_snapshot_dir() -> Path:
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return Path(pictures or Path.home()) / "Fashion Lens"
