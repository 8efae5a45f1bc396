"""load_image on real files written by OpenCV (or crafted byte by byte), and every way it refuses one."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from fashion_desktop.core.images import (
    IMAGE_FILE_FILTER,
    MAX_PIXELS,
    SUPPORTED_SUFFIXES,
    ImageError,
    load_image,
)

RED, BLUE, GREEN, WHITE = (255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 255)  # RGB
FORMATS = [".jpg", ".png", ".bmp", ".webp", ".tif", ".gif"]


def encode(ext: str, image: np.ndarray, params: tuple[int, ...] = ()) -> bytes:
    ok, buf = cv2.imencode(ext, image, list(params))
    assert ok, ext
    return buf.tobytes()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb[::-1]


def red_blue(height: int = 32, width: int = 48) -> np.ndarray:
    """Left half red, right half blue, in OpenCV's BGR order."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = bgr(RED)
    image[:, width // 2 :] = bgr(BLUE)
    return image


def quadrants() -> np.ndarray:
    """A 40x64 BGR picture with a different colour in each corner, so every flip and turn shows."""
    image = np.zeros((40, 64, 3), np.uint8)
    image[:20, :32], image[:20, 32:] = bgr(RED), bgr(GREEN)
    image[20:, :32], image[20:, 32:] = bgr(BLUE), bgr(WHITE)
    return image


# What each EXIF orientation means, written with numpy alone (independent of the code under test).
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: a.swapaxes(0, 1)[:, ::-1],
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: a.swapaxes(0, 1)[::-1],
}


def exif_block(orientation: int, order: str = "MM") -> bytes:
    """A TIFF-structured EXIF block whose IFD0 holds only the Orientation tag (0x0112, SHORT)."""
    e = ">" if order == "MM" else "<"
    return (
        order.encode()
        + struct.pack(e + "HI", 42, 8)
        + struct.pack(e + "H", 1)
        + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0)
        + struct.pack(e + "I", 0)
    )


def jpeg_with_exif(jpeg: bytes, orientation: int, order: str = "MM") -> bytes:
    payload = b"Exif\x00\x00" + exif_block(orientation, order)
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_exif(png: bytes, orientation: int) -> bytes:
    return png[:33] + png_chunk(b"eXIf", exif_block(orientation)) + png[33:]  # right after IHDR


