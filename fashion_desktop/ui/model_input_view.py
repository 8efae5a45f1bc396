"""The 28x28 picture the model is given ("what the model sees"), enlarged with nearest-neighbour pixels."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

PIXEL = 6  # screen pixels per model-input pixel


class ModelInputView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(self.sizeHint())
        self.setAccessibleName("What the model sees")
        self.setAccessibleDescription("No picture")
        self.setToolTip(
            "The picture as the model is given it: 28 by 28 gray pixels, item light on black, like Fashion-MNIST"
        )

    def sizeHint(self) -> QSize:
        return QSize(28 * PIXEL + 2, 28 * PIXEL + 2)

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self.setAccessibleDescription("28 by 28 gray picture" if image is not None else "No picture")
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        inner = QRect(1, 1, 28 * PIXEL, 28 * PIXEL)
        if self._image is None:
            painter.fillRect(inner, self.palette().color(QPalette.ColorRole.AlternateBase))
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # keep the pixels square
        painter.drawImage(
            inner,
            self._image.scaled(
                inner.size(), Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation
            ),
        )
