"""Finds bundled files in a source tree, an installed wheel and a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "FASHION_LENS_RESOURCES"


def _candidates() -> list[Path]:
    found = []
    if os.environ.get(ENV_VAR):
        found.append(Path(os.environ[ENV_VAR]))
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        found.append(Path(sys._MEIPASS) / "resources")
    found.append(Path(__file__).resolve().parent.parent / "resources")  # source tree / editable install
    found.append(Path(sys.prefix) / "share" / "fashion-lens" / "resources")  # wheel data-files
    return found


def resources_dir() -> Path:
    """The first folder that holds ``model/model.json``; the source-tree path if none does."""
    candidates = _candidates()
    for folder in candidates:
        if (folder / "model" / "model.json").is_file():
            return folder
    return candidates[-2]


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def model_dir() -> Path:
    return resource_path("model")


def segmenter_dir() -> Path:
    return resource_path("segmenter")


def photo_model_dir() -> Path:
    return resource_path("photo_model")


def worn_model_dir() -> Path:
    return resource_path("worn_model")
