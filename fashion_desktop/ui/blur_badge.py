"""The blur verdict in words, symbol and colour (never colour alone), with the score behind it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

# (background, text) for light and dark colour schemes; both pairs keep a contrast ratio above 7:1.
_COLOURS = {
    ("sharp", False): ("#d6f2dc", "#10461f"),
    ("blurry", False): ("#fde0cc", "#6b2410"),
    ("sharp", True): ("#1d4a2a", "#dcf7e2"),
    ("blurry", True): ("#5a2610", "#ffe3d0"),
}


class BlurBadge(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._verdict: str | None = None
        self.setAccessibleName("Blur verdict")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWordWrap(True)
        self.setMargin(6)
        self.clear_report()

    def clear_report(self) -> None:
        self._verdict = None
        self.setText("Blur: –")
        self.setToolTip("")
        self.setAccessibleDescription("no picture")
        self._recolour()

    def set_report(self, report) -> None:
        """``report``: a core BlurReport (score, threshold, blurry)."""
        self._verdict = "blurry" if report.blurry else "sharp"
        word = "⚠ Blurry" if report.blurry else "✓ Sharp"
        detail = f"sharpness score {report.score:.0f}, blurry below {report.threshold:.0f}"
        self.setText(f"<b>{word}</b> · {detail}")
        self.setToolTip(
            "The score says how steep the sharpest edges are; below the threshold the picture is called blurry."
        )
        self.setAccessibleDescription(f"{word[2:]}: {detail}")
        self._recolour()

    def verdict(self) -> str | None:
        """'sharp', 'blurry' or None."""
        return self._verdict

    def _recolour(self) -> None:
        if self._verdict is None:
            if self.styleSheet():
                self.setStyleSheet("")
            return
        # Our own palette carries the style sheet's colours; the scheme is the surroundings'.
        parent = self.parentWidget()
        palette = parent.palette() if parent is not None else QApplication.palette()
        dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
        bg, fg = _COLOURS[(self._verdict, dark)]
        sheet = f"QLabel {{ background: {bg}; color: {fg}; border-radius: 4px; }}"
        if sheet != self.styleSheet():  # setting a sheet sends a palette change: don't loop
            self.setStyleSheet(sheet)

    def changeEvent(self, event: QEvent) -> None:  # Qt's name
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._recolour()
