"""Folder batches: the worker that runs one, progress, Cancel, a sortable results table, Export CSV."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fashion_desktop.core.atomic import atomic_write_text
from fashion_desktop.ui.worker import BatchWorker

COLUMNS = ("File", "Category", "Confidence", "Blur")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2

if TYPE_CHECKING:
    from fashion_desktop.core.classifier import Classifier


class BatchPanel(QWidget):
    cancel_requested = Signal()  # the Cancel button: the window also drops a batch still waiting for the model
    show_requested = Signal(Path)  # a row was double-clicked (or Enter pressed on it)
    status = Signal(str)  # a message for the status bar
    error = Signal(str)  # the batch could not run (an unreadable folder)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker: BatchWorker | None = None  # the batch running or last run
        self._rows: list = []  # BatchRow, in arrival order (the CSV order)
        self.last_folder = ""  # where the export dialog starts

        self.title = QLabel("No batch yet: File > Classify Folder…, or drop a folder on the window.", self)
        self.title.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Batch progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.cancel_button = QPushButton("&Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.export_button = QPushButton("&Export CSV…", self)
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._ask_export)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(COLUMNS)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Batch results")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # arrival order until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._activated)  # double-click, or Enter from the keyboard

        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    # -- the batch's worker --------------------------------------------------------------------------
    def run(self, paths: Sequence[str | os.PathLike], description: str, classifier: Classifier) -> None:
        """Classify ``paths`` (folders and files) in a background thread; a batch still running is stopped."""
        self.cancel(wait=True)
        self.begin(description)
        worker = BatchWorker(paths, classifier)
        worker.progress.connect(self._on_progress)
        worker.row_ready.connect(self._on_row)
        worker.failed.connect(self.error)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        worker.start()
        self.status.emit(f"Classifying {description}…")

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def cancel(self, wait: bool = False) -> None:
        """Ask the batch to stop after the file in hand; ``wait``: until its thread has ended."""
        if self.worker is not None and self.worker.is_running():
            self.worker.stop() if wait else self.worker.cancel()

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    # Signals of a batch that a newer one replaced may still be queued: only the current batch's count.
    def _on_progress(self, done: int, total: int) -> None:
        if self.sender() is self.worker:
            self.set_progress(done, total)

    def _on_row(self, row) -> None:
        if self.sender() is self.worker:
            self.add_row(row)

    def _on_finished(self, done: int, cancelled: bool) -> None:
        if self.sender() is not self.worker:
            return
        self.end(done, cancelled)
        self.status.emit(f"Batch {'cancelled' if cancelled else 'done'}: {done} files classified.")

    # -- what is shown -------------------------------------------------------------------------------
    def begin(self, description: str) -> None:
        self._rows.clear()
        self.model.removeRows(0, self.model.rowCount())
        self.title.setText(f"Classifying {description}…")
        self.progress.setRange(0, 0)  # busy until the files are counted
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total}")

    def add_row(self, row) -> None:
        """``row``: a worker BatchRow."""
        self._rows.append(row)
        blur = "–" if row.blurry is None else ("Blurry" if row.blurry else "Sharp")
        cells = [
            (row.path.name, row.path.name.lower()),
            (_category_text(row), row.label or "~"),
            ("–" if row.confidence is None else f"{100 * row.confidence:.1f}%", row.confidence or -1.0),
            (blur if row.blur_score is None else f"{blur} ({row.blur_score:.0f})", row.blur_score or -1.0),
        ]
        items = []
        for text, key in cells:
            item = QStandardItem(text)
            item.setData(key, SORT_ROLE)
            item.setData(str(row.path), PATH_ROLE)
            item.setToolTip(str(row.path) if row.error is None else row.error)
            items.append(item)
        self.model.appendRow(items)

    def end(self, done: int, cancelled: bool) -> None:
        errors = sum(r.error is not None for r in self._rows)
        state = "Cancelled" if cancelled else "Done"
        self.title.setText(
            f"{state}: {done} file{'s' if done != 1 else ''} classified"
            + (f", {errors} could not be read." if errors else ".")
        )
        if self.progress.maximum() == 0:
            self.set_progress(done, done)
        self.cancel_button.setEnabled(False)
        self.export_button.setEnabled(bool(self._rows))

    def rows(self) -> list:
        return list(self._rows)

    # -- export --------------------------------------------------------------------------------------
    def csv_text(self) -> str:
        """The rows in ``fashion-classify --csv``'s layout (core.serialize.csv_text), in arrival order."""
        from fashion_desktop.core.serialize import csv_text

        return csv_text([r.record for r in self._rows if r.record is not None])

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write the results as CSV, atomically: the file is complete or untouched."""
        path = Path(path)
        atomic_write_text(path, self.csv_text())
        return path

    def _ask_export(self) -> None:
        start = str(Path(self.last_folder or Path.home()) / "fashion-lens-results.csv")
        name, _ = QFileDialog.getSaveFileName(self, "Export results as CSV", start, "CSV files (*.csv)")
        if not name:
            return
        try:
            path = self.export_csv(name)
        except OSError as exc:
            self.status.emit(f"Could not write {name}: {exc.strerror or exc}")
        else:
            self.status.emit(f"Saved {len(self._rows)} results to {path}")

    def _activated(self, index: QModelIndex) -> None:
        path = index.data(PATH_ROLE)
        if path:
            self.show_requested.emit(Path(path))


def _category_text(row) -> str:
    if row.error is not None:
        return f"Error: {row.error}"
    return f"Unrecognised (best guess {row.label})" if row.known is False else row.label
