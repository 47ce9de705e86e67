"""Which frames of a live stream to keep as training data: every Nth, no near-duplicates.

A game paused on a menu sends the same picture for minutes; a student trained on
those learns little. ``FrameSelector`` looks at every ``every_n``-th frame offered and
keeps it unless it is too close to the last kept one, measured as the mean absolute
difference of small gray thumbnails (cheap: a sampled 64x64 thumbnail per considered
frame, and only frames that pass the every-N test are looked at). Pure logic, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from stylebridge.errors import InvalidInputError
from stylebridge.frames import check_rgb

# Largest every_n: one frame in a million (about 9 hours at 30 fps).
MAX_EVERY_N = 1_000_000
# Side of the square gray thumbnail compared between frames.
THUMBNAIL_SIDE = 64
# mean_change reported for the first kept frame (nothing to compare with).
NO_PREVIOUS = -1.0
# ITU-R BT.601 luma weights, R, G, B.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class SelectionPolicy:
    """What to keep: every ``every_n``-th frame whose change is at least ``min_change``.

    ``min_change`` is a mean absolute difference on the 0..255 scale; frames identical
    on the thumbnail are skipped even when it is 0. ``max_frames`` 0 means no limit.
    """

    every_n: int = 1
    min_change: float = 0.0
    max_frames: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.every_n <= MAX_EVERY_N:
            raise InvalidInputError(
                f"every_n is {self.every_n}; it must be between 1 and {MAX_EVERY_N} "
                "(1 considers every frame)"
            )
        if not (0.0 <= self.min_change <= 255.0):
            raise InvalidInputError(
                f"min_change is {self.min_change}; it must be between 0 and 255 "
                "(a mean absolute difference of 8-bit gray values)"
            )
        if self.max_frames < 0:
            raise InvalidInputError(
                f"max_frames is {self.max_frames}; it must be >= 0 (0 = no limit)"
            )


@dataclass(frozen=True)
class Selection:
    """The selector's answer for one offered frame."""

    kept: bool
    # Difference to the last kept frame; NO_PREVIOUS for the first kept frame, and for
    # frames not looked at (skipped by the every-N rule or after max_frames).
    mean_change: float = NO_PREVIOUS


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A THUMBNAIL_SIDE x THUMBNAIL_SIDE float32 gray image of ``rgb`` (0..255).

    Large frames are first sampled on a grid of about twice the thumbnail's size
    (a strided view, so a 720p RGBA frame costs a small copy, not a full one), then
    area-averaged: cheap enough per frame, and equal frames give equal thumbnails.
    """
    check_rgb(rgb)
    height, width = rgb.shape[:2]
    step_y = max(1, height // (2 * THUMBNAIL_SIDE))
    step_x = max(1, width // (2 * THUMBNAIL_SIDE))
    small = cv2.resize(
        np.ascontiguousarray(rgb[::step_y, ::step_x]),
        (THUMBNAIL_SIDE, THUMBNAIL_SIDE),
        interpolation=cv2.INTER_AREA,
    ).astype(np.float32)
    return small @ _LUMA


def mean_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails, 0..255."""
    return float(np.mean(np.abs(a - b)))


class FrameSelector:
    """Decides, frame by frame, what a recording keeps (see the module docstring)."""

    def __init__(self, policy: SelectionPolicy) -> None:
        self._policy = policy
        self._offered = 0
        self._kept = 0
        self._last: np.ndarray | None = None

    @property
    def kept(self) -> int:
        return self._kept

    @property
    def offered(self) -> int:
        return self._offered

    @property
    def done(self) -> bool:
        """True once ``max_frames`` frames were kept."""
        limit = self._policy.max_frames
        return limit > 0 and self._kept >= limit

    def offer(self, rgb: np.ndarray) -> Selection:
        """Whether to keep this frame: ``due()`` then ``judge(rgb)`` in one call."""
        if not self.due():
            return Selection(kept=False)
        return self.judge(rgb)

    def due(self) -> bool:
        """Count one offered frame; True when the every-N rule considers it (O(1)).

        The 1st, (N+1)th, (2N+1)th... offered frames are due, none after ``max_frames``
        were kept. Split from ``judge`` so that a live stream only counts on its hot path.
        """
        index = self._offered
        self._offered += 1
        return not self.done and index % self._policy.every_n == 0

    def judge(self, rgb: np.ndarray) -> Selection:
        """Keep a due frame unless it is a near-duplicate of the last kept one."""
        if self.done:
            return Selection(kept=False)
        thumb = thumbnail(rgb)
        if self._last is None:
            change = NO_PREVIOUS
        else:
            change = mean_change(thumb, self._last)
            if change == 0.0 or change < self._policy.min_change:
                return Selection(kept=False, mean_change=change)
        self._last = thumb
        self._kept += 1
        return Selection(kept=True, mean_change=change)
