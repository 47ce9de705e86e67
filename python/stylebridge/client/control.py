"""A client of the Control service: sessions and their statistics, for the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import grpc.aio

from stylebridge.client import convert
from stylebridge.config import ClientConfig
from stylebridge.protocol import SessionStats, SessionSummary
from stylebridge.v1 import control_pb2_grpc


class ControlClient:
    """Reads a bridge server's sessions; use ``async with ControlClient(server)``."""

    def __init__(self, server: str, *, token: str | None = None, timeout_s: float = 10.0) -> None:
        self._server = server
        self._metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        self._timeout_s = timeout_s
        self._channel = grpc.aio.insecure_channel(server)
        self._stub = control_pb2_grpc.ControlStub(self._channel)
        self._closed = False

    @classmethod
    def from_config(cls, config: ClientConfig) -> ControlClient:
        token = config.token.get_secret_value() if config.token is not None else None
        return cls(config.server, token=token, timeout_s=config.connect_timeout_s)

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._channel.close()

    async def list_sessions(self) -> list[SessionSummary]:
        """Sessions the server knows (open and recently ended)."""
        try:
            response = await self._stub.ListSessions(
                convert.list_sessions_request(),
                metadata=self._metadata,
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc
        return convert.session_summaries(response)

    async def session_stats(self, session_id: str) -> SessionStats:
        """One session's counters and timings; NotFoundError for an unknown id."""
        try:
            response = await self._stub.GetSessionStats(
                convert.stats_request(session_id),
                metadata=self._metadata,
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc
        return convert.session_stats(response)

    async def watch(self, session_id: str, interval_ms: int = 1000) -> AsyncIterator[SessionStats]:
        """Statistics every ``interval_ms`` (the server clamps it to 100..10000) until closed."""
        call = self._stub.WatchSessionStats(
            convert.watch_request(session_id, interval_ms), metadata=self._metadata
        )
        try:
            async for message in call:
                yield convert.session_stats(message)
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc
        finally:
            call.cancel()
