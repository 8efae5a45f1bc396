"""The side panel: the predicted category large, the confidence bars, the blur verdict and the model's view."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from fashion_desktop.ui.blur_badge import BlurBadge
from fashion_desktop.ui.confidence_bars import ConfidenceBars
from fashion_desktop.ui.model_input_view import ModelInputView


class ResultPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
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

        self.bars = ConfidenceBars(self)
        box = QGroupBox("All categories", self)
        QVBoxLayout(box).addWidget(self.bars)
        layout.addWidget(box)

        self.blur = BlurBadge(self)
        layout.addWidget(self.blur)

        seen = QGroupBox("What the model sees", self)
        seen_layout = QGridLayout(seen)
        self.model_input = ModelInputView(seen)
        seen_layout.addWidget(self.model_input, 0, 0, 2, 1)
        # A picture taken for footwear is also shown to the model as one shoe of the pair, levelled.
        self.footwear_input = ModelInputView(seen, pixel=3)
        self.footwear_input.setAccessibleName("One shoe, levelled")
        self.footwear_input.setToolTip(
            "Taken for footwear, the picture is shown to the model a second time: one shoe of the pair, turned "
            "so it lies level as in Fashion-MNIST. The two answers are averaged."
        )
        self.footwear_caption = QLabel("and one shoe,\nlevelled", seen)
        seen_layout.addWidget(self.footwear_input, 0, 1, Qt.AlignmentFlag.AlignBottom)
        seen_layout.addWidget(self.footwear_caption, 1, 1, Qt.AlignmentFlag.AlignTop)
        seen_layout.setColumnStretch(2, 1)
        self._show_footwear(None)
        layout.addWidget(seen)
        layout.addStretch(1)

    def show_result(self, result) -> None:
        """``result``: a worker PictureResult (its analysis may lack a prediction when no model is loaded)."""
        analysis = result.analysis
        prediction = analysis.prediction
        if prediction is None:
            self.category.setText("No model")
            self.confidence.setText("The picture cannot be classified until a model is loaded (File > Reload Model).")
            self.bars.clear()
        else:
            self.category.setText(prediction.label)
            text = f"{100 * prediction.confidence:.1f}% confident"
            known = getattr(analysis, "known", None)
            if known is not None and not known.known:
                text = (
                    f"⚠ Probably none of the ten categories: {prediction.label} is only the best guess "
                    f"({100 * prediction.confidence:.1f}%)."
                )
            self.confidence.setText(text)
            self.bars.set_probabilities(prediction.ranked())
        self.category.setAccessibleDescription(self.category.text())
        self.blur.set_report(analysis.blur)
        self.model_input.set_image(result.model_input)
        self._show_footwear(result.footwear_input)

    def _show_footwear(self, image) -> None:
        self.footwear_input.set_image(image)
        self.footwear_input.setVisible(image is not None)
        self.footwear_caption.setVisible(image is not None)

    def clear(self) -> None:
        self.category.setText("–")
        self.confidence.setText("Open a picture to classify it.")
        self.bars.clear()
        self.blur.clear_report()
        self.model_input.set_image(None)
        self._show_footwear(None)
