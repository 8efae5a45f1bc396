"""Files made to hurt: bombs that pass a plain size check, pipes, odd names, degenerate and blank pictures.

Every one must end in an ImageError with a specific message (or a sound result), quickly and without
allocating gigabytes. Figures before and after these guards are in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import time
import warnings
import zlib
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import pytest

from fashion_desktop.core import analysis
from fashion_desktop.core.analysis import analyze, analyze_files, analyze_without_model, find_images
from fashion_desktop.core.images import ImageError, decode_footprint, load_image


def refusal(source, **limits) -> str:
    """The ImageError that ``load_image`` refuses ``source`` with, from its header or file alone: the
    decoder fails the test if it is called (which is what makes a refusal quick, whatever the load)."""

    def decoder_called(*args, **kwargs):
        raise AssertionError("the picture was decoded")

    with contextlib.ExitStack() as stack:
        for name in ("imdecodeWithMetadata", "imdecode", "imread"):
            stack.enter_context(mock.patch.object(cv2, name, decoder_called))
        with pytest.raises(ImageError) as info:
            load_image(source, **limits)
    return str(info.value)


def within(seconds: float, call, *args):
    """call(*args) on a thread; fails (instead of hanging the test run) if it does not return in time."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call(*args)
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{getattr(call, '__name__', call)} did not return within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


# --- crafted files ---------------------------------------------------------------------------------


