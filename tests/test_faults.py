"""Faults with real processes: clients and servers killed with SIGKILL, a store that fills up.

Where the fault is a process dying, that process is a real one (`python -m stylebridge
serve` or `python -m stylebridge client`) killed with SIGKILL; the survivors are checked
through their own state and the SQLite store. Frames are small (160x90) and the Python
backend is identity, so the cost is mostly process start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from bridge_helpers import hello_request, running_server, stubs

from stylebridge.bridge import BridgeServer
from stylebridge.client import FrameResult
from stylebridge.client.control import ControlClient
from stylebridge.client.reconnect import (
    BackoffPolicy,
    GaveUpError,
    ReconnectingClient,
    ReconnectingRunResult,
    is_retryable,
)
from stylebridge.config import ClientConfig, Limits, ServerConfig
from stylebridge.errors import StoreError, UnauthenticatedError
from stylebridge.inference.base import BackendKind
from stylebridge.protocol import SessionState, SwapResult
from stylebridge.v1 import bridge_pb2, common_pb2

SIZE = (160, 90)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


def _rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path, timeout=5.0)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _client_process(address: str, *extra: str) -> subprocess.Popen[bytes]:
    """`stylebridge client` streaming 160x90 frames at 30 fps until killed."""
    command = [sys.executable, "-m", "stylebridge", "client", "--server", address]
    command += ["--size", "160x90", "--fps", "30", "--count", "100000", "--parity-every", "0"]
    return subprocess.Popen([*command, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextlib.contextmanager
def _killed_at_exit(*procs: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


# --- 1. a client killed mid-stream -------------------------------------------------


async def test_a_client_killed_mid_stream_is_interrupted_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    before = asyncio.all_tasks()
    store_path = tmp_path / "store.sqlite"
    async with running_server(tmp_path) as server:
        victim = _client_process(server.address, "--no-pushes")
        survivor = _client_process(server.address, "--no-pushes")
        with _killed_at_exit(victim, survivor):
            await _until(
                lambda: sum(s.frames_received >= 10 for s in server.sessions) == 2,
                what="two clients streaming",
            )
            by_peer = {s.peer: s for s in server.sessions}
            assert len(by_peer) == 2
            received = {s.session_id: s.frames_received for s in server.sessions}
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            # The victim's session ends as interrupted; the survivor's goes on streaming.
            await _until(lambda: any(s.state.ended for s in server.sessions), what="end")
            [dead] = [s for s in server.sessions if s.state.ended]
            [alive] = [s for s in server.sessions if not s.state.ended]
            assert dead.state is SessionState.INTERRUPTED
            frames_at_kill = alive.frames_received
            await _until(lambda: alive.frames_received >= frames_at_kill + 15, what="more")
            assert alive.state is SessionState.STREAMING
            assert dead.frames_received >= received[dead.session_id]
        await _until(lambda: all(s.state.ended for s in server.sessions), what="both ended")
        assert server.store.flush()
        answered = dead.frames_processed + dead.frames_dropped + dead.frames_failed
        answered += dead.frames_recorded
    leaked = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
    assert leaked == []
    # Every frame of the killed client that reached an outcome is in the store, 1..N.
    rows = _rows(store_path, "SELECT sequence FROM frames WHERE session_id = ?", (dead.session_id,))
    assert len(rows) == answered >= 10
    assert sorted(r[0] for r in rows) == list(range(1, answered + 1))
    [(state,)] = _rows(
        store_path, "SELECT state FROM sessions WHERE session_id = ?", (dead.session_id,)
    )
    assert state == "interrupted"


# --- 2. a client killed mid-swap ----------------------------------------------------


async def test_a_client_killed_mid_swap_ends_its_push_and_not_the_others(
    tmp_path: Path, models_dir: Path
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copyfile(models_dir / "mosaic.onnx", catalog / "mosaic.onnx")  # 6.7 MB
    async with running_server(tmp_path, catalog=catalog, swap_ack_timeout_s=120.0) as server:
        victim = _client_process(server.address)
        survivor = _client_process(server.address)
        with _killed_at_exit(victim, survivor):
            await _until(
                lambda: sum(s.models_open and s.frames_received > 3 for s in server.sessions) == 2,
                what="two clients taking pushes",
            )
            await _until(lambda: server.pushes.registry.find("mosaic") is not None, what="catalog")
            victim.send_signal(signal.SIGSTOP)  # frozen: it reads no chunk and sends no ack
            sessions = {s.peer: s.session_id for s in server.sessions}
            swap = asyncio.ensure_future(
                server.pushes.swap("mosaic", list(sessions.values()), all_sessions=False)
            )
            await asyncio.sleep(0.3)  # the push is on its way to both
            assert not swap.done()
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            # Ended by the disconnect, long before the 120 s ack timeout: nothing hangs.
            _, outcomes = await asyncio.wait_for(swap, 60.0)
        by_result = {o.result: o for o in outcomes}
        assert set(by_result) == {SwapResult.ACTIVE, SwapResult.TIMED_OUT}, outcomes
        lost = by_result[SwapResult.TIMED_OUT]
        print(f"killed mid-swap: {lost.reason}")
        assert "disconnected" in lost.reason or "session ended" in lost.reason
        assert server.store.flush()
        rows = {
            r[0]: (r[1], r[2])
            for r in _rows(tmp_path / "store.sqlite", "SELECT session_id, result, error FROM swaps")
        }
    assert rows[lost.session_id][0] == "timed_out" and rows[lost.session_id][1]
    assert rows[by_result[SwapResult.ACTIVE].session_id] == ("active", "")


async def test_a_models_stream_cut_mid_push_is_recorded(tmp_path: Path, models_dir: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copyfile(models_dir / "mosaic.onnx", catalog / "mosaic.onnx")
    limits = Limits(model_chunk_bytes=64 * 1024)
    async with (
        running_server(tmp_path, catalog=catalog, limits=limits) as server,
        stubs(server) as (bridge, _),
    ):
        await _until(lambda: server.pushes.registry.find("mosaic") is not None, what="catalog")
        request = hello_request(engine=common_pb2.ENGINE_KIND_REFERENCE)
        request.capabilities.accepts_model_push = True
        hello = await bridge.Hello(request)
        models = bridge.Models(bridge_pb2.ModelsRequest(session_id=hello.session_id, pinned=True))
        session = server.sessions.get(hello.session_id)
        await _until(lambda: session.models_open, what="models stream")
        swap = asyncio.ensure_future(
            server.pushes.swap("mosaic", [hello.session_id], all_sessions=False)
        )
        first = await models.read()
        assert first.offset == 0 and first.total_bytes > 100 * limits.model_chunk_bytes
        models.cancel()  # the client goes away after one chunk of a hundred
        _, [outcome] = await asyncio.wait_for(swap, 30.0)
        assert outcome.result is SwapResult.TIMED_OUT
        assert "disconnected" in outcome.reason
        assert server.store.flush()
        [row] = _rows(tmp_path / "store.sqlite", "SELECT result, error FROM swaps")
    assert row[0] == "timed_out" and "mid-push" in str(row[1])


# --- 3. the server killed and restarted; two servers on one store --------------------


class _ServerProcess:
    """`stylebridge serve` on a fixed port, its output in a log file."""

    def __init__(self, port: int, store: Path, log: Path) -> None:
        self.port = port
        self.log = log
        command = [sys.executable, "-m", "stylebridge", "serve", "--port", str(port)]
        command += ["--backend", "identity", "--store", str(store)]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self._starts = log.read_text().count("listening on") if log.exists() else 0

    async def listening(self) -> None:
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-2000:]}")
            return self.log.read_text().count("listening on") > self._starts

        await _until(up, 120.0, "the server to listen")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


class _Frames:
    """One frame, over and over, until ``stop`` is set (then the stream closes cleanly)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._rgb = np.random.default_rng(0).integers(0, 256, (SIZE[1], SIZE[0], 3), np.uint8)

    def __iter__(self) -> Iterator[np.ndarray]:
        while not self.stop.is_set():
            yield self._rgb


