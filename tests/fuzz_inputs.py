"""Hypothesis strategies for hostile picture files: real JPEG, PNG, GIF, WebP, TIFF and BMP files written by
OpenCV, then mutated the ways damaged and crafted files differ from good ones, plus random bytes.

Used by tests/unit/test_fuzz.py (a small budget in every run) and benchmarks/fuzz.py (10,000 inputs and more).
"""

from __future__ import annotations

import struct
from functools import cache

import cv2
import numpy as np
from hypothesis import strategies as st

# (suffix, imencode parameters, description): the formats load_image reads, in the variants that take
# different decoder paths (progressive JPEG, 16-bit and palette-like PNG, lossless WebP, gray, alpha).
SEED_KINDS: tuple[tuple[str, tuple[int, ...], str], ...] = (
    (".jpg", (), "baseline JPEG"),
    (".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1), "progressive JPEG"),
    (".png", (), "PNG"),
    (".png", (cv2.IMWRITE_PNG_COMPRESSION, 0), "uncompressed PNG"),
    (".gif", (), "GIF"),
    (".webp", (cv2.IMWRITE_WEBP_QUALITY, 80), "lossy WebP"),
    (".webp", (cv2.IMWRITE_WEBP_QUALITY, 101), "lossless WebP"),
    (".tif", (), "TIFF"),
    (".bmp", (), "BMP"),
)


def _picture(kind: int) -> np.ndarray:
    """A small picture with an item-like shape, in colour, gray, 16-bit or with alpha."""
    img = np.full((40, 32, 3), 235, np.uint8)
    cv2.rectangle(img, (8, 6), (24, 34), (40, 60, 150), -1)
    cv2.circle(img, (16, 12), 5, (200, 180, 20), -1)
    if kind == 1:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if kind == 2:
        return img.astype(np.uint16) * 257
    if kind == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    return img


@cache
def seed_files() -> tuple[tuple[str, bytes], ...]:
    """(description, bytes) for every format and picture variant the encoder accepts."""
    seeds = []
    for suffix, params, name in SEED_KINDS:
        for kind, variant in enumerate(("colour", "gray", "16-bit", "alpha")):
            try:
                ok, buf = cv2.imencode(suffix, _picture(kind), list(params))
            except cv2.error:
                continue  # e.g. 16-bit JPEG: not every format takes every variant
            if ok:
                seeds.append((f"{name}, {variant}", buf.tobytes()))
    return tuple(seeds)


MAGICS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"II*\x00", b"MM\x00*", b"BM")
# Values that break size arithmetic: zero, one, sign and width boundaries, huge.
NASTY_INTS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def _overwrite(data: bytearray, pos: int, chunk: bytes) -> None:
    pos = pos % max(len(data), 1)
    data[pos : pos + len(chunk)] = chunk


@st.composite
def mutated_file(draw) -> bytes:
    """A seed file changed by 1-6 mutations: byte flips, nasty integers in header fields, cuts, insertions,
    deleted or duplicated spans, or a truncation."""
    _, seed = draw(st.sampled_from(seed_files()))
    data = bytearray(seed)
    # Few mutations, mostly past the header, keep most inputs decodable so they reach the decoders'
    # inner paths; header fields (the first 64 bytes) are hit a third of the time.
    for _ in range(draw(st.sampled_from((1, 1, 1, 2, 2, 3, 6)))):
        op = draw(st.sampled_from(("flip", "flip", "flip", "int", "insert", "delete", "duplicate", "truncate")))
        pos = draw(
            st.one_of(st.integers(0, 63), st.integers(0, max(len(data) - 1, 0)), st.integers(0, max(len(data) - 1, 0)))
        )
        if op == "flip":
            _overwrite(data, pos, bytes([draw(st.integers(0, 255))]))
        elif op == "int":
            value = draw(st.sampled_from(NASTY_INTS))
            fmt = draw(st.sampled_from((">H", "<H", ">I", "<I")))
            _overwrite(data, pos, struct.pack(fmt, value & (0xFFFF if fmt.endswith("H") else 0xFFFFFFFF)))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "duplicate":
            span = bytes(data[pos : pos + draw(st.integers(1, 256))])
            data[pos:pos] = span * draw(st.integers(1, 4))
        else:
            del data[max(pos, 1) :]
    return bytes(data)


@st.composite
def random_file(draw) -> bytes:
    """Random bytes, half the time behind a real format's magic number so they reach its decoder."""
    body = draw(st.binary(min_size=0, max_size=512))
    if draw(st.booleans()):
        return draw(st.sampled_from(MAGICS)) + body
    return body


def hostile_files() -> st.SearchStrategy[bytes]:
    return st.one_of(mutated_file(), mutated_file(), mutated_file(), random_file())


def reset_peak_rss() -> float:
    """Reset this process's peak resident memory (Linux: clear_refs 5) and return the current RSS in MB,
    so that ``peak_rss_mb()`` afterwards tells what one call held at most."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
