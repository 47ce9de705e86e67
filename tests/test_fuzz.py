"""Protocol fuzzing (issue 7.4): hypothesis against the real server on 127.0.0.1:0.

One server per module (identity backend, a temp catalog with a tiny real model, a real
SQLite store) runs on its own event loop in a thread; every example sends generated
messages (protobuf messages with arbitrary field values, raw random bytes through
identity serializers, random interleavings of Hello / Frames / Models / AckModel /
Control calls with streams opened, half-closed and cancelled midway) and checks:

* every error is a precise status: never INTERNAL or UNKNOWN;
* nothing hangs: every call has a deadline and a DEADLINE_EXCEEDED fails the test;
* the server still answers a good Hello and frame after every example;
* at the end no task is left over in the server's loop, no session still streams,
  and the process grew by less than 50 MB.

Examples are derandomized (the same on every run). The total number of messages sent
is printed at the end (``pytest -s``) and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc
import grpc.aio
import psutil
import pytest
from bridge_helpers import frame_up, hello_request, random_frame, server_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from swap_helpers import tiny_onnx

from stylebridge.bridge import BridgeServer
from stylebridge.protocol import SessionState
from stylebridge.v1 import bridge_pb2, bridge_pb2_grpc, common_pb2, control_pb2, control_pb2_grpc

pytestmark = pytest.mark.timeout(180)

_log = logging.getLogger(__name__)
T = TypeVar("T")

# Seconds any one call may take before it counts as a hang.
CALL_DEADLINE_S = 10.0
# Status codes a server may answer bad input with (CANCELLED: we cancelled the call).
PRECISE = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.CANCELLED,
}
MAX_RSS_GROWTH_BYTES = 50 * 1024 * 1024
SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
GOOD = random_frame(16, 8, seed=3)
# grpc.aio's server tasks waiting for the next call.
GRPC_ACCEPT_LOOPS = {"AioServer._request_call", "AioServer._request_registered_call"}
BRIDGE = "/stylebridge.v1.Bridge/"
CONTROL = "/stylebridge.v1.Control/"


class Fuzzer:
    """The server, its loop thread, client stubs and the counts of what was sent."""

    def __init__(self, tmp: Path) -> None:
        catalog = tmp / "catalog"
        catalog.mkdir()
        (catalog / "a.onnx").write_bytes(tiny_onnx(1))
        self.config = server_config(tmp, catalog=catalog, swap_ack_timeout_s=2.0)
        self.sent: Counter[str] = Counter()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        self.server = BridgeServer(self.config)
        await self.server.start()
        # Sessions examples leave behind are reaped while the fuzzing runs.
        self.server.sessions.idle_timeout_s = 1.0
        self.channel = grpc.aio.insecure_channel(self.server.address)
        self.bridge = bridge_pb2_grpc.BridgeStub(self.channel)
        self.control = control_pb2_grpc.ControlStub(self.channel)

    def run(self, coro: Awaitable[T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        async def stop() -> None:
            await self.channel.close()
            await self.server.close()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def tasks(self) -> Counter[str]:
        """What the loop's tasks run, counted (grpc's own accept loops left out: they are
        replaced by new tasks after every call, as many as before)."""

        async def snapshot() -> Counter[str]:
            names = (
                t.get_coro().__qualname__  # type: ignore[union-attr]
                for t in asyncio.all_tasks()
                if t is not asyncio.current_task()
            )
            return Counter(n for n in names if n not in GRPC_ACCEPT_LOOPS)

        return self.run(snapshot())

    # --- checks -----------------------------------------------------------------------

    def check_error(self, exc: grpc.aio.AioRpcError, where: str) -> None:
        code = exc.code()
        assert code is not grpc.StatusCode.DEADLINE_EXCEEDED, f"{where} hung: {exc.details()}"
        assert code in PRECISE, f"{where}: {code} {exc.details()}"
        if code is not grpc.StatusCode.CANCELLED:
            assert exc.details(), f"{where}: {code} without a message"

    async def healthy(self) -> None:
        """A good Hello and one good frame are answered."""
        self.sent["health"] += 2
        hello = await self.bridge.Hello(hello_request(), timeout=CALL_DEADLINE_S)
        call = self.bridge.Frames(timeout=CALL_DEADLINE_S)
        await call.write(frame_up(1, GOOD, session_id=hello.session_id))
        answer = await call.read()
        assert answer.status == bridge_pb2.FRAME_STATUS_PROCESSED, answer
        await call.done_writing()
        assert await call.read() is grpc.aio.EOF


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzer]:
    fuzz = Fuzzer(tmp_path_factory.mktemp("fuzz"))
    started = time.perf_counter()
    try:
        fuzz.run(fuzz.healthy())
        baseline = fuzz.tasks()
        rss_before = psutil.Process().memory_info().rss
        yield fuzz
        # No session still streams, and the tasks are back to the warm baseline.
        deadline = time.monotonic() + 10.0
        while True:
            streaming = [s for s in fuzz.server.sessions if s.state is SessionState.STREAMING]
            extra = fuzz.tasks() - baseline
            if not streaming and not extra:
                break
            assert time.monotonic() < deadline, f"left over: {streaming} {extra}"
            time.sleep(0.05)
        growth = psutil.Process().memory_info().rss - rss_before
        total = sum(fuzz.sent.values())
        generated = total - fuzz.sent["health"]
        line = (
            f"fuzzing: {generated} generated messages and stream steps, {total} messages in "
            f"all with the health checks ({dict(fuzz.sent)}) in "
            f"{time.perf_counter() - started:.1f} s; RSS grew {growth / 2**20:.1f} MB"
        )
        print(f"\n{line}")
        _log.warning(line)
        assert growth < MAX_RSS_GROWTH_BYTES, line
    finally:
        fuzz.close()


# --- strategies -----------------------------------------------------------------------

uint32 = st.integers(0, 2**32 - 1)
uint64 = st.integers(0, 2**64 - 1)
int64 = st.integers(-(2**63), 2**63 - 1)
enum_number = st.one_of(st.integers(0, 5), st.integers(-(2**31), 2**31 - 1))
floats = st.floats(allow_nan=True, allow_infinity=True)
short_text = st.one_of(st.text(max_size=12), st.text(min_size=250, max_size=300))


@st.composite
def good_images(draw: st.DrawFn) -> common_pb2.Image:
    width, height = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    fmt = draw(st.sampled_from([common_pb2.PIXEL_FORMAT_RGB8, common_pb2.PIXEL_FORMAT_RGBA8]))
    stride = width * (3 if fmt == common_pb2.PIXEL_FORMAT_RGB8 else 4) + draw(st.integers(0, 3))
    return common_pb2.Image(
        width=width,
        height=height,
        pixel_format=fmt,
        row_stride=stride,
        pixels=draw(st.binary(min_size=stride * height, max_size=stride * height)),
    )


any_images = st.builds(
    common_pb2.Image,
    width=st.one_of(st.integers(0, 16), uint32),
    height=st.one_of(st.integers(0, 16), uint32),
    pixel_format=enum_number,
    row_stride=st.one_of(st.integers(0, 64), uint32),
    pixels=st.binary(max_size=1024),
)
images = st.one_of(good_images(), good_images(), any_images)


# Stands for the example's own session id until the session exists.
OWN = "<own session>"


@st.composite
def frame_ups(draw: st.DrawFn) -> bridge_pb2.FrameUp:
    message = bridge_pb2.FrameUp(
        session_id=draw(st.sampled_from(["", "", "", "", "", "", OWN, "not-a-session"])),
        sequence=draw(st.one_of(st.integers(0, 40), uint64)),
        capture_time_us=draw(st.one_of(st.integers(0, 2**40), int64)),
        model_id=draw(st.one_of(st.just("a"), short_text)),
    )
    if draw(st.integers(0, 9)):
        message.image.CopyFrom(draw(images))
    if draw(st.booleans()):
        message.engine_timing.inference_ms = draw(st.one_of(st.floats(0, 100), floats))
        message.engine_timing.method = draw(enum_number)
    if draw(st.integers(0, 4)) == 0:
        message.engine_output.CopyFrom(draw(images))
    return message


hello_requests = st.builds(
    bridge_pb2.HelloRequest,
    protocol_version=st.one_of(st.just(1), uint32),
    client=st.builds(
        bridge_pb2.ClientInfo,
        engine=enum_number,
        engine_version=short_text,
        unity_version=short_text,
        worker_type=short_text,
        gpu=short_text,
        platform=short_text,
        client_name=short_text,
    ),
    capabilities=st.builds(
        bridge_pb2.ClientCapabilities,
        pixel_formats=st.lists(enum_number, max_size=4),
        accepts_model_push=st.booleans(),
        sends_engine_output=st.booleans(),
        wants_stylized_pixels=st.booleans(),
        max_model_bytes=uint64,
    ),
    active_model=st.builds(
        common_pb2.ModelRef, model_id=short_text, version=uint32, sha256=short_text
    ),
)


# --- 1. frame streams: generated FrameUps and raw bytes, lockstep ----------------------

stream_plans = st.fixed_dictionaries(
    {
        "first": st.sampled_from(["own", "own", "own", "empty", "unknown"]),
        "messages": st.lists(frame_ups(), min_size=2, max_size=12),
        "garbage_at": st.one_of(st.none(), st.integers(0, 11)),
        "garbage": st.binary(min_size=1, max_size=64),
        "end": st.sampled_from(["half-close", "half-close", "cancel", "drop"]),
    }
)


@settings(SETTINGS, max_examples=250)
@given(plan=stream_plans)
def test_fuzz_frame_streams(fuzzer: Fuzzer, plan: dict[str, Any]) -> None:
    fuzzer.run(_frame_stream(fuzzer, plan))


def _own(message: bridge_pb2.FrameUp, session_id: str) -> bridge_pb2.FrameUp:
    if message.session_id == OWN:
        message = bridge_pb2.FrameUp.FromString(message.SerializeToString())
        message.session_id = session_id
    return message


async def _frame_stream(fuzzer: Fuzzer, plan: dict[str, Any]) -> None:
    session_id = (await fuzzer.bridge.Hello(hello_request(), timeout=CALL_DEADLINE_S)).session_id
    fuzzer.sent["Hello"] += 1
    messages: list[bytes] = []
    for i, generated in enumerate(plan["messages"]):
        message = _own(generated, session_id)
        if i == 0:
            message.session_id = {"own": session_id, "empty": "", "unknown": "nope"}[plan["first"]]
        messages.append(message.SerializeToString())
    if plan["garbage_at"] is not None and plan["garbage_at"] < len(messages):
        messages[plan["garbage_at"]] = plan["garbage"]
    raw = fuzzer.channel.stream_stream(BRIDGE + "Frames")
    call = raw(timeout=CALL_DEADLINE_S)
    ended = False
    try:
        for data_bytes in messages:
            await call.write(data_bytes)
            fuzzer.sent["FrameUp"] += 1
            answer = await call.read()
            if answer is grpc.aio.EOF:
                ended = True
                break
            _check_frame_down(bridge_pb2.FrameDown.FromString(answer))
        if not ended:
            if plan["end"] == "half-close":
                await call.done_writing()
                assert await call.read() is grpc.aio.EOF
            elif plan["end"] == "cancel":
                call.cancel()
    except grpc.aio.AioRpcError as exc:
        fuzzer.check_error(exc, "Frames")
    finally:
        call.cancel()
    await fuzzer.healthy()


def _check_frame_down(down: bridge_pb2.FrameDown) -> None:
    assert 1 <= down.status <= 5, down
    if down.status == bridge_pb2.FRAME_STATUS_REJECTED:
        assert down.error and down.error_code in (3, 8), down
    else:
        assert down.error_code == 0
        assert down.status != bridge_pb2.FRAME_STATUS_FAILED, down.error


# --- 2. unary and server-streaming calls with generated messages ----------------------


def _sessions() -> st.SearchStrategy[str]:
    return st.sampled_from([OWN, OWN, "", "nope"]) | st.text(max_size=40)


acks = st.builds(
    bridge_pb2.ModelAck,
    session_id=_sessions(),
    push_id=st.text(max_size=40),
    model=st.builds(common_pb2.ModelRef, model_id=short_text, version=uint32, sha256=short_text),
    status=enum_number,
    import_ms=floats,
    warmup_ms=floats,
    first_inference_ms=floats,
    first_sequence=uint64,
    error=short_text,
)
calls = st.one_of(
    st.tuples(st.just("Hello"), hello_requests),
    st.tuples(st.just("AckModel"), acks),
    st.tuples(
        st.just("Models"),
        st.builds(bridge_pb2.ModelsRequest, session_id=_sessions(), pinned=st.booleans()),
    ),
    st.tuples(
        st.just("GetSessionStats"),
        st.builds(control_pb2.GetSessionStatsRequest, session_id=_sessions()),
    ),
    st.tuples(
        st.just("WatchSessionStats"),
        st.builds(control_pb2.WatchSessionStatsRequest, session_id=_sessions(), interval_ms=uint32),
    ),
    st.tuples(st.just("ListSessions"), st.just(control_pb2.ListSessionsRequest())),
    st.tuples(st.just("ListModels"), st.just(control_pb2.ListModelsRequest())),
    st.tuples(
        st.just("Swap"),
        st.builds(
            control_pb2.SwapRequest,
            model_id=st.sampled_from(["a", "a", ""]) | st.text(max_size=20),
            session_ids=st.lists(_sessions(), max_size=3),
            all=st.booleans(),
            ack_timeout_ms=st.one_of(st.integers(1, 200), uint32),
        ),
    ),
    st.tuples(
        st.just("RecordFrames"),
        st.builds(
            control_pb2.RecordRequest,
            session_id=_sessions(),
            every_n=st.one_of(st.integers(0, 3), uint32),
            min_change=st.one_of(st.floats(0, 255), floats),
            max_frames=uint32,
        ),
    ),
)
STREAMING_CALLS = {"Models", "WatchSessionStats", "RecordFrames"}


@settings(SETTINGS, max_examples=150)
@given(plan=st.lists(calls, min_size=1, max_size=6))
def test_fuzz_calls(fuzzer: Fuzzer, plan: list[tuple[str, Any]]) -> None:
    fuzzer.run(_calls(fuzzer, plan))


def _with_own(message: Any, session_id: str) -> Any:
    """A copy of ``message`` with OWN replaced by the example's session id."""
    message = type(message).FromString(message.SerializeToString())
    if getattr(message, "session_id", None) == OWN:
        message.session_id = session_id
    if hasattr(message, "session_ids"):
        ids = [session_id if sid == OWN else sid for sid in message.session_ids]
        del message.session_ids[:]
        message.session_ids.extend(ids)
    return message


