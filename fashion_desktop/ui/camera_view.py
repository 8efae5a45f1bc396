"""The live camera picture, optionally mirrored, with the guide box and the edges found inside it painted over."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from fashion_desktop.ui.image_view import fit_rect

GUIDE_HINT = "Hold the item inside the box"


def frame_to_qimage(rgb) -> QImage:
    """A QImage over an RGB uint8 array without copying it: the caller keeps the array alive."""
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888)


class LiveView(QWidget):
    frame_painted = Signal(int)  # index of a frame that has just reached the screen (for the display rate)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._array = None  # keeps the frame's pixels alive while the QImage points at them
        self._index = 0
        self._painted_index = 0
        self._mirror = False
        self._guide_fraction = 0.6
        self._edges: QImage | None = None
        self._show_edges = True
        self._edge_opacity = 0.8
        self._message = "Choose a camera and press Start."
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # every pixel is painted: skip the erase
        self.setAccessibleName("Live camera picture")
        self.setAccessibleDescription(self._message)

    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    # -- state ---------------------------------------------------------------------------------------
    def set_frame(self, rgb, index: int) -> None:
        """Show an RGB uint8 frame (not copied: it must not change afterwards)."""
        self._array, self._image, self._index = rgb, frame_to_qimage(rgb), index
        self.update()

    def clear(self, message: str) -> None:
        self._array = self._image = self._edges = None
        self._message = message
        self.setAccessibleDescription(message)
        self.update()

    def set_message(self, message: str) -> None:
        """Text shown over the picture (e.g. why it stopped); empty for none."""
        self._message = message
        self.setAccessibleDescription(message or "Live camera picture")
        self.update()

    def set_mirror(self, mirror: bool) -> None:
        self._mirror = bool(mirror)
        self.update()

    def set_guide_fraction(self, fraction: float) -> None:
        self._guide_fraction = float(fraction)
        self.update()

    def set_edges(self, layer: QImage | None) -> None:
        """Edges of the guide box's content, as analysed (already mirrored if the view is)."""
        self._edges = layer
        self.update()

    def set_show_edges(self, show: bool) -> None:
        self._show_edges = bool(show)
        self.update()

    def has_frame(self) -> bool:
        return self._image is not None

    def shown_index(self) -> int:
        return self._index if self._image is not None else 0

    # -- geometry ------------------------------------------------------------------------------------
    def picture_rect(self) -> QRect:
        return fit_rect(self._image.size(), self.rect()) if self._image is not None else QRect()

    def guide_rect(self) -> QRectF:
        """The guide box on screen (same rule as core.live_camera.guide_rect, in widget coordinates)."""
        from fashion_desktop.core.live_camera import guide_rect  # OpenCV is loaded by now

        picture = self.picture_rect()
        if picture.isEmpty() or self._image is None:
            return QRectF()
        w, h = self._image.width(), self._image.height()
        x, y, gw, gh = guide_rect(w, h, self._guide_fraction)
        sx, sy = picture.width() / w, picture.height() / h
        return QRectF(picture.x() + x * sx, picture.y() + y * sy, gw * sx, gh * sy)

    # -- painting ------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Dark))
        if self._image is not None:
            self._paint_frame(painter)
        if self._message:
            text_colour = QColor("white") if self._image is not None else self.palette().color(QPalette.ColorRole.Text)
            painter.setPen(text_colour)
            box = self.rect().adjusted(12, 12, -12, -12)
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap
            flags |= Qt.AlignmentFlag.AlignBottom if self._image is not None else Qt.AlignmentFlag.AlignVCenter
            if self._image is not None:
                painter.fillRect(QRect(box.left(), box.bottom() - 40, box.width(), 44), QColor(0, 0, 0, 150))
            painter.drawText(box, flags, self._message)
        painter.end()
        if self._image is not None and self._index != self._painted_index:
            self._painted_index = self._index
            self.frame_painted.emit(self._index)

    def _paint_frame(self, painter: QPainter) -> None:
        picture = self.picture_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.save()
        if self._mirror:  # flip around the picture's centre line
            painter.translate(2 * picture.x() + picture.width(), 0)
            painter.scale(-1, 1)
        if self._image is not None:
            painter.drawImage(picture, self._image)
        painter.restore()
        guide = self.guide_rect()
        if self._show_edges and self._edges is not None:
            painter.setOpacity(self._edge_opacity)
            painter.drawImage(guide, self._edges)
            painter.setOpacity(1.0)
        # Dim what lies outside the box: it is not classified.
        shade = QColor(0, 0, 0, 90)
        p = QRectF(picture)
        painter.fillRect(QRectF(p.left(), p.top(), p.width(), guide.top() - p.top()), shade)
        painter.fillRect(QRectF(p.left(), guide.bottom(), p.width(), p.bottom() - guide.bottom() + 1), shade)
        painter.fillRect(QRectF(p.left(), guide.top(), guide.left() - p.left(), guide.height()), shade)
        painter.fillRect(QRectF(guide.right(), guide.top(), p.right() - guide.right() + 1, guide.height()), shade)
        pen = QPen(QColor(255, 255, 255, 230), 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(guide)
        painter.drawText(
            guide.adjusted(0, -22, 0, 0).toRect(), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, GUIDE_HINT
        )
