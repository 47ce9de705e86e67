"""What a reference-client run produced: one result per frame, and totals."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from stylebridge.client.swap import SwapAck
from stylebridge.protocol import FrameStatus, HelloReply


@dataclass(frozen=True, slots=True)
class FrameResult:
    """One frame as the client saw it: sent, timed by the engine, answered by the server."""

    sequence: int
    status: FrameStatus
    # The local engine's time (None without a local engine).
    engine_ms: float | None
    # Python's inference time and the frame's wait in the server (0 unless processed).
    python_ms: float
    queue_ms: float
    # From writing the FrameUp to reading its FrameDown.
    round_trip_ms: float
    parity_psnr_db: float | None
    # Drops of the stream so far, as the server counted them.
    dropped_total: int
    error: str = ""
    # The model the local engine ran on this frame (FrameUp.model_id), and the one Python ran.
    model_id: str = ""
    python_model_id: str = ""


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


@dataclass(frozen=True)
class ClientRunResult:
    """A whole run: the server's Hello answer, every frame's result, and totals."""

    hello: HelloReply
    frames: tuple[FrameResult, ...]
    sent: int
    elapsed_s: float
    engine_backend: str
    # Every model push the client finished so far (ACTIVE or ROLLED_BACK), oldest first.
    swaps: tuple[SwapAck, ...] = ()

    @property
    def session_id(self) -> str:
        return self.hello.session_id

    def count(self, status: FrameStatus) -> int:
        return sum(1 for f in self.frames if f.status is status)

    @property
    def answered(self) -> int:
        return len(self.frames)

    @property
    def processed(self) -> int:
        return self.count(FrameStatus.PROCESSED)

    @property
    def dropped(self) -> int:
        return self.count(FrameStatus.DROPPED)

    @property
    def recorded(self) -> int:
        return self.count(FrameStatus.RECORDED)

    @property
    def failed(self) -> int:
        return self.count(FrameStatus.FAILED)

    @property
    def rejected(self) -> int:
        """Frames the server refused for breaking a protocol rule (the client's fault,
        not the engine's; each result's ``error`` says which rule)."""
        return self.count(FrameStatus.REJECTED)

    @property
    def dropped_total(self) -> int:
        """Drops as the server reported them (the highest ``dropped_total`` seen)."""
        return max((f.dropped_total for f in self.frames), default=0)

    @property
    def fps(self) -> float:
        """Frames answered per second over the run."""
        return self.answered / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def engine_ms_mean(self) -> float | None:
        return _mean([f.engine_ms for f in self.frames if f.engine_ms is not None])

    @property
    def python_ms_mean(self) -> float | None:
        return _mean([f.python_ms for f in self.frames if f.status is FrameStatus.PROCESSED])

    @property
    def round_trip_ms_mean(self) -> float | None:
        return _mean([f.round_trip_ms for f in self.frames])

    @property
    def frame_models(self) -> dict[int, str]:
        """Sequence -> the model the engine ran on that frame (answered frames only)."""
        return {f.sequence: f.model_id for f in self.frames}

    @property
    def parity(self) -> list[float]:
        """Every parity PSNR the server reported, in dB."""
        return [f.parity_psnr_db for f in self.frames if f.parity_psnr_db is not None]
