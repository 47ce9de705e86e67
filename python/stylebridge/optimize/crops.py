"""Training crops from a folder of frames: random scale, crop and flip, seeded per step.

Batch ``step`` is drawn from its own generator, seeded with ``(seed, step)``: the
same seed gives the same batches on every run, and a resumed run needs no saved
random state to draw exactly the batches an uninterrupted run would have drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.frames import IMAGE_SUFFIXES, load_image

# Frames are kept in memory; larger ones are shrunk so their long side is at most this
# (1080p stays as it is; an 8K screenshot does not cost 100 MB).
MAX_FRAME_SIDE = 2048


def list_frames(folder: Path) -> list[Path]:
    """The image files (png, jpg, …) directly in ``folder``, sorted by name.

    Raises NotFoundError when the folder does not exist or holds no images.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFoundError(f"frame folder {folder} does not exist")
    paths = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not paths:
        known = ", ".join(sorted(IMAGE_SUFFIXES))
        raise NotFoundError(f"no frames ({known}) in {folder}; record or copy some there first")
    return paths


class CropSampler:
    """Square training crops of ``crop`` pixels from frames held in memory.

    Each crop takes a random scale in ``[min_scale, 1]`` (the frame is seen smaller,
    so one crop covers more of it), a random position and a coin-flip horizontal
    mirror. A frame smaller than the region a crop needs is upscaled to fit.
    """

    def __init__(self, frames: Sequence[Path], crop: int, *, min_scale: float = 0.5) -> None:
        if not frames:
            raise NotFoundError("distillation needs at least one frame; pass a folder of images")
        if crop < 16:
            raise InvalidInputError(f"crop {crop} is too small; use at least 16 pixels")
        if not 0.0 < min_scale <= 1.0:
            raise InvalidInputError(f"min_scale must be in (0, 1], got {min_scale}")
        self.crop = int(crop)
        self.min_scale = float(min_scale)
        self.images = [_load_bounded(Path(p)) for p in frames]

    def batch(self, seed: int, step: int, batch_size: int) -> torch.Tensor:
        """Batch number ``step``: batch_size x 3 x crop x crop float32 RGB in 0..255."""
        rng = np.random.default_rng([int(seed), int(step)])
        out = np.empty((batch_size, self.crop, self.crop, 3), dtype=np.uint8)
        for index in range(batch_size):
            out[index] = self._one(rng)
        return torch.from_numpy(out).permute(0, 3, 1, 2).float()

    def _one(self, rng: np.random.Generator) -> np.ndarray:
        image = self.images[int(rng.integers(len(self.images)))]
        height, width = image.shape[:2]
        scale = float(rng.uniform(self.min_scale, 1.0))
        # The crop covers crop/scale source pixels, but never more than the frame has.
        side = min(round(self.crop / scale), height, width)
        top = int(rng.integers(height - side + 1))
        left = int(rng.integers(width - side + 1))
        region = np.ascontiguousarray(image[top : top + side, left : left + side])
        if side != self.crop:
            shrinking = side > self.crop
            interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
            region = cv2.resize(region, (self.crop, self.crop), interpolation=interpolation)
        if rng.random() < 0.5:
            region = region[:, ::-1]
        return region


def _load_bounded(path: Path) -> np.ndarray:
    image = load_image(path)
    height, width = image.shape[:2]
    longest = max(height, width)
    if longest > MAX_FRAME_SIDE:
        factor = MAX_FRAME_SIDE / longest
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image
