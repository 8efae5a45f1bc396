"""The picture the model is given ("what the model sees"), enlarged with nearest-neighbour pixels: 28 x 28
gray for a dataset-style picture, 64 x 64 in colour when the colour photo model judged a photo."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

PIXEL = 6  # screen pixels per pixel of a 28 x 28 input; a larger input is shown in the same square


class ModelInputView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(self.sizeHint())
        self.setAccessibleName("What the model sees")
        self.setAccessibleDescription("No picture")
        self._describe(None)

    def sizeHint(self) -> QSize:
        return QSize(28 * PIXEL + 2, 28 * PIXEL + 2)

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._describe(image)
        self.update()

    def _describe(self, image: QImage | None) -> None:
        if image is None:
            self.setAccessibleDescription("No picture")
            self.setToolTip("The picture as the model is given it")
        elif image.isGrayscale():
            side = f"{image.width()} by {image.height()}"
            self.setAccessibleDescription(f"{side} gray picture")
            self.setToolTip(
                f"The picture as the model is given it: {side} gray pixels, item light on black, like Fashion-MNIST"
            )
        else:
            side = f"{image.width()} by {image.height()}"
            self.setAccessibleDescription(f"{side} colour picture")
            self.setToolTip(f"The picture as the photo model is given it: the item alone, {side} pixels in colour")

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
