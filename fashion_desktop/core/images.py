"""Decode a picture file or its bytes into an RGB uint8 array, or refuse it with one clear ImageError."""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from fashion_desktop.core.files import FileTooLarge, NotARegularFile, read_regular_file
from fashion_desktop.core.image_headers import HEADER_READERS, Header, tiff_tags

# OpenCV has its own guard, OPENCV_IO_MAX_IMAGE_PIXELS (default 2**30), but it is read once when cv2 is
# first imported, so setting it here would depend on import order, would apply to the whole process, and
# would also refuse the full-size headers of the large JPEGs we decode at a reduced scale. Our header
# check below is the guard; OpenCV's default stays as a backstop (its refusal becomes an ImageError).
MAX_BYTES = 100 * 1024 * 1024
MAX_PIXELS = 50_000_000
# What one decode may allocate: the decoder's output and its own buffers (a progressive JPEG's coefficients,
# a TIFF strip), counted from the header before decoding. A 50 MP picture needs 150-400 MB of it, a
# progressive JPEG 2-3 bytes a pixel of its full size (up to 150-250 MP).
MAX_DECODE_BYTES = 512 * 2**20
# A JPEG over max_pixels is decoded at 1/2, 1/4 or 1/8 scale, but libjpeg still walks every block of its
# full size: beyond this many times max_pixels (400 MP by default) that alone takes seconds.
JPEG_SCALED_FACTOR = 8