def jpeg_claiming(width: int, height: int, *, colour: bool = False, progressive: bool = True) -> bytes:
    """A real 8x8 JPEG whose frame header was patched to claim ``width`` x ``height`` (a few hundred bytes)."""
    image = np.full((8, 8, 3) if colour else (8, 8), 128, np.uint8)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    data, pos = buf.tobytes(), 2
    while True:
        marker, length = data[pos + 1], struct.unpack_from(">H", data, pos + 2)[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            assert (marker == 0xC2) == progressive
            return data[: pos + 5] + struct.pack(">HH", height, width) + data[pos + 9 :]
        pos += 2 + length


def tiff(entries: list[tuple[int, int, int]], pixels: bytes = b"") -> bytes:
    """A little-endian TIFF whose one IFD holds ``entries`` (tag, type, value) in the order given;
    StripOffsets (273) and StripByteCounts (279) are filled in to point at ``pixels``."""
    start = 8 + 2 + 12 * len(entries) + 4
    out = b"II*\x00" + struct.pack("<IH", 8, len(entries))
    for tag, kind, value in entries:
        value = {273: start, 279: len(pixels)}.get(tag, value)
        out += struct.pack("<HHIHH" if kind == 3 else "<HHII", tag, kind, 1, value, *((0,) if kind == 3 else ()))
    return out + bytes(4) + pixels


def gray_tiff(width: int, height: int, extra: list[tuple[int, int, int]] = ()) -> bytes:
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0)]
    entries += [(277, 3, 1), (278, 4, height), (279, 4, 0), *extra]
    return tiff(entries, bytes(range(256)) * (width * height // 256) + bytes(width * height % 256))


def gif(width: int, height: int) -> bytes:
    """A 35-byte GIF: a white 1x1 frame on a ``width`` x ``height`` screen of background."""
    codes = 4 | (0 << 3) | (5 << 6)  # 3-bit LZW codes: clear, index 0, end
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
        + bytes([255, 255, 255, 0, 0, 0])
        + b","
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02"
        + struct.pack("<H", codes)
        + b"\x00;"
    )


# --- 1. bombs that pass a pixel count --------------------------------------------------------------


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("progressive", [False, True])
def test_gigapixel_jpeg_header_is_refused_before_decoding(colour: bool, progressive: bool) -> None:
    # 56,000 x 56,000 at 1/8 is 49 MP, under the pixel limit; the progressive one used to take 10-15 s
    # and 6-9 GB (libjpeg holds every coefficient of the full size), the baseline one 1 s and gave grey.
    data = jpeg_claiming(56_000, 56_000, colour=colour, progressive=progressive)
    assert len(data) < 700
    message = refusal(data, name="bomb.jpg")
    assert message.startswith("bomb.jpg is too large to open: 56000 x 56000 pixels") and "400 for a JPEG" in message


def test_progressive_jpeg_is_budgeted_by_its_full_size_coefficients() -> None:
    # 20,000 x 20,000 gray is within the 400 MP a JPEG may have, but its coefficients alone are 800 MB.
    message = refusal(jpeg_claiming(20_000, 20_000), name="big.jpg")
    assert "would take 0.8 GB of memory (a progressive JPEG is held whole" in message
    assert "the limit is 0.5 GB" in message


def test_jpeg_claiming_more_pixels_than_its_bytes_can_hold_is_damaged() -> None:
    # Baseline, so no coefficient buffer: 400 MP in 331 bytes, where every 8x8 block costs at least a bit.
    message = refusal(jpeg_claiming(20_000, 20_000, progressive=False), name="tiny.jpg")
    assert message.startswith("tiny.jpg is damaged: its JPEG header claims 20000 x 20000 pixels")
    assert "more than its 331 bytes can hold" in message


def test_flat_pictures_at_the_compression_limit_are_not_mistaken_for_bombs() -> None:
    # The most compressible honest files there are: one flat colour, 24 MP, in every writer's best effort.
    for image in (np.full((4000, 6000), 255, np.uint8), np.full((4000, 6000, 3), (0, 90, 200), np.uint8)):
        for ext, params in [
            (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
            (".jpg", [cv2.IMWRITE_JPEG_OPTIMIZE, 1]),
            (".png", [cv2.IMWRITE_PNG_COMPRESSION, 9]),
        ]:
            ok, buf = cv2.imencode(ext, image, params)
            assert load_image(buf.tobytes()).shape == (4000, 6000, 3), (ext, params)


def test_tiff_size_is_the_first_of_two_contradicting_tags_as_libtiff_reads_it() -> None:
    # The second ImageWidth/ImageLength pair said 16 x 16; libtiff uses the first and decoded 32,000 x
    # 32,000 from 31 KB (8 s, 4 GB) while the guard read the last.
    entries = [(256, 4, 32_000), (257, 4, 32_000), (258, 3, 8), (259, 3, 8), (262, 3, 1), (273, 4, 0)]
    entries += [(277, 3, 1), (278, 4, 1000), (279, 4, 0), (256, 4, 16), (257, 4, 16)]
    bomb = tiff(entries, zlib.compress(bytes(16_000)))
    assert "32000 x 32000 pixels" in refusal(bomb)
    # ... and a harmless picture with a repeated tag decodes at the first size.
    picture = gray_tiff(64, 32, extra=[(256, 4, 16)])
    assert load_image(picture).shape == (32, 64, 3)


def test_tiff_budget_counts_samples_bits_and_the_strip_buffer() -> None:
    rgb8 = cv2.imencode(".tif", np.zeros((100, 100, 3), np.uint8))[1].tobytes()
    rgba16 = cv2.imencode(".tif", np.zeros((100, 100, 4), np.uint16))[1].tobytes()
    # 8-bit RGB: 3 bytes a pixel out + a strip read as RGBA = 41 KB; 16-bit RGBA: 8 bytes a pixel + a strip = 88 KB.
    assert load_image(rgb8, max_decode_bytes=60_000).shape == (100, 100, 3)
    assert "would take" in refusal(rgba16, max_decode_bytes=60_000)
    assert decode_footprint(rgba16)[0] - decode_footprint(rgb8)[0] > 40_000  # 47 KB more to decode


def test_png_budget_counts_bit_depth_and_channels() -> None:
    rgba16 = cv2.imencode(".png", np.zeros((100, 100, 4), np.uint16))[1].tobytes()
    gray8 = cv2.imencode(".png", np.zeros((100, 100), np.uint8))[1].tobytes()
    assert "would take" in refusal(rgba16, max_decode_bytes=50_000)  # 80 KB of 16-bit BGRA
    assert load_image(gray8, max_decode_bytes=50_000).shape == (100, 100, 3)  # 10 KB


def test_png_claiming_more_than_deflate_can_hold_is_damaged() -> None:
    ihdr = struct.pack(">IIBBBBB", 7000, 7000, 8, 2, 0, 0, 0)
    chunk = lambda kind, payload: (  # noqa: E731
        struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    )
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b"")
    assert "damaged: its PNG header claims 7000 x 7000 pixels" in refusal(png)


def test_footprint_is_told_from_the_header_and_bounds_a_gif_of_35_bytes() -> None:
    data = gif(7000, 7000)
    assert len(data) == 35
    peak, pixels = decode_footprint(data)
    assert pixels == 49_000_000 and 300e6 < peak < 600e6  # canvas, output, RGB copy
    assert decode_footprint(jpeg_claiming(56_000, 56_000)) == (0, 0)  # refused: costs nothing
    assert decode_footprint(b"not a picture") == (0, 0)


# --- 2. folder runs hold a bounded number of bytes --------------------------------------------------


def test_folder_run_keeps_pictures_in_flight_within_the_memory_budget(tmp_path: Path, monkeypatch, classifier) -> None:
    for i in range(6):
        (tmp_path / f"{i}.gif").write_bytes(gif(1500, 1500))
    (tmp_path / "photo.png").write_bytes(cv2.imencode(".png", np.full((64, 48, 3), 90, np.uint8))[1].tobytes())
    paths = find_images([tmp_path])
    stage, lock, state = analysis._try_stage, threading.Lock(), {"now": 0, "most": 0}

    def counted(path, segmenter=None):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.02)
            return stage(path, segmenter)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(analysis, "_try_stage", counted)
    one_gif = analysis._in_flight_bytes(paths[0])
    tight = list(analyze_files(paths, classifier, workers=4, memory_budget=one_gif))  # one picture at a time
    assert state["most"] == 1
    state["most"] = 0
    loose = list(analyze_files(paths, classifier, workers=4, memory_budget=100 * one_gif))
    assert state["most"] > 1
    assert [p for p, _ in tight] == [p for p, _ in loose] == paths
    for (_, a), (_, b) in zip(tight, loose):
        np.testing.assert_array_equal(a.model_input, b.model_input)
        np.testing.assert_allclose(a.prediction.probabilities, b.prediction.probabilities, atol=1e-5)
        assert a.blur.score == pytest.approx(b.blur.score, rel=1e-5) and a.known.recognised == b.known.recognised


