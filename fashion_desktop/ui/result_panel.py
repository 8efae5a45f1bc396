"""The side panel: the predicted category large, the confidence bars, the blur verdict and the model's view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from fashion_desktop.ui.blur_badge import BlurBadge
from fashion_desktop.ui.confidence_bars import ConfidenceBars
from fashion_desktop.ui.model_input_view import ModelInputView

if TYPE_CHECKING:  # core.analysis pulls in OpenCV, which the window leaves to its workers
    from fashion_desktop.core.analysis import Analysis

UNRECOGNISED = "Unrecognised"  # the heading for a picture of none of the ten categories


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
        seen_layout = QVBoxLayout(seen)
        self.model_input = ModelInputView(seen)
        seen_layout.addWidget(self.model_input, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(seen)
        layout.addStretch(1)

    def show_result(self, analysis: Analysis, model_input: QImage) -> None:
        """Show ``analysis`` (its prediction and known verdict are None when no model is loaded) and the
        picture the model was given."""
        prediction, known = analysis.prediction, analysis.known
        if prediction is None:
            self.category.setText("No model")
            self.confidence.setText("The picture cannot be classified until a model is loaded (File > Reload Model).")
            self.bars.clear()
        else:
            if known is not None and not known.known:
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

    def clear(self) -> None:
        self.category.setText("–")
        self.confidence.setText("Open a picture to classify it.")
        self.confidence.setToolTip("")
        self.bars.clear()
        self.blur.clear_report()
        self.model_input.set_image(None)
