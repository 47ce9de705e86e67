"""The reference client: speaks the bridge protocol exactly as the Unity package does.

Hello -> one Frames stream -> frames at a target rate, each run through the local
stand-in engine (timed, reported with the frame), the engine's own output attached
every ``parity_every`` frames -> one FrameDown per frame. At most ``window`` frames
are in flight, so the client cannot flood a slow server; at the end it half-closes
the stream and waits (``drain_timeout_s``) for the remaining answers.

When the server pushes models, the Models stream stays open from Hello to ``close``
and ``ModelPushes`` (``client.pushes``) imports, warms and swaps them between two frames;
every FrameUp names the model that produced it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator

import grpc
import grpc.aio
import numpy as np

from stylebridge import PROTOCOL_VERSION
from stylebridge.client import convert
from stylebridge.client.channel import open_channel
from stylebridge.client.engine import ReferenceEngine
from stylebridge.client.pushes import FrameSlot, ModelPushes, PushOptions
from stylebridge.client.results import ClientRunResult, FrameResult
from stylebridge.client.swap import SwapAck
from stylebridge.config import ClientConfig
from stylebridge.errors import StateError, StyleBridgeError
from stylebridge.frames import FrameSource, PixelFormat, builtin_frames
from stylebridge.protocol import (
    ClientCapabilities,
    HelloReply,
    HelloRequestInfo,
    check_protocol_version,
)
from stylebridge.v1 import bridge_pb2, bridge_pb2_grpc

_MESSAGE_MARGIN_BYTES = 1024 * 1024
_MIN_MESSAGE_BYTES = 16 * 1024 * 1024


def channel_options(size: tuple[int, int]) -> list[tuple[str, int]]:
    """Message limits for frames of ``size``: an RGBA frame plus its engine output."""
    width, height = size
    limit = max(2 * width * height * 4, _MIN_MESSAGE_BYTES) + _MESSAGE_MARGIN_BYTES
    return [
        ("grpc.max_send_message_length", limit),
        ("grpc.max_receive_message_length", limit),
    ]


def auth_metadata(config: ClientConfig) -> tuple[tuple[str, str], ...]:
    """The ``authorization: Bearer`` entry when a token is configured."""
    if config.token is None:
        return ()
    return (("authorization", f"Bearer {config.token.get_secret_value()}"),)


def should_send_parity(index: int, parity_every: int) -> bool:
    """Whether frame ``index`` (0-based) carries the engine's output: 0, N, 2N, ..."""
    return parity_every > 0 and index % parity_every == 0


