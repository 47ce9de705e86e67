"""The Bridge service: Hello, Frames, Models, AckModel.

Servicer methods stay thin: convert the request, apply the domain logic (sessions,
pipeline), convert the answer. Errors are raised as StyleBridgeError and turned into
status codes by ``interceptors.ErrorInterceptor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import Message

from stylebridge import PROTOCOL_VERSION, __version__
from stylebridge.bridge.core import convert_common
from stylebridge.bridge.core.domain import FrameOutcome, FrameRejection, InboundFrame
from stylebridge.bridge.core.sessions import Session, SessionRegistry, reap_idle
from stylebridge.bridge.frames import convert
from stylebridge.bridge.frames.frame_rows import FrameRows
from stylebridge.bridge.frames.pipeline import FramePipeline
from stylebridge.bridge.frames.runner import InferenceRunner
from stylebridge.bridge.swaps import convert as convert_swaps
from stylebridge.bridge.swaps.push import PushManager
from stylebridge.config import Limits
from stylebridge.errors import InvalidInputError, LimitExceededError, StateError
from stylebridge.protocol import (
    HelloReply,
    ModelRef,
    ServerCapabilities,
    ServerLimits,
    SessionState,
    check_protocol_version,
)
from stylebridge.store import (
    STATE_CONNECTED,
    STATE_ENDED,
    STATE_INTERRUPTED,
    STATE_STREAMING,
    SessionRecord,
    Store,
)
from stylebridge.v1 import bridge_pb2, bridge_pb2_grpc

_log = logging.getLogger(__name__)

SERVER_VERSION = f"stylebridge/{__version__}"

# Session states as the store names them.
STORE_STATES = {
    SessionState.CONNECTED: STATE_CONNECTED,
    SessionState.STREAMING: STATE_STREAMING,
    SessionState.CLOSED: STATE_ENDED,
    SessionState.INTERRUPTED: STATE_INTERRUPTED,
}


@dataclass(frozen=True)
class BridgeDeps:
    """What the Bridge service works with; built and owned by BridgeServer."""

    registry: SessionRegistry
    store: Store
    limits: Limits
    # None when the server only records frames (no Python inference).
    runner: InferenceRunner | None
    python_model: ModelRef
    python_backend: str
    # Set when the server begins to stop: streams ending now were cut off, not closed.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Model pushes (None: this server pushes no models; Models stays silent).
    pushes: PushManager | None = None
    # Frame rows on their way to ``store``, in bursts (see ``bridge.frames.frame_rows``).
    frame_rows: FrameRows | None = None

    def __post_init__(self) -> None:
        if self.frame_rows is None:
            object.__setattr__(self, "frame_rows", FrameRows(self.store))

    def server_limits(self) -> ServerLimits:
        limits = self.limits
        return ServerLimits(
            max_frame_bytes=limits.max_frame_bytes,
            max_model_bytes=limits.max_model_bytes,
            max_width=limits.max_width,
            max_height=limits.max_height,
            model_chunk_bytes=limits.model_chunk_bytes,
            frame_queue_depth=limits.frame_queue_depth,
        )

    def end_session(self, session: Session, state: SessionState) -> None:
        """End ``session`` once, in memory and in the store."""
        if session.end(state):
            assert session.ended_at_us is not None
            self.store.end_session(session.session_id, STORE_STATES[state], session.ended_at_us)

    def end_abandoned(self, session: Session) -> None:
        """A session with no stream for the registry's idle timeout: interrupted."""
        _log.info(
            "session %s: no stream open for %.0f s; ending it as interrupted",
            session.session_id,
            self.registry.idle_timeout_s,
        )
        self.end_session(session, SessionState.INTERRUPTED)


