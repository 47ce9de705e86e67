"""What the server's frame pipeline works on: a frame in, an outcome out.

Plain data, no protobuf: ``convert`` builds these from messages and messages from
these. Pixels stay views on the received bytes until Python's output is packed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from stylebridge.errors import StyleBridgeError
from stylebridge.frames import PixelFormat
from stylebridge.protocol import FrameStatus, TimingMethod

# Largest FrameUp.sequence: the store keeps it as a signed 64-bit integer.
MAX_SEQUENCE = 2**63 - 1


def now_us() -> int:
    """Unix time in microseconds (server clock), as the protocol and the store use."""
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class PackedImage:
    """Wire-ready pixels of one image (rows top to bottom)."""

    width: int
    height: int
    pixel_format: PixelFormat
    row_stride: int
    # Contiguous bytes (or a flat view on them): copied once, into the outgoing message.
    pixels: bytes | memoryview


@dataclass(frozen=True, slots=True)
class InboundFrame:
    """One validated FrameUp: pixels as an H x W x 3 view, timings checked."""

    # Empty when the message left it out (allowed after the first message).
    session_id: str
    sequence: int
    capture_time_us: int
    width: int
    height: int
    pixel_format: PixelFormat
    rgb: np.ndarray
    # None when the client did not time this frame.
    engine_ms: float | None
    engine_timing_method: TimingMethod | None
    model_id: str
    # The engine's own output of this frame, for the parity check.
    engine_output: np.ndarray | None
    # Server clock: Unix microseconds (for the store) and perf_counter seconds (for queue_ms).
    received_at_us: int
    received_at: float


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    """The server's answer to one frame, before it becomes a FrameDown."""

    frame: InboundFrame
    status: FrameStatus
    # Python's output, packed; None unless processed and the client asked for pixels.
    stylized: PackedImage | None = None
    python_ms: float = 0.0
    queue_ms: float = 0.0
    parity_psnr_db: float | None = None
    # Frames of this stream dropped so far, this one included when it was dropped.
    dropped_total: int = 0
    error: str = ""
    # The model Python ran (empty: the server's own), and why it is not the one the
    # frame named, when it is not.
    python_model_id: str = ""
    model_note: str = ""

    @property
    def sequence(self) -> int:
        return self.frame.sequence


@dataclass(frozen=True, slots=True)
class FrameRejection:
    """A FrameUp that decoded but broke a rule (sizes, format, timings, sequence).

    It is answered FRAME_STATUS_REJECTED with ``error``'s code and message, counted,
    and never run; the other fields are what the message said, for the store (values
    the store cannot hold are left at their zero).
    """

    sequence: int
    error: StyleBridgeError
    session_id: str = ""
    capture_time_us: int = 0
    width: int = 0
    height: int = 0
    pixel_format: str = ""
    model_id: str = ""
    received_at_us: int = 0


@dataclass(frozen=True, slots=True)
class RejectionOutcome:
    """The server's answer to a rejected frame, before it becomes a FrameDown."""

    rejection: FrameRejection
    dropped_total: int = 0

    @property
    def sequence(self) -> int:
        return self.rejection.sequence
