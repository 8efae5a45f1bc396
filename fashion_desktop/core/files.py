"""Read a file only if it is a regular one, within a size limit, without ever blocking on a pipe.

Pictures and model files both come from paths a user (or an attacker) chooses: a named pipe would hang
a plain open(), /dev/zero would never end. Each caller turns these exceptions into its own message.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


class NotARegularFile(Exception):
    """The path names a folder, pipe, socket or device; ``kind`` says which ("a named pipe")."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class FileTooLarge(Exception):
    """The file is over the limit: ``size`` bytes by fstat, or None when it grew past it while read."""

    def __init__(self, size: int | None):
        super().__init__(size)
        self.size = size


def read_regular_file(path: str | os.PathLike, limit: int, head: int | None = None) -> bytes:
    """The bytes of ``path`` (the first ``head`` of them if given), at most ``limit``.

    O_NONBLOCK makes opening a named pipe return at once instead of waiting for a writer; fstat on the
    open descriptor then tells what it is, with no gap in which the path could be swapped. Errors of
    os.open (FileNotFoundError, PermissionError, ValueError for a NUL, ...) pass through unchanged."""
    # Python's os.open handles non-ASCII paths on every platform; cv2.imread does not on Windows.
    fd = os.open(Path(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(next((why for test, why in _NOT_REGULAR if test(info.st_mode)), "a special file"))
        if info.st_size > limit:
            raise FileTooLarge(info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(head if head is not None else limit + 1)  # +1: a file that grew meanwhile
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileTooLarge(None)
    return data
