"""The client-side model swap state machine, exactly as the C# Runtime/Core one.

Pure logic, no threads and no I/O: the host feeds it events (chunks from the Models
stream, the results of importing and warming the model, frame boundaries) and does the
work it asks for (``on_chunk`` returns a ``LoadRequest`` when the bytes are verified and
must be imported now). It answers which model runs each frame, so a swap always falls
between two frames, and emits one ``SwapAck`` per push for the host to send as ModelAck.
Shared test vectors: tests/vectors/swap_state.json (written from the spec, run by the
Python and the C# tests alike).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from enum import StrEnum

from stylebridge.errors import InvalidInputError

logger = logging.getLogger(__name__)


class SwapState(StrEnum):
    """Where the latest push stands; the values are the spec's names (shared with C#)."""

    IDLE = "Idle"
    RECEIVING = "Receiving"
    VERIFYING = "Verifying"
    LOADING = "Loading"
    WARMING = "Warming"
    READY = "Ready"
    ACTIVE = "Active"
    ROLLED_BACK = "RolledBack"


class AckStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ROLLED_BACK = "ROLLED_BACK"


@dataclass(frozen=True, slots=True)
class PushedModel:
    """The model a push carries, as its chunks name it."""

    model_id: str
    version: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of a pushed file (a ModelChunk)."""

    push_id: str
    model: PushedModel
    total_bytes: int
    offset: int
    data: bytes
    last: bool


@dataclass(frozen=True, slots=True)
class LoadOk:
    """The host imported the pushed bytes (``push_id`` None: the pending push)."""

    import_ms: float
    push_id: str | None = None


@dataclass(frozen=True, slots=True)
class LoadFail:
    error: str
    push_id: str | None = None


@dataclass(frozen=True, slots=True)
class WarmOk:
    warmup_ms: float
    push_id: str | None = None


@dataclass(frozen=True, slots=True)
class WarmFail:
    error: str
    push_id: str | None = None


@dataclass(frozen=True, slots=True)
class FrameBoundary:
    """Frame ``sequence`` ran (its inference took ``inference_ms``)."""

    sequence: int
    inference_ms: float


SwapEvent = Chunk | LoadOk | LoadFail | WarmOk | WarmFail | FrameBoundary


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """The host must import ``data`` now (off the frame loop), then report load_ok/load_fail."""

    push_id: str
    model: PushedModel
    data: bytes


@dataclass(frozen=True, slots=True)
class SwapAck:
    """The outcome of one push; the host sends it as a ModelAck."""

    push_id: str
    model: PushedModel
    status: AckStatus
    import_ms: float = 0.0
    warmup_ms: float = 0.0
    first_inference_ms: float = 0.0
    # First frame the new model produced (ACTIVE only).
    first_sequence: int = 0
    # Why the push was rolled back (ROLLED_BACK only).
    error: str = ""


# Rolled-back pushes whose late chunks are ignored; older ids are forgotten.
_ABANDONED_MEMORY = 64


class _Push:
    """The push in progress: its bytes, running digest and timings."""

    def __init__(self, chunk: Chunk) -> None:
        self.push_id = chunk.push_id
        self.model = chunk.model
        self.total_bytes = chunk.total_bytes
        self.received = 0
        self.digest = hashlib.sha256()
        self.parts: list[bytes] = []
        self.import_ms = 0.0
        self.warmup_ms = 0.0

    def append(self, data: bytes) -> None:
        self.digest.update(data)
        self.parts.append(data)
        self.received += len(data)

    def payload(self) -> bytes:
        data = b"".join(self.parts)
        self.parts = [data]
        return data


class SwapMachine:
    """One per client session: follows every push from first chunk to ACTIVE or ROLLED_BACK.

    ``active_model`` is the model id running now ("" = none). ``max_model_bytes`` > 0
    refuses larger pushes. The optional ``push_id`` of the result events lets a host
    whose loader outlived a superseded push drop that stale result safely.
    """

    def __init__(self, active_model: str = "", *, max_model_bytes: int = 0) -> None:
        if max_model_bytes < 0:
            raise InvalidInputError(
                f"max_model_bytes must be >= 0 (0 = no limit), got {max_model_bytes}"
            )
        self._state = SwapState.IDLE
        self._active = active_model
        self._max = max_model_bytes
        self._push: _Push | None = None
        self._abandoned: list[str] = []
        self._acks: list[SwapAck] = []

    @property
    def state(self) -> SwapState:
        return self._state

    @property
    def active_model(self) -> str:
        return self._active

    @property
    def pending_push_id(self) -> str:
        """The push in progress ("" when none)."""
        return self._push.push_id if self._push is not None else ""

    @property
    def pending_model(self) -> PushedModel | None:
        return self._push.model if self._push is not None else None

    def next_frame_model(self) -> str:
        """The model ``on_frame`` will name if nothing else happens first (Ready: the new one)."""
        if self._state is SwapState.READY and self._push is not None:
            return self._push.model.model_id
        return self._active

    def drain_acks(self) -> list[SwapAck]:
        """Acks emitted since the last call, oldest first."""
        acks, self._acks = self._acks, []
        return acks

    def handle(self, event: SwapEvent) -> LoadRequest | str | None:
        """Feed any event: a chunk's LoadRequest, a frame's model id, else None."""
        match event:
            case Chunk():
                return self.on_chunk(event)
            case LoadOk(import_ms, push_id):
                self.on_load_ok(import_ms, push_id=push_id)
            case LoadFail(error, push_id):
                self.on_load_fail(error, push_id=push_id)
            case WarmOk(warmup_ms, push_id):
                self.on_warm_ok(warmup_ms, push_id=push_id)
            case WarmFail(error, push_id):
                self.on_warm_fail(error, push_id=push_id)
            case FrameBoundary(sequence, inference_ms):
                return self.on_frame(sequence, inference_ms)
        return None

    # --- chunks -----------------------------------------------------------------

    def on_chunk(self, chunk: Chunk) -> LoadRequest | None:
        """Feed one chunk; a LoadRequest when the push is complete and verified.

        Only a chunk at offset 0 starts (or supersedes with) a new push; chunks of
        abandoned pushes, of a complete pending push, and strays at another offset
        outside the push in progress are ignored (as the C# machine does).
        """
        if chunk.push_id in self._abandoned:
            logger.debug("ignoring a chunk of abandoned push %s", chunk.push_id)
            return None
        push = self._push  # set from Receiving to Ready
        if push is not None and chunk.push_id == push.push_id:
            if self._state is SwapState.RECEIVING:
                return self._continue(push, chunk)
            logger.debug("ignoring a chunk after the last one of push %s", chunk.push_id)
            return None
        if chunk.offset != 0:
            logger.debug("ignoring stray chunk of %s at offset %d", chunk.push_id, chunk.offset)
            return None
        if push is not None:
            self._roll_back(f"push {push.push_id} superseded by push {chunk.push_id}")
        return self._start(chunk)

    def _start(self, chunk: Chunk) -> LoadRequest | None:
        push = _Push(chunk)
        self._push = push
        self._state = SwapState.RECEIVING
        if self._max > 0 and chunk.total_bytes > self._max:
            self._roll_back(
                f"model too large: {chunk.total_bytes} bytes, this client accepts at most "
                f"{self._max} (raise max_model_bytes or push a smaller variant)"
            )
            return None
        return self._continue(push, chunk)

    def _continue(self, push: _Push, chunk: Chunk) -> LoadRequest | None:
        if chunk.offset != push.received:
            self._roll_back(
                f"chunk out of order: offset {chunk.offset}, expected {push.received}"
            )
            return None
        if push.received + len(chunk.data) > push.total_bytes:
            self._roll_back(
                f"model too large: received {push.received + len(chunk.data)} bytes, "
                f"more than the announced total_bytes {push.total_bytes}"
            )
            return None
        push.append(chunk.data)
        if not chunk.last:
            return None
        self._state = SwapState.VERIFYING
        return self._verify(push)

    def _verify(self, push: _Push) -> LoadRequest | None:
        if push.received != push.total_bytes:
            self._roll_back(
                f"size mismatch: received {push.received} bytes, total_bytes says "
                f"{push.total_bytes}"
            )
            return None
        digest = push.digest.hexdigest()
        if digest != push.model.sha256.lower():
            self._roll_back(
                f"sha256 mismatch: the received bytes hash to {digest}, the push says "
                f"{push.model.sha256} (corrupted in transit?)"
            )
            return None
        self._state = SwapState.LOADING
        return LoadRequest(push.push_id, push.model, push.payload())

    # --- results of the host's work -----------------------------------------------

    def _expects(self, state: SwapState, event: str, push_id: str | None) -> _Push | None:
        push = self._push
        if self._state is not state or push is None:
            logger.debug("ignoring %s in state %s", event, self._state)
            return None
        if push_id is not None and push_id != push.push_id:
            logger.debug("ignoring %s of push %s (pending: %s)", event, push_id, push.push_id)
            return None
        return push

    def on_load_ok(self, import_ms: float, *, push_id: str | None = None) -> None:
        push = self._expects(SwapState.LOADING, "load_ok", push_id)
        if push is not None:
            push.import_ms = import_ms
            push.parts = []  # the engine holds the model now
            self._state = SwapState.WARMING

    def on_load_fail(self, error: str, *, push_id: str | None = None) -> None:
        if self._expects(SwapState.LOADING, "load_fail", push_id) is not None:
            self._roll_back(error)

    def on_warm_ok(self, warmup_ms: float, *, push_id: str | None = None) -> None:
        push = self._expects(SwapState.WARMING, "warm_ok", push_id)
        if push is not None:
            push.warmup_ms = warmup_ms
            self._state = SwapState.READY

    def on_warm_fail(self, error: str, *, push_id: str | None = None) -> None:
        if self._expects(SwapState.WARMING, "warm_fail", push_id) is not None:
            self._roll_back(error)

    # --- frames -----------------------------------------------------------------

    def on_frame(self, sequence: int, inference_ms: float) -> str:
        """A frame boundary: the model id that runs (ran) frame ``sequence``."""
        push = self._push
        if self._state is SwapState.READY and push is not None:
            self._active = push.model.model_id
            self._state = SwapState.ACTIVE
            self._push = None
            self._acks.append(
                SwapAck(
                    push_id=push.push_id,
                    model=push.model,
                    status=AckStatus.ACTIVE,
                    import_ms=push.import_ms,
                    warmup_ms=push.warmup_ms,
                    first_inference_ms=inference_ms,
                    first_sequence=sequence,
                )
            )
        return self._active

    def _roll_back(self, error: str) -> None:
        push = self._push
        assert push is not None
        logger.info("push %s (%s) rolled back: %s", push.push_id, push.model.model_id, error)
        self._acks.append(
            SwapAck(
                push_id=push.push_id,
                model=push.model,
                status=AckStatus.ROLLED_BACK,
                import_ms=push.import_ms,
                warmup_ms=push.warmup_ms,
                error=error,
            )
        )
        self._abandoned.append(push.push_id)
        del self._abandoned[:-_ABANDONED_MEMORY]
        self._push = None
        self._state = SwapState.ROLLED_BACK
