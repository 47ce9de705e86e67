"""Sources of frames: folders of images, one image, a video, and the built-in camera pan.

Each yields H x W x 3 uint8 RGB arrays at one size (``stylebridge.frames`` does the
pixel work: loading, resizing). Clients, the demo and the reports stream from these.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.frames import IMAGE_SUFFIXES, load_image, resize

_log = logging.getLogger(__name__)

# Resized frames of a folder are kept in memory up to this many bytes, so a
# streaming client does not decode PNGs on its hot path.
_CACHE_BUDGET_BYTES = 256 * 1024 * 1024


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


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
