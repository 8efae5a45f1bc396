"""What a picture file's header says its decoder will build: size, channels, depth and buffers, per format.

Read before decoding, so that core/images.py can refuse a decompression bomb unopened. Each reader takes
the file's bytes (its first 64 KB are enough) and raises ValueError, struct.error, IndexError or KeyError
on a header it cannot read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Header:
    """What the header says the decoder will build, read before decoding so that a bomb is refused unopened."""

    kind: str
    width: int
    height: int
    channels: int = 3  # channels of the decoder's output at full size (the most it may give)
    sample_bytes: int = 1  # bytes per channel of that output (16-bit: 2, float: 4)
    work_bytes: int = 0  # the decoder's own buffers beside its output (a progressive JPEG's coefficients)
    scalable: bool = False  # a DCT JPEG, which libjpeg can decode at 1/2, 1/4 or 1/8 scale
    # The fewest bytes that can hold what the header claims (0: no such bound). A 282-byte JPEG cannot hold
    # 3 gigapixels: every 8x8 block costs a Huffman code of at least one bit, every deflate byte 1/1032 of one.
    min_bytes: int = 0
    # Where the file's own length fields say it ends: decoders allocate those lengths before reading.
    declared_bytes: int = 0


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # per colour type, as stored
_DEFLATE_MAX_RATIO = 1032  # deflate's ceiling: 258 bytes from a 1-bit length code and a 1-bit distance code


def _png_header(data: bytes) -> Header:
    if data[12:16] != b"IHDR":
        raise ValueError("first chunk is not IHDR")
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    stored = _PNG_CHANNELS[colour]
    raw = height * (1 + -(-width * stored * depth // 8))  # each row: a filter byte and its samples
    idat = data.find(b"IDAT")
    animated = data.find(b"acTL", 0, idat if idat > 0 else len(data)) > 0
    return Header(
        "png",
        width,
        height,
        channels=4 if colour in (3, 4, 6) else stored,  # a palette (it may have tRNS) and gray+alpha: BGRA
        sample_bytes=2 if depth == 16 else 1,
        work_bytes=8 * width * height if animated else 0,  # APNG: OpenCV composes frames on a BGRA canvas
        min_bytes=raw // _DEFLATE_MAX_RATIO,
        declared_bytes=_png_chunks_end(data),
    )


def _png_chunks_end(data: bytes, max_chunks: int = 100_000) -> int:
    """Where the PNG's chunks, by their own length fields, end. OpenCV allocates a chunk's declared length
    before reading it, so a 5 KB file whose second chunk claims 2.5 GB took 6 s and 4 GB to be refused
    (found by benchmarks/fuzz.py): such a file is refused as cut short before decoding."""
    pos = 8
    for _ in range(max_chunks):
        if pos + 8 > len(data):
            return pos
        length, kind = struct.unpack_from(">I4s", data, pos)
        pos += 12 + length
        if kind == b"IEND" or pos > len(data):
            return pos
    return pos


def _gif_header(data: bytes) -> Header:
    # OpenCV refuses a frame that does not fit the logical screen, so the screen size is the allocation:
    # a BGRA canvas beside the output (a 35-byte file can claim 7,000 x 7,000 pixels of background).
    width, height = struct.unpack_from("<HH", data, 6)
    return Header("gif", width, height, channels=4, work_bytes=4 * width * height)


def _bmp_header(data: bytes) -> Header:
    if struct.unpack_from("<I", data, 14)[0] == 12:  # OS/2 BITMAPCOREHEADER: unsigned 16-bit sizes
        width, height, _, bits = struct.unpack_from("<HHHH", data, 18)
        compression = 0
    else:
        width, height, _, bits, compression = struct.unpack_from("<iiHHI", data, 18)
        height = abs(height)  # a negative height means rows stored top-down
    min_bytes = 0
    if compression in (0, 3) and 0 < bits <= 32 and width > 0:  # uncompressed rows, each padded to 4 bytes
        min_bytes = (width * bits + 31) // 32 * 4 * (height - 1) + -(-width * bits // 8)
    return Header("bmp", width, height, channels=4 if bits == 32 else 3, min_bytes=min_bytes)


def _webp_header(data: bytes) -> Header:
    chunk = data[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas size minus one
        width, height = int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    elif chunk == b"VP8L":  # lossless: signature 0x2f, then 14-bit width-1 and height-1
        if data[20] != 0x2F:
            raise ValueError("bad VP8L signature")
        bits = struct.unpack_from("<I", data, 21)[0]
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8 ":  # lossy: 3-byte frame tag, start code 9d 01 2a, then 14-bit sizes
        if data[23:26] != b"\x9d\x01\x2a":
            raise ValueError("bad VP8 start code")
        width, height = struct.unpack_from("<HH", data, 26)
        width, height = width & 0x3FFF, height & 0x3FFF
    else:
        raise ValueError("unknown WebP chunk")
    # libwebp decodes lossless data (which an extended file may hold) into an ARGB buffer of its own.
    return Header("webp", width, height, channels=4, work_bytes=0 if chunk == b"VP8 " else 4 * width * height)


_SOF_LOSSLESS = {0xC3, 0xC7, 0xCB, 0xCF}
_SOF_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_SOF_ARITHMETIC = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_header(data: bytes) -> Header:
    # Walk the marker segments to the first start-of-frame (SOF0-SOF15 less DHT, JPG and DAC), and on to
    # the first start-of-scan, which tells whether the picture comes in one scan or in several.
    pos, sof, scan_components = 2, None, None
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
        if marker == 0xD9 or (marker == 0xDA and sof is None):  # end of image, or a scan before any frame
            raise ValueError("no frame header")
        if marker == 0xDA:
            scan_components = data[pos + 4]
            break
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and sof is None:
            precision, height, width, count = struct.unpack_from(">BHHB", data, pos + 4)
            factors = [(data[pos + 11 + 3 * i] >> 4, data[pos + 11 + 3 * i] & 15) for i in range(count)]
            sof = marker, precision, width, height, factors
        pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    if sof is None:
        raise ValueError("no frame header")
    marker, precision, width, height, factors = sof  # height 0 (given later by a DNL marker) is refused
    if not factors or min(min(f) for f in factors) < 1:
        raise ValueError("bad sampling factors")
    hmax, vmax = max(h for h, _ in factors), max(v for _, v in factors)
    samples = [(-(-width * h // hmax), -(-height * v // vmax)) for h, v in factors]  # per component
    mcu_x, mcu_y = -(-width // (8 * hmax)), -(-height // (8 * vmax))
    padded_blocks = sum(mcu_x * h * mcu_y * v for h, v in factors)  # 8x8 blocks, as libjpeg allocates them
    lossless = marker in _SOF_LOSSLESS
    # libjpeg keeps every coefficient of the full-size picture (64 x 2 bytes a block) when the data comes in
    # several scans: a progressive JPEG always, a sequential one whose first scan lacks some components.
    multiscan = marker in _SOF_PROGRESSIVE or (scan_components is not None and scan_components < len(factors))
    if marker in _SOF_ARITHMETIC:
        min_bytes = 0  # an arithmetic coder can spend far less than a bit on an empty block
    elif lossless:
        min_bytes = sum(w * h for w, h in samples) // 8  # a Huffman code of at least a bit per sample
    else:
        min_bytes = sum(-(-w // 8) * -(-h // 8) for w, h in samples) // 8  # ... per 8x8 block
    return Header(
        "jpeg",
        width,
        height,
        channels=1 if len(factors) == 1 else 3,
        sample_bytes=2 if precision > 8 else 1,
        work_bytes=128 * padded_blocks if multiscan and not lossless else 0,
        scalable=not lossless,
        min_bytes=min_bytes,
    )


def tiff_tags(data: bytes) -> dict[int, tuple[int, ...]]:
    """SHORT/LONG values (up to 4 a tag) of the first IFD of a TIFF structure (a .tif file or an EXIF block).

    A tag that appears twice keeps its first value, as in libtiff (it ignores repeats): the size we check
    must be the size the decoder uses. Only the first IFD counts: OpenCV decodes the first page.
    """
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return {}
    offset = struct.unpack_from(order + "I", data, 4)[0]
    if offset + 2 > len(data):
        return {}
    count = struct.unpack_from(order + "H", data, offset)[0]
    tags: dict[int, tuple[int, ...]] = {}
    for entry in range(offset + 2, min(offset + 2 + 12 * count, len(data) - 11), 12):
        tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
        if kind not in (3, 4) or n == 0 or tag in tags:
            continue
        size, shown = (2 if kind == 3 else 4), min(n, 4)
        # Values that fit sit left-justified in the 4-byte value field; longer ones where it points.
        at = entry + 8 if n * size <= 4 else struct.unpack_from(order + "I", data, entry + 8)[0]
        if at + shown * size <= len(data):
            tags[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I") * shown, data, at)
    return tags


def _tiff_header(data: bytes) -> Header:
    tags = tiff_tags(data)
    width, height = tags.get(256, (0,))[0], tags.get(257, (0,))[0]  # ImageWidth, ImageLength
    samples = tags.get(277, (1,))[0]  # SamplesPerPixel
    sample_bytes = max(1, -(-max(tags.get(258, (1,))) // 8))  # BitsPerSample, one value per sample
    if 322 in tags and 323 in tags:  # TileWidth, TileLength
        tile_pixels = tags[322][0] * tags[323][0]
    else:  # strips of RowsPerStrip rows (by default one strip: the whole picture)
        tile_pixels = width * min(tags.get(278, (height,))[0], height)
    # OpenCV reads a tile or strip at a time into a buffer of its own: 8-bit pictures as RGBA, others as stored.
    tile_bytes = tile_pixels * (4 if sample_bytes == 1 else min(samples, 4) * sample_bytes)
    channels = max(1, min(samples, 4))
    return Header("tiff", width, height, channels=channels, sample_bytes=sample_bytes, work_bytes=tile_bytes)


HEADER_READERS = {
    "jpeg": _jpeg_header,
    "png": _png_header,
    "gif": _gif_header,
    "bmp": _bmp_header,
    "webp": _webp_header,
    "tiff": _tiff_header,
}
