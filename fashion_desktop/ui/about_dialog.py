"""Help > About: the app, and the model's own figures from model.json with its confusion matrix."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from fashion_desktop import __version__
from fashion_desktop.core import CLASS_NAMES

_CONDITIONS = {
    "clean": "Clean test pictures",
    "gaussian_1.0": "Gaussian blur, σ 1.0",
    "gaussian_1.5": "Gaussian blur, σ 1.5",
    "gaussian_2.0": "Gaussian blur, σ 2.0",
    "motion_5": "Motion blur, 5 px",
    "motion_7": "Motion blur, 7 px",
}


def _percent(value) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, (int, float)) else "–"


def _mapping(parent, key: str) -> dict:
    """``parent[key]`` when both are dicts, else {}: a hand-edited model.json must not break the dialog."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def model_summary_html(metadata: dict) -> str:
    """The figures of model.json as HTML tables: accuracy by condition, recall by category."""
    metrics = _mapping(metadata, "metrics")
    accuracy = _mapping(metrics, "accuracy")
    recall = _mapping(_mapping(metrics, "clean"), "per_class_recall")
    rows = "".join(
        f"<tr><td>{html.escape(_CONDITIONS.get(k, k))}</td><td align='right'>{_percent(v)}</td></tr>"
        for k, v in accuracy.items()
    )
    recall_rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td align='right'>{_percent(recall.get(name))}</td></tr>"
        for name in CLASS_NAMES
    )
    training = _mapping(metadata, "training")
    made = ", ".join(f"{k.replace('_', ' ')} {training[k]}" for k in ("arch", "epochs") if k in training)
    return (
        "<h3>The model</h3>"
        f"<p>Trained on Fashion-MNIST{(' (' + html.escape(made) + ')') if made else ''}. "
        "Figures measured on its 10,000 test pictures.</p>"
        f"<p><b>Accuracy</b></p><table cellspacing='0' cellpadding='2'>{rows or '<tr><td>not recorded</td></tr>'}"
        "</table>"
        f"<p><b>Recall per category</b> (clean pictures)</p><table cellspacing='0' cellpadding='2'>{recall_rows}"
        "</table>"
    )


def photo_model_html(metadata: dict, title: str = "The photo model", what: str = "Photos and camera frames") -> str:
    """What judges photos, from the photo model's model.json: its input and its held-out photo figures."""
    shape = _mapping(metadata, "input").get("shape")
    seen = (
        f"{shape[0]} x {shape[1]} pixels in colour"
        if isinstance(shape, list) and len(shape) == 3 and shape[2] == 3
        else "28 x 28 gray pixels"
    )
    metrics = _mapping(metadata, "metrics")
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td align='right'>{_percent(_mapping(metrics, key).get('top1_labelled'))}"
        "</td></tr>"
        for key, label in (
            ("real_photos", "clothing-dataset-small, held out"),
            ("real_photos_extra", "clothing-dataset-extra, held out"),
            ("ccp_worn_garments", "garments worn, CCP held out"),
        )
        if key in metrics
    )
    return (
        f"<h3>{html.escape(title)}</h3>"
        f"<p>{html.escape(what)} are judged by a model that sees the item alone at {seen}. "
        "Held-out real photos, each by its own label:</p>"
        f"<table cellspacing='0' cellpadding='2'>{rows or '<tr><td>not recorded</td></tr>'}</table>"
    )


class AboutDialog(QDialog):
    def __init__(self, model_info=None, model_error: str | None = None, parent: QWidget | None = None):
        """``model_info``: the worker's ModelInfo, or None with ``model_error`` saying why."""
        super().__init__(parent)
        self.setWindowTitle("About Fashion Lens")
        intro = QLabel(
            f"<h2>Fashion Lens {__version__}</h2>"
            "<p>Tells which of the ten Fashion-MNIST categories a photo shows, whether it is blurry, "
            "and where its edges are.</p>",
            self,
        )
        intro.setWordWrap(True)

        if model_info is not None:
            text = model_summary_html(model_info.metadata)
            text += f"<p>Loaded from {html.escape(str(model_info.model_dir))}</p>"
            photos = model_info.classifier.photo
            if photos is not None:
                text += photo_model_html(photos.metadata)
                text += f"<p>Loaded from {html.escape(str(photos.model_dir))}</p>"
            worn = model_info.classifier.worn
            if worn is not None:
                text += photo_model_html(worn.metadata, "The model for garments worn", "Garments on a person")
                text += f"<p>Loaded from {html.escape(str(worn.model_dir))}</p>"
        else:
            text = (
                "<h3>The model</h3><p><b>No model is loaded.</b></p>"
                f"<p>{html.escape(model_error or 'The model is still loading.')}</p>"
            )
        self.figures = QLabel(text, self)
        self.figures.setWordWrap(True)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures.setAccessibleName("Model figures")

        self.matrix = QLabel(self)
        self.matrix.setAccessibleName("Confusion matrix")
        if model_info is not None and model_info.confusion_matrix is not None:
            pixmap = QPixmap.fromImage(model_info.confusion_matrix)
            if pixmap.width() > 560:
                pixmap = pixmap.scaledToWidth(560, Qt.TransformationMode.SmoothTransformation)
            self.matrix.setPixmap(pixmap)
            self.matrix.setAccessibleDescription("Confusion matrix of the model on the clean test pictures")
        else:
            self.matrix.setText("(no confusion matrix picture)")

        body = QWidget(self)
        row = QHBoxLayout(body)
        row.addWidget(self.figures, 1, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.matrix, 0, Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(self)
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(900, 620)
