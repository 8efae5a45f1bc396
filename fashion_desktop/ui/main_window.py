"""The Fashion Lens main window: picture in (open, drop, paste, recent, arrows), result out, folder batches.

Its widgets are made and laid out by WindowLayout (ui/window_layout.py), its menus by ui/actions.py; this
class routes pictures to the analysis worker and the batch panel, and their results back to the widgets.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox, QWidget

from fashion_desktop.ui.about_dialog import AboutDialog
from fashion_desktop.ui.actions import build_actions
from fashion_desktop.ui.folder_browser import FolderBrowser
from fashion_desktop.ui.image_view import garment_layer
from fashion_desktop.ui.mime_input import local_files, picture_in
from fashion_desktop.ui.results import ModelInfo, PictureFailure, PictureResult
from fashion_desktop.ui.settings import Settings
from fashion_desktop.ui.window_layout import WindowLayout
from fashion_desktop.ui.worker import AnalysisWorker

MODEL_FIX = (
    "Fashion Lens still opens pictures and shows their blur and edges, but cannot classify them. "
    "After fixing the model, choose File > Reload Model."
)

if TYPE_CHECKING:
    from fashion_desktop.core.classifier import Classifier
    from fashion_desktop.ui.results import PictureSource


def _images():
    """core.images, imported on first use: it pulls in OpenCV, which start-up should not wait for."""
    from fashion_desktop.core import images

    return images


def _field(data: object, *keys: str) -> object:
    """``data[k1][k2]...``, or None where a level is missing or is not a dict."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