async def _calls(fuzzer: Fuzzer, plan: list[tuple[str, Any]]) -> None:
    known = (await fuzzer.bridge.Hello(hello_request(), timeout=CALL_DEADLINE_S)).session_id
    fuzzer.sent["Hello"] += 1
    for method, generated in plan:
        fuzzer.sent[method] += 1
        request = _with_own(generated, known)
        stub = fuzzer.bridge if hasattr(fuzzer.bridge, method) else fuzzer.control
        try:
            if method in STREAMING_CALLS:
                await _read_briefly(getattr(stub, method)(request, timeout=CALL_DEADLINE_S))
            else:
                await getattr(stub, method)(request, timeout=CALL_DEADLINE_S)
        except grpc.aio.AioRpcError as exc:
            fuzzer.check_error(exc, method)
    await fuzzer.healthy()


async def _read_briefly(call: Any) -> None:
    """Read a subscription for a moment, then cancel it (it is meant to stay open)."""
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.read(), 0.05)
    finally:
        call.cancel()


# --- 3. raw bytes into every method ------------------------------------------------------

METHODS = [
    (BRIDGE + "Hello", "unary"),
    (BRIDGE + "AckModel", "unary"),
    (BRIDGE + "Models", "stream"),
    (BRIDGE + "Frames", "bidi"),
    (CONTROL + "ListSessions", "unary"),
    (CONTROL + "GetSessionStats", "unary"),
    (CONTROL + "WatchSessionStats", "stream"),
    (CONTROL + "Swap", "unary"),
    (CONTROL + "ListModels", "unary"),
    (CONTROL + "RecordFrames", "stream"),
]