def _reconnecting(port: int, frames: _Frames) -> ReconnectingClient:
    config = ClientConfig(
        server=f"127.0.0.1:{port}",
        size=SIZE,
        fps=30.0,
        parity_every=0,
        accept_pushes=False,
        connect_timeout_s=1.0,
        drain_timeout_s=5.0,
    )
    policy = BackoffPolicy(initial_s=0.1, max_s=0.5)
    return ReconnectingClient(config, policy=policy, frames=frames)


def _session_states(store: Path) -> dict[str, str]:
    return {str(r[0]): str(r[1]) for r in _rows(store, "SELECT session_id, state FROM sessions")}


async def test_server_killed_and_restarted_clients_reconnect_and_the_store_is_intact(
    tmp_path: Path,
) -> None:
    store = tmp_path / "shared.sqlite"
    port_a, port_b = _free_port(), _free_port()
    server_a = _ServerProcess(port_a, store, tmp_path / "a.log")
    server_b: _ServerProcess | None = None
    frames_a, frames_b = _Frames(), _Frames()
    try:
        await server_a.listening()
        clients_a = [_reconnecting(port_a, frames_a) for _ in range(2)]
        runs_a = [asyncio.ensure_future(c.run(10**9)) for c in clients_a]
        await _until(
            lambda: sum(s == "streaming" for s in _session_states(store).values()) == 2,
            what="A's sessions streaming",
        )
        sessions_a = set(_session_states(store))
        # A second server on the same store must leave A's live sessions alone.
        server_b = _ServerProcess(port_b, store, tmp_path / "b.log")
        await server_b.listening()
        states = _session_states(store)
        assert all(states[s] == "streaming" for s in sessions_a), states
        client_b = _reconnecting(port_b, frames_b)
        run_b = asyncio.ensure_future(client_b.run(10**9))
        await _until(lambda: len(_session_states(store)) == 3, what="B's session")
        [session_b] = set(_session_states(store)) - sessions_a
        await asyncio.sleep(0.5)
        server_a.kill()  # SIGKILL while both of its clients stream
        killed_at = time.perf_counter()
        server_a = _ServerProcess(port_a, store, tmp_path / "a.log")
        await server_a.listening()
        restarted_after = time.perf_counter() - killed_at
        states = _session_states(store)
        # The restarted server marked its dead predecessor's sessions, not B's live one.
        assert all(states[s] == "interrupted" for s in sessions_a), states
        assert states[session_b] == "streaming"
        await _until(
            lambda: sum(s == "streaming" for s in _session_states(store).values()) == 3,
            timeout=60.0,  # back-off after a slow restart can reach 8 s between attempts
            what="A's clients back",
        )
        await asyncio.sleep(0.5)
        frames_a.stop.set()
        frames_b.stop.set()
        results: list[ReconnectingRunResult] = await asyncio.wait_for(
            asyncio.gather(*runs_a, run_b), 60.0
        )
    finally:
        frames_a.stop.set()
        frames_b.stop.set()
        server_a.stop()
        if server_b is not None:
            server_b.stop()
    *results_a, result_b = results
    assert result_b.reconnects == () and len(result_b.sessions) == 1  # B never noticed
    lost_total = 0
    for result in results_a:
        [reconnect] = result.reconnects
        assert reconnect.lost_session_id in sessions_a and _says_server_lost(reconnect.error)
        first, second = result.sessions
        assert first.error and not second.error
        # What the client was told against what the store kept of the killed session.
        told = {f.sequence for f in result.frames[: first.answered]}
        stored = {
            int(r[0])
            for r in _rows(
                store, "SELECT sequence FROM frames WHERE session_id = ?", (first.session_id,)
            )
        }
        lost = told - stored
        lost_total += len(lost)
        print(
            f"client: session 1 told {len(told)} stored {len(stored)} lost {len(lost)}; "
            f"down {reconnect.down_s:.2f} s (server restart {restarted_after:.2f} s); "
            f"session 2 answered {second.answered}"
        )
        # Rows are queued before their answer is sent: only the batch in flight can go.
        assert len(lost) <= 10
    check = _rows(store, "PRAGMA integrity_check")
    mode = _rows(store, "PRAGMA journal_mode")
    assert check == [("ok",)] and mode == [("wal",)]
    states = _session_states(store)
    assert sorted(states.values()) == ["ended", "ended", "ended", "interrupted", "interrupted"]
    print(f"frames lost to the SIGKILL: {lost_total}")


