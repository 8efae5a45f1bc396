"""Worker-thread helpers: load the model, run ``core.analyze`` and turn its arrays into Qt images to paint.

Imported only inside worker threads (it pulls in OpenCV and NumPy), so start-up does not pay for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PySide6.QtGui import QImage

from fashion_desktop.core.analysis import Analysis, analyze, analyze_without_model
from fashion_desktop.core.classifier import Classifier, ModelError
from fashion_desktop.core.edges import edge_layer
from fashion_desktop.core.images import ImageError
from fashion_desktop.ui.results import ModelInfo

if TYPE_CHECKING:
    from fashion_desktop.ui.results import PictureSource

__all__ = ["ImageError", "ModelError", "analyze_for_display", "load_model", "model_info"]

DISPLAY_MAX = 2048  # long side of the images handed to the GUI: a screen's worth, not a 48 MP photo's


def load_model(model_dir: str | os.PathLike | None) -> ModelInfo:
    return model_info(Classifier.load(model_dir))


def model_info(classifier: Classifier) -> ModelInfo:
    picture = Path(classifier.model_dir) / "confusion_matrix.png"
    matrix = QImage(str(picture)) if picture.is_file() else None
    return ModelInfo(
        classifier,
        dict(classifier.metadata),
        Path(classifier.model_dir),
        matrix if matrix is not None and not matrix.isNull() else None,
    )


def to_qimage(array: np.ndarray) -> QImage:
    """A QImage that owns a copy of a uint8 gray, RGB or RGBA array."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    h, w = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    formats = {1: QImage.Format.Format_Grayscale8, 3: QImage.Format.Format_RGB888, 4: QImage.Format.Format_RGBA8888}
    fmt = formats[channels]
    return QImage(a.data, w, h, w * channels, fmt).copy()


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """RGB uint8 array from a QImage (a pasted picture Qt has decoded already)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    buf = np.frombuffer(rgb.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def display_layers(rgb: np.ndarray, edges: np.ndarray) -> tuple[QImage, QImage]:
    """The photo and a transparent edge layer of the same size, at most DISPLAY_MAX on the long side."""
    h, w = rgb.shape[:2]
    scale = DISPLAY_MAX / max(h, w)
    if scale < 1:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        edges = cv2.resize(edges, size, interpolation=cv2.INTER_AREA)  # thin lines fade, not vanish
    return to_qimage(rgb), to_qimage(edge_layer(edges))


def analyze_for_display(
    source: PictureSource, classifier: Classifier | None
) -> tuple[Analysis, QImage, QImage, QImage]:
    """``core.analyze`` (or, with no model, everything but the prediction) plus the images to paint."""
    if isinstance(source, QImage):
        source = qimage_to_rgb(source)
    if isinstance(source, bytearray):
        source = bytes(source)
    analysis = analyze(source, classifier) if classifier is not None else analyze_without_model(source)
    photo, edge_layer = display_layers(analysis.image, analysis.edges)
    return analysis, photo, edge_layer, to_qimage(analysis.model_input)