def _mutated(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for position, value in flips:
        if out:
            out[position % len(out)] = value
    return bytes(out)


raw_payloads = st.one_of(
    st.binary(max_size=200),
    st.builds(
        _mutated,
        st.sampled_from(
            [
                hello_request().SerializeToString(),
                frame_up(1, GOOD, session_id="x").SerializeToString(),
                bridge_pb2.ModelAck(session_id="x", push_id="p", status=1).SerializeToString(),
                control_pb2.SwapRequest(model_id="a", all=True).SerializeToString(),
            ]
        ),
        st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), max_size=4),
    ),
)


@settings(SETTINGS, max_examples=200)
@given(method=st.sampled_from(METHODS), payloads=st.lists(raw_payloads, min_size=1, max_size=4))
def test_fuzz_raw_bytes(fuzzer: Fuzzer, method: tuple[str, str], payloads: list[bytes]) -> None:
    fuzzer.run(_raw(fuzzer, method, payloads))


async def _raw(fuzzer: Fuzzer, method: tuple[str, str], payloads: list[bytes]) -> None:
    name, kind = method
    channel = fuzzer.channel
    try:
        if kind == "unary":
            for payload in payloads:
                fuzzer.sent["raw"] += 1
                try:
                    await channel.unary_unary(name)(payload, timeout=CALL_DEADLINE_S)
                except grpc.aio.AioRpcError as exc:
                    fuzzer.check_error(exc, name)
        elif kind == "stream":
            fuzzer.sent["raw"] += 1
            await _read_briefly(channel.unary_stream(name)(payloads[0], timeout=CALL_DEADLINE_S))
        else:
            call = channel.stream_stream(name)(timeout=CALL_DEADLINE_S)
            try:
                for payload in payloads:
                    fuzzer.sent["raw"] += 1
                    await call.write(payload)
                    if await call.read() is grpc.aio.EOF:
                        break
            finally:
                call.cancel()
    except grpc.aio.AioRpcError as exc:
        fuzzer.check_error(exc, name)
    await fuzzer.healthy()