# --- 3. files that are not files -------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_refused_at_once_not_waited_on(tmp_path: Path, classifier) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match=r"photo.jpg is not a regular file \(a named pipe\)"):
        within(5, load_image, fifo)
    assert within(5, decode_footprint, fifo) == (0, 0)
    real = tmp_path / "real.png"
    real.write_bytes(cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))[1].tobytes())
    assert within(5, find_images, [tmp_path]) == [real]  # skipped inside a folder
    rows = within(30, lambda: list(analyze_files([fifo, real], classifier)))  # given by name: an error row
    assert isinstance(rows[0][1], ImageError) and "named pipe" in str(rows[0][1])
    assert not isinstance(rows[1][1], Exception)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_device_is_refused() -> None:
    assert "zero is not a regular file (a device)" in within(5, refusal, "/dev/zero")


def test_link_loop_and_long_and_odd_names_give_clear_messages(tmp_path: Path) -> None:
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    assert "symbolic link that loops back on itself" in refusal(loop)
    assert within(5, find_images, [tmp_path]) == []  # and a folder holding one is walked without it
    long_name = tmp_path / ("a" * 300 + ".jpg")
    assert "too long for the file system" in refusal(long_name)
    assert "NUL character" in refusal(str(tmp_path / "bad\x00name.jpg"))
    not_a_folder = tmp_path / "file.png"
    not_a_folder.write_bytes(b"x")
    assert "is a file, not a folder" in refusal(not_a_folder / "x.jpg")


