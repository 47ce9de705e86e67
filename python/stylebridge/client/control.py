"""A client of the Control service: sessions and their statistics, for the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
import grpc.aio
from pydantic import SecretStr

from stylebridge.client import convert, convert_control
from stylebridge.client.channel import ChannelOption, auth_metadata, open_channel
from stylebridge.client.records import RecordedFrame, RecordOptions
from stylebridge.config import ClientConfig
from stylebridge.credentials import ClientTls
from stylebridge.protocol import ModelList, ModelRef, SessionStats, SessionSummary, SwapOutcome
from stylebridge.v1 import control_pb2, control_pb2_grpc

T = TypeVar("T")

# Recorded frames come back whole: room for a 4K RGB8 frame.
_CHANNEL_OPTIONS: tuple[ChannelOption, ...] = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
)


class ControlClient:
    """Reads a bridge server's sessions; use ``async with ControlClient(server)``."""

    def __init__(
        self,
        server: str,
        *,
        token: SecretStr | str | None = None,
        tls: ClientTls | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._server = server
        self._metadata = auth_metadata(token)
        self._timeout_s = timeout_s
        self._channel = open_channel(server, options=_CHANNEL_OPTIONS, token=token, tls=tls)
        self._stub = control_pb2_grpc.ControlStub(self._channel)
        self._closed = False

    @classmethod
    def from_config(cls, config: ClientConfig) -> ControlClient:
        return cls(
            config.server, token=config.token, tls=config.tls, timeout_s=config.connect_timeout_s
        )

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
        return convert_control.session_summaries(await self._list_sessions())

    async def store_status(self) -> convert_control.StoreStatus | None:
        """Whether the server's store is writing (None: the server does not say)."""
        return convert_control.store_status(await self._list_sessions())

    async def _list_sessions(self) -> control_pb2.ListSessionsResponse:
        try:
            return await self._stub.ListSessions(
                convert_control.list_sessions_request(),
                metadata=self._metadata,
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc

    async def session_stats(self, session_id: str) -> SessionStats:
        """One session's counters and timings; NotFoundError for an unknown id."""
        try:
            response = await self._stub.GetSessionStats(
                convert_control.stats_request(session_id),
                metadata=self._metadata,
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc
        return convert_control.session_stats(response)

    async def swap(
        self,
        model_id: str,
        session_ids: list[str] | None = None,
        *,
        all_sessions: bool = False,
        ack_timeout_s: float = 10.0,
    ) -> tuple[ModelRef, list[SwapOutcome]]:
        """Push ``model_id`` to sessions (or all) and wait for their acks: one outcome each.

        NotFoundError for an unknown model or session; the call itself may take up to
        ``ack_timeout_s`` plus the push.
        """
        try:
            response = await self._stub.Swap(
                convert_control.swap_request(
                    model_id,
                    list(session_ids or ()),
                    all_sessions=all_sessions,
                    ack_timeout_s=ack_timeout_s,
                ),
                metadata=self._metadata,
                timeout=self._timeout_s + ack_timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc
        return convert_control.swap_outcomes(response)

    async def list_models(self) -> ModelList:
        """The server's model registry with each engine's verdict."""
        try:
            response = await self._stub.ListModels(
                convert_control.list_models_request(),
                metadata=self._metadata,
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc
        return convert_control.model_list(response)

    async def watch(self, session_id: str, interval_ms: int = 1000) -> AsyncIterator[SessionStats]:
        """Statistics every ``interval_ms`` (the server clamps it to 100..10000) until closed."""
        call = self._stub.WatchSessionStats(
            convert_control.watch_request(session_id, interval_ms), metadata=self._metadata
        )
        async for stats in self._follow(call, convert_control.session_stats):
            yield stats

    async def record(self, session_id: str, options: RecordOptions) -> AsyncIterator[RecordedFrame]:
        """Frames the server keeps from ``session_id`` (see ``client.recording``), as they come.

        Ends after ``options.max_frames`` frames or when the session ends; NotFoundError
        for an unknown session, InvalidInputError for options the server refuses.
        """
        call = self._stub.RecordFrames(
            convert_control.record_request(session_id, options), metadata=self._metadata
        )
        async for frame in self._follow(call, convert_control.recorded_frame):
            yield frame

    async def _follow(
        self, call: grpc.aio.UnaryStreamCall, parse: Callable[[Any], T]
    ) -> AsyncIterator[T]:
        """A server stream's messages, parsed; RPC errors as StyleBridge errors; the call
        cancelled however the caller stops."""
        try:
            async for message in call:
                yield parse(message)
        except grpc.aio.AioRpcError as exc:
            raise convert.error_from_rpc(exc, self._server) from exc
        finally:
            call.cancel()