class ReferenceClient:
    """An async bridge client; use ``async with ReferenceClient(config) as client``.

    ``frames`` (default: ``config.frames`` or the built-in frames) yields H x W x 3
    uint8 frames at ``config.size``; ``engine`` (default: ``config.engine_model`` or no
    local inference) is closed with the client only when the client made it; engines
    of pushed models are the client's. ``on_result`` is called on the event loop for
    every answered frame (live tables).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        frames: Iterable[np.ndarray] | None = None,
        engine: ReferenceEngine | None = None,
        on_result: Callable[[FrameResult], None] | None = None,
    ) -> None:
        self._config = config
        self._frames = frames
        self._engine = engine
        self._owns_engine = engine is None
        self._on_result = on_result
        self._channel: grpc.aio.Channel | None = None
        self._stub: bridge_pb2_grpc.BridgeStub | None = None
        self._hello: HelloReply | None = None
        self._pushes: ModelPushes | None = None
        self._source: Iterator[np.ndarray] | None = None
        self._metadata = auth_metadata(config)
        self._ran = False
        self._closed = False
        self._stream: _Stream | None = None

    @property
    def hello(self) -> HelloReply:
        if self._hello is None:
            raise StateError("not connected: call connect() (or use `async with`) first")
        return self._hello

    @property
    def sent(self) -> int:
        """Frames written on this session's stream so far (also after it broke off)."""
        return self._stream.sent if self._stream is not None else 0

    @property
    def engine(self) -> ReferenceEngine:
        """The engine running frames now (a pushed model's after a swap)."""
        return self.pushes.engine

    @property
    def pushes(self) -> ModelPushes:
        """The session's model pushes: state, acks, which model ran each frame."""
        if self._pushes is None:
            raise StateError("not connected: call connect() (or use `async with`) first")
        return self._pushes

    @property
    def swaps(self) -> tuple[SwapAck, ...]:
        """Every push finished so far (ACTIVE or ROLLED_BACK), oldest first."""
        return tuple(self._pushes.acks) if self._pushes is not None else ()

    @property
    def frame_models(self) -> dict[int, str]:
        """Sequence -> the model the engine ran on that frame, for every frame sent."""
        return dict(self._pushes.frame_models) if self._pushes is not None else {}

    async def __aenter__(self) -> ReferenceClient:
        try:
            await self.connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self) -> HelloReply:
        """Open the channel and say Hello; raises the server's refusal as a StyleBridgeError."""
        if self._channel is not None or self._closed:
            raise StateError("connect() is called once per ReferenceClient; make a new one")
        config = self._config
        if self._engine is None:
            self._engine = await asyncio.to_thread(self._make_engine)
        if self._frames is None:
            self._frames = (
                FrameSource(config.frames, config.size)
                if config.frames is not None
                else builtin_frames(config.size)
            )
        self._source = iter(self._frames)
        self._channel = open_channel(
            config.server,
            options=channel_options(config.size),
            token=config.token,
            tls=config.tls,
        )
        self._stub = bridge_pb2_grpc.BridgeStub(self._channel)
        engine = self._engine
        hello = HelloRequestInfo(
            protocol_version=PROTOCOL_VERSION,
            client=engine.client_info(config.engine, config.engine_version),
            capabilities=ClientCapabilities(
                pixel_formats=(PixelFormat.RGB8,),
                accepts_model_push=config.accept_pushes,
                sends_engine_output=engine.active and config.parity_every > 0,
                wants_stylized_pixels=config.want_stylized,
                max_model_bytes=config.max_model_bytes,
            ),
            active_model=engine.model,
        )
        try:
            response = await self._stub.Hello(
                convert.hello_request(hello),
                metadata=self._metadata,
                timeout=config.connect_timeout_s,
                wait_for_ready=True,
            )
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, config.server) from exc
        reply = convert.hello_reply(response)
        check_protocol_version(PROTOCOL_VERSION, reply.protocol_version)
        self._hello = reply
        self._pushes = ModelPushes(
            engine,
            PushOptions(
                size=config.size,
                max_model_bytes=config.max_model_bytes,
                warmup_runs=config.warmup_runs,
                ack_timeout_s=config.connect_timeout_s,
            ),
            session_id=reply.session_id,
            send_ack=self._send_ack,
            owns_engine=self._owns_engine,
        )
        if config.accept_pushes and reply.capabilities.model_push:
            request = bridge_pb2.ModelsRequest(session_id=reply.session_id, pinned=config.pinned)
            self._pushes.start(self._stub.Models(request, metadata=self._metadata))
        return reply

    async def _send_ack(self, ack: bridge_pb2.ModelAck) -> object:
        assert self._stub is not None
        return await self._stub.AckModel(
            ack, metadata=self._metadata, timeout=self._config.connect_timeout_s
        )

    def _make_engine(self) -> ReferenceEngine:
        config = self._config
        if config.engine_model is None:
            return ReferenceEngine.none()
        return ReferenceEngine.from_model(config.engine_model, config.engine_backend)

    async def close(self) -> None:
        """Close the channel (and the engine the client made); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._pushes is not None:
            await self._pushes.close()  # sends the acks still queued, frees its engines
        elif self._owns_engine and self._engine is not None:
            self._engine.close()
        if self._channel is not None:
            await self._channel.close()

    # --- streaming --------------------------------------------------------------

    async def run(self, frames: int) -> ClientRunResult:
        """Stream ``frames`` frames on one Frames stream; every one is answered or this raises.

        Raises the server's error (as a StyleBridgeError) when it ends the stream, and
        StateError when answers are missing after ``drain_timeout_s``.
        """
        hello = self.hello
        if self._ran:
            raise StateError(
                "this session already streamed (one Frames stream per session); "
                "connect a new ReferenceClient for another run"
            )
        self._ran = True
        assert self._stub is not None and self._source is not None
        assert self._channel is not None
        call = self._channel.stream_stream(convert.FRAMES_METHOD)(metadata=self._metadata)
        stream = _Stream(
            call,
            self._config,
            session_id=hello.session_id,
            pushes=self.pushes,
            source=self._source,
            count=frames,
            on_result=self._on_result,
        )
        self._stream = stream
        start = time.perf_counter()
        try:
            await stream.run()
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._config.server) from exc
        except asyncio.InvalidStateError as exc:
            # A write after the call ended (the server went away): its status says why.
            raise await _ended_call_error(call, self._config.server) from exc
        finally:
            if not call.done():
                call.cancel()
        return ClientRunResult(
            hello=hello,
            frames=tuple(stream.results),
            sent=stream.sent,
            elapsed_s=time.perf_counter() - start,
            engine_backend=self.engine.backend_name,
            swaps=self.swaps,
        )


class _Stream:
    """One Frames stream of a run: a sender task and a receiver task."""

    def __init__(
        self,
        call: grpc.aio.StreamStreamCall,
        config: ClientConfig,
        *,
        session_id: str,
        pushes: ModelPushes,
        source: Iterator[np.ndarray],
        count: int,
        on_result: Callable[[FrameResult], None] | None,
    ) -> None:
        self._call = call
        self._config = config
        self._session_id = session_id
        self._pushes = pushes
        self._source = source
        self._count = count
        self._on_result = on_result
        self._window = asyncio.Semaphore(config.window)
        # sequence -> (perf_counter when written, engine ms, model the engine ran)
        self._pending: dict[int, tuple[float, float | None, str]] = {}
        self.results: list[FrameResult] = []
        self.sent = 0
        self._half_closed = False

    async def run(self) -> None:
        sender = asyncio.create_task(self._send(), name="client-send")
        receiver = asyncio.create_task(self._receive(), name="client-receive")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                receiver.result()  # the server's error, if it ended the stream with one
                # The server ends the stream once it reads the half-close, so its end can
                # reach the receiver before ``done_writing()`` returns to the sender.
                if not sender.done() and not self._half_closed:
                    raise StateError(
                        f"the server closed the stream after {len(self.results)} answers while "
                        f"frames were still being sent"
                    )
            await sender
            try:
                await asyncio.wait_for(asyncio.shield(receiver), self._config.drain_timeout_s)
            except TimeoutError:
                raise StateError(
                    f"{len(self._pending)} of {self.sent} frames got no answer within "
                    f"{self._config.drain_timeout_s:.0f} s after the stream ended"
                ) from None
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.wait({sender, receiver})

    async def _send(self) -> None:
        config = self._config
        interval = 1.0 / config.fps if config.fps > 0 else 0.0
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(self._count):
            await self._window.acquire()
            if interval:
                delay = start + index * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            # The slot holds the swap lock: the engine cannot change under this frame.
            async with self._pushes.frame(index + 1) as slot:
                captured = await asyncio.to_thread(self._capture, index, slot)
                slot.ran = captured is not None
            if captured is None:
                break  # the frame source ran out
            sequence, message, engine_ms = captured
            self._pending[sequence] = (time.perf_counter(), engine_ms, slot.model_id)
            await self._call.write(message)
            self.sent += 1
        self._half_closed = True
        await self._call.done_writing()

    def _capture(self, index: int, slot: FrameSlot) -> tuple[int, bytes, float | None] | None:
        """Next frame, the slot engine's run on it, and its encoded FrameUp (worker thread).

        Encoding here keeps the copy of the pixels off the event loop.
        """
        rgb = next(self._source, None)
        if rgb is None:
            return None
        capture_time_us = time.time_ns() // 1000
        engine = slot.engine
        run = engine.run(rgb)
        slot.ms = run.ms if run is not None else 0.0
        engine_output = None
        if run is not None and should_send_parity(index, self._config.parity_every):
            engine_output = _wire_image(run.output)
        sequence = index + 1
        message = convert.frame_up_wire(
            session_id=self._session_id if index == 0 else "",
            sequence=sequence,
            capture_time_us=capture_time_us,
            image=_wire_image(rgb),
            engine_ms=run.ms if run is not None else None,
            timing_method=engine.timing_method,
            model_id=slot.model_id,
            engine_output=engine_output,
        )
        return sequence, message, (run.ms if run is not None else None)

    async def _receive(self) -> None:
        while True:
            message = await self._call.read()
            if message is grpc.aio.EOF:
                return
            answer = convert.frame_answer_from_wire(message)
            pending = self._pending.pop(answer.sequence, None)
            if pending is None:
                raise StateError(
                    f"the server answered frame {answer.sequence}, which is not awaiting an "
                    "answer (never sent, or answered twice)"
                )
            written_at, engine_ms, model_id = pending
            result = FrameResult(
                sequence=answer.sequence,
                status=answer.status,
                engine_ms=engine_ms,
                python_ms=answer.python_ms,
                queue_ms=answer.queue_ms,
                round_trip_ms=(time.perf_counter() - written_at) * 1000.0,
                parity_psnr_db=answer.parity_psnr_db,
                dropped_total=answer.dropped_total,
                error=answer.error,
                model_id=model_id,
                python_model_id=answer.model_id,
            )
            self.results.append(result)
            self._window.release()
            if self._on_result is not None:
                self._on_result(result)


async def _ended_call_error(call: grpc.aio.StreamStreamCall, server: str) -> StyleBridgeError:
    code = await call.code()
    details = await call.details()
    error = grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)
    return convert.error_from_rpc(error, server)


def _wire_image(rgb: np.ndarray) -> convert.WireImage:
    """RGB8 wire pixels as a flat view (the FrameUp encoder makes the one copy)."""
    contiguous = np.ascontiguousarray(rgb)
    height, width = contiguous.shape[:2]
    return convert.WireImage(
        width, height, PixelFormat.RGB8, width * 3, memoryview(contiguous).cast("B")
    )
