"""Frames as numpy arrays: wire bytes <-> RGB arrays, images, sizes.

Where frames come from (folders, videos, the built-in pan) is ``frame_sources``.

Everything above this module sees a frame as an H x W x 3 uint8 RGB array, rows top
to bottom. The wire carries RGB8 or RGBA8 rows with a stride (Unity's readbacks pad
rows and are RGBA); conversion happens here once, as a zero-copy view where it can.
No protobuf here: ``bridge/frames/convert.py`` maps messages onto these functions.
"""

from __future__ import annotations

import logging
from enum import IntEnum
from pathlib import Path

import cv2
import numpy as np

from stylebridge.errors import InvalidInputError, NotFoundError

_log = logging.getLogger(__name__)

# TransformerNet halves frames twice on the way down: sides that are multiples of
# this run as they are; other sizes are padded first (see pad_to_multiple).
MODEL_SIZE_MULTIPLE = 4
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})


class PixelFormat(IntEnum):
    """Pixel layouts on the wire; values equal the proto enum numbers."""

    RGB8 = 1
    RGBA8 = 2

    @property
    def bytes_per_pixel(self) -> int:
        return 3 if self is PixelFormat.RGB8 else 4


def _pixel_format(fmt: PixelFormat | int) -> PixelFormat:
    try:
        return PixelFormat(fmt)
    except ValueError as exc:
        known = ", ".join(f"{f.name}={f.value}" for f in PixelFormat)
        raise InvalidInputError(f"unknown pixel format {fmt!r}; send one of {known}") from exc


def unpack_pixels(
    data: bytes | memoryview,
    width: int,
    height: int,
    fmt: PixelFormat | int,
    row_stride: int,
) -> np.ndarray:
    """H x W x 3 uint8 RGB view of wire pixels (rows top to bottom).

    A read-only view of ``data`` (no copy): padding bytes and alpha are skipped by
    strides. Raises InvalidInputError for non-positive sizes, a stride shorter than
    a row, or a byte count other than ``row_stride * height``.
    """
    fmt = _pixel_format(fmt)
    if width <= 0 or height <= 0:
        raise InvalidInputError(
            f"frame size {width}x{height} is invalid; width and height must be > 0"
        )
    row_bytes = width * fmt.bytes_per_pixel
    if row_stride < row_bytes:
        raise InvalidInputError(
            f"row stride {row_stride} is shorter than one {fmt.name} row of {width} pixels "
            f"({row_bytes} bytes); send row_stride >= width * {fmt.bytes_per_pixel}"
        )
    expected = row_stride * height
    if len(data) != expected:
        raise InvalidInputError(
            f"frame has {len(data)} pixel bytes, expected {expected} "
            f"(row_stride {row_stride} x height {height}, {fmt.name} {width}x{height})"
        )
    flat = np.frombuffer(data, dtype=np.uint8)
    if row_stride == row_bytes:
        # Packed rows (the usual case): a plain reshape, cheaper per frame than as_strided.
        pixels = flat.reshape(height, width, fmt.bytes_per_pixel)
        if pixels.flags.writeable:
            pixels.flags.writeable = False
    else:
        pixels = np.lib.stride_tricks.as_strided(
            flat,
            shape=(height, width, fmt.bytes_per_pixel),
            strides=(row_stride, fmt.bytes_per_pixel, 1),
            writeable=False,
        )
    return pixels if fmt is PixelFormat.RGB8 else pixels[:, :, :3]


def pack_pixels(rgb: np.ndarray, fmt: PixelFormat | int = PixelFormat.RGB8) -> tuple[bytes, int]:
    """Contiguous wire bytes of an H x W x 3 uint8 RGB frame, and their row stride.

    RGBA8 gets an opaque alpha channel. Raises InvalidInputError for another shape
    or dtype.
    """
    fmt = _pixel_format(fmt)
    check_rgb(rgb)
    height, width = rgb.shape[:2]
    if fmt is PixelFormat.RGBA8:
        out = np.empty((height, width, 4), dtype=np.uint8)
        out[:, :, :3] = rgb
        out[:, :, 3] = 255
        return out.tobytes(), width * 4
    return np.ascontiguousarray(rgb).tobytes(), width * 3


