"""A labelled bar per category with its probability as a percentage, the most likely first."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from fashion_desktop.core import CLASS_NAMES

SCALE = 1000  # bar steps: 0.1 % resolution


class ConfidenceBars(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Confidence for each category")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        self._labels: list[QLabel] = []
        self._bars: list[QProgressBar] = []
        for row in range(len(CLASS_NAMES)):
            label = QLabel(self)
            bar = QProgressBar(self)
            bar.setRange(0, SCALE)
            bar.setTextVisible(True)
            label.setBuddy(bar)
            grid.addWidget(label, row, 0)
            grid.addWidget(bar, row, 1)
            self._labels.append(label)
            self._bars.append(bar)
        self.clear()

    def clear(self) -> None:
        for label, bar, name in zip(self._labels, self._bars, CLASS_NAMES):
            label.setText(name)
            bar.setValue(0)
            bar.setFormat("–")
            bar.setAccessibleName(f"{name} confidence")
            bar.setAccessibleDescription("no result")

    def set_probabilities(self, ranked: Sequence[tuple[str, float]]) -> None:
        """``ranked``: (category, probability) pairs, most likely first (``Prediction.ranked()``)."""
        for label, bar, (name, p) in zip(self._labels, self._bars, ranked):
            percent = f"{100 * p:.1f}%"
            label.setText(name)
            bar.setValue(round(p * SCALE))
            bar.setFormat(percent)
            bar.setAccessibleName(f"{name} confidence")
            bar.setAccessibleDescription(percent)

    def shown(self) -> list[tuple[str, float]]:
        """What the bars show, top to bottom: (category, probability to the bar's resolution)."""
        return [(label.text(), bar.value() / SCALE) for label, bar in zip(self._labels, self._bars)]

    def bars(self) -> list[QProgressBar]:
        return list(self._bars)