def png_header(width: int, height: int, idat: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


# --- formats and colour ----------------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_each_format_decodes_to_rgb_uint8(tmp_path: Path, ext: str) -> None:
    image = load_image(write(tmp_path, f"picture{ext}", encode(ext, red_blue())))
    assert image.shape == (32, 48, 3) and image.dtype == np.uint8 and image.flags.c_contiguous
    np.testing.assert_allclose(image[16, 8], RED, atol=12)  # RGB order: red is first, not last
    np.testing.assert_allclose(image[16, 40], BLUE, atol=12)


@pytest.mark.parametrize(
    ("ext", "image", "params"),
    [
        (".png", red_blue(37, 53), ()),
        (".jpg", red_blue(37, 53), ()),
        (".jpg", red_blue(37, 53), (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
        (".gif", red_blue(37, 53), ()),
        (".bmp", red_blue(37, 53), ()),
        (".tif", red_blue(37, 53), ()),
        (".webp", red_blue(37, 53), ()),  # lossless: VP8L
        (".webp", red_blue(37, 53), (cv2.IMWRITE_WEBP_QUALITY, 80)),  # lossy: VP8
        (".webp", cv2.cvtColor(red_blue(37, 53), cv2.COLOR_BGR2BGRA), (cv2.IMWRITE_WEBP_QUALITY, 80)),  # VP8X
    ],
)
def test_header_size_is_read_exactly(ext: str, image: np.ndarray, params: tuple[int, ...]) -> None:
    data = encode(ext, image, params)
    assert load_image(data, max_pixels=37 * 53).shape == (37, 53, 3)
    if ext == ".jpg":  # one pixel over: decoded at half scale instead of refused
        assert load_image(data, max_pixels=37 * 53 - 1).shape == (19, 27, 3)
    else:
        with pytest.raises(ImageError, match="53 x 37 pixels"):
            load_image(data, max_pixels=37 * 53 - 1)


def test_format_is_told_by_content_not_suffix(tmp_path: Path) -> None:
    png = encode(".png", red_blue())
    for name in ("photo.jpg", "no_suffix", "picture.PNG.txt"):
        np.testing.assert_array_equal(load_image(write(tmp_path, name, png))[0, 0], RED)


def test_bytes_input_in_any_buffer_type() -> None:
    data = encode(".png", red_blue())
    for buffer in (data, bytearray(data), memoryview(data)):
        np.testing.assert_array_equal(load_image(buffer)[0, -1], BLUE)


def test_non_ascii_path(tmp_path: Path) -> None:
    folder = tmp_path / "папка 文件夹"
    folder.mkdir()
    path = write(folder, "фото 写真.png", encode(".png", red_blue()))
    assert load_image(path).shape == (32, 48, 3)
    assert load_image(str(path)).shape == (32, 48, 3)


def test_gif_gives_its_first_frame() -> None:
    first, second = np.full((8, 8, 3), bgr(RED), np.uint8), np.full((8, 8, 3), bgr(BLUE), np.uint8)
    ok, buf = cv2.imencodemulti(".gif", [first, second])
    assert ok
    np.testing.assert_allclose(load_image(buf.tobytes())[4, 4], RED, atol=12)


def test_grayscale_becomes_three_equal_channels() -> None:
    gray = np.full((16, 24), 200, np.uint8)
    for ext in (".png", ".jpg", ".bmp", ".tif"):
        image = load_image(encode(ext, gray))
        assert image.shape == (16, 24, 3), ext
        np.testing.assert_allclose(image[8, 12], (200, 200, 200), atol=2)


def test_16_bit_is_scaled_not_truncated() -> None:
    pixel = np.array([255, 32896, 65535], np.uint16)  # BGR; 32896 = 128 * 257
    for ext in (".png", ".tif"):
        image = load_image(encode(ext, np.tile(pixel, (4, 6, 1))))
        assert image.dtype == np.uint8
        np.testing.assert_array_equal(image[0, 0], (255, 128, 1))  # a plain cast would give 255 for 255
    gray = load_image(encode(".png", np.full((4, 6), 32896, np.uint16)))
    np.testing.assert_array_equal(gray[0, 0], (128, 128, 128))


# --- transparency ----------------------------------------------------------------------------------


def bands_with_alpha(depth: type = np.uint8) -> np.ndarray:
    """BGRA: opaque red | half-transparent red | fully transparent black, in three column bands."""
    top = np.iinfo(depth).max
    image = np.zeros((12, 30, 4), depth)
    image[:, :20, 2] = top
    image[:, :10, 3] = top
    image[:, 10:20, 3] = top // 2 + 1  # 128 in 8 bits
    return image


@pytest.mark.parametrize(("ext", "params"), [(".png", ()), (".webp", (cv2.IMWRITE_WEBP_QUALITY, 101)), (".tif", ())])
def test_alpha_is_composited_on_white(ext: str, params: tuple[int, ...]) -> None:
    image = load_image(encode(ext, bands_with_alpha(), params))
    np.testing.assert_array_equal(image[6, 5], RED)
    np.testing.assert_allclose(image[6, 15], (255, 127, 127), atol=1)
    np.testing.assert_array_equal(image[6, 25], WHITE)


def test_16_bit_alpha_is_composited_on_white() -> None:
    image = load_image(encode(".png", bands_with_alpha(np.uint16)))
    np.testing.assert_array_equal(image[6, 5], RED)
    np.testing.assert_allclose(image[6, 15], (255, 127, 127), atol=1)
    np.testing.assert_array_equal(image[6, 25], WHITE)


def test_gif_transparency_is_white() -> None:
    image = load_image(encode(".gif", bands_with_alpha()))
    np.testing.assert_allclose(image[6, 5], RED, atol=12)
    np.testing.assert_array_equal(image[6, 25], WHITE)


def test_unused_alpha_byte_of_a_32_bit_bmp_is_ignored() -> None:
    bgra = np.zeros((8, 8, 4), np.uint8)
    bgra[..., 2] = 255  # red, alpha byte left at 0 as many 32-bit BMP writers do
    np.testing.assert_array_equal(load_image(encode(".bmp", bgra))[4, 4], RED)


# --- EXIF orientation ------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_matches_opencv(orientation: int) -> None:
    jpeg = jpeg_with_exif(encode(".jpg", quadrants(), (cv2.IMWRITE_JPEG_QUALITY, 100)), orientation, "II")
    image = load_image(jpeg)
    reference = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR_RGB)  # OpenCV applies EXIF here
    np.testing.assert_array_equal(image, reference)
    expected = UPRIGHT[orientation](cv2.cvtColor(quadrants(), cv2.COLOR_BGR2RGB))
    assert image.shape == expected.shape
    for y, x in ((5, 5), (5, -5), (-5, 5), (-5, -5)):  # each corner's colour went where it should
        np.testing.assert_allclose(image[y, x], expected[y, x], atol=8)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applies_to_a_picture_with_alpha(orientation: int) -> None:
    bgra = cv2.cvtColor(quadrants(), cv2.COLOR_BGR2BGRA)
    bgra[20:, :32, 3] = 0  # the blue corner becomes transparent, so the alpha path (IMREAD_UNCHANGED) is taken
    image = load_image(png_with_exif(encode(".png", bgra), orientation))
    upright = cv2.cvtColor(quadrants(), cv2.COLOR_BGR2RGB)
    upright[20:, :32] = WHITE
    np.testing.assert_array_equal(image, UPRIGHT[orientation](upright))


def test_large_jpeg_is_decoded_at_reduced_scale_and_still_turned_upright() -> None:
    jpeg = encode(".jpg", red_blue(200, 300))
    assert load_image(jpeg, max_pixels=10_000).shape == (50, 75, 3)  # 1/2 is still too big; 1/4 fits
    assert load_image(jpeg_with_exif(jpeg, 6), max_pixels=10_000).shape == (75, 50, 3)
    with pytest.raises(ImageError, match="too large"):
        load_image(jpeg, max_pixels=900)  # even 1/8 (25 x 38) is over


# --- refusals --------------------------------------------------------------------------------------


def refusal(source: Path | bytes, **limits: int) -> str:
    with pytest.raises(ImageError) as info:
        load_image(source, **limits)
    return str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    message = refusal(tmp_path / "holiday.jpg")
    assert "holiday.jpg" in message and "not found" in message


def test_folder_is_not_a_picture(tmp_path: Path) -> None:
    assert refusal(tmp_path) == f"{tmp_path.name} is a folder, not a picture."


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.png", encode(".png", red_blue()))
    path.chmod(0)
    try:
        message = refusal(path)
    finally:
        path.chmod(0o600)
    assert "secret.png" in message and "permission" in message


def test_empty_file(tmp_path: Path) -> None:
    message = refusal(write(tmp_path, "empty.png", b""))
    assert "empty.png" in message and "empty" in message


@pytest.mark.parametrize("ext", FORMATS)
def test_truncated_file(tmp_path: Path, ext: str) -> None:
    rng = np.random.default_rng(0)
    noisy = cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), (5, 5), 2)
    data = encode(ext, noisy)
    message = refusal(write(tmp_path, f"cut{ext}", data[: len(data) // 2]))
    assert f"cut{ext}" in message and ("damaged" in message or "could not be decoded" in message)


def test_jpeg_missing_only_its_end_marker_is_refused(tmp_path: Path) -> None:
    data = encode(".jpg", red_blue())
    assert data.endswith(b"\xff\xd9")
    assert "damaged or incomplete" in refusal(write(tmp_path, "almost.jpg", data[:-2]))


def test_header_only_is_refused(tmp_path: Path) -> None:
    assert "damaged" in refusal(write(tmp_path, "stub.png", encode(".png", red_blue())[:20]))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "(it looks like a PDF document)"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(40), "ZIP"),
        (b"Dear diary,\nToday I bought a coat.\n", "text file"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (bytes(range(256)), "not a JPEG, PNG, BMP, WebP, TIFF or GIF file"),
    ],
)
def test_not_a_picture(tmp_path: Path, content: bytes, reason: str) -> None:
    message = refusal(write(tmp_path, "holiday.jpg", content))
    assert message.startswith("holiday.jpg is not a picture Fashion Lens can read")
    assert reason in message


def test_heic_says_what_to_do(tmp_path: Path) -> None:
    heic = struct.pack(">I", 24) + b"ftypheic" + bytes(4) + b"mif1heic" + bytes(64)
    message = refusal(write(tmp_path, "IMG_0001.HEIC", heic))
    assert "IMG_0001.HEIC" in message and "HEIC photos are not supported yet; export as JPEG" in message


def test_too_many_bytes(tmp_path: Path) -> None:
    data = encode(".png", red_blue())
    assert "too large" in refusal(write(tmp_path, "big.png", data), max_bytes=100)
    assert "too large" in refusal(data, max_bytes=100)


def _bomb_headers() -> dict[str, bytes]:
    """Tiny files whose headers claim far more pixels than MAX_PIXELS, one per format."""
    tiff_entries = [(256, 4, 100_000), (257, 4, 100_000), (258, 3, 8), (259, 3, 1), (262, 3, 1)]
    tiff = b"II*\x00" + struct.pack("<IH", 8, len(tiff_entries))
    tiff += b"".join(struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in tiff_entries) + bytes(4)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 60_000, 60_000, 1) + b"\x01\x11\x00"
    return {
        "png": png_header(30_000, 30_000, zlib.compress(bytes(90_001))),
        "jpeg": b"\xff\xd8" + sof + b"\xff\xda" + bytes(20),
        "gif": b"GIF89a" + struct.pack("<HHBBB", 60_000, 60_000, 0, 0, 0) + b";",
        "bmp": b"BM" + bytes(12) + struct.pack("<Iii", 40, 30_000, -30_000) + bytes(40),
        "webp": b"RIFF"
        + struct.pack("<I", 30)
        + b"WEBPVP8X"
        + struct.pack("<I", 10)
        + bytes(4)
        + (16_383).to_bytes(3, "little") * 2,
        "tiff": tiff,
    }


