"""Hosts the swap state machine for one client session: the live hot-swap, client side.

``ModelPushes`` reads the session's Models stream, feeds each chunk to a ``SwapMachine``,
imports and warms a verified model in its own worker thread (the old engine keeps
serving frames meanwhile), and lets the frame loop swap engines between two frames:
``frame()`` hands out the engine for the next frame and reports the frame boundary to
the machine, which says when the new model takes over. Every ack the machine emits is
sent as a ModelAck, in order, and kept in ``acks``; every frame's model is in
``frame_models``. The machine, the staged engine and the current engine are touched
only on the event loop under one lock, so the model named in a FrameUp is the model
that produced it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import grpc.aio

from stylebridge.client.engine import ReferenceEngine
from stylebridge.client.model_loader import Failed, Loaded, PushHints, import_model, warm_up
from stylebridge.client.swap import (
    AckStatus,
    Chunk,
    LoadRequest,
    PushedModel,
    SwapAck,
    SwapMachine,
    SwapState,
)
from stylebridge.v1 import bridge_pb2, common_pb2

logger = logging.getLogger(__name__)

AckSender = Callable[[bridge_pb2.ModelAck], Awaitable[object]]

_ACK_STATUS = {
    AckStatus.ACTIVE: bridge_pb2.ACK_STATUS_ACTIVE,
    AckStatus.ROLLED_BACK: bridge_pb2.ACK_STATUS_ROLLED_BACK,
}


def chunk_from_proto(message: bridge_pb2.ModelChunk) -> tuple[Chunk, PushHints | None]:
    """A ModelChunk as the machine takes it, and its metadata hints (first chunk only)."""
    ref = message.model
    chunk = Chunk(
        push_id=message.push_id,
        model=PushedModel(ref.model_id, int(ref.version), ref.sha256.lower()),
        total_bytes=int(message.total_bytes),
        offset=int(message.offset),
        data=bytes(message.data),
        last=bool(message.last),
    )
    hints = None
    if message.HasField("metadata"):
        meta = message.metadata
        hints = PushHints(input_range=float(meta.input_range), input_layout=meta.input_layout)
    return chunk, hints


def ack_to_proto(ack: SwapAck, session_id: str) -> bridge_pb2.ModelAck:
    return bridge_pb2.ModelAck(
        session_id=session_id,
        push_id=ack.push_id,
        model=common_pb2.ModelRef(
            model_id=ack.model.model_id, version=ack.model.version, sha256=ack.model.sha256
        ),
        status=_ACK_STATUS[ack.status],
        import_ms=ack.import_ms,
        warmup_ms=ack.warmup_ms,
        first_inference_ms=ack.first_inference_ms,
        first_sequence=ack.first_sequence,
        error=ack.error,
    )


@dataclass(slots=True)
class FrameSlot:
    """One frame's turn: the engine to run and the model it is; the caller sets ``ms``."""

    engine: ReferenceEngine
    model_id: str
    ms: float = 0.0
    # False when no frame was produced after all (the source ran out).
    ran: bool = True


@dataclass(frozen=True, slots=True)
class PushOptions:
    """How the client takes pushes: its size limit and the warm-up it does."""

    size: tuple[int, int]
    max_model_bytes: int = 0
    warmup_runs: int = 1
    ack_timeout_s: float = 10.0


