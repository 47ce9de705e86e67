"""The Bridge service: Hello, Frames, Models, AckModel.

Servicer methods stay thin: convert the request, apply the domain logic (sessions,
pipeline), convert the answer. Errors are raised as StyleBridgeError and turned into
status codes by ``interceptors.ErrorInterceptor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import grpc.aio

from stylebridge import PROTOCOL_VERSION, __version__
from stylebridge.bridge import convert, convert_models
from stylebridge.bridge.domain import InboundFrame
from stylebridge.bridge.pipeline import FramePipeline
from stylebridge.bridge.push import PushManager
from stylebridge.bridge.runner import InferenceRunner
from stylebridge.bridge.sessions import Session, SessionRegistry
from stylebridge.config import Limits
from stylebridge.errors import InvalidInputError, StateError
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


class BridgeServicer(bridge_pb2_grpc.BridgeServicer):
    """What a Unity client (or the reference client) talks to."""

    def __init__(self, deps: BridgeDeps) -> None:
        self._deps = deps

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
        first = convert.frame_from_wire(first_data, deps.limits)
        if not first.session_id:
            raise InvalidInputError(
                "the first FrameUp of a stream must carry the session_id from HelloResponse"
            )
        session = deps.registry.get(first.session_id)
        pipeline = FramePipeline(
            session,
            deps.runner,
            deps.store,
            queue_depth=deps.limits.frame_queue_depth,
            max_unanswered=deps.limits.max_unanswered_frames,
        )
        backend, model_id = deps.python_backend, deps.python_model.model_id
        session.open_stream()
        end_state = SessionState.INTERRUPTED
        try:
            deps.store.set_session_state(session.session_id, STORE_STATES[SessionState.STREAMING])
            _log.info("session %s: frame stream open", session.session_id)
            async with (
                contextlib.aclosing(self._inbound(first, request_iterator)) as frames,
                contextlib.aclosing(pipeline.run(frames)) as outcomes,
            ):
                async for outcome in outcomes:
                    yield convert.frame_down_wire(outcome, backend=backend, model_id=model_id)
            # A server stopping (or a cancelled call) ends the requests early, like a
            # half-close: that stream broke off, it did not close.
            if not (deps.stopping.is_set() or context.cancelled()):
                end_state = SessionState.CLOSED
        finally:
            deps.end_session(session, end_state)
            _log.info("session %s: frame stream %s", session.session_id, end_state.label)

    async def _inbound(
        self, first: InboundFrame, rest: AsyncIterator[bytes]
    ) -> AsyncIterator[InboundFrame]:
        limits = self._deps.limits
        yield first
        async for data in rest:
            yield convert.frame_from_wire(data, limits)

    async def Models(
        self, request: bridge_pb2.ModelsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bridge_pb2.ModelChunk]:
        """Pushes for the session, in chunks, until it ends (silent without a registry)."""
        deps = self._deps
        session = deps.registry.get(convert.session_id_of(request))
        if deps.pushes is None:
            await session.wait_ended()
            return
        chunks = deps.pushes.models_stream(session, pinned=convert_models.models_pinned(request))
        async with contextlib.aclosing(chunks) as stream:
            async for chunk in stream:
                yield convert_models.model_chunk_to_proto(chunk)

    async def AckModel(
        self, request: bridge_pb2.ModelAck, context: grpc.aio.ServicerContext
    ) -> bridge_pb2.ModelAckReceipt:
        deps = self._deps
        deps.registry.get(convert.session_id_of(request))
        ack = convert_models.ack_from_proto(request)
        if deps.pushes is None:
            raise StateError("this server pushes no models (it has no catalog); nothing to ack")
        deps.pushes.on_ack(ack)
        return convert.ack_receipt()


def add_bridge_servicer(servicer: BridgeServicer, server: grpc.aio.Server) -> None:
    """Register the Bridge service; Frames exchanges raw bytes, decoded in ``convert``.

    Like the generated ``add_BridgeServicer_to_server`` except for Frames, whose
    messages skip the generated (de)serializers: they would copy every frame's pixels
    several times (see ``stylebridge.wire``). On the wire it is the same protobuf.
    """
    handlers = {
        "Hello": grpc.unary_unary_rpc_method_handler(
            servicer.Hello,
            request_deserializer=bridge_pb2.HelloRequest.FromString,
            response_serializer=bridge_pb2.HelloResponse.SerializeToString,
        ),
        "Frames": grpc.stream_stream_rpc_method_handler(servicer.Frames),
        "Models": grpc.unary_stream_rpc_method_handler(
            servicer.Models,
            request_deserializer=bridge_pb2.ModelsRequest.FromString,
            response_serializer=bridge_pb2.ModelChunk.SerializeToString,
        ),
        "AckModel": grpc.unary_unary_rpc_method_handler(
            servicer.AckModel,
            request_deserializer=bridge_pb2.ModelAck.FromString,
            response_serializer=bridge_pb2.ModelAckReceipt.SerializeToString,
        ),
    }
    service = bridge_pb2.DESCRIPTOR.services_by_name["Bridge"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