async def test_the_client_command_reconnects_across_a_server_restart(tmp_path: Path) -> None:
    port = _free_port()
    store = tmp_path / "store.sqlite"
    server = _ServerProcess(port, store, tmp_path / "server.log")
    try:
        await server.listening()
        client = _client_process(f"127.0.0.1:{port}", "--no-pushes", "--reconnect")
        with _killed_at_exit(client):
            await _until(lambda: len(_session_states(store)) == 1, what="the client's session")
            await asyncio.sleep(0.5)
            server.kill()
            server = _ServerProcess(port, store, tmp_path / "server.log")
            await server.listening()
            # Two sessions of one run: the first interrupted by the kill, the second live.
            await _until(
                lambda: sorted(_session_states(store).values()) == ["interrupted", "streaming"],
                what="the first session interrupted and a second one streaming",
            )
            assert client.poll() is None, client.stderr.read() if client.stderr else ""
    finally:
        server.stop()


def _says_server_lost(error: str) -> bool:
    # A peer killed mid-stream reaches the client as UNAVAILABLE, or, when a frame's write
    # loses the race with the end of the stream, as INTERNAL "Internal error from Core":
    # grpcio's aio client overwrites the status in that case (grpc/grpc#36066; seen in a
    # CI-like run at load 10). The client retries both; both must name the server.
    return (
        "cannot reach" in error
        or "no answer" in error
        or "UNAVAILABLE" in error
        or "INTERNAL: Internal error from Core" in error
    )


