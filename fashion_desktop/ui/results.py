"""What the workers hand the window: small frozen result classes, shared by ui/worker.py and ui/display.py
(and ``PictureSource``, the type of what the window hands them).

They live apart from both so that neither imports the other for them (the worker imports display lazily,
in its thread; display builds ModelInfo).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QImage

if TYPE_CHECKING:  # core pulls in OpenCV and NumPy, which load in the workers' threads
    import os
    from typing import TypeAlias

    import numpy as np

    from fashion_desktop.core.analysis import Analysis
    from fashion_desktop.core.classifier import Classifier

    # What the window asks to have analysed: a path, encoded bytes (pasted or dropped), an RGB array or a QImage.
    PictureSource: TypeAlias = str | os.PathLike | bytes | bytearray | np.ndarray | QImage

__all__ = ["BatchRow", "ModelInfo", "PictureFailure", "PictureResult"]


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model and what the About box shows of it."""

    classifier: Classifier
    metadata: dict
    model_dir: Path
    confusion_matrix: QImage | None  # decoded here, off the GUI thread


@dataclass(frozen=True)
class PictureResult:
    """One analysed picture, with the Qt images the window paints already made."""

    request_id: int
    name: str
    analysis: Analysis  # its prediction is None when no model is loaded
    photo: QImage
    edge_layer: QImage  # transparent except the edges, same size as ``photo``
    model_input: QImage  # what the model saw: 28 x 28 gray, or 64 x 64 colour for the colour photo model


@dataclass(frozen=True)
class PictureFailure:
    request_id: int
    name: str
    message: str


@dataclass(frozen=True)
class BatchRow:
    """One file of a folder batch; ``error`` is set, and the rest None, when it could not be analysed."""

    path: Path
    label: str | None = None
    confidence: float | None = None
    blurry: bool | None = None
    blur_score: float | None = None
    error: str | None = None
    known: bool | None = None  # False: probably none of the ten categories (``label`` is a best guess)
    # The row as ``fashion-classify`` writes it (core.serialize.analysis_row, or {"path", "error"}): the
    # window's Export CSV and the CLI's --csv share one layout.
    record: dict | None = None
