"""The side panel: the predicted category large, the confidence bars, the blur verdict, the model's view,
and the outfit's other items (a click shows one's bars and crop)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QGroupBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from fashion_desktop.ui.blur_badge import BlurBadge
from fashion_desktop.ui.confidence_bars import ConfidenceBars
from fashion_desktop.ui.model_input_view import ModelInputView

if TYPE_CHECKING:  # core.analysis pulls in OpenCV, which the window leaves to its workers
    from fashion_desktop.core.analysis import Analysis

UNRECOGNISED = "Unrecognised"  # the heading for a picture of none of the ten categories
REGION_NAMES = {
    "top": "top",
    "outerwear": "outerwear",
    "dress": "dress",
    "bottoms": "bottoms",
    "footwear": "shoes",
    "bag": "bag",
}


def item_text(label: str, confidence: float, region: str | None, known: bool = True) -> str:
    where = f" · {REGION_NAMES.get(region, region)}" if region else ""
    return f"{label if known else label + '?'} {100 * confidence:.0f}%{where}"


def input_qimage(array) -> QImage:
    """A QImage owning a copy of a small uint8 model input: (h, w) gray or (h, w, 3) RGB. (Not
    display.to_qimage: that module brings OpenCV, which the GUI thread never imports.)"""
    h, w = array.shape[:2]
    rgb = len(array.shape) == 3
    fmt = QImage.Format.Format_RGB888 if rgb else QImage.Format.Format_Grayscale8
    return QImage(bytes(array.tobytes()), w, h, w * (3 if rgb else 1), fmt).copy()


class ResultPanel(QWidget):
    # The outfit item picked in the list: its box as shares of the picture (x0, y0, x1, y1), [] for the main one.
    item_picked = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._analysis: Analysis | None = None
        self._main_input: QImage | None = None
        layout = QVBoxLayout(self)

        self.category = QLabel("–", self)
        font = QFont(self.category.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self.category.setFont(font)
        self.category.setAccessibleName("Predicted category")
        self.category.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confidence = QLabel("Open a picture to classify it.", self)
        self.confidence.setAccessibleName("Confidence of the prediction")
        self.confidence.setWordWrap(True)
        layout.addWidget(self.category)
        layout.addWidget(self.confidence)

        self.outfit = QGroupBox("Also in the picture", self)
        self.outfit.setToolTip("Other garments found on the person; click one to see its scores and crop.")
        self.items = QListWidget(self.outfit)
        self.items.setAccessibleName("Items in the picture")
        # Every row shown, none cut: the list is as tall as its rows and never scrolls sideways.
        self.items.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.items.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.items.setTextElideMode(Qt.TextElideMode.ElideRight)  # the whole text is in each row's tooltip
        self.items.currentRowChanged.connect(self._show_item)
        QVBoxLayout(self.outfit).addWidget(self.items)
        self.outfit.hide()
        layout.addWidget(self.outfit)

        self.bars = ConfidenceBars(self)
        self.bars_box = QGroupBox("All categories", self)
        QVBoxLayout(self.bars_box).addWidget(self.bars)
        layout.addWidget(self.bars_box)

        self.blur = BlurBadge(self)
        layout.addWidget(self.blur)

        seen = QGroupBox("What the model sees", self)
        seen_layout = QVBoxLayout(seen)
        self.model_input = ModelInputView(seen)
        seen_layout.addWidget(self.model_input, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(seen)

        layout.addStretch(1)

    def show_result(self, analysis: Analysis, model_input: QImage) -> None:
        """Show ``analysis`` (its prediction and known verdict are None when no model is loaded) and the
        picture the model was given."""
        prediction, known = analysis.prediction, analysis.known
        self.bars_box.setTitle("All categories")
        if prediction is None:
            self.category.setText("No model")
            self.confidence.setText("The picture cannot be classified until a model is loaded (File > Reload Model).")
            self.bars.clear()
        else:
            if known is not None and not known.recognised:
                # Not a confident Shirt: the heading says so, and the best guess is given as a guess.
                self.category.setText(UNRECOGNISED)
                self.confidence.setText(
                    f"⚠ Probably not a fashion item of the ten categories. Best guess: {prediction.label} "
                    f"({100 * prediction.confidence:.1f}%)."
                )
            else:
                self.category.setText(prediction.label)
                self.confidence.setText(f"{100 * prediction.confidence:.1f}% confident")
            self.bars.set_probabilities(prediction.ranked())
        self.confidence.setToolTip(
            f"Certainty {known.score:.2f}; below {known.threshold:.2f} a picture is called unrecognised."
            if known is not None and known.threshold > 0
            else ""
        )
        self.category.setAccessibleDescription(self.category.text())
        self.blur.set_report(analysis.blur)
        self.model_input.set_image(model_input)
        self._analysis, self._main_input = analysis, model_input
        self._list_items(analysis)

    def _list_items(self, analysis: Analysis) -> None:
        """Row 0: the main result; then every other garment found (none: the list is hidden)."""
        self.items.blockSignals(True)
        self.items.clear()
        if analysis.items and analysis.prediction is not None:
            main = analysis.prediction
            known = analysis.known.recognised if analysis.known is not None else True
            self.items.addItem(
                QListWidgetItem("Main: " + item_text(main.label, main.confidence, analysis.region, known))
            )
            for item in analysis.items:
                p = item.prediction
                if p is not None:
                    ok = item.known.recognised if item.known is not None else True
                    self._add_row(item_text(p.label, p.confidence, item.region, ok))
            self.items.setCurrentRow(0)
            rows = sum(self.items.sizeHintForRow(i) for i in range(self.items.count()))
            self.items.setFixedHeight(rows + 2 * self.items.frameWidth() + 2)
        self.items.blockSignals(False)
        self.outfit.setVisible(self.items.count() > 0)

    def _add_row(self, text: str) -> None:
        row = QListWidgetItem(text)
        row.setToolTip(text)
        self.items.addItem(row)

    def items_shown(self) -> list[str]:
        return [self.items.item(i).text() for i in range(self.items.count())]

    def _show_item(self, row: int) -> None:
        """Bars and crop of the item in ``row`` (0: the main one again); the window frames its box."""
        a = self._analysis
        if a is None or row < 0 or a.prediction is None:
            return
        if row == 0:
            self.bars_box.setTitle("All categories")
            self.bars.set_probabilities(a.prediction.ranked())
            self.model_input.set_image(self._main_input)
            self.item_picked.emit([])
            return
        item = a.items[row - 1]
        if item.prediction is None:
            return
        self.bars_box.setTitle(f"All categories: the {REGION_NAMES.get(item.region, item.region)}")
        self.bars.set_probabilities(item.prediction.ranked())
        self.model_input.set_image(input_qimage(item.model_input))
        h, w = a.image.shape[:2]
        x0, y0, x1, y1 = item.box
        self.item_picked.emit([x0 / w, y0 / h, x1 / w, y1 / h])

    def clear(self) -> None:
        self.category.setText("–")
        self.confidence.setText("Open a picture to classify it.")
        self.confidence.setToolTip("")
        self.bars.clear()
        self.bars_box.setTitle("All categories")
        self.blur.clear_report()
        self.model_input.set_image(None)
        self._analysis = self._main_input = None
        self.items.clear()
        self.outfit.hide()