def pack_texture(
    rgba: np.ndarray,
    fmt: PixelFormat | int,
    row_stride: int,
    *,
    bottom_up: bool = True,
) -> bytes:
    """Wire bytes of an H x W x 4 uint8 RGBA texture, packed the way the Unity package does.

    Unity readbacks are RGBA rows from the bottom up: rows are flipped to the wire's
    top-down order (when ``bottom_up``), RGB8 drops alpha while RGBA8 keeps it as it is,
    and each row is padded with zero bytes to ``row_stride``. The reference for the C#
    ``FramePacking.PackRgba32`` (the shared vectors in tests/vectors/frame_packing.json).
    """
    fmt = _pixel_format(fmt)
    is_rgba = isinstance(rgba, np.ndarray) and rgba.ndim == 3 and rgba.shape[2] == 4
    if not is_rgba or rgba.dtype != np.uint8:
        shape = getattr(rgba, "shape", type(rgba).__name__)
        raise InvalidInputError(f"expected an H x W x 4 uint8 RGBA array, got {shape}")
    height, width = rgba.shape[:2]
    if width <= 0 or height <= 0:
        raise InvalidInputError(
            f"frame size {width}x{height} is invalid; width and height must be > 0"
        )
    row_bytes = width * fmt.bytes_per_pixel
    if row_stride < row_bytes:
        raise InvalidInputError(
            f"row stride {row_stride} is shorter than one {fmt.name} row of {width} pixels "
            f"({row_bytes} bytes); use row_stride >= width * {fmt.bytes_per_pixel}"
        )
    rows = flip_rows(rgba) if bottom_up else rgba
    out = np.zeros((height, row_stride), dtype=np.uint8)
    out[:, :row_bytes] = rows[:, :, : fmt.bytes_per_pixel].reshape(height, row_bytes)
    return out.tobytes()


def check_rgb(rgb: np.ndarray) -> None:
    """Raise InvalidInputError unless ``rgb`` is a non-empty H x W x 3 uint8 array."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8:
        kind = getattr(rgb, "dtype", type(rgb).__name__)
        raise InvalidInputError(f"expected a uint8 RGB array, got {kind}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise InvalidInputError(f"expected an H x W x 3 RGB array, got shape {rgb.shape}")


def flip_rows(rgb: np.ndarray) -> np.ndarray:
    """Rows in reverse order (a view): Unity textures are bottom-up, the wire is top-down."""
    return rgb[::-1]


def load_image(path: Path | str) -> np.ndarray:
    """An image file as H x W x 3 uint8 RGB (alpha dropped, grey expanded).

    Raises NotFoundError when the file is missing, InvalidInputError when it does not
    decode as an image.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"image {path} does not exist")
    # imdecode on the bytes: cv2.imread cannot open non-ASCII paths on Windows.
    encoded = np.fromfile(path, dtype=np.uint8)
    bgr = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if encoded.size else None
    if bgr is None:
        raise InvalidInputError(f"{path} is not a readable image (png, jpg, webp or bmp)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` at ``size`` = (width, height); area filter to shrink, bilinear to grow."""
    width, height = size
    if width <= 0 or height <= 0:
        raise InvalidInputError(f"target size {width}x{height} is invalid; both must be > 0")
    src_h, src_w = rgb.shape[:2]
    if (src_w, src_h) == (width, height):
        return rgb
    shrinking = width <= src_w and height <= src_h
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    src = np.ascontiguousarray(rgb)  # OpenCV cannot read views that skip bytes within a row
    return cv2.resize(src, (width, height), interpolation=interpolation)




def pad_to_multiple(rgb: np.ndarray, multiple: int) -> np.ndarray:
    """``rgb`` extended at the bottom and right (mirrored) to sides that are multiples of
    ``multiple``; ``rgb`` itself when they already are.

    TransformerNet halves the frame twice: other sizes come back larger (90 rows ->
    92), and variants with skip connections across the resolutions fail outright.
    Padding first and cropping after (see ``match_size``) keeps every size working.
    """
    height, width = rgb.shape[:2]
    bottom, right = -height % multiple, -width % multiple
    if not bottom and not right:
        return rgb
    # OpenCV cannot read views that skip bytes within a row (RGBA unpacked to RGB).
    rgb = np.ascontiguousarray(rgb)
    if bottom >= height or right >= width:
        # Too small to mirror: repeat the edge instead.
        return cv2.copyMakeBorder(rgb, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
    return cv2.copyMakeBorder(rgb, 0, bottom, 0, right, cv2.BORDER_REFLECT_101)


def match_size(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` at ``size`` = (width, height): cropped when larger in both, else resized.

    A padded frame (``pad_to_multiple``) or a model that rounds sizes up returns a
    result aligned at the top-left corner: cropping restores the frame's size as a view.
    """
    width, height = size
    out_h, out_w = rgb.shape[:2]
    if (out_w, out_h) == (width, height):
        return rgb
    if out_w >= width and out_h >= height:
        return rgb[:height, :width]
    return resize(rgb, size)