class ModelPushes:
    """Model pushes of one session; ``close`` (idempotent) frees every engine it owns.

    ``engine`` is the engine running before any push; it is closed on a swap or at
    ``close`` only when ``owns_engine``. Pushed engines are always owned.
    """

    def __init__(
        self,
        engine: ReferenceEngine,
        options: PushOptions,
        *,
        session_id: str,
        send_ack: AckSender,
        owns_engine: bool = True,
    ) -> None:
        self._options = options
        self._session_id = session_id
        self._send_ack = send_ack
        self._current = engine
        self._owns_current = owns_engine
        self._machine = SwapMachine(
            engine.model.model_id, max_model_bytes=options.max_model_bytes
        )
        self._lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")
        self._hints: dict[str, PushHints] = {}
        self._staged: tuple[str, ReferenceEngine] | None = None
        self._loads: set[asyncio.Task[None]] = set()
        self._outbox: asyncio.Queue[SwapAck] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        self.acks: list[SwapAck] = []
        self.ack_errors: list[str] = []
        self.frame_models: dict[int, str] = {}
        self.stream_error: str = ""

    @property
    def engine(self) -> ReferenceEngine:
        """The engine running frames now."""
        return self._current

    @property
    def state(self) -> SwapState:
        return self._machine.state

    # --- the Models stream ------------------------------------------------------------

    def start(self, stream: AsyncIterator[bridge_pb2.ModelChunk]) -> None:
        """Read ``stream`` (the Models call) in the background until it ends or ``close``."""
        if self._reader is not None:
            raise RuntimeError("start() is called once per ModelPushes")
        self._sender = asyncio.create_task(self._send_acks(), name="model-acks")
        self._reader = asyncio.create_task(self._read(stream), name="model-pushes")

    async def _read(self, stream: AsyncIterator[bridge_pb2.ModelChunk]) -> None:
        try:
            async for message in stream:
                await self.feed(message)
        except asyncio.CancelledError:
            raise
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                self.stream_error = f"{exc.code().name}: {exc.details()}"
                logger.warning("the Models stream ended: %s", self.stream_error)
        # A bug here must not stop the frames; it stops the pushes, loudly.
        except Exception as exc:
            self.stream_error = f"{type(exc).__name__}: {exc}"
            logger.exception("taking model pushes failed; this session takes no more pushes")

    async def feed(self, message: bridge_pb2.ModelChunk) -> None:
        """One chunk from the server; starts the import when the push is complete."""
        chunk, hints = chunk_from_proto(message)
        async with self._lock:
            request = self._machine.on_chunk(chunk)
            if hints is not None and self._machine.pending_push_id == chunk.push_id:
                self._hints.setdefault(chunk.push_id, hints)
            self._settle()
        if request is not None:
            task = asyncio.create_task(self._load(request), name=f"load-{request.push_id}")
            self._loads.add(task)
            task.add_done_callback(self._loads.discard)

    async def _load(self, request: LoadRequest) -> None:
        loop = asyncio.get_running_loop()
        options = self._options
        hints = self._hints.get(request.push_id, PushHints())
        loaded = await loop.run_in_executor(
            self._executor,
            lambda: import_model(
                request.data, request.model, hints, max_bytes=options.max_model_bytes
            ),
        )
        async with self._lock:
            if isinstance(loaded, Failed):
                self._machine.on_load_fail(loaded.error, push_id=request.push_id)
            else:
                self._machine.on_load_ok(loaded.import_ms, push_id=request.push_id)
            wanted = self._pending_is(request.push_id, SwapState.WARMING)
            self._settle()
        if not isinstance(loaded, Loaded):
            return
        if not wanted:  # superseded while importing
            await self._close_engine(loaded.engine)
            return
        warmed = await loop.run_in_executor(
            self._executor, warm_up, loaded.engine, options.size, options.warmup_runs
        )
        async with self._lock:
            if isinstance(warmed, Failed):
                self._machine.on_warm_fail(warmed.error, push_id=request.push_id)
            else:
                self._machine.on_warm_ok(warmed.warmup_ms, push_id=request.push_id)
            staged = self._pending_is(request.push_id, SwapState.READY)
            if staged:
                self._staged = (request.push_id, loaded.engine)
            self._settle()
        if not staged:
            await self._close_engine(loaded.engine)

    def _pending_is(self, push_id: str, state: SwapState) -> bool:
        return self._machine.state is state and self._machine.pending_push_id == push_id

    # --- frames -------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def frame(self, sequence: int) -> AsyncIterator[FrameSlot]:
        """The engine for frame ``sequence``; set ``slot.ms`` (or ``slot.ran = False``).

        Holds the lock for the frame, so no push event changes the model in between.
        """
        async with self._lock:
            model_id = self._machine.next_frame_model()
            engine = self._current
            if self._machine.state is SwapState.READY:
                assert self._staged is not None, "Ready without a staged engine"
                engine = self._staged[1]
            slot = FrameSlot(engine, model_id)
            yield slot
            if not slot.ran:
                return
            ran = self._machine.on_frame(sequence, slot.ms)
            assert ran == model_id, f"frame {sequence}: machine says {ran}, {model_id} ran"
            self.frame_models[sequence] = ran
            old = None
            if engine is not self._current:
                old = self._current if self._owns_current else None
                self._current, self._owns_current, self._staged = engine, True, None
            self._settle()
        if old is not None:
            await self._close_engine(old)

    # --- acks -----------------------------------------------------------------------

    def _settle(self) -> None:
        """After each machine event: queue its acks, drop a staged engine it abandoned."""
        staged = self._staged
        if staged is not None and not self._pending_is(staged[0], SwapState.READY):
            self._staged = None
            self._executor.submit(staged[1].close)
        for ack in self._machine.drain_acks():
            self._hints.pop(ack.push_id, None)
            self.acks.append(ack)
            self._outbox.put_nowait(ack)
            logger.info(
                "push %s of %s: %s%s", ack.push_id, ack.model.model_id, ack.status.value,
                f" ({ack.error})" if ack.error else "",
            )

    async def _send_acks(self) -> None:
        while True:
            ack = await self._outbox.get()
            try:
                await self._send_ack(ack_to_proto(ack, self._session_id))
            except grpc.aio.AioRpcError as exc:
                message = (
                    f"AckModel for push {ack.push_id} failed: {exc.code().name}: {exc.details()}"
                )
                logger.warning("%s", message)
                self.ack_errors.append(message)
            finally:
                self._outbox.task_done()

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every ack emitted so far has been sent (or failed)."""
        await asyncio.wait_for(self._outbox.join(), timeout_s or self._options.ack_timeout_s)

    async def settled(self, timeout_s: float) -> None:
        """Wait until no push is in progress (tests, demos); TimeoutError otherwise."""
        busy = (SwapState.RECEIVING, SwapState.VERIFYING, SwapState.LOADING, SwapState.WARMING)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._machine.state in busy or self._loads:
            if loop.time() > deadline:
                raise TimeoutError(
                    f"a model push is still {self._machine.state} after {timeout_s} s"
                )
            await asyncio.sleep(0.01)

    # --- lifetime -----------------------------------------------------------------

    async def _close_engine(self, engine: ReferenceEngine) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, engine.close)

    async def close(self) -> None:
        """Stop reading, send the acks still queued, free every owned engine."""
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
        for task in list(self._loads):
            task.cancel()
        await asyncio.gather(
            *(t for t in (self._reader, *self._loads) if t is not None), return_exceptions=True
        )
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await self.flush()
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._staged is not None:
            self._staged[1].close()
            self._staged = None
        if self._owns_current:
            self._current.close()