class MainWindow(WindowLayout):
    result_shown = Signal(PictureResult)  # now on screen (tests and future sources listen)
    recent_menu: QMenu  # File > Open Recent, made by ui/actions.py

    def __init__(
        self,
        settings: Settings | None = None,
        model_dir: str | os.PathLike | None = None,
        classifier: Classifier | None = None,
        parent: QWidget | None = None,
        camera_source: str | os.PathLike | None = None,
        camera_loop: bool = False,
    ):
        """``classifier``: a model loaded already (tests share one); otherwise it loads in the background.

        ``camera_source``: a video file offered as a camera (demos, tests); ``camera_loop`` replays it.
        """
        super().__init__(settings or Settings(), self._camera_classifier, camera_source, camera_loop, parent)
        self.setAcceptDrops(True)
        self.model_info: ModelInfo | None = None
        self.model_error: str | None = None
        self.current_path: Path | None = None
        self.last_result: PictureResult | None = None
        self._pending_batch: tuple[list[Path], str] | None = None
        self._latest_request = 0  # id of the newest picture asked for
        self._shown_request = 0  # id of the picture on screen; older results arriving late are dropped
        self._folder: FolderBrowser | None = None  # made on first use: the suffix list comes with OpenCV
        self._closing = False

        self.batch_panel.cancel_requested.connect(self.cancel_batch)
        self.batch_panel.show_requested.connect(self.open_path)
        build_actions(self)
        self._restore_settings()  # after the toolbar and the dock exist: their places are in the saved state

        self.worker = AnalysisWorker(model_dir=model_dir, classifier=classifier)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_result)
        self.worker.failed.connect(self._on_failure)
        self.worker.model_ready.connect(self._on_model_ready)
        self.worker.model_failed.connect(self._on_model_failed)
        self.worker.start()

    def _camera_classifier(self) -> Classifier | None:
        return self.model_info.classifier if self.model_info else None

    # -- putting a picture in ------------------------------------------------------------------------
    def request_picture(self, source: PictureSource, name: str | None = None) -> int:
        """Hand a path, encoded bytes, RGB array or QImage to the worker; the newest request wins."""
        self.show_picture_mode()
        self._latest_request = self.worker.request(source, name)
        if self.model_info is None and self.model_error is None:
            self.show_status("The picture will be classified as soon as the model is loaded…")
        return self._latest_request

    def open_path(self, path: str | os.PathLike) -> bool:
        path = Path(path)
        try:
            mode: int | None = os.stat(path).st_mode
        except FileNotFoundError:
            mode = None
        except (OSError, ValueError) as exc:  # a name too long, a parent that is a file or may not be searched
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.show_status(f"Cannot open {path}: {reason}.", error=True)
            return False
        if mode is not None and stat.S_ISDIR(mode):
            return self.start_batch([path], path.name or str(path))
        if mode is None or not stat.S_ISREG(mode):
            self.show_status(f"Cannot open {path}: there is no such file.", error=True)
            return False
        self.current_path = path
        self.settings.last_folder = str(path.parent)
        self.request_picture(path, path.name)
        return True

    def open_paths(self, paths: Sequence[str | os.PathLike]) -> bool:
        """Open what was given on the command line or dropped: one file is shown; folders or several files
        make a batch."""
        paths = [Path(p) for p in paths]
        if not paths:
            return False
        if len(paths) == 1:
            return self.open_path(paths[0])
        return self.start_batch(paths, f"{len(paths)} items")

    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open a picture", self.settings.last_folder, f"{_images().IMAGE_FILE_FILTER};;All files (*)"
        )
        if name:
            self.open_path(name)

    def folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Classify the pictures in a folder", self.settings.last_folder)
        if folder:
            self.settings.last_folder = folder
            self.start_batch([Path(folder)], Path(folder).name)

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files
        for i, path in enumerate(recent, 1):
            action = self.recent_menu.addAction(f"&{i % 10} {Path(path).name.replace('&', '&&')}")
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("&Clear Recent", lambda: setattr(self.settings, "recent_files", []))

    def paste(self) -> None:
        if not self._open_mime(QApplication.clipboard().mimeData(), "pasted picture", allow_text_path=True):
            self.show_status("The clipboard holds no picture and no image file to paste.", error=True)

    def _open_mime(self, mime, name: str, allow_text_path: bool = False) -> bool:
        """Open what a paste or drop holds; False when it holds nothing to open."""
        picture = picture_in(mime, allow_text_path)
        if isinstance(picture, list):
            self.open_paths(picture)
            return True
        if picture is None:
            return False
        self.current_path = None
        self.request_picture(picture, name)
        return True

    def step(self, delta: int) -> None:
        """Show the next (+1) or previous (-1) picture of the current picture's folder."""
        if self.current_path is None:
            self.show_status("Open a picture from a folder first; the arrow keys then step through it.")
            return
        if self._folder is None:
            self._folder = FolderBrowser(_images().SUPPORTED_SUFFIXES)
        try:
            target = self._folder.neighbour(self.current_path, delta)
        except OSError as exc:
            self.show_status(f"Cannot list {self.current_path.parent}: {exc.strerror or exc}", error=True)
            return
        if target is None:
            where = self.current_path.parent.name
            self.show_status(f"No {'next' if delta > 0 else 'previous'} picture in {where}.")
            return
        self.open_path(target)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # Qt's name
        if local_files(event.mimeData()) or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # Qt's name
        if self._open_mime(event.mimeData(), "dropped picture"):
            event.acceptProposedAction()
        else:
            self.show_status("What was dropped holds no picture and no image file.", error=True)

    # -- results -------------------------------------------------------------------------------------
    def _on_progress(self, message: str) -> None:
        if self._closing:
            return
        if self._status_error and self._latest_request <= self._shown_request:
            return  # the model loading in the background must not hide why a picture could not be opened
        self.show_status(message)

    def _on_result(self, result: PictureResult) -> None:
        if result.request_id <= self._shown_request or self._closing:
            return  # something newer is already on screen
        self._shown_request = result.request_id
        self.last_result = result
        a = result.analysis
        if a.source:  # a file, not a pasted picture: it opened fine, so it is worth offering again
            self.settings.add_recent(a.source)
        garment = garment_layer(a.item_mask) if a.region is not None and a.item_mask is not None else None
        self.image_view.set_picture(result.photo, result.edge_layer, result.name, garment)
        self.result_panel.show_result(result.analysis, result.model_input)
        steps = ", ".join(f"{k} {v:.0f} ms" for k, v in a.timings_ms.items())
        self.timing_label.setText(f"Time: {a.total_ms:.0f} ms")
        self.timing_label.setToolTip(f"Time taken for {result.name}: {steps}")
        self.timing_label.setAccessibleDescription(steps)
        p = a.prediction
        if p is None:
            what = "not classified (no model)"
        elif a.known is not None and not a.known.recognised:
            what = f"unrecognised (best guess {p.label}, {100 * p.confidence:.0f}%)"
        else:
            what = f"{p.label} ({100 * p.confidence:.0f}%)"
        self.show_status(f"{result.name}: {what}, analysed in {a.total_ms:.0f} ms")
        self.setWindowTitle(f"{result.name} – Fashion Lens")
        self.result_shown.emit(result)

    def _on_failure(self, failure: PictureFailure) -> None:
        if failure.request_id != self._latest_request or self._closing:
            return  # a newer request replaced this one; its own result will speak
        self.show_status(failure.message, error=True)  # the previous result stays on screen

    def _on_model_ready(self, info: ModelInfo) -> None:
        self.model_info, self.model_error = info, None
        accuracy = _field(_field(info.metadata, "metrics"), "accuracy", "clean")  # model.json may be odd
        figure = f" · {100 * accuracy:.1f}% test accuracy" if isinstance(accuracy, (int, float)) else ""
        self.model_label.setText("Model ready" + figure)
        if self._latest_request > self._shown_request:
            self.show_status("Model ready; classifying…")
        elif not self.last_result and not self._status_error:
            self.show_status("Model ready. Open a picture (Ctrl+O), drop one on the window, or paste one.")
        if self._pending_batch is not None:
            paths, description = self._pending_batch
            self._pending_batch = None
            self.start_batch(paths, description)

    def _on_model_failed(self, message: str) -> None:
        self.model_info, self.model_error = None, message
        self.model_label.setText("⚠ No model")
        self.show_status("The model could not be loaded; pictures are shown but not classified.", error=True)
        if self._pending_batch is not None:
            self._pending_batch = None
            self.batch_panel.end(0, True)
        if self._closing:
            return
        box = QMessageBox(
            QMessageBox.Icon.Critical, "Fashion Lens: model not available", message, QMessageBox.StandardButton.Ok, self
        )
        box.setInformativeText(MODEL_FIX)
        box.setObjectName("modelErrorBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # window-modal and not blocking: the app stays usable behind it

    def reload_model(self) -> None:
        self.model_label.setText("Loading the model…")
        self.model_info = self.model_error = None
        self.worker.reload_model()

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.model_info, self.model_error, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- folder batches ------------------------------------------------------------------------------
    def start_batch(self, paths: Sequence[str | os.PathLike], description: str) -> bool:
        """Show the batch dock and classify ``paths``; without a model yet, as soon as it is loaded."""
        self.show_picture_mode()
        self.cancel_batch(wait=True)
        self.batch_dock.show()
        self.batch_panel.last_folder = self.settings.last_folder
        if self.model_info is None:
            self.batch_panel.begin(description)
            if self.model_error is not None:
                self.batch_panel.end(0, True)
                self.show_status("A folder cannot be classified without a model: " + self.model_error, error=True)
                return False
            self._pending_batch = ([Path(p) for p in paths], description)
            self.show_status(f"{description} will be classified as soon as the model is loaded…")
            return True
        self.batch_panel.run(paths, description, self.model_info.classifier)
        return True

    def cancel_batch(self, wait: bool = False) -> None:
        if self._pending_batch is not None:  # still waiting for the model: it never starts
            self._pending_batch = None
            self.batch_panel.end(0, True)
        self.batch_panel.cancel(wait)

    # -- closing -------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop and wait for every worker thread; safe to call twice."""
        self._closing = True
        self.camera_panel.shutdown()
        self.batch_panel.shutdown()
        self.worker.stop()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's name
        self.save_settings()
        self.hide()  # the window goes at once; a model still loading may take a moment to let go
        self.shutdown()
        super().closeEvent(event)
