"""What recording a session exchanges: the options, the frames, and who streams them.

Plain data, below the Control client and the folder writer (``client.recording``):
both import it, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class RecordOptions:
    """What the server keeps: every ``every_n``-th frame changing by >= ``min_change``.

    ``min_change`` is a mean absolute gray difference (0..255) to the last kept frame,
    on a thumbnail; ``max_frames`` 0 records until the session ends.
    """

    every_n: int = 10
    min_change: float = 2.0
    max_frames: int = 0


@dataclass(frozen=True)
class RecordedFrame:
    """One frame the server kept: H x W x 3 uint8 RGB, rows top to bottom."""

    sequence: int
    capture_time_us: int
    rgb: np.ndarray
    # Mean absolute thumbnail difference to the previous kept frame; -1 for the first.
    mean_change: float


class FrameRecorder(Protocol):
    """Streams the frames the server keeps from a session (``ControlClient`` does)."""

    def record(self, session_id: str, options: RecordOptions) -> AsyncIterator[RecordedFrame]:
        """Kept frames of ``session_id`` as they come, until the session or the options end."""
        ...
