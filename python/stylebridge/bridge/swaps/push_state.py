"""The state of pushes on their way: one push, a session's queue of them, its chunks.

Kept apart from ``push`` (the manager that drives them) so that each reads alone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from stylebridge.bridge.core.domain import now_us
from stylebridge.bridge.core.sessions import Session
from stylebridge.bridge.swaps.catalog_entries import RefusedFile, RegisteredModel
from stylebridge.bridge.swaps.swap_domain import ChunkTransform, OutgoingChunk, ReceivedAck
from stylebridge.protocol import ModelRef, SwapOutcome, SwapResult

# Why a push was started, as the store and the tables name it.
TRIGGER_SWAP = "swap"


TRIGGER_WATCH = "watch"


TRIGGER_JOIN = "join"


# Push ids a session remembers after their outcome, to accept a late ack.
_RECENT_PUSHES = 64


def _future() -> asyncio.Future[object]:
    return asyncio.get_running_loop().create_future()


@dataclass
class Push:
    """One push on its way: ``sent`` resolves with push_ms, ``ack`` with the client's ack."""

    push_id: str
    model: RegisteredModel
    trigger: str
    requested_at_us: int
    started: float
    sent: asyncio.Future[float] = field(default_factory=_future)  # type: ignore[assignment]
    ack: asyncio.Future[ReceivedAck] = field(default_factory=_future)  # type: ignore[assignment]


class SessionPushes:
    """Push state of one session."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Push] = asyncio.Queue()
        self.lock = asyncio.Lock()
        self.pending: dict[str, Push] = {}
        # push id -> outcome of pushes already decided (for late acks).
        self.recent: deque[tuple[str, SwapOutcome]] = deque(maxlen=_RECENT_PUSHES)


def chunks_of(
    push: Push, step: int, transform: ChunkTransform | None = None
) -> list[OutgoingChunk]:
    """The chunks of ``push``'s model, ``step`` bytes each (metadata on the first)."""
    model = push.model
    data = memoryview(model.data)
    size = len(data)
    chunks = []
    for offset in range(0, max(size, 1), step):
        chunk = OutgoingChunk(
            push_id=push.push_id,
            model=model.ref,
            total_bytes=size,
            offset=offset,
            data=data[offset : offset + step],
            last=offset + step >= size,
            metadata=model.metadata if offset == 0 else None,
        )
        if transform is not None:
            chunk = transform(chunk)
        chunks.append(chunk)
    return chunks


def runs_model(session: Session, model: RegisteredModel) -> bool:
    """Whether the client already runs exactly ``model``."""
    active = session.active_model
    if active.sha256:
        return active.sha256 == model.sha256
    # A client that names no sha256 (allowed) runs it when id and version both match.
    return bool(active.version) and (active.model_id, active.version) == (
        model.model_id,
        model.ref.version,
    )


def refused_outcome(session: Session, refused: RefusedFile) -> SwapOutcome:
    """What a session following the catalog is told of a file that does not load."""
    now = now_us()
    return SwapOutcome(
        session_id=session.session_id,
        result=SwapResult.REFUSED,
        to_model=ModelRef(model_id=refused.model_id, sha256=refused.sha256),
        from_model=session.active_model,
        reason=refused.error,
        requested_at_us=now,
        completed_at_us=now,
        trigger=TRIGGER_WATCH,
    )
