"""Frames as numpy arrays: wire bytes <-> RGB arrays, images, videos, built-in frames.

Everything above this module sees a frame as an H x W x 3 uint8 RGB array, rows top
to bottom. The wire carries RGB8 or RGBA8 rows with a stride (Unity's readbacks pad
rows and are RGBA); conversion happens here once, as a zero-copy view where it can.
No protobuf here: ``bridge/frames/convert.py`` maps messages onto these functions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from stylebridge.errors import InvalidInputError, NotFoundError

_log = logging.getLogger(__name__)

# TransformerNet halves frames twice on the way down: sides that are multiples of
# this run as they are; other sizes are padded first (see pad_to_multiple).
MODEL_SIZE_MULTIPLE = 4
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})
# Resized frames of a folder are kept in memory up to this many bytes, so a
# streaming client does not decode PNGs on its hot path.
_CACHE_BUDGET_BYTES = 256 * 1024 * 1024


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
    pixels = np.lib.stride_tricks.as_strided(
        flat,
        shape=(height, width, fmt.bytes_per_pixel),
        strides=(row_stride, fmt.bytes_per_pixel, 1),
        writeable=False,
    )
    return pixels[:, :, :3]


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


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


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


class FrameIterable(Protocol):
    """What a streaming client needs from a source of frames."""

    @property
    def name(self) -> str:
        """Where the frames come from, for logs and reports."""
        ...

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of every frame produced."""
        ...

    def __iter__(self) -> Iterator[np.ndarray]: ...


class FrameSource:
    """Frames from a folder of images, one image, or a video file, at one size.

    Iterating yields H x W x 3 uint8 RGB arrays: ``count`` frames when given
    (looping over the source as often as needed), otherwise forever when ``loop``
    is set, otherwise one pass. Folders play their images in sorted name order.
    """

    def __init__(
        self,
        path: Path | str,
        size: tuple[int, int],
        *,
        count: int | None = None,
        loop: bool = True,
    ) -> None:
        self._path = Path(path)
        self._size = (int(size[0]), int(size[1]))
        if self._size[0] <= 0 or self._size[1] <= 0:
            raise InvalidInputError(f"frame size {size} is invalid; width and height must be > 0")
        if count is not None and count < 0:
            raise InvalidInputError(f"frame count {count} is negative")
        self._count = count
        self._loop = loop
        self._images: list[Path] = []
        self._cache: list[np.ndarray] | None = None
        if not self._path.exists():
            raise NotFoundError(
                f"frame source {self._path} does not exist; pass a folder of images or a video"
            )
        if self._path.is_dir():
            self._images = sorted(p for p in self._path.iterdir() if p.is_file() and _is_image(p))
            if not self._images:
                suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
                raise InvalidInputError(f"folder {self._path} holds no images ({suffixes})")
        elif _is_image(self._path):
            self._images = [self._path]
        else:
            self._check_video()

    @property
    def name(self) -> str:
        return str(self._path)

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def is_video(self) -> bool:
        return not self._images

    def __iter__(self) -> Iterator[np.ndarray]:
        one_pass = self._video_pass if self.is_video else self._image_pass
        produced = 0
        while True:
            any_frame = False
            for frame in one_pass():
                if self._count is not None and produced >= self._count:
                    return
                any_frame = True
                produced += 1
                yield frame
            if not any_frame or not self._loop:
                return
            if self._count is not None and produced >= self._count:
                return

    def _image_pass(self) -> Iterator[np.ndarray]:
        if self._cache is not None:
            yield from self._cache
            return
        width, height = self._size
        cacheable = len(self._images) * width * height * 3 <= _CACHE_BUDGET_BYTES
        frames: list[np.ndarray] = []
        for path in self._images:
            frame = resize(load_image(path), self._size)
            if cacheable:
                frames.append(frame)
            yield frame
        if cacheable:
            self._cache = frames

    def _open_video(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self._path))
        if not capture.isOpened():
            capture.release()
            raise InvalidInputError(
                f"{self._path} is neither a folder, an image nor a video OpenCV can open "
                f"(try mp4/avi, or a folder of png/jpg frames)"
            )
        return capture

    def _check_video(self) -> None:
        capture = self._open_video()
        try:
            ok, _ = capture.read()
        finally:
            capture.release()
        if not ok:
            raise InvalidInputError(f"video {self._path} has no readable frames")

    def _video_pass(self) -> Iterator[np.ndarray]:
        capture = self._open_video()
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self._size)
        finally:
            capture.release()


