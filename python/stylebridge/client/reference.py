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
from stylebridge.client.frame_stream import FrameStream
from stylebridge.client.pushes import ModelPushes, PushOptions
from stylebridge.client.results import ClientRunResult, FrameResult
from stylebridge.client.swap import SwapAck
from stylebridge.config import ClientConfig
from stylebridge.errors import StateError, StyleBridgeError
from stylebridge.frame_sources import FrameSource, builtin_frames
from stylebridge.frames import PixelFormat
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
        self._stream: FrameStream | None = None

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
        stream = FrameStream(
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




async def _ended_call_error(call: grpc.aio.StreamStreamCall, server: str) -> StyleBridgeError:
    code = await call.code()
    details = await call.details()
    error = grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)
    return convert.error_from_rpc(error, server)


