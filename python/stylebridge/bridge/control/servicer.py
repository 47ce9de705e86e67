"""The Control service: what the CLI and tools ask about sessions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import grpc
import grpc.aio

from stylebridge.bridge.control import convert as convert_control
from stylebridge.bridge.control.recording import record_session
from stylebridge.bridge.core import convert_common
from stylebridge.bridge.core.sessions import SessionRegistry
from stylebridge.bridge.frames import convert
from stylebridge.bridge.frames.servicer import decoding
from stylebridge.bridge.swaps import convert as convert_swaps
from stylebridge.bridge.swaps.push import PushManager
from stylebridge.bridge.swaps.validation import list_models
from stylebridge.errors import StateError
from stylebridge.store import StoreHealth
from stylebridge.v1 import control_pb2, control_pb2_grpc

# WatchSessionStats interval bounds, milliseconds (control.proto).
MIN_WATCH_INTERVAL_MS = 100
MAX_WATCH_INTERVAL_MS = 10_000


def clamp_interval_ms(interval_ms: int) -> int:
    """The watch period actually used: ``interval_ms`` clamped to 100..10000."""
    return max(MIN_WATCH_INTERVAL_MS, min(MAX_WATCH_INTERVAL_MS, interval_ms))


class ControlServicer(control_pb2_grpc.ControlServicer):
    """Sessions and their statistics, read from the server's registry."""

    def __init__(
        self,
        registry: SessionRegistry,
        pushes: PushManager | None = None,
        store_health: Callable[[], StoreHealth] | None = None,
    ) -> None:
        self._registry = registry
        self._pushes = pushes
        self._store_health = store_health

    def _need_pushes(self) -> PushManager:
        if self._pushes is None:
            raise StateError(
                "this server has no model registry; start it with `stylebridge serve --catalog DIR`"
            )
        return self._pushes

    async def Swap(
        self, request: control_pb2.SwapRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.SwapResponse:
        """Push a model to sessions and answer once every one acked, refused or timed out."""
        pushes = self._need_pushes()
        request_fields = convert_swaps.swap_request_from_proto(request)
        model_id, session_ids, all_sessions, timeout_s = request_fields
        model, outcomes = await pushes.swap(
            model_id, session_ids, all_sessions=all_sessions, timeout_s=timeout_s
        )
        return convert_swaps.swap_response_to_proto(model.ref, outcomes)

    async def ListModels(
        self, request: control_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListModelsResponse:
        pushes = self._need_pushes()
        listing = await asyncio.to_thread(list_models, pushes.registry, pushes.validator)
        return convert_swaps.models_to_proto(listing)

    async def ListSessions(
        self, request: control_pb2.ListSessionsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListSessionsResponse:
        health = self._store_health() if self._store_health is not None else None
        return convert_control.sessions_to_proto([s.summary() for s in self._registry], health)

    async def GetSessionStats(
        self, request: control_pb2.GetSessionStatsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.SessionStats:
        session = self._registry.get(convert_common.session_id_of(request))
        return convert_control.stats_to_proto(session.stats())

    async def WatchSessionStats(
        self, request: control_pb2.WatchSessionStatsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[control_pb2.SessionStats]:
        """Statistics now, then every interval until the caller cancels."""
        session = self._registry.get(convert_common.session_id_of(request))
        interval_s = clamp_interval_ms(convert.watch_interval_ms(request)) / 1000.0
        while True:
            yield convert_control.stats_to_proto(session.stats())
            await asyncio.sleep(interval_s)

    async def RecordFrames(
        self, request: control_pb2.RecordRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[control_pb2.RecordedFrame]:
        """Kept frames of a session as they arrive (see ``bridge.control.recording``)."""
        session_id, policy = convert_control.record_request_from_proto(request)
        session = self._registry.get(session_id)
        async with contextlib.aclosing(record_session(session, policy)) as frames:
            async for kept in frames:
                yield convert_control.recorded_frame_to_proto(kept.frame, kept.mean_change)


def add_control_servicer(servicer: ControlServicer, server: grpc.aio.Server) -> None:
    """Register the Control service with requests decoded by the servicer, so that
    malformed bytes get INVALID_ARGUMENT instead of grpc's UNKNOWN (see
    ``servicer.decoding``). Use it instead of the generated
    ``add_ControlServicer_to_server``.
    """
    service = control_pb2.DESCRIPTOR.services_by_name["Control"]
    handlers = {}
    for method in service.methods:
        request_type = getattr(control_pb2, method.input_type.name)
        response_type = getattr(control_pb2, method.output_type.name)
        behaviour = decoding(getattr(servicer, method.name), request_type)
        factory = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = factory(
            behaviour, response_serializer=response_type.SerializeToString
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service.full_name, handlers),)
    )