# --- 4. a full or read-only store under a streaming bridge --------------------------


async def test_the_bridge_streams_on_while_the_store_is_full_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="stylebridge.store.health")
    config = ClientConfig(size=SIZE, fps=200.0, parity_every=0, accept_pushes=False)
    async with running_server(tmp_path) as server:
        store = server.store
        full = asyncio.Event()
        answered: list[int] = []

        def on_result(result: FrameResult) -> None:
            answered.append(1)
            if len(answered) == 50:
                full.set()

        client = ReconnectingClient(
            config.model_copy(update={"server": server.address}),
            frames=_counted(300),
            on_result=on_result,
        )
        run = asyncio.ensure_future(client.run(300))
        await full.wait()
        pages = await asyncio.to_thread(
            store.run_on_writer, lambda c: c.execute("PRAGMA page_count").fetchone()[0]
        )
        await asyncio.to_thread(
            store.run_on_writer, lambda c: c.execute(f"PRAGMA max_page_count = {pages}").fetchone()
        )
        await _until(lambda: store.write_stats().failed > 0, what="the store to fail")
        failing_at = len(answered)
        await _until(lambda: len(answered) >= failing_at + 50, what="answers while full")
        # What `stylebridge sessions` shows while the store cannot write.
        async with ControlClient(server.address) as control:
            status = await control.store_status()
        assert status is not None and not status.ok
        assert "database or disk is full" in status.error and status.lost_writes > 0
        assert "NOT WRITING" in status.describe()
        await asyncio.to_thread(
            store.run_on_writer, lambda c: c.execute("PRAGMA max_page_count = 1073741823")
        )
        result = await asyncio.wait_for(run, 60.0)
        assert store.flush()
        health = store.health
        stats = store.write_stats()
    # Every frame was answered (run, or dropped by newest-frame-wins), none failed,
    # while the store could not keep them.
    assert result.answered == 300
    assert {f.status.label for f in result.frames} <= {"processed", "dropped"}
    assert health.ok and stats.failed > 0 and health.lost_writes == stats.failed
    [session_id] = {s.session_id for s in result.sessions}
    stored = _rows(
        tmp_path / "store.sqlite",
        "SELECT count(*) FROM frames WHERE session_id = ?",
        (session_id,),
    )[0][0]
    gaps = _rows(tmp_path / "store.sqlite", "SELECT lost_writes, reason FROM store_gaps")
    assert stored + sum(int(g[0]) for g in gaps) == 300
    assert sum(int(g[0]) for g in gaps) == stats.failed
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "database or disk is full" in errors[0].getMessage()
    assert str(tmp_path / "store.sqlite") in errors[0].getMessage()
    assert _rows(tmp_path / "store.sqlite", "PRAGMA integrity_check") == [("ok",)]


