"""What a model push is made of: chunks going out, acks coming in, rows for the store.

Plain data and pure functions, shared by ``push`` (which moves them) and ``convert``
(which turns them into messages and back).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from stylebridge.bridge.core.domain import now_us
from stylebridge.bridge.swaps.catalog_entries import PushMetadata
from stylebridge.errors import InvalidInputError
from stylebridge.protocol import ModelRef, SwapOutcome, SwapResult
from stylebridge.store import SwapRecord

# Results the store records (nothing happened for UNCHANGED and NOT_CONNECTED).
RECORDED = frozenset(
    {SwapResult.ACTIVE, SwapResult.ROLLED_BACK, SwapResult.REFUSED, SwapResult.TIMED_OUT}
)


@dataclass(frozen=True, slots=True)
class OutgoingChunk:
    """One ModelChunk as the server sends it."""

    push_id: str
    model: ModelRef
    total_bytes: int
    offset: int
    data: bytes | memoryview
    last: bool
    metadata: PushMetadata | None = None


@dataclass(frozen=True, slots=True)
class ReceivedAck:
    """A client's ModelAck, validated."""

    session_id: str
    push_id: str
    model: ModelRef
    active: bool
    import_ms: float = 0.0
    warmup_ms: float = 0.0
    first_inference_ms: float = 0.0
    first_sequence: int = 0
    error: str = ""


# A test hook: changes a chunk on its way out (e.g. flips a byte to test the client's
# sha256 check). Never set in production.
ChunkTransform = Callable[[OutgoingChunk], OutgoingChunk]


def check_ack_model(ack: ReceivedAck, expected: ModelRef) -> None:
    if ack.model.sha256 and ack.model.sha256 != expected.sha256:
        raise InvalidInputError(
            f"ModelAck for push {ack.push_id} names sha256 {ack.model.sha256[:12]}…, but that "
            f"push sent {expected.model_id} with sha256 {expected.sha256[:12]}…"
        )


def with_ack(outcome: SwapOutcome, ack: ReceivedAck) -> SwapOutcome:
    return replace(
        outcome,
        result=SwapResult.ACTIVE if ack.active else SwapResult.ROLLED_BACK,
        reason="" if ack.active else ack.error,
        import_ms=ack.import_ms,
        warmup_ms=ack.warmup_ms,
        first_inference_ms=ack.first_inference_ms,
        first_sequence=ack.first_sequence if ack.active else 0,
        completed_at_us=now_us(),
    )


def swap_record(outcome: SwapOutcome) -> SwapRecord:
    acked = outcome.result in (SwapResult.ACTIVE, SwapResult.ROLLED_BACK)
    return SwapRecord(
        push_id=outcome.push_id or uuid.uuid4().hex,
        session_id=outcome.session_id,
        requested_at_us=outcome.requested_at_us,
        completed_at_us=outcome.completed_at_us or None,
        trigger=outcome.trigger,
        from_model_id=outcome.from_model.model_id,
        from_version=outcome.from_model.version,
        from_sha256=outcome.from_model.sha256,
        to_model_id=outcome.to_model.model_id,
        to_version=outcome.to_model.version,
        to_sha256=outcome.to_model.sha256,
        result=outcome.result.label,
        error=outcome.reason,
        push_ms=outcome.push_ms if outcome.push_id and outcome.push_ms else None,
        import_ms=outcome.import_ms if acked else None,
        warmup_ms=outcome.warmup_ms if acked else None,
        first_inference_ms=outcome.first_inference_ms
        if outcome.result is SwapResult.ACTIVE
        else None,
        first_sequence=outcome.first_sequence if outcome.result is SwapResult.ACTIVE else None,
    )