class BuiltinFrames:
    """A slow camera pan and zoom over pictures matplotlib ships: frames with nothing downloaded.

    Consecutive frames differ slightly, like a game camera moving; frame ``i`` is the
    same on every run and machine (up to OpenCV's interpolation). ``count`` frames,
    or forever when None.
    """

    # Frames per full back-and-forth sweep of the camera.
    PERIOD = 600

    def __init__(self, size: tuple[int, int], *, count: int | None = None) -> None:
        if size[0] <= 0 or size[1] <= 0:
            raise InvalidInputError(f"frame size {size} is invalid; width and height must be > 0")
        self._size = (int(size[0]), int(size[1]))
        self._count = count

    @property
    def name(self) -> str:
        return "built-in camera pan (matplotlib sample images)"

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def frame(self, index: int) -> np.ndarray:
        """Frame number ``index`` of the pan."""
        world = _builtin_world()
        world_h, world_w = world.shape[:2]
        width, height = self._size
        phase = 2.0 * math.pi * (index % self.PERIOD) / self.PERIOD
        # Visible window in world pixels: zooms between ~60% and ~90% of the world height.
        view_h = world_h * (0.75 + 0.15 * math.cos(phase))
        view_w = view_h * width / height
        if view_w > world_w * 0.98:
            view_w = world_w * 0.98
            view_h = view_w * height / width
        # Centre sweeps left-right once per period and bobs a little vertically.
        cx = world_w / 2 + (world_w - view_w) / 2 * math.sin(phase)
        cy = world_h / 2 + (world_h - view_h) / 2 * 0.6 * math.sin(3.0 * phase + 0.5)
        scale = view_w / width
        # Output pixel (u, v) samples world point (x0 + u*scale, y0 + v*scale).
        x0, y0 = cx - view_w / 2, cy - view_h / 2
        to_world = np.array([[scale, 0.0, x0], [0.0, scale, y0]], dtype=np.float64)
        return cv2.warpAffine(
            world,
            to_world,
            (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )

    def __iter__(self) -> Iterator[np.ndarray]:
        index = 0
        while self._count is None or index < self._count:
            yield self.frame(index)
            index += 1


def builtin_frames(size: tuple[int, int], *, count: int | None = None) -> BuiltinFrames:
    """Frames that ship with the project (via matplotlib's sample data): nothing downloaded."""
    return BuiltinFrames(size, count=count)


@lru_cache(maxsize=1)
def _builtin_world() -> np.ndarray:
    """One wide picture to pan over: a portrait beside a hill-shaded terrain model."""
    import matplotlib
    from matplotlib import cbook
    from matplotlib.colors import LightSource

    portrait = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    with cbook.get_sample_data("jacksboro_fault_dem.npz") as dem:
        elevation = np.asarray(dem["elevation"], dtype=np.float64)
    shaded = LightSource(azdeg=315, altdeg=45).shade(
        elevation, cmap=matplotlib.colormaps["gist_earth"], vert_exag=0.05, blend_mode="overlay"
    )
    terrain = np.clip(shaded[:, :, :3] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    height = portrait.shape[0]
    terrain_w = round(terrain.shape[1] * height / terrain.shape[0])
    terrain = cv2.resize(terrain, (terrain_w, height), interpolation=cv2.INTER_CUBIC)
    world = np.ascontiguousarray(np.concatenate([terrain, portrait], axis=1))
    world.setflags(write=False)
    _log.debug("built-in frame world is %dx%d", world.shape[1], world.shape[0])
    return world
