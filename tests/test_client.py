"""The reference client against a real server: gRPC on 127.0.0.1, ONNX Runtime, SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import grpc.aio
import numpy as np
import pytest
from bridge_helpers import random_frame, running_server

from stylebridge import PROTOCOL_VERSION
from stylebridge.bridge import BridgeServer
from stylebridge.client import ControlClient, ReferenceClient, ReferenceEngine
from stylebridge.client.convert import RemoteError
from stylebridge.client.frame_stream import should_send_parity
from stylebridge.config import ClientConfig, Limits
from stylebridge.errors import (
    InvalidInputError,
    NotFoundError,
    ProtocolVersionError,
    StateError,
    UnauthenticatedError,
)
from stylebridge.inference.base import BackendKind
from stylebridge.inference.simple import IdentityBackend, SlowBackend
from stylebridge.protocol import FrameStatus, SessionState
from stylebridge.sizes import parse_size
from stylebridge.store import Store
from stylebridge.v1 import bridge_pb2

pytestmark = pytest.mark.timeout(90)

SMALL = (128, 72)


def _client_config(server: BridgeServer, **overrides: object) -> ClientConfig:
    values: dict[str, object] = {
        "server": server.address,
        "fps": 0,
        "size": SMALL,
        "connect_timeout_s": 5,
        "drain_timeout_s": 20,
    }
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


def test_parity_schedule_and_size_parsing() -> None:
    assert [i for i in range(25) if should_send_parity(i, 10)] == [0, 10, 20]
    assert not any(should_send_parity(i, 0) for i in range(5))
    assert parse_size("640x360") == (640, 360)
    assert parse_size(" 64 X 36 ") == (64, 36)
    with pytest.raises(InvalidInputError, match="WIDTHxHEIGHT"):
        parse_size("640*360")


async def test_reference_client_streams_100_frames_with_engine_and_parity(
    tmp_path: Path, models_dir: Path
) -> None:
    model = models_dir / "ingame-small.onnx"
    async with running_server(tmp_path, model=model, backend=BackendKind.ONNXRUNTIME) as server:
        # One frame in flight: nothing is dropped, so every 10th frame carries parity.
        config = _client_config(server, engine_model=model, window=1, parity_every=10)
        seen: list[int] = []
        async with ReferenceClient(config, on_result=lambda r: seen.append(r.sequence)) as client:
            assert client.hello.python_model.model_id == "ingame-small"
            assert len(client.hello.python_model.sha256) == 64
            result = await client.run(100)
        session = server.sessions.get(result.session_id)
        assert session.state is SessionState.CLOSED
        assert session.client.engine.label == "reference"
    assert result.sent == result.answered == 100
    assert sorted(f.sequence for f in result.frames) == list(range(1, 101)) == sorted(seen)
    assert result.processed == 100 and result.dropped == 0
    assert all(f.engine_ms is not None and f.engine_ms > 0 for f in result.frames)
    assert all(f.python_ms > 0 for f in result.frames)
    parity = {f.sequence: f.parity_psnr_db for f in result.frames if f.parity_psnr_db is not None}
    assert sorted(parity) == list(range(1, 101, 10))
    # The same model in the same runtime on both sides: outputs agree closely.
    assert min(parity.values()) > 40.0

    with Store(tmp_path / "store.sqlite") as store:
        rows = store.frames(result.session_id)
        record = store.session(result.session_id)
    assert len(rows) == 100 and record.state == "ended"
    assert record.engine == "reference" and record.python_model_id == "ingame-small"
    assert all(r.engine_ms is not None and r.python_ms is not None for r in rows)
    assert {r.engine_timing_method for r in rows} == {"synchronous"}
    assert {r.width for r in rows} == {SMALL[0]} and {r.height for r in rows} == {SMALL[1]}
    assert [r.sequence for r in rows if r.parity_psnr_db is not None] == sorted(parity)


async def test_slow_python_shows_newest_frame_wins_in_every_count(tmp_path: Path) -> None:
    slow = SlowBackend(IdentityBackend(), 0.03)
    async with running_server(tmp_path, inject=slow) as server:
        config = _client_config(server, size=(48, 27), window=8, want_stylized=False)
        async with ReferenceClient(config) as client:
            result = await client.run(60)
        async with ControlClient(server.address) as control:
            stats = await control.session_stats(result.session_id)
            listed = await control.list_sessions()
            with pytest.raises(NotFoundError):
                await control.session_stats("nope")
    assert result.dropped > 0
    assert result.processed + result.dropped == result.sent == 60
    assert result.dropped_total == result.dropped == stats.frames_dropped
    assert stats.frames_processed == result.processed and stats.frames_received == 60
    assert stats.session.state is SessionState.CLOSED
    assert [s.session_id for s in listed] == [result.session_id]
    # The newest frame always wins: the last one sent is processed.
    last = max(result.frames, key=lambda f: f.sequence)
    assert last.status is FrameStatus.PROCESSED
    with Store(tmp_path / "store.sqlite") as store:
        counts = store.frame_counts(result.session_id)
        rows = store.frames(result.session_id)
    assert counts == {"processed": result.processed, "dropped": result.dropped}
    assert all(r.engine_ms is None for r in rows)  # no local engine: nothing timed


async def test_frames_from_a_folder_to_a_recording_server(tmp_path: Path, frames_dir: Path) -> None:
    async with running_server(tmp_path, backend=BackendKind.ONNXRUNTIME) as server:
        config = _client_config(server, frames=frames_dir, size=(64, 36), fps=200)
        async with ReferenceClient(config) as client:
            assert not client.hello.capabilities.python_inference
            result = await client.run(6)
            with pytest.raises(StateError, match="one Frames stream per session"):
                await client.run(1)
    assert [f.status for f in result.frames] == [FrameStatus.RECORDED] * 6
    assert result.parity == [] and result.engine_backend == "none"


async def test_injected_frames_and_engine_and_watch(tmp_path: Path) -> None:
    frames = [random_frame(40, 24, seed=i) for i in range(12)]
    engine = ReferenceEngine(IdentityBackend("engine-identity"))
    async with running_server(tmp_path) as server:
        config = _client_config(server, size=(40, 24), parity_every=3, window=1)
        async with ReferenceClient(config, frames=frames, engine=engine) as client:
            result = await client.run(20)  # the source runs out after 12
        async with ControlClient(server.address) as control:
            updates = []
            async for stats in control.watch(result.session_id, interval_ms=100):
                updates.append(stats)
                if len(updates) == 2:
                    break
    assert result.sent == result.answered == 12
    assert len(result.parity) == 4 and set(result.parity) == {100.0}  # identical outputs
    assert engine.active  # the caller's engine is left open for the caller
    assert [u.frames_received for u in updates] == [12, 12]
    assert updates[0].session.engine_model_id == "engine-identity"
    engine.close()


async def test_the_stream_ending_before_the_half_close_returns_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server ends the stream once it reads the client's half-close, so on a busy
    # machine its end can reach the receiver before done_writing() returns to the sender
    # (a flaky fault test saw this). A delay after the real half-close makes it certain.
    from grpc.aio._call import StreamStreamCall

    half_close = StreamStreamCall.done_writing

    async def late_half_close(self: StreamStreamCall) -> None:
        await half_close(self)
        await asyncio.sleep(1.0)

    monkeypatch.setattr(StreamStreamCall, "done_writing", late_half_close)
    frames = [random_frame(40, 24, seed=i) for i in range(5)]
    async with running_server(tmp_path) as server:
        config = _client_config(server, size=(40, 24))
        async with ReferenceClient(config, frames=frames) as client:
            result = await client.run(5)
    assert result.sent == result.answered == 5


async def test_token_is_sent_when_configured(tmp_path: Path) -> None:
    async with running_server(tmp_path, token="s3cret") as server:
        async with ReferenceClient(_client_config(server, token="s3cret")) as client:
            result = await client.run(3)
        assert result.answered == 3
        with pytest.raises(UnauthenticatedError, match="Bearer"):
            async with ReferenceClient(_client_config(server)):
                pass


async def test_unreachable_server_says_what_to_do(unused_tcp_port: int) -> None:
    config = ClientConfig(server=f"127.0.0.1:{unused_tcp_port}", connect_timeout_s=0.5)
    with pytest.raises(RemoteError, match="stylebridge serve"):
        async with ReferenceClient(config):
            pass


async def _hello_from_the_future(
    request: bridge_pb2.HelloRequest, context: grpc.aio.ServicerContext
) -> bridge_pb2.HelloResponse:
    return bridge_pb2.HelloResponse(protocol_version=PROTOCOL_VERSION + 1, session_id="x")


async def test_client_checks_the_server_protocol_version() -> None:
    handler = grpc.method_handlers_generic_handler(
        "stylebridge.v1.Bridge",
        {
            "Hello": grpc.unary_unary_rpc_method_handler(
                _hello_from_the_future,
                request_deserializer=bridge_pb2.HelloRequest.FromString,
                response_serializer=bridge_pb2.HelloResponse.SerializeToString,
            )
        },
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        config = ClientConfig(server=f"127.0.0.1:{port}", connect_timeout_s=5)
        with pytest.raises(ProtocolVersionError, match=f"server speaks {PROTOCOL_VERSION + 1}"):
            async with ReferenceClient(config):
                pass
    finally:
        await server.stop(0)


# --- the CLI, against a server running in a thread ----------------------------------------


@contextlib.contextmanager
def _server_in_thread(tmp_path: Path) -> Iterator[str]:
    addresses: queue.Queue[str | BaseException] = queue.Queue()
    stop: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve() -> None:
        from bridge_helpers import server_config

        event = asyncio.Event()
        stop.append((asyncio.get_running_loop(), event))
        config = server_config(tmp_path, limits=Limits(frame_queue_depth=2))
        try:
            async with BridgeServer(config) as server:
                addresses.put(server.address)
                await event.wait()
        except BaseException as exc:
            addresses.put(exc)
            raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    address = addresses.get(timeout=30)
    if isinstance(address, BaseException):
        raise address
    try:
        yield address
    finally:
        loop, event = stop[0]
        loop.call_soon_threadsafe(event.set)
        thread.join(timeout=30)


def test_cli_client_and_sessions(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    runner = CliRunner()
    with _server_in_thread(tmp_path) as address:
        streamed = runner.invoke(
            app,
            ["client", "--server", address, "--size", "64x36", "--count", "12", "--fps", "0"],
        )
        assert streamed.exit_code == 0, streamed.output
        assert "12 / 12" in streamed.output
        listed = runner.invoke(app, ["sessions", "--server", address])
        assert listed.exit_code == 0, listed.output
        assert "1 sessions" in listed.output and "closed" in listed.output
        with Store(tmp_path / "store.sqlite") as store:
            (record,) = store.sessions()
        watched = runner.invoke(
            app, ["sessions", "--server", address, "--watch", record.session_id]
        )
        assert watched.exit_code == 0, watched.output
        assert "received 12" in watched.output
        refused = runner.invoke(app, ["client", "--server", address, "--size", "64*36"])
        assert refused.exit_code != 0


def test_engine_none_runs_nothing() -> None:
    engine = ReferenceEngine.none()
    assert not engine.active and engine.run(np.zeros((2, 2, 3), np.uint8)) is None
    info = engine.client_info()
    assert info.engine.label == "reference" and info.gpu == "cpu"
    engine.close()
    engine.close()
