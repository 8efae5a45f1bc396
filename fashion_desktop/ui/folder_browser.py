"""Steps through the pictures of one folder in name order (the Left/Right keys)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class FolderBrowser:
    """Lists a folder's pictures once and again only when the folder changes (its mtime moves)."""

    def __init__(self, suffixes: Iterable[str]):
        self._suffixes = {s.lower() for s in suffixes}
        self._cache: tuple[Path, float, list[Path]] | None = None

    def pictures(self, folder: Path) -> list[Path]:
        """Picture files directly in ``folder``, sorted by name (case-insensitive). Raises OSError."""
        mtime = folder.stat().st_mtime
        if self._cache is None or self._cache[:2] != (folder, mtime):
            files = [p for p in folder.iterdir() if p.suffix.lower() in self._suffixes and p.is_file()]
            self._cache = (folder, mtime, sorted(files, key=lambda p: (p.name.lower(), p.name)))
        return self._cache[2]

    def neighbour(self, current: Path, delta: int) -> Path | None:
        """The picture ``delta`` places after (or before) ``current`` in its folder; None past either end."""
        files = self.pictures(current.parent)
        if current in files:
            target = files.index(current) + delta
        else:  # the current file was deleted or renamed: step from where it would sort
            later = [i for i, p in enumerate(files) if p.name.lower() > current.name.lower()]
            target = (later[0] if later else len(files)) + (delta if delta < 0 else delta - 1)
        return files[target] if 0 <= target < len(files) else None