def _counted(count: int) -> Iterator[np.ndarray]:
    rgb = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    for _ in range(count):
        yield rgb


async def test_a_store_that_cannot_be_created_refuses_to_start(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = ServerConfig(port=0, backend=BackendKind.IDENTITY, store=blocker / "s.sqlite")
    with pytest.raises(StoreError, match=r"cannot create the folder for store .*--store"):
        async with BridgeServer(config):
            pass


# --- reconnection policy ------------------------------------------------------------


def test_backoff_matches_the_unity_policy() -> None:
    policy = BackoffPolicy()
    assert [policy.base_delay_s(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert policy.delay_s(1, 0.0) == pytest.approx(0.4)
    assert policy.delay_s(1, 0.5) == pytest.approx(0.5)
    assert policy.delay_s(7, 0.999) == 30.0  # capped after jitter
    assert policy.base_delay_s(10_000) == 30.0
    with pytest.raises(Exception, match="jitter"):
        BackoffPolicy(jitter=2.0)


def test_which_errors_are_retried() -> None:
    from stylebridge.client.convert import RemoteError
    from stylebridge.errors import InvalidInputError, ProtocolVersionError

    assert is_retryable(RemoteError("down", grpc.StatusCode.UNAVAILABLE))
    assert is_retryable(RemoteError("slow", grpc.StatusCode.DEADLINE_EXCEEDED))
    assert not is_retryable(UnauthenticatedError("bad token"))
    assert not is_retryable(ProtocolVersionError("v2 vs v1"))
    assert not is_retryable(InvalidInputError("bad frame"))


async def test_a_refusal_that_cannot_pass_is_not_retried(tmp_path: Path) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with running_server(tmp_path, token="s3cret") as server:
        config = ClientConfig(server=server.address, size=SIZE, accept_pushes=False)
        client = ReconnectingClient(config, sleep=sleep)
        with pytest.raises(UnauthenticatedError):
            await client.run(5)
    assert slept == []


async def test_an_unreachable_server_is_retried_then_given_up(tmp_path: Path) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    config = ClientConfig(
        server=f"127.0.0.1:{_free_port()}", size=SIZE, connect_timeout_s=0.2, accept_pushes=False
    )
    policy = BackoffPolicy(initial_s=0.1, max_s=0.4, max_attempts=3)
    client = ReconnectingClient(config, policy=policy, sleep=sleep, random_value=lambda: 0.5)
    with pytest.raises(GaveUpError, match=r"gave up .* after 3 attempts"):
        await client.run(5)
    assert slept == pytest.approx([0.1, 0.2, 0.4])
