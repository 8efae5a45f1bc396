"""What a paste or a drop holds, as something the window can open: local files, encoded bytes or an image."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage

# Encoded formats another program may put on the clipboard: decoded in the worker, like a file.
ENCODED_FORMATS = ("image/png", "image/jpeg", "image/bmp", "image/webp", "image/tiff", "image/gif")


def local_files(mime: QMimeData) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


def picture_in(mime: QMimeData, allow_text_path: bool = False) -> list[Path] | bytes | QImage | None:
    """Files (to open or batch), else encoded bytes, else an image; ``allow_text_path``: a line of text
    that names an existing file or folder counts as that file (a path copied from a file manager)."""
    files = local_files(mime)
    if files:
        return files
    for fmt in ENCODED_FORMATS:
        data = bytes(mime.data(fmt).data()) if mime.hasFormat(fmt) else b""
        if data:
            return data
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return image.copy()
    text = mime.text().strip().strip('"') if allow_text_path and mime.hasText() else ""
    if text and "\n" not in text and _exists(Path(text)):
        return [Path(text)]
    return None


def _exists(path: Path) -> bool:
    """Path.exists(), but False rather than OSError for text too long to be a file name."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False