SUPPORTED_SUFFIXES: tuple[str, ...] = (
    ".jpg",
    ".jpeg",
    ".jpe",
    ".jfif",
    ".png",
    ".bmp",
    ".webp",
    ".tif",
    ".tiff",
    ".gif",
)
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
    max_decode_bytes: int = MAX_DECODE_BYTES,
    name: str | None = None,
) -> np.ndarray:
    """Decode a picture file (path) or its encoded bytes into a C-contiguous RGB uint8 array (H, W, 3).

    The format is told from the content, not the suffix. EXIF orientation is applied, transparency is
    laid on white, 16-bit, float and grayscale pictures become 8-bit RGB, and a GIF gives its first frame.
    Size, pixel and memory limits are checked on the header before decoding; a JPEG over ``max_pixels``
    is decoded at 1/2, 1/4 or 1/8 scale by libjpeg (phone photos of 50-200 MP stay usable), any other
    format over it is refused, and so is any picture whose decoder would allocate over
    ``max_decode_bytes``. Only regular files are opened (a named pipe or a device would block or never
    end). ``name`` labels bytes in messages (default "The image data"). Every failure raises ImageError.
    """
    data, label = _source_bytes(source, max_bytes, name)
    header = _read_header(data, label)
    flags, _, _ = _plan(header, len(data), label, max_pixels, max_decode_bytes)
    try:
        image, meta_kinds, meta = cv2.imdecodeWithMetadata(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:  # OpenCV's own pixel guard, or a decoder assertion on malformed data
        why = "it is too large" if "MAX_IMAGE_PIXELS" in exc.err else exc.err
        raise ImageError(f"{label} could not be decoded as a {_FORMAT_NAMES[header.kind]} picture ({why}).") from None
    del data  # a 100 MB file need not stay beside its pixels
    if image is None or image.size == 0:
        # The OpenCV 5 we ship (libjpeg-turbo 3.1) refuses a truncated JPEG, even one missing only its EOI
        # marker, where older builds filled the missing rows with grey; test_images.py holds it to that.
        raise ImageError(
            f"{label} is damaged or incomplete: its {_FORMAT_NAMES[header.kind]} data could not be decoded "
            "(was the download or copy cut short?)."
        )
    rgb = _to_rgb8(image, label)
    del image
    # TIFF files carry orientation in their own IFD and OpenCV applies it while decoding; the EXIF block
    # that imdecodeWithMetadata returns (JPEG, PNG eXIf, WebP EXIF) is ours to apply.
    exif = next((bytes(m.ravel()) for k, m in zip(meta_kinds, meta) if k == cv2.IMAGE_METADATA_EXIF), b"")
    upright = _UPRIGHT.get(_exif_orientation(exif)) if header.kind != "tiff" else None
    return np.ascontiguousarray(upright(rgb) if upright else rgb)


def decode_footprint(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview,
    *,
    max_pixels: int = MAX_PIXELS,
    max_decode_bytes: int = MAX_DECODE_BYTES,
) -> tuple[int, int]:
    """(about the most bytes :func:`load_image` holds while decoding ``source``, pixels of the picture it
    returns), told from the header alone; (0, 0) for a file it will refuse.

    For scheduling many decodes at once (folder runs). It never raises and never blocks: a path is only
    read if it is a regular file, and mostly only its first 64 KB.
    """
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            size = len(data)
        else:
            path = Path(source)
            data = _read_file(path, "", MAX_BYTES, head=_HEAD_BYTES)
            size = os.stat(path).st_size
            if size > len(data):
                try:
                    _read_header(data, "")
                except ImageError:  # the frame header may lie past the head (a large EXIF or ICC block)
                    data = _read_file(path, "", MAX_BYTES)
        _, decoder_bytes, pixels = _plan(_read_header(data, ""), size, "", max_pixels, max_decode_bytes)
    except (ImageError, OSError):
        return 0, 0
    return size + decoder_bytes + 3 * pixels, pixels  # the file, the decoder's arrays, the RGB picture


_HEAD_BYTES = 1 << 16


def _source_bytes(source, max_bytes: int, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "The image data"
        data = bytes(source)
        if len(data) > max_bytes:
            raise ImageError(f"{label} is too large to open ({_size(len(data))}; the limit is {_size(max_bytes)}).")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = name or _printable(path.name or str(path))
        data = _read_file(path, label, max_bytes)
    else:
        raise TypeError(f"load_image() takes a path or bytes, not {type(source).__name__}")
    if not data:
        raise ImageError(f"{label} is empty (0 bytes), so there is no picture in it.")
    return data, label


def _printable(name: str) -> str:
    """A file name as a person can read it: bytes that are not UTF-8 (kept by Python as surrogates) become U+FFFD,
    so that a message can always be printed or shown."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _read_file(path: Path, label: str, max_bytes: int, head: int | None = None) -> bytes:
    """The file's bytes (the first ``head`` of them if given); only a regular file is read."""
    try:
        return read_regular_file(path, max_bytes, head)
    except FileNotFoundError:
        raise ImageError(
            f"{label} was not found in {_printable(str(path.parent))} (was it moved or deleted?)."
        ) from None
    except IsADirectoryError:
        raise ImageError(f"{label} is a folder, not a picture.") from None
    except NotADirectoryError:
        raise ImageError(f"{label} cannot be opened: {_printable(str(path.parent))} is a file, not a folder.") from None
    except PermissionError:
        raise ImageError(f"{label} cannot be opened: permission denied (to the file or a folder above it).") from None
    except ValueError:  # a NUL character in the name
        raise ImageError(f"{label} cannot be opened: its name contains a NUL character.") from None
    except NotARegularFile as exc:
        if exc.kind == "a folder":
            raise ImageError(f"{label} is a folder, not a picture.") from None
        raise ImageError(
            f"{label} is not a regular file ({exc.kind}), so it is not a picture Fashion Lens can open."
        ) from None
    except FileTooLarge as exc:
        if exc.size is not None:
            raise ImageError(
                f"{label} is too large to open ({_size(exc.size)}; the limit is {_size(max_bytes)})."
            ) from None
        raise ImageError(f"{label} is too large to open (over {_size(max_bytes)}).") from None
    except OSError as exc:
        raise ImageError(_os_error_message(label, path, exc)) from None


def _os_error_message(label: str, path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return (
            f"{label} cannot be opened: its name or path is too long for the file system ({len(str(path))} characters)."
        )
    if exc.errno == errno.ELOOP:
        return f"{label} cannot be opened: it is a symbolic link that loops back on itself."
    return f"{label} cannot be read: {exc.strerror or exc}."


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
        found = next((why for magic, why in _NOT_PICTURES if data.startswith(magic)), None)
        reason = found or ""
    if not reason:
        head = data[:512].lstrip()
        if head[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in head:
            reason = "it looks like an SVG drawing; export it as PNG"
        elif b"\x00" not in head and all(b >= 32 or b in b"\t\n\r" for b in head[:64]):
            reason = "it looks like a text file"
        else:
            reason = "it is not a JPEG, PNG, BMP, WebP, TIFF or GIF file"
    raise ImageError(f"{label} is not a picture Fashion Lens can read ({reason}).")


def _read_header(data: bytes, label: str) -> Header:
    """The header of ``data``, or ImageError if it is not a picture or does not give a picture size."""
    kind = _sniff(data, label)
    try:
        header = HEADER_READERS[kind](data)
    except (struct.error, IndexError, ValueError, KeyError):
        header = None
    if header is None or header.width <= 0 or header.height <= 0:
        raise ImageError(
            f"{label} is damaged or incomplete: its {_FORMAT_NAMES[kind]} header does not give a picture size."
        )
    return header


def _plan(header: Header, nbytes: int, label: str, max_pixels: int, max_decode_bytes: int) -> tuple[int, int, int]:
    """(imdecode flags, bytes the decoder will allocate, pixels of its output), or ImageError over a limit."""
    width, height = header.width, header.height
    pixels, flags, factor = width * height, None, 1
    if pixels <= max_pixels:
        flags = cv2.IMREAD_UNCHANGED
    elif header.scalable and pixels <= max_pixels * JPEG_SCALED_FACTOR:
        # libjpeg scales by 1/2, 1/4 or 1/8 inside the DCT, so full-size pixels are never held in memory.
        for factor, flag in _REDUCED_JPEG:  # the factor found is used below
            if -(-width // factor) * -(-height // factor) <= max_pixels:  # libjpeg rounds the scaled size up
                flags = flag | cv2.IMREAD_IGNORE_ORIENTATION  # orientation is applied later, as for every picture
                break
    if flags is None:
        jpeg = f" ({max_pixels * JPEG_SCALED_FACTOR / 1e6:.0f} for a JPEG)" if header.scalable else ""
        raise ImageError(
            f"{label} is too large to open: {width} x {height} pixels ({pixels / 1e6:.0f} megapixels); "
            f"the limit is {max_pixels / 1e6:.0f} megapixels{jpeg}."
        )
    out_pixels = -(-width // factor) * -(-height // factor)
    channels = 3 if factor > 1 else header.channels  # IMREAD_REDUCED_COLOR_* gives BGR
    decoder_bytes = header.work_bytes + out_pixels * channels * header.sample_bytes
    if decoder_bytes > max_decode_bytes:
        whole = header.kind == "jpeg" and header.work_bytes > 0
        why = " (a progressive JPEG is held whole, at full size, while it is decoded)" if whole else ""
        raise ImageError(
            f"{label} is too large to open: decoding its {width} x {height} pixels would take "
            f"{decoder_bytes / 2**30:.1f} GB of memory{why}; the limit is {max_decode_bytes / 2**30:.1f} GB."
        )
    if header.declared_bytes > nbytes:
        raise ImageError(
            f"{label} is damaged or incomplete: its {_FORMAT_NAMES[header.kind]} data claims "
            f"{_size(header.declared_bytes)}, but there are only {_size(nbytes)} (was it cut short?)."
        )
    if header.min_bytes > nbytes:
        raise ImageError(
            f"{label} is damaged: its {_FORMAT_NAMES[header.kind]} header claims {width} x {height} pixels, "
            f"more than its {_size(nbytes)} can hold (was it cut short, or made to look larger than it is?)."
        )
    return flags, decoder_bytes, out_pixels


def _exif_orientation(exif: bytes) -> int:
    return tiff_tags(exif.removeprefix(b"Exif\x00\x00")).get(0x0112, (1,))[0]  # 0x0112: Orientation


# EXIF orientation 1-8 -> upright, the same result as OpenCV's IMREAD_COLOR (1 and unknown values: as stored).
_UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
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
        image = _float_to_uint8(image)
    elif image.dtype != np.uint8:
        raise ImageError(f"{label} stores its pixels as {image.dtype}, which Fashion Lens cannot read.")
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels not in (1, 2, 3, 4):
        raise ImageError(f"{label} has {channels} colour channels, which Fashion Lens cannot read.")
    colour = image[:, :, : 3 if channels >= 3 else 1]
    code = cv2.COLOR_GRAY2RGB if colour.shape[2] == 1 else cv2.COLOR_BGR2RGB
    alpha = image[:, :, -1] if channels in (2, 4) else None
    # All-zero alpha is the "unused fourth byte" of many 32-bit BMPs and TIFFs, not a blank picture.
    if alpha is None or not (0 < alpha.max() and alpha.min() < 255):
        return cv2.cvtColor(np.ascontiguousarray(colour), code)
    out = np.empty((*image.shape[:2], 3), np.uint8)
    # Blended a band of rows at a time, so that the uint16 working copies stay small for a 50 MP picture.
    rows = max(1, (1 << 20) // image.shape[1])
    for y in range(0, image.shape[0], rows):
        a = alpha[y : y + rows, :, None].astype(np.uint16)
        # colour * a + 255 * (255 - a) <= 65025 fits in uint16; +127 rounds the division by 255.
        blended = colour[y : y + rows].astype(np.uint16)
        blended *= a
        blended += 255 * (255 - a) + 127
        blended //= 255
        out[y : y + rows] = cv2.cvtColor(blended.astype(np.uint8), code)
    return out


def _float_to_uint8(image: np.ndarray) -> np.ndarray:
    """A float picture -> uint8. Floats mean 0..1 by convention, but many tools write 0..255 as float: a
    picture whose brightest (finite) value is over 1 + 1/255 is read as 0..255 (so a 0..255 picture that
    happens to be nearly black, all values <= 1, comes out bright: the data cannot tell them apart).
    NaN counts as 0 and +/-inf as the ends of the range."""
    top = float(image.max(initial=0.0, where=np.isfinite(image)))
    high = 255.0 if top > 1.0 + 1.0 / 255 else 1.0
    image = np.nan_to_num(image, nan=0.0, posinf=high, neginf=0.0)
    return cv2.convertScaleAbs(np.clip(image, 0.0, high), alpha=255.0 / high)