class BridgeServicer(bridge_pb2_grpc.BridgeServicer):
    """What a Unity client (or the reference client) talks to."""

    def __init__(self, deps: BridgeDeps) -> None:
        self._deps = deps
        # Ends abandoned sessions; started with the first Hello, ends when the server stops.
        self._reaper: asyncio.Task[None] | None = None

    def _ensure_reaper(self) -> None:
        deps = self._deps
        if self._reaper is None and not deps.stopping.is_set():
            self._reaper = asyncio.create_task(
                reap_idle(deps.registry, deps.end_abandoned, deps.stopping),
                name="sessions-reaper",
            )

    async def Hello(
        self, request: bridge_pb2.HelloRequest, context: grpc.aio.ServicerContext
    ) -> bridge_pb2.HelloResponse:
        deps = self._deps
        check_protocol_version(convert.protocol_version_of(request), PROTOCOL_VERSION)
        hello = convert.hello_from_proto(request)
        session = deps.registry.create(
            hello.client,
            hello.capabilities,
            peer=context.peer() or "",
            python_backend=deps.python_backend,
            python_model_id=deps.python_model.model_id,
            engine_model_id=hello.active_model.model_id,
        )
        active = hello.active_model
        if deps.pushes is not None and active.sha256 and not active.version:
            version = deps.pushes.registry.version_of(active.model_id, active.sha256)
            active = ModelRef(active.model_id, version, active.sha256)
        session.active_model = active
        self._ensure_reaper()
        client = hello.client
        deps.store.start_session(
            SessionRecord(
                session_id=session.session_id,
                started_at_us=session.started_at_us,
                ended_at_us=None,
                state=STORE_STATES[session.state],
                engine=client.engine.label,
                engine_version=client.engine_version,
                unity_version=client.unity_version,
                worker_type=client.worker_type,
                gpu=client.gpu,
                platform=client.platform,
                client_name=client.client_name,
                protocol_version=hello.protocol_version,
                peer=session.peer,
                python_backend=deps.python_backend,
                python_model_id=deps.python_model.model_id,
            )
        )
        _log.info(
            "session %s: %s %s (%s) from %s",
            session.session_id,
            client.engine.label,
            client.engine_version,
            client.client_name,
            session.peer,
        )
        reply = HelloReply(
            protocol_version=PROTOCOL_VERSION,
            session_id=session.session_id,
            limits=deps.server_limits(),
            capabilities=ServerCapabilities(
                python_inference=deps.runner is not None,
                python_backend=deps.python_backend,
                model_push=deps.pushes is not None,
                parity=deps.runner is not None,
            ),
            python_model=deps.python_model,
            server_version=SERVER_VERSION,
        )
        return convert.hello_to_proto(reply)

    async def Frames(
        self,
        request_iterator: AsyncIterator[bytes],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[bytes]:
        """Frames up, answers down; both as encoded bytes (see ``add_bridge_servicer``)."""
        deps = self._deps
        first_data = await anext(request_iterator, None)
        if first_data is None:
            return
        first = convert.decode_frame(first_data, deps.limits)
        if not first.session_id:
            raise InvalidInputError(
                "the first FrameUp of a stream must carry the session_id from HelloResponse"
            )
        session = deps.registry.get(first.session_id)
        assert deps.frame_rows is not None
        rows = deps.frame_rows
        pipeline = FramePipeline(
            session,
            deps.runner,
            rows,
            queue_depth=deps.limits.frame_queue_depth,
            max_unanswered=deps.limits.max_unanswered_frames,
        )
        backend, model_id = deps.python_backend, deps.python_model.model_id
        session.open_stream()
        end_state = SessionState.INTERRUPTED
        keep_open = False
        try:
            deps.store.set_session_state(session.session_id, STORE_STATES[SessionState.STREAMING])
            _log.info("session %s: frame stream open", session.session_id)
            async with (
                contextlib.aclosing(self._inbound(first, request_iterator)) as frames,
                contextlib.aclosing(pipeline.run(frames)) as outcomes,
            ):
                async for outcome in outcomes:
                    if isinstance(outcome, FrameOutcome):
                        yield convert.frame_down_wire(outcome, backend=backend, model_id=model_id)
                    else:
                        yield convert.rejection_wire(outcome, backend=backend)
            # A server stopping (or a cancelled call) ends the requests early, like a
            # half-close: that stream broke off, it did not close.
            if not (deps.stopping.is_set() or context.cancelled()):
                end_state = SessionState.CLOSED
        except (InvalidInputError, LimitExceededError):
            # The client's own bad message ended the stream: the session stays open for
            # another stream (the reaper ends it if none comes).
            keep_open = not deps.stopping.is_set()
            raise
        finally:
            rows.flush()  # this stream's rows before its session's state
            session.close_stream(keep_open=keep_open)
            if keep_open and session.state is SessionState.CONNECTED:
                state = STORE_STATES[SessionState.CONNECTED]
                deps.store.set_session_state(session.session_id, state)
                _log.info("session %s: frame stream ended by a bad message", session.session_id)
            else:
                deps.end_session(session, end_state)
                _log.info("session %s: frame stream %s", session.session_id, end_state.label)

    async def _inbound(
        self, first: InboundFrame | FrameRejection, rest: AsyncIterator[bytes]
    ) -> AsyncIterator[InboundFrame | FrameRejection]:
        limits = self._deps.limits
        yield first
        async for data in rest:
            yield convert.decode_frame(data, limits)

    async def Models(
        self, request: bridge_pb2.ModelsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bridge_pb2.ModelChunk]:
        """Pushes for the session, in chunks, until it ends (silent without a registry)."""
        deps = self._deps
        session = deps.registry.get(convert_common.session_id_of(request))
        session.stream_opened()
        try:
            if deps.pushes is None:
                await session.wait_ended()
                return
            pinned = convert_swaps.models_pinned(request)
            chunks = deps.pushes.models_stream(session, pinned=pinned)
            async with contextlib.aclosing(chunks) as stream:
                async for chunk in stream:
                    yield convert_swaps.model_chunk_to_proto(chunk)
        finally:
            session.stream_closed()

    async def AckModel(
        self, request: bridge_pb2.ModelAck, context: grpc.aio.ServicerContext
    ) -> bridge_pb2.ModelAckReceipt:
        deps = self._deps
        deps.registry.get(convert_common.session_id_of(request))
        ack = convert_swaps.ack_from_proto(request)
        if deps.pushes is None:
            raise StateError("this server pushes no models (it has no catalog); nothing to ack")
        deps.pushes.on_ack(ack)
        return convert.ack_receipt()


def decoding(behaviour: Callable[..., Any], message_type: type[Message]) -> Callable[..., Any]:
    """``behaviour`` taking the request as raw bytes, decoded here.

    grpc answers a request its deserializer cannot parse with UNKNOWN, before any
    interceptor runs; decoded inside the behaviour, bad bytes become InvalidInputError
    and so INVALID_ARGUMENT with a message. Keeps the behaviour's kind (coroutine or
    async generator), which grpc.aio and the interceptors dispatch on.
    """
    if inspect.isasyncgenfunction(behaviour):

        async def stream(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            message = convert_common.decode_request(request, message_type)
            async with contextlib.aclosing(behaviour(message, context)) as responses:
                async for response in responses:
                    yield response

        return stream

    async def unary(request: bytes, context: grpc.aio.ServicerContext) -> Any:
        return await behaviour(convert_common.decode_request(request, message_type), context)

    return unary


def add_bridge_servicer(servicer: BridgeServicer, server: grpc.aio.Server) -> None:
    """Register the Bridge service; requests arrive as bytes, decoded in ``convert``.

    Like the generated ``add_BridgeServicer_to_server`` except that requests are decoded
    by ``decoding`` (malformed bytes get INVALID_ARGUMENT, not UNKNOWN), and Frames
    messages skip the generated (de)serializers both ways: they would copy every
    frame's pixels several times (see ``stylebridge.wire``). On the wire it is the same
    protobuf.
    """
    handlers = {
        "Hello": grpc.unary_unary_rpc_method_handler(
            decoding(servicer.Hello, bridge_pb2.HelloRequest),
            response_serializer=bridge_pb2.HelloResponse.SerializeToString,
        ),
        "Frames": grpc.stream_stream_rpc_method_handler(servicer.Frames),
        "Models": grpc.unary_stream_rpc_method_handler(
            decoding(servicer.Models, bridge_pb2.ModelsRequest),
            response_serializer=bridge_pb2.ModelChunk.SerializeToString,
        ),
        "AckModel": grpc.unary_unary_rpc_method_handler(
            decoding(servicer.AckModel, bridge_pb2.ModelAck),
            response_serializer=bridge_pb2.ModelAckReceipt.SerializeToString,
        ),
    }
    service = bridge_pb2.DESCRIPTOR.services_by_name["Bridge"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
