"""Decode a picture file or its bytes into an RGB uint8 array, or refuse it with one clear ImageError."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np

# OpenCV has its own guard, OPENCV_IO_MAX_IMAGE_PIXELS (default 2**30), but it is read once when cv2 is
# first imported, so setting it here would depend on import order, would apply to the whole process, and
# would also refuse the full-size headers of the large JPEGs we decode at a reduced scale. Our header
# check below is the guard; OpenCV's default stays as a backstop (its refusal becomes an ImageError).
MAX_BYTES = 100 * 1024 * 1024
MAX_PIXELS = 50_000_000

SUPPORTED_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
IMAGE_FILE_FILTER = "Images (" + " ".join(f"*{suffix}" for suffix in SUPPORTED_SUFFIXES) + ")"

_FORMAT_NAMES = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "webp": "WebP", "tiff": "TIFF"}
_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# Well-known files people pick by mistake: a specific reason reads better than "not a picture".
_NOT_PICTURES = (
    (b"%PDF", "it looks like a PDF document"),
    (b"PK\x03\x04", "it looks like a ZIP archive or an Office document"),
    (b"Rar!", "it looks like a RAR archive"),
    (b"7z\xbc\xaf", "it looks like a 7-Zip archive"),
    (b"\x1f\x8b", "it looks like a gzip archive"),
    (b"8BPS", "it looks like a Photoshop document; export it as JPEG or PNG"),
    (b"\x00\x00\x01\x00", "it looks like a Windows icon"),
)
_REDUCED_JPEG = ((2, cv2.IMREAD_REDUCED_COLOR_2), (4, cv2.IMREAD_REDUCED_COLOR_4), (8, cv2.IMREAD_REDUCED_COLOR_8))


class ImageError(Exception):
    """A file or buffer that cannot be turned into a picture; the message is meant for the user."""


def load_image(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    name: str | None = None,
) -> np.ndarray:
    """Decode a picture file (path) or its encoded bytes into a C-contiguous RGB uint8 array (H, W, 3).

    The format is told from the content, not the suffix. EXIF orientation is applied, transparency is
    laid on white, 16-bit and grayscale pictures become 8-bit RGB, and a GIF gives its first frame.
    Size and pixel limits are checked on the header before decoding; a JPEG over ``max_pixels`` is
    decoded at 1/2, 1/4 or 1/8 scale by libjpeg (phone photos of 50-200 MP stay usable), any other
    format over it is refused. ``name`` labels bytes in messages (default "The image data").
    Every failure raises ImageError.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "The image data"
        data = bytes(source)
        if len(data) > max_bytes:
            raise ImageError(f"{label} is too large to open ({_size(len(data))}; the limit is {_size(max_bytes)}).")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or path.name or str(path)
        data = _read_file(path, label, max_bytes)
    else:
        raise TypeError(f"load_image() takes a path or bytes, not {type(source).__name__}")

    if not data:
        raise ImageError(f"{label} is empty (0 bytes), so there is no picture in it.")
    kind = _sniff(data, label)
    width, height = _dimensions(kind, data, label)
    flags: int | None = cv2.IMREAD_UNCHANGED
    if width * height > max_pixels:
        flags = _reduced_jpeg_flags(width, height, max_pixels) if kind == "jpeg" else None
        if flags is None:
            raise ImageError(
                f"{label} is too large to open: {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
                f"the limit is {max_pixels / 1e6:.0f} megapixels."
            )

    try:
        image, meta_kinds, meta = cv2.imdecodeWithMetadata(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:  # OpenCV's own pixel guard, or a decoder assertion on malformed data
        why = "it is too large" if "MAX_IMAGE_PIXELS" in exc.err else exc.err
        raise ImageError(f"{label} could not be decoded as a {_FORMAT_NAMES[kind]} picture ({why}).") from None
    if image is None or image.size == 0:
        # The OpenCV 5 we ship (libjpeg-turbo 3.1) refuses a truncated JPEG, even one missing only its EOI
        # marker, where older builds filled the missing rows with grey; test_images.py holds it to that.
        raise ImageError(
            f"{label} is damaged or incomplete: its {_FORMAT_NAMES[kind]} data could not be decoded "
            "(was the download or copy cut short?)."
        )
    rgb = _to_rgb8(image, label)
    # TIFF files carry orientation in their own IFD and OpenCV applies it while decoding; the EXIF block
    # that imdecodeWithMetadata returns (JPEG, PNG eXIf, WebP EXIF) is ours to apply.
    exif = next((bytes(m.ravel()) for k, m in zip(meta_kinds, meta) if k == cv2.IMAGE_METADATA_EXIF), b"")
    upright = _UPRIGHT.get(_exif_orientation(exif)) if kind != "tiff" else None
    return np.ascontiguousarray(upright(rgb) if upright else rgb)


def _reduced_jpeg_flags(width: int, height: int, max_pixels: int) -> int | None:
    """libjpeg scales by 1/2, 1/4 or 1/8 inside the DCT, so full-size pixels are never held in memory."""
    for factor, flag in _REDUCED_JPEG:
        if -(-width // factor) * -(-height // factor) <= max_pixels:  # libjpeg rounds the scaled size up
            return flag | cv2.IMREAD_IGNORE_ORIENTATION  # orientation is applied below, as for every picture
    return None


def _read_file(path: Path, label: str, max_bytes: int) -> bytes:
    # Python's open() handles non-ASCII paths on every platform; cv2.imread does not on Windows.
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise ImageError(f"{label} is too large to open ({_size(size)}; the limit is {_size(max_bytes)}).")
            data = fh.read(max_bytes + 1)  # +1: a pipe or special file reports size 0 and may still be huge
    except FileNotFoundError:
        raise ImageError(f"{label} was not found in {path.parent} (was it moved or deleted?).") from None
    except IsADirectoryError:
        raise ImageError(f"{label} is a folder, not a picture.") from None
    except PermissionError:
        raise ImageError(f"{label} cannot be opened: permission denied.") from None
    except OSError as exc:
        raise ImageError(f"{label} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > max_bytes:
        raise ImageError(f"{label} is too large to open (over {_size(max_bytes)}).")
    return data


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n:,} bytes"


def _sniff(data: bytes, label: str) -> str:
    """The format named by the file's first bytes; anything else is refused with the best reason we have."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data.startswith(b"BM") and len(data) >= 18 and struct.unpack_from("<I", data, 14)[0] in _BMP_HEADER_SIZES:
        return "bmp"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            raise ImageError(f"{label} is a HEIC photo. HEIC photos are not supported yet; export as JPEG.")
        if brand in (b"avif", b"avis"):
            raise ImageError(f"{label} is an AVIF picture. AVIF is not supported yet; export as JPEG or PNG.")
        reason = "it looks like a video"
    else:
        reason = next((why for magic, why in _NOT_PICTURES if data.startswith(magic)), None)
    if reason is None:
        head = data[:512].lstrip()
        if head[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in head:
            reason = "it looks like an SVG drawing; export it as PNG"
        elif b"\x00" not in head and all(b >= 32 or b in b"\t\n\r" for b in head[:64]):
            reason = "it looks like a text file"
        else:
            reason = "it is not a JPEG, PNG, BMP, WebP, TIFF or GIF file"
    raise ImageError(f"{label} is not a picture Fashion Lens can read ({reason}).")


def _dimensions(kind: str, data: bytes, label: str) -> tuple[int, int]:
    """Width and height from the header alone, so that a decompression bomb is refused before decoding."""
    try:
        width, height = _HEADER_READERS[kind](data)
    except (struct.error, IndexError, ValueError):
        width = height = 0
    if width <= 0 or height <= 0:
        raise ImageError(
            f"{label} is damaged or incomplete: its {_FORMAT_NAMES[kind]} header does not give a picture size."
        )
    return width, height


def _png_size(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise ValueError("first chunk is not IHDR")
    return struct.unpack_from(">II", data, 16)


def _gif_size(data: bytes) -> tuple[int, int]:
    # OpenCV refuses a frame that does not fit the logical screen, so the screen size is the allocation.
    return struct.unpack_from("<HH", data, 6)


def _bmp_size(data: bytes) -> tuple[int, int]:
    if struct.unpack_from("<I", data, 14)[0] == 12:  # OS/2 BITMAPCOREHEADER: unsigned 16-bit sizes
        return struct.unpack_from("<HH", data, 18)
    width, height = struct.unpack_from("<ii", data, 18)
    return width, abs(height)  # a negative height means rows stored top-down


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas size minus one
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L":  # lossless: signature 0x2f, then 14-bit width-1 and height-1
        if data[20] != 0x2F:
            raise ValueError("bad VP8L signature")
        bits = struct.unpack_from("<I", data, 21)[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":  # lossy: 3-byte frame tag, start code 9d 01 2a, then 14-bit sizes
        if data[23:26] != b"\x9d\x01\x2a":
            raise ValueError("bad VP8 start code")
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    raise ValueError("unknown WebP chunk")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    # Walk the marker segments up to the first start-of-frame (SOF0-SOF15 less DHT, JPG and DAC).
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("expected a JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan or end of image before any frame header
            raise ValueError("no frame header")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height  # height 0 (size given later by a DNL marker) is refused as damaged
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    raise ValueError("no frame header")


def _tiff_tags(data: bytes) -> dict[int, int]:
    """Single SHORT/LONG values of the first IFD of a TIFF structure (a .tif file or an EXIF block)."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return {}
    offset = struct.unpack_from(order + "I", data, 4)[0]
    if offset + 2 > len(data):
        return {}
    count = struct.unpack_from(order + "H", data, offset)[0]
    tags: dict[int, int] = {}
    for entry in range(offset + 2, min(offset + 2 + 12 * count, len(data) - 11), 12):
        tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
        if n == 1 and kind in (3, 4):  # SHORT values sit left-justified in the 4-byte value field
            tags[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), data, entry + 8)[0]
    return tags


def _tiff_size(data: bytes) -> tuple[int, int]:
    tags = _tiff_tags(data)
    return tags.get(256, 0), tags.get(257, 0)  # ImageWidth, ImageLength


_HEADER_READERS = {
    "jpeg": _jpeg_size,
    "png": _png_size,
    "gif": _gif_size,
    "bmp": _bmp_size,
    "webp": _webp_size,
    "tiff": _tiff_size,
}


def _exif_orientation(exif: bytes) -> int:
    return _tiff_tags(exif.removeprefix(b"Exif\x00\x00")).get(0x0112, 1)  # 0x0112: Orientation


# EXIF orientation 1-8 -> upright, the same result as OpenCV's IMREAD_COLOR (1 and unknown values: as stored).
_UPRIGHT = {
    2: lambda a: cv2.flip(a, 1),
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),
    5: cv2.transpose,
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.flip(cv2.transpose(a), -1),
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _to_rgb8(image: np.ndarray, label: str) -> np.ndarray:
    """OpenCV's gray/BGR/BGRA in 8 or 16 bits (or float TIFF) -> RGB uint8, transparency laid on white."""
    if image.dtype == np.uint16:
        image = cv2.convertScaleAbs(image, alpha=255 / 65535)  # scaled and rounded: 65535 -> 255
    elif image.dtype in (np.float32, np.float64):
        image = cv2.convertScaleAbs(np.clip(image, 0.0, 1.0), alpha=255)
    elif image.dtype != np.uint8:
        raise ImageError(f"{label} stores its pixels as {image.dtype}, which Fashion Lens cannot read.")
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels not in (1, 2, 3, 4):
        raise ImageError(f"{label} has {channels} colour channels, which Fashion Lens cannot read.")
    colour = image[:, :, : 3 if channels >= 3 else 1]
    if channels in (2, 4):
        alpha = image[:, :, -1:]
        # All-zero alpha is the "unused fourth byte" of many 32-bit BMPs and TIFFs, not a blank picture.
        if 0 < alpha.max() and alpha.min() < 255:
            a = alpha.astype(np.uint16)
            # colour * a + 255 * (255 - a) <= 65025 fits in uint16; +127 rounds the division by 255.
            blended = colour.astype(np.uint16)
            blended *= a
            blended += 255 * (255 - a) + 127
            blended //= 255
            colour = blended.astype(np.uint8)
    if colour.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_BGR2RGB)
