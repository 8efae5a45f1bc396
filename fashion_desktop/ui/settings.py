"""What the window remembers between runs (QSettings): geometry, last folder, recent files, overlay state."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


def _blob(key: str) -> property:
    """A QByteArray setting (window geometry and state): None when absent or empty."""

    def get(self: Settings) -> QByteArray | None:
        value = self.store.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_(self: Settings, value: QByteArray) -> None:
        self.store.setValue(key, value)

    return property(get, set_)


class Settings:
    """Typed access to the app's QSettings; pass a QSettings of your own (an ini file) to keep tests apart."""

    def __init__(self, store: QSettings | None = None):
        self.store = store if store is not None else QSettings()

    @classmethod
    def at(cls, ini_path: str | os.PathLike) -> Settings:
        return cls(QSettings(str(ini_path), QSettings.Format.IniFormat))

    # window: Qt's own saveGeometry/saveState blobs, None until first saved
    geometry = _blob("window/geometry")
    window_state = _blob("window/state")
    splitter_state = _blob("window/splitter")

    # files
    @property
    def last_folder(self) -> str:
        folder = str(self.store.value("files/last_folder", "") or "")
        return folder if folder and Path(folder).is_dir() else ""

    @last_folder.setter
    def last_folder(self, value: str | os.PathLike) -> None:
        self.store.setValue("files/last_folder", str(value))

    @property
    def recent_files(self) -> list[str]:
        value = self.store.value("files/recent", [])
        if isinstance(value, str):  # an ini file gives one entry back as a plain string
            value = [value]
        return [str(v) for v in (value if isinstance(value, list) else []) if v][:MAX_RECENT]

    @recent_files.setter
    def recent_files(self, paths: list[str]) -> None:
        self.store.setValue("files/recent", list(paths)[:MAX_RECENT])

    def add_recent(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files if p != path]
        self.recent_files = recent
        return self.recent_files

    # edge overlay
    @property
    def overlay_enabled(self) -> bool:
        return bool(self.store.value("overlay/enabled", False, type=bool))

    @overlay_enabled.setter
    def overlay_enabled(self, value: bool) -> None:
        self.store.setValue("overlay/enabled", bool(value))

    @property
    def overlay_opacity(self) -> int:
        """Percent, 0..100."""
        value = self.store.value("overlay/opacity", 70, type=int)
        return max(0, min(100, value if isinstance(value, int) else 70))

    @overlay_opacity.setter
    def overlay_opacity(self, value: int) -> None:
        self.store.setValue("overlay/opacity", int(value))

    def sync(self) -> str | None:
        """Write the settings out; a message saying why when they could not be (disk full, no permission).

        Qt writes the file through QSaveFile, so a failed write leaves the previous file as it was."""
        self.store.sync()
        if self.store.status() == QSettings.Status.NoError:
            return None
        where = self.store.fileName()
        if self.store.status() == QSettings.Status.AccessError:
            return f"The settings could not be saved to {where} (is the disk full or read-only?)."
        return f"The settings file {where} is damaged; it will be written anew."