@pytest.fixture
def no_decoding(monkeypatch):
    """The decoder fails the test if it is called: a refusal must come from the header alone (which is
    what makes it quick, whatever the machine's load)."""

    def decoder_called(*args, **kwargs):
        raise AssertionError("the picture was decoded")

    for name in ("imdecodeWithMetadata", "imdecode", "imread"):
        monkeypatch.setattr(cv2, name, decoder_called)


@pytest.mark.parametrize("kind", sorted(_bomb_headers()))
def test_decompression_bomb_header_is_refused_before_decoding(tmp_path: Path, kind: str, no_decoding) -> None:
    message = refusal(write(tmp_path, f"bomb.{kind}", _bomb_headers()[kind]))
    assert f"bomb.{kind} is too large to open" in message and "megapixels" in message


def test_real_png_bomb_is_refused_quickly(tmp_path: Path, no_decoding) -> None:
    # A valid 8000 x 8000 PNG of zeros: ~190 KB on disk, 192 MB once decoded.
    side, packer = 8000, zlib.compressobj(9)
    row = bytes(1 + 3 * side)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    path = write(tmp_path, "bomb.png", png_header(side, side, idat))
    assert path.stat().st_size < 1_000_000 and side * side > MAX_PIXELS
    assert "megapixels" in refusal(path)  # from its header: never decoded


def test_other_source_types_are_a_programming_error() -> None:
    with pytest.raises(TypeError):
        load_image(42)  # type: ignore[arg-type]


# --- module contract -------------------------------------------------------------------------------


def test_file_filter_lists_every_suffix() -> None:
    assert IMAGE_FILE_FILTER.startswith("Images (") and IMAGE_FILE_FILTER.endswith(")")
    for suffix in (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"):
        assert suffix in SUPPORTED_SUFFIXES and f"*{suffix}" in IMAGE_FILE_FILTER
    assert all(s == s.lower() and s.startswith(".") for s in SUPPORTED_SUFFIXES)


def test_module_imports_without_qt() -> None:
    code = "import sys, fashion_desktop.core.images; sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_folder_batches_and_the_open_dialog_see_the_same_files(tmp_path) -> None:
    """One suffix list: .jpe and .jfif JPEGs are found by folder batches and offered by the dialog alike."""
    from fashion_desktop.core.analysis import find_images

    for name in ("a.jpe", "b.jfif", "c.JPG", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in find_images([tmp_path])] == ["a.jpe", "b.jfif", "c.JPG"]
    assert "*.jpe" in IMAGE_FILE_FILTER and "*.jfif" in IMAGE_FILE_FILTER
