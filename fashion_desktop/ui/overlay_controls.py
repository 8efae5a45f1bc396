"""The edge overlay's switch and opacity slider, kept in step with the window's Edge Overlay action (E)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QWidget


class OverlayControls(QWidget):
    changed = Signal(bool, float)  # shown, opacity 0..1

    def __init__(self, action: QAction, parent: QWidget | None = None):
        """``action``: the checkable window action (shortcut E) that the check box mirrors."""
        super().__init__(parent)
        self.action = action
        self.check = QCheckBox("Show &edges (E)", self)
        self.check.setAccessibleName("Edge overlay")
        self.check.setToolTip("Paint the Canny edges over the picture")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 100)
        self.slider.setAccessibleName("Edge overlay opacity")
        self.slider.setToolTip("How strongly the edges are painted")
        label = QLabel("&Opacity:", self)
        label.setBuddy(self.slider)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.check)
        layout.addSpacing(12)
        layout.addWidget(label)
        layout.addWidget(self.slider, 1)

        self.check.toggled.connect(action.setChecked)
        action.toggled.connect(self.check.setChecked)
        action.toggled.connect(self._emit)
        self.slider.valueChanged.connect(self._emit)

    def set_state(self, shown: bool, opacity_percent: int) -> None:
        self.slider.setValue(opacity_percent)
        self.action.setChecked(shown)
        self._emit()

    def shown(self) -> bool:
        return self.action.isChecked()

    def opacity_percent(self) -> int:
        return self.slider.value()

    def _emit(self, *_) -> None:
        self.changed.emit(self.action.isChecked(), self.slider.value() / 100)
