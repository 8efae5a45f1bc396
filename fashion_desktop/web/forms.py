"""The picture out of a multipart/form-data body, parsed in memory off the event loop (python-multipart)."""

from __future__ import annotations

import os

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_PARTS = 16


class FormError(Exception):
    """The form cannot be read, or holds no file; the message is meant for the client."""


def picture_in_form(body: bytes, content_type: str) -> tuple[bytes, str | None]:
    """(the bytes of the field ``file``, or else of the first part that is a file; its file name's last
    part or None). Blocking (a 20 MB body takes tens of milliseconds): run it on a thread. Nothing is
    written to disk, and the file name is only a label."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise FormError("the multipart form has no boundary in its Content-Type")
    parts: list[tuple[dict[bytes, bytes], list[bytes]]] = []
    current: dict = {}

    def begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise FormError(f"the form has more than {MAX_PARTS} parts")
        current.update(headers={}, chunks=[], field=b"", value=b"")

    def header_field(data: bytes, start: int, end: int) -> None:
        current["field"] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        current["value"] += data[start:end]

    def header_end() -> None:
        current["headers"][current["field"].strip().lower()] = current["value"].strip()
        current["field"], current["value"] = b"", b""

    def data(data: bytes, start: int, end: int) -> None:
        current["chunks"].append(data[start:end])

    def end() -> None:
        parts.append((current["headers"], current["chunks"]))

    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": begin,
                "on_header_field": header_field,
                "on_header_value": header_value,
                "on_header_end": header_end,
                "on_part_data": data,
                "on_part_end": end,
            },
        )
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise FormError(f"the multipart form could not be read ({exc})") from None
    files = []
    for headers, chunks in parts:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        if b"filename" in disposition:
            files.append((disposition.get(b"name"), disposition[b"filename"], chunks))
    if not files:
        raise FormError("the form has no file in it; send the picture in a field named 'file'")
    name, filename, chunks = next((f for f in files if f[0] == b"file"), files[0])
    label = os.path.basename(filename.decode("utf-8", "replace").replace("\\", "/"))[:255] or None
    return b"".join(chunks), label