# --- 4. random interleavings of streams and calls over a few sessions ---------------------

steps = st.tuples(
    st.sampled_from(
        [
            "hello",
            "open-frames",
            "send",
            "send",
            "send",
            "half-close",
            "cancel-frames",
            "open-models",
            "cancel-models",
            "ack",
            "stats",
            "swap",
        ]
    ),
    st.integers(0, 2),
    st.fixed_dictionaries(
        {
            "delta": st.integers(-1, 3),
            "good": st.booleans(),
            "frame": frame_ups(),
            "push_id": st.text(max_size=8),
            "status": st.sampled_from([1, 2, 0]),
            "ack_timeout_ms": st.integers(1, 150),
        }
    ),
)


@settings(SETTINGS, max_examples=120)
@given(program=st.lists(steps, min_size=3, max_size=20))
def test_fuzz_stream_orders(fuzzer: Fuzzer, program: list[tuple[str, int, dict[str, Any]]]) -> None:
    fuzzer.run(_orders(fuzzer, program))


async def _orders(fuzzer: Fuzzer, program: list[tuple[str, int, dict[str, Any]]]) -> None:
    bridge, control = fuzzer.bridge, fuzzer.control
    sessions: list[str] = []
    frames: dict[int, Any] = {}
    sequences: dict[int, int] = {}
    models: dict[int, Any] = {}
    pushes: dict[int, tuple[str, common_pb2.ModelRef]] = {}

    async def guarded(where: str, coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except grpc.aio.AioRpcError as exc:
            fuzzer.check_error(exc, where)
            return None

    async def exchange(index: int, message: bridge_pb2.FrameUp) -> None:
        """One frame and its answer; forgets the stream when it ended."""
        call = frames[index]
        try:
            await call.write(message)
            answer = await call.read()
        except grpc.aio.AioRpcError as exc:
            fuzzer.check_error(exc, "Frames")
            answer = grpc.aio.EOF
        if answer is grpc.aio.EOF:
            frames.pop(index).cancel()
        else:
            _check_frame_down(answer)

    try:
        # Start streaming on one session; the program does the rest.
        program = [("hello", 0, {}), ("open-frames", 0, {}), *program]
        for step, slot, args in program:
            if step == "hello" or not sessions:
                fuzzer.sent["orders:hello"] += 1
                hello = hello_request(engine=common_pb2.ENGINE_KIND_REFERENCE)
                hello.capabilities.accepts_model_push = True
                reply = await bridge.Hello(hello, timeout=CALL_DEADLINE_S)
                sessions.append(reply.session_id)
                continue
            index = slot % len(sessions)
            sid = sessions[index]
            if (step in ("send", "half-close", "cancel-frames") and index not in frames) or (
                (step == "open-models") == (index in models) and step.endswith("-models")
            ):
                continue  # nothing to do for this step in this state
            fuzzer.sent[f"orders:{step}"] += 1
            if step == "open-frames":
                old = frames.pop(index, None)
                if old is not None:
                    old.cancel()
                call = bridge.Frames(timeout=CALL_DEADLINE_S)
                frames[index] = call
                sequences[index] = max(0, sequences.get(index, 0)) + 1
                await exchange(index, frame_up(sequences[index], GOOD, session_id=sid))
            elif step == "send":
                sequences[index] = sequences.get(index, 0) + args["delta"]
                if args["good"]:
                    message = frame_up(max(0, sequences[index]), GOOD)
                else:
                    message = _own(args["frame"], sid)
                await exchange(index, message)
            elif step == "half-close":
                call = frames.pop(index)
                await guarded("Frames half-close", call.done_writing())
                await guarded("Frames half-close", call.read())
                call.cancel()
            elif step == "cancel-frames":
                frames.pop(index).cancel()
            elif step == "open-models":
                call = bridge.Models(
                    bridge_pb2.ModelsRequest(session_id=sid), timeout=CALL_DEADLINE_S
                )
                models[index] = call
            elif step == "cancel-models":
                models.pop(index).cancel()
            elif step == "ack":
                push_id, ref = pushes.get(index, (args["push_id"], None))
                ack = bridge_pb2.ModelAck(
                    session_id=sid,
                    push_id=push_id,
                    model=ref or common_pb2.ModelRef(),
                    status=args["status"],
                )
                await guarded("AckModel", bridge.AckModel(ack, timeout=CALL_DEADLINE_S))
            elif step == "stats":
                request = control_pb2.GetSessionStatsRequest(session_id=sid)
                await guarded(
                    "GetSessionStats", control.GetSessionStats(request, timeout=CALL_DEADLINE_S)
                )
            elif step == "swap":
                request = control_pb2.SwapRequest(
                    model_id="a", session_ids=[sid], ack_timeout_ms=args["ack_timeout_ms"]
                )
                swap = asyncio.ensure_future(control.Swap(request, timeout=CALL_DEADLINE_S))
                if index in models:
                    # Nothing comes when the session ended or already runs "a".
                    with contextlib.suppress(TimeoutError):
                        read = asyncio.wait_for(models[index].read(), 0.4)
                        chunk = await guarded("Models", read)
                        if chunk is not None and chunk is not grpc.aio.EOF:
                            pushes[index] = (chunk.push_id, chunk.model)
                await guarded("Swap", swap)
    finally:
        for call in [*frames.values(), *models.values()]:
            call.cancel()
    await fuzzer.healthy()


def test_fuzz_generates_messages_of_every_kind(fuzzer: Fuzzer) -> None:
    """Runs last: the counts above are real (each part sent what it claims)."""
    generated = sum(fuzzer.sent.values()) - fuzzer.sent["health"]
    assert generated >= 2000, dict(fuzzer.sent)
    assert fuzzer.sent["FrameUp"] > 300 and fuzzer.sent["raw"] > 200
