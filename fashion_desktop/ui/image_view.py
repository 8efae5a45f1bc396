"""Shows the picture zoomed to fit, with the Canny edge layer painted over it at an adjustable opacity."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette, QPixmap, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

PLACEHOLDER = "Open a picture (Ctrl+O), drop one here, or paste one (Ctrl+V)"


def fit_rect(picture: QSize, area: QRect) -> QRect:
    """The largest rectangle of ``picture``'s aspect ratio that fits in ``area``, centred in it."""
    size = picture.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    rect = QRect(0, 0, max(1, size.width()), max(1, size.height()))
    rect.moveCenter(area.center())
    return rect


class ImageView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._photo: QImage | None = None
        self._edges: QImage | None = None
        self._overlay = False
        self._opacity = 0.7
        self._cache: dict[str, tuple[QSize, QPixmap]] = {}  # scaled pixmaps for the current size
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.setAccessibleName("Picture")
        self.setAccessibleDescription("No picture open")

    def sizeHint(self) -> QSize:
        return QSize(640, 560)

    # -- state ---------------------------------------------------------------------------------------
    def set_picture(self, photo: QImage, edges: QImage | None, description: str = "") -> None:
        self._photo, self._edges = photo, edges
        self._cache.clear()
        self.setAccessibleDescription(description or "Picture")
        self.update()

    def clear(self) -> None:
        self._photo = self._edges = None
        self._cache.clear()
        self.setAccessibleDescription("No picture open")
        self.update()

    def has_picture(self) -> bool:
        return self._photo is not None

    def set_overlay(self, enabled: bool, opacity: float | None = None) -> None:
        self._overlay = bool(enabled)
        if opacity is not None:
            self._opacity = max(0.0, min(1.0, float(opacity)))
        self.update()

    def overlay(self) -> tuple[bool, float]:
        return self._overlay, self._opacity

    # -- painting ------------------------------------------------------------------------------------
    def target_rect(self) -> QRect:
        """Where the picture goes: as large as fits, aspect kept, centred."""
        return fit_rect(self._photo.size(), self.rect()) if self._photo is not None else QRect()

    def _scaled(self, key: str, image: QImage, size: QSize) -> QPixmap:
        cached = self._cache.get(key)
        if cached is None or cached[0] != size:
            pixmap = QPixmap.fromImage(
                image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
            )
            self._cache[key] = cached = (size, pixmap)
        return cached[1]

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self._photo is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.rect().adjusted(12, 12, -12, -12),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                PLACEHOLDER,
            )
            return
        rect = self.target_rect()
        painter.drawPixmap(rect, self._scaled("photo", self._photo, rect.size()))
        if self._overlay and self._edges is not None and self._opacity > 0:
            painter.setOpacity(self._opacity)
            painter.drawPixmap(rect, self._scaled("edges", self._edges, rect.size()))

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt's name
        super().resizeEvent(event)
        self.update()
