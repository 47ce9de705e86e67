"""Frames: wire bytes <-> arrays, image folders, videos, built-in frames; timing stats; PSNR."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.evaluate.fidelity import psnr
from stylebridge.frame_sources import FrameSource, builtin_frames
from stylebridge.frames import (
    PixelFormat,
    flip_rows,
    load_image,
    match_size,
    pack_pixels,
    pad_to_multiple,
    resize,
    unpack_pixels,
)
from stylebridge.timing import RateMeter, TimingWindow

RNG = np.random.default_rng(7)


def random_rgb(height: int, width: int) -> np.ndarray:
    return RNG.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


# --- unpack / pack -------------------------------------------------------------------


def test_pixel_format_values_match_the_proto() -> None:
    from stylebridge.v1 import common_pb2

    for fmt in PixelFormat:
        assert common_pb2.PixelFormat.Value(f"PIXEL_FORMAT_{fmt.name}") == fmt.value
    assert PixelFormat.RGB8.bytes_per_pixel == 3
    assert PixelFormat.RGBA8.bytes_per_pixel == 4


@pytest.mark.parametrize("fmt", list(PixelFormat))
def test_pack_unpack_round_trip(fmt: PixelFormat) -> None:
    rgb = random_rgb(5, 7)
    data, stride = pack_pixels(rgb, fmt)
    assert stride == 7 * fmt.bytes_per_pixel
    assert len(data) == stride * 5
    out = unpack_pixels(data, 7, 5, fmt, stride)
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, rgb)


def test_rgba_alpha_is_opaque_when_packed_and_dropped_when_unpacked() -> None:
    rgb = random_rgb(3, 4)
    data, stride = pack_pixels(rgb, PixelFormat.RGBA8)
    raw = np.frombuffer(data, np.uint8).reshape(3, 4, 4)
    assert (raw[:, :, 3] == 255).all()
    # Any alpha on the wire is ignored.
    noisy = raw.copy()
    noisy[:, :, 3] = RNG.integers(0, 256, size=(3, 4), dtype=np.uint8)
    np.testing.assert_array_equal(unpack_pixels(noisy.tobytes(), 4, 3, 2, stride), rgb)


@pytest.mark.parametrize("fmt", list(PixelFormat))
def test_padded_stride_is_skipped_without_copying(fmt: PixelFormat) -> None:
    height, width, pad = 4, 5, 9
    rgb = random_rgb(height, width)
    bpp = fmt.bytes_per_pixel
    stride = width * bpp + pad
    rows = np.full((height, stride), 0xAB, dtype=np.uint8)
    pixels = np.full((height, width, bpp), 255, dtype=np.uint8)
    pixels[:, :, :3] = rgb
    rows[:, : width * bpp] = pixels.reshape(height, -1)
    data = rows.tobytes()
    out = unpack_pixels(data, width, height, fmt, stride)
    np.testing.assert_array_equal(out, rgb)
    assert np.shares_memory(out, np.frombuffer(data, np.uint8))
    assert not out.flags.writeable


def test_unpack_accepts_memoryview_and_is_a_view() -> None:
    rgb = random_rgb(6, 8)
    data, stride = pack_pixels(rgb)
    buffer = bytearray(data)
    out = unpack_pixels(memoryview(buffer), 8, 6, PixelFormat.RGB8, stride)
    np.testing.assert_array_equal(out, rgb)
    buffer[0] ^= 0xFF  # the array is a view of the buffer, not a copy
    assert out[0, 0, 0] == rgb[0, 0, 0] ^ 0xFF


@pytest.mark.parametrize(
    ("width", "height", "fmt", "stride", "nbytes", "fragment"),
    [
        (0, 4, 1, 0, 0, "must be > 0"),
        (4, 0, 1, 12, 0, "must be > 0"),
        (-4, 4, 1, 12, 48, "must be > 0"),
        (4, 4, 1, 11, 44, "row stride 11 is shorter"),
        (4, 4, 2, 12, 48, "row stride 12 is shorter"),
        (4, 4, 1, 12, 47, "expected 48"),
        (4, 4, 1, 12, 49, "expected 48"),
        (4, 4, 1, 16, 48, "expected 64"),
        (4, 4, 2, 16, 48, "expected 64"),
        (4, 4, 3, 12, 48, "unknown pixel format 3"),
        (4, 4, 0, 12, 48, "unknown pixel format 0"),
    ],
)
def test_unpack_rejects_every_wrong_size(
    width: int, height: int, fmt: int, stride: int, nbytes: int, fragment: str
) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        unpack_pixels(bytes(nbytes), width, height, fmt, stride)


def test_wrong_size_error_names_both_byte_counts() -> None:
    with pytest.raises(InvalidInputError) as info:
        unpack_pixels(bytes(100), 10, 10, PixelFormat.RGB8, 30)
    assert "100" in str(info.value) and "300" in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 3), np.float32),
    ],
)
def test_pack_rejects_non_rgb_arrays(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInputError):
        pack_pixels(bad)


def test_flip_rows_reverses_rows_only() -> None:
    rgb = random_rgb(3, 2)
    flipped = flip_rows(rgb)
    np.testing.assert_array_equal(flipped[0], rgb[2])
    np.testing.assert_array_equal(flip_rows(flipped), rgb)
    # A bottom-up texture packed after flipping reads back top-down.
    data, stride = pack_pixels(flipped)
    np.testing.assert_array_equal(unpack_pixels(data, 2, 3, 1, stride), rgb[::-1])


# --- resizing and padding --------------------------------------------------------------


def test_resize_to_size_and_identity() -> None:
    rgb = random_rgb(40, 60)
    assert resize(rgb, (30, 20)).shape == (20, 30, 3)
    assert resize(rgb, (120, 80)).shape == (80, 120, 3)
    assert resize(rgb, (60, 40)) is rgb
    with pytest.raises(InvalidInputError):
        resize(rgb, (0, 10))


def test_resize_reads_strided_views() -> None:
    rgb = random_rgb(8, 8)
    data, stride = pack_pixels(rgb, PixelFormat.RGBA8)
    view = unpack_pixels(data, 8, 8, PixelFormat.RGBA8, stride)
    np.testing.assert_array_equal(resize(view, (4, 4)), resize(rgb, (4, 4)))


def test_pad_to_multiple_mirrors_and_match_size_crops_back() -> None:
    rgb = random_rgb(90, 161)
    padded = pad_to_multiple(rgb, 4)
    assert padded.shape == (92, 164, 3)
    np.testing.assert_array_equal(padded[:90, :161], rgb)
    np.testing.assert_array_equal(
        padded[90, :161], rgb[88]
    )  # mirrored about the last row
    assert pad_to_multiple(padded, 4) is padded
    assert pad_to_multiple(random_rgb(1, 1), 4).shape == (
        4,
        4,
        3,
    )  # too small to mirror
    cropped = match_size(padded, (161, 90))
    np.testing.assert_array_equal(cropped, rgb)
    assert match_size(rgb, (80, 100)).shape == (
        100,
        80,
        3,
    )  # taller: resized, not cropped


# --- images, folders and videos --------------------------------------------------------


def test_load_image_reads_rgb(frame_paths: list[Path]) -> None:
    from PIL import Image

    rgb = load_image(frame_paths[0])
    with Image.open(frame_paths[0]) as image:
        expected = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(rgb, expected)


def test_load_image_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(InvalidInputError, match="not a readable image"):
        load_image(junk)


def test_frame_source_over_shared_frames(
    frames_dir: Path, frame_paths: list[Path]
) -> None:
    source = FrameSource(frames_dir, (320, 180), count=len(frame_paths) + 3)
    frames = list(source)
    assert len(frames) == len(frame_paths) + 3
    assert all(f.shape == (180, 320, 3) and f.dtype == np.uint8 for f in frames)
    # Sorted order, looping back to the first image.
    np.testing.assert_array_equal(
        frames[0], resize(load_image(frame_paths[0]), (320, 180))
    )
    np.testing.assert_array_equal(frames[len(frame_paths)], frames[0])
    assert not np.array_equal(frames[0], frames[1])
    assert source.size == (320, 180) and not source.is_video


def test_frame_source_one_pass_without_loop(
    frames_dir: Path, frame_paths: list[Path]
) -> None:
    assert len(list(FrameSource(frames_dir, (32, 18), loop=False))) == len(frame_paths)
    assert len(list(FrameSource(frame_paths[0], (32, 18), count=3))) == 3


def test_frame_source_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        FrameSource(tmp_path / "nowhere", (32, 18))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(InvalidInputError, match="holds no images"):
        FrameSource(empty, (32, 18))
    bogus = tmp_path / "clip.mp4"
    bogus.write_bytes(b"\x00" * 1000)
    with pytest.raises(InvalidInputError):
        FrameSource(bogus, (32, 18))
    with pytest.raises(InvalidInputError):
        FrameSource(empty, (0, 18))


@pytest.mark.parametrize(("fourcc", "suffix"), [("mp4v", ".mp4"), ("MJPG", ".avi")])
def test_frame_source_over_a_video(tmp_path: Path, fourcc: str, suffix: str) -> None:
    path = tmp_path / f"clip{suffix}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (64, 48))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} here"
    levels = [20, 120, 220]
    for level in levels:
        bgr = np.zeros((48, 64, 3), np.uint8)
        bgr[:, :, 2] = level  # red channel in BGR
        writer.write(bgr)
    writer.release()

    source = FrameSource(path, (32, 24), count=7)
    assert source.is_video
    frames = list(source)
    assert len(frames) == 7  # three frames, looped
    assert all(f.shape == (24, 32, 3) for f in frames)
    reds = [float(f[:, :, 0].mean()) for f in frames]
    # Red stays red after BGR->RGB (lossy codecs: within a few levels).
    for got, want in zip(reds, levels * 3, strict=False):
        assert abs(got - want) < 12
    assert float(frames[0][:, :, 2].mean()) < 12
    assert len(list(FrameSource(path, (32, 24), loop=False))) == 3


# --- built-in frames --------------------------------------------------------------


def test_builtin_frames_ship_with_matplotlib() -> None:
    from matplotlib import cbook

    for name in ("grace_hopper.jpg", "jacksboro_fault_dem.npz"):
        assert Path(cbook.get_sample_data(name, asfileobj=False)).is_file()


def test_builtin_frames_are_deterministic_and_move() -> None:
    first = list(builtin_frames((160, 90), count=4))
    again = list(builtin_frames((160, 90), count=4))
    assert len(first) == 4
    for a, b in zip(first, again, strict=True):
        assert a.shape == (90, 160, 3) and a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)
    # Consecutive frames differ a little (a moving camera), distant ones a lot.
    source = builtin_frames((160, 90))
    step = np.abs(first[0].astype(int) - first[1]).mean()
    far = np.abs(first[0].astype(int) - source.frame(source.PERIOD // 2)).mean()
    assert 0 < step < far
    assert float(first[0].std()) > 20  # a picture, not a flat colour


def test_builtin_frames_any_aspect() -> None:
    for size in ((64, 64), (400, 100), (90, 160)):
        assert builtin_frames(size).frame(11).shape == (size[1], size[0], 3)


# --- timing statistics ------------------------------------------------------------


def test_timing_window_summary() -> None:
    window = TimingWindow(maxlen=100)
    empty = window.summary()
    assert empty.count == 0 and empty.mean_ms == 0.0 and empty.p99_ms == 0.0
    assert not any(math.isnan(v) for v in (empty.mean_ms, empty.p50_ms, empty.last_ms))
    for ms in range(1, 201):
        window.add(float(ms))
    window.add(float("nan"))  # ignored
    summary = window.summary()
    assert summary.count == 100 and summary.total_count == 200
    assert summary.mean_ms == pytest.approx(150.5)
    assert summary.p50_ms == pytest.approx(150.5)
    assert summary.p90_ms == pytest.approx(190.1)
    assert summary.p99_ms == pytest.approx(199.01)
    assert summary.last_ms == 200.0
    with pytest.raises(InvalidInputError):
        TimingWindow(0)


def test_timing_window_one_writer_one_reader() -> None:
    window = TimingWindow(maxlen=64)
    done = threading.Event()

    def write() -> None:
        for i in range(20_000):
            window.add(float(i % 10))
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        s = window.summary()
        assert s.count <= 64 and 0.0 <= s.mean_ms <= 9.0
    writer.join()
    assert window.summary().total_count == 20_000


def test_rate_meter() -> None:
    meter = RateMeter(window_s=2.0)
    assert meter.rate(0.0) == 0.0
    for i in range(61):
        meter.tick(10.0 + i / 30.0)  # 30 per second for two seconds
    assert meter.rate(12.0) == pytest.approx(30.0, rel=0.05)
    assert meter.rate(13.0) == pytest.approx(15.0, rel=0.1)  # stalled: decays
    assert meter.rate(20.0) == 0.0
    assert meter.total == 61


# --- PSNR -------------------------------------------------------------------------


def test_psnr() -> None:
    a = random_rgb(20, 30)
    assert psnr(a, a) == math.inf
    b = a.astype(np.int16)
    b[0, 0, 0] = (int(b[0, 0, 0]) + 128) % 256
    b = b.astype(np.uint8)
    mse = 128.0**2 / a.size
    assert psnr(a, b) == pytest.approx(10 * math.log10(255.0**2 / mse))
    # uint8 differences must not wrap around.
    zeros, ones = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 255, np.uint8)
    assert psnr(zeros, ones) == pytest.approx(0.0)
    assert psnr(zeros.astype(float), ones / 255.0, data_range=1.0) == pytest.approx(0.0)
    with pytest.raises(InvalidInputError, match="shapes"):
        psnr(a, a[:10])
    with pytest.raises(InvalidInputError):
        psnr(a, a, data_range=0)
