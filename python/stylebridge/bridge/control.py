"""The Control service: what the CLI and tools ask about sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc.aio

from stylebridge.bridge import convert
from stylebridge.bridge.sessions import SessionRegistry
from stylebridge.v1 import control_pb2, control_pb2_grpc

# WatchSessionStats interval bounds, milliseconds (control.proto).
MIN_WATCH_INTERVAL_MS = 100
MAX_WATCH_INTERVAL_MS = 10_000


def clamp_interval_ms(interval_ms: int) -> int:
    """The watch period actually used: ``interval_ms`` clamped to 100..10000."""
    return max(MIN_WATCH_INTERVAL_MS, min(MAX_WATCH_INTERVAL_MS, interval_ms))


class ControlServicer(control_pb2_grpc.ControlServicer):
    """Sessions and their statistics, read from the server's registry."""

    def __init__(self, registry: SessionRegistry) -> None:
        self._registry = registry

    async def ListSessions(
        self, request: control_pb2.ListSessionsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListSessionsResponse:
        return convert.sessions_to_proto([s.summary() for s in self._registry])

    async def GetSessionStats(
        self, request: control_pb2.GetSessionStatsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.SessionStats:
        session = self._registry.get(convert.session_id_of(request))
        return convert.stats_to_proto(session.stats())

    async def WatchSessionStats(
        self, request: control_pb2.WatchSessionStatsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[control_pb2.SessionStats]:
        """Statistics now, then every interval until the caller cancels."""
        session = self._registry.get(convert.session_id_of(request))
        interval_s = clamp_interval_ms(convert.watch_interval_ms(request)) / 1000.0
        while True:
            yield convert.stats_to_proto(session.stats())
            await asyncio.sleep(interval_s)