@pytest.mark.skipif(os.name == "nt", reason="POSIX file names are bytes")
def test_file_name_that_is_not_utf8_gives_a_printable_message(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.jpg")  # Latin-1 on a UTF-8 system: Python keeps the byte as a surrogate
    path = tmp_path / name
    path.write_bytes(b"Dear diary")
    message = refusal(path)
    message.encode("utf-8")  # printable: no lone surrogate left in it
    assert message.startswith("caf\ufffd.jpg is not a picture")
    assert "not found" in refusal(tmp_path / os.fsdecode(b"\xff\xfe.png")).encode("utf-8").decode()


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_unreadable_parent_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"x")
    folder.chmod(0)
    try:
        assert "permission denied" in refusal(folder / "a.png")
    finally:
        folder.chmod(0o700)


# --- 4. degenerate shapes --------------------------------------------------------------------------

SHAPES = [(1, 1), (2, 2), (1, 10_000), (10_000, 1), (3, 500), (7, 7), (8, 8), (8, 10_000), (10_000, 8), (9, 4000)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_step_handles_tiny_and_thin_pictures(shape: tuple[int, int], classifier) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    if min(shape) < analysis.MIN_SIDE:
        for call in (analyze_without_model, lambda x: analyze(x, classifier)):
            with pytest.raises(ImageError, match=r"too small to judge: \d+ x \d+ pixels"):
                call(rgb)
        return
    result = analyze(rgb, classifier)
    assert result.edges.shape == shape and result.model_input.shape == (28, 28)
    assert np.isfinite(result.blur.score)


def test_thin_picture_from_a_file_through_the_whole_path(tmp_path: Path, classifier) -> None:
    path = tmp_path / "strip.png"
    path.write_bytes(cv2.imencode(".png", np.zeros((1, 10_000, 3), np.uint8))[1].tobytes())
    [(_, result)] = analyze_files([path], classifier)
    assert isinstance(result, ImageError) and str(result).startswith("strip.png is too small to judge")


# --- 5. silent wrong results -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_picture_is_never_a_known_item(value: int, classifier) -> None:
    for shape in ((64, 64, 3), (600, 400, 3), (28, 28, 3)):
        result = analyze(np.full(shape, value, np.uint8), classifier)
        assert not result.known.recognised, (value, shape)


def test_blank_picture_with_jpeg_noise_is_still_blank(classifier) -> None:
    flat = np.full((480, 640, 3), (40, 120, 200), np.uint8)
    data = cv2.imencode(".jpg", flat, [cv2.IMWRITE_JPEG_QUALITY, 60])[1].tobytes()
    assert not analyze(data, classifier).known.recognised


def test_a_real_item_is_not_called_blank(fashion_mnist, classifier) -> None:
    _, test = fashion_mnist
    item = cv2.cvtColor(test.x[0], cv2.COLOR_GRAY2RGB)
    assert not analysis.is_featureless(item, test.x[0])


def test_float_tiff_in_0_to_255_is_not_all_white() -> None:
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (16, 1))
    image = load_image(cv2.imencode(".tif", ramp)[1].tobytes())
    np.testing.assert_allclose(image[0, :, 0], np.round(np.linspace(0, 255, 64)), atol=1)
    unit = load_image(cv2.imencode(".tif", ramp / 255)[1].tobytes())  # the 0..1 convention still holds
    np.testing.assert_allclose(unit[0, :, 0], image[0, :, 0], atol=1)


def test_float_nan_and_inf_are_read_without_warnings() -> None:
    data = np.array([[np.nan, np.inf, -np.inf, 0.5, 200.0]], np.float32).repeat(4, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = load_image(cv2.imencode(".tif", data)[1].tobytes())
    np.testing.assert_array_equal(image[0, :, 0], [0, 255, 0, 0, 200])  # the range is 0..255 (200 > 1)
