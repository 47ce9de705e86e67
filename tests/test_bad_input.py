"""Bad input, per RPC (issue 7.1), against the real server on 127.0.0.1:0.

Each case checks the status code (or, for a frame whose content breaks a rule, the
FRAME_STATUS_REJECTED answer with its code) and that the message names the field or
value; that the session survives where it can; and that what was stored before is
still in the SQLite file, unchanged.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path

import grpc
import grpc.aio
import pytest
from bridge_helpers import (
    frame_up,
    hello_request,
    random_frame,
    running_server,
    stubs,
    wait_for,
)
from swap_helpers import tiny_onnx

from stylebridge.bridge.frames.pipeline import MAX_CONSECUTIVE_REJECTED
from stylebridge.config import Limits
from stylebridge.protocol import SessionState
from stylebridge.store import Store
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2

pytestmark = pytest.mark.timeout(60)

RGB = random_frame(32, 18)
INVALID = grpc.StatusCode.INVALID_ARGUMENT.value[0]
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
FRAMES_METHOD = "/stylebridge.v1.Bridge/Frames"
# Small limits so that "too big" is cheap: 64x64 at most, 64*64*4 bytes of pixels.
LIMITS = Limits(max_width=64, max_height=64, max_frame_bytes=64 * 64 * 4)


async def _expect_status(awaitable, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    assert info.value.code() is code, info.value.details()
    return info.value.details() or ""


async def _stream_all(bridge, messages) -> list[bridge_pb2.FrameDown]:
    call = bridge.Frames()
    for message in messages:
        await call.write(message)
    await call.done_writing()
    return [answer async for answer in call]


def _set(path: str, value: object) -> Callable[[bridge_pb2.FrameUp], None]:
    """A mutation setting ``path`` (dotted) of a FrameUp to ``value``."""

    def mutate(message: bridge_pb2.FrameUp) -> None:
        *parents, name = path.split(".")
        target = message
        for parent in parents:
            target = getattr(target, parent)
        setattr(target, name, value)

    return mutate


def _clear_image(message: bridge_pb2.FrameUp) -> None:
    message.ClearField("image")


def _wrong_engine_output(message: bridge_pb2.FrameUp) -> None:
    message.engine_output.CopyFrom(
        common_pb2.Image(width=2, height=2, pixel_format=1, row_stride=6, pixels=bytes(12))
    )


def _too_many_bytes(message: bridge_pb2.FrameUp) -> None:
    # 64x64 RGBA with 4 padding bytes per row: within the dimensions, over the bytes.
    message.image.CopyFrom(
        common_pb2.Image(
            width=64,
            height=64,
            pixel_format=common_pb2.PIXEL_FORMAT_RGBA8,
            row_stride=64 * 4 + 4,
            pixels=bytes((64 * 4 + 4) * 64),
        )
    )


# (mutation of a good frame, expected error_code, words the error must contain)
FRAME_CASES: list[tuple[str, Callable[[bridge_pb2.FrameUp], None], int, tuple[str, ...]]] = [
    (
        "short pixels",
        lambda m: setattr(m.image, "pixels", m.image.pixels[:-1]),
        INVALID,
        ("pixel bytes", "row_stride"),
    ),
    (
        "long pixels",
        lambda m: setattr(m.image, "pixels", m.image.pixels + b"x"),
        INVALID,
        ("pixel bytes", "expected"),
    ),
    ("stride < row", _set("image.row_stride", 32 * 3 - 1), INVALID, ("row stride", "width")),
    ("zero width", _set("image.width", 0), INVALID, ("0x18", "> 0")),
    ("zero height", _set("image.height", 0), INVALID, ("32x0", "> 0")),
    ("wide", _set("image.width", 65), EXHAUSTED, ("65x18", "limit")),
    ("tall", _set("image.height", 100_000), EXHAUSTED, ("32x100000", "limit")),
    ("huge", _set("image.width", 2**32 - 1), EXHAUSTED, ("4294967295", "limit")),
    ("over max_frame_bytes", _too_many_bytes, EXHAUSTED, ("max_frame_bytes",)),
    ("unknown format", _set("image.pixel_format", 7), INVALID, ("pixel_format", "unknown (7)")),
    ("unset format", _set("image.pixel_format", 0), INVALID, ("pixel_format", "not set")),
    ("no image", _clear_image, INVALID, ("has no image",)),
    (
        "nan timing",
        _set("engine_timing.inference_ms", math.nan),
        INVALID,
        ("inference_ms", "nan", "finite"),
    ),
    ("inf timing", _set("engine_timing.inference_ms", math.inf), INVALID, ("inference_ms", "inf")),
    (
        "negative timing",
        _set("engine_timing.inference_ms", -1.0),
        INVALID,
        ("inference_ms", "-1.0"),
    ),
    ("unknown method", _set("engine_timing.method", 99), INVALID, ("method", "unknown (99)")),
    ("negative capture time", _set("capture_time_us", -5), INVALID, ("capture_time_us", "-5")),
    ("engine output size", _wrong_engine_output, INVALID, ("engine_output is 2x2",)),
    ("long model id", _set("model_id", "m" * 300), INVALID, ("model_id", "300 characters")),
]


async def test_bad_frames_are_rejected_one_by_one_and_the_stream_goes_on(
    tmp_path: Path,
) -> None:
    async with (
        running_server(tmp_path, limits=LIMITS) as server,
        stubs(server) as (bridge, control),
    ):
        session_id = (await bridge.Hello(hello_request())).session_id
        messages = [frame_up(1, RGB, session_id=session_id)]
        expected: dict[int, tuple[str, int, tuple[str, ...]]] = {}
        for i, (name, mutate, code, words) in enumerate(FRAME_CASES):
            bad = frame_up(10 + i, RGB)
            mutate(bad)
            messages.append(bad)
            expected[10 + i] = (name, code, words)
        # Sequences that do not increase: a repeat of a stored frame, an older number,
        # and one beyond what the store can hold.
        messages.append(frame_up(1, RGB))
        messages.append(frame_up(5, RGB))
        beyond = frame_up(7, RGB)
        beyond.sequence = 2**63
        messages.append(beyond)
        messages.append(frame_up(100, RGB))  # a good frame after all that
        answers = await _stream_all(bridge, messages)
        stats = await control.GetSessionStats(
            control_pb2.GetSessionStatsRequest(session_id=session_id)
        )
    assert len(answers) == len(messages)
    rejected = [a for a in answers if a.status == bridge_pb2.FRAME_STATUS_REJECTED]
    by_sequence = {a.sequence: a for a in rejected}
    for sequence, (name, code, words) in expected.items():
        answer = by_sequence[sequence]
        assert answer.error_code == code, name
        for word in words:
            assert word in answer.error, (name, answer.error)
    repeats = [a for a in rejected if a.sequence in (1, 5)]
    assert len(repeats) == 2
    assert all("does not increase" in a.error and a.error_code == INVALID for a in repeats)
    assert "2^63" in by_sequence[2**63].error
    good = [a for a in answers if a.status == bridge_pb2.FRAME_STATUS_PROCESSED]
    assert [a.sequence for a in good] == [1, 100]
    n_rejected = len(FRAME_CASES) + 3
    assert len(rejected) == n_rejected
    assert stats.frames_rejected == n_rejected and stats.frames_received == 2
    assert stats.frames_processed == 2
    with Store(tmp_path / "store.sqlite") as store:
        rows = {f.sequence: f for f in store.frames(session_id)}
        assert store.session(session_id).state == "ended"
    # Frame 1 was stored once, processed; its repeat did not touch it.
    assert rows[1].status == "processed" and rows[1].python_ms is not None
    assert rows[100].status == "processed"
    # Each rejected frame with a new number is a "rejected" row that Python never ran.
    for sequence in expected:
        assert rows[sequence].status == "rejected"
        assert rows[sequence].python_ms is None and rows[sequence].queue_ms is None
    assert rows[10 + 9].pixel_format == "unknown(7)"  # "unknown format"
    assert 5 not in rows and 2**63 not in rows
    assert set(rows) == {1, 100, *expected}


async def test_an_invalid_first_frame_is_answered_and_counted(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        session_id = (await bridge.Hello(hello_request())).session_id
        bad = frame_up(1, RGB, session_id=session_id)
        bad.image.row_stride = 1
        first, second = await _stream_all(bridge, [bad, frame_up(2, RGB)])
        assert first.status == bridge_pb2.FRAME_STATUS_REJECTED and first.sequence == 1
        assert "row stride 1" in first.error
        assert second.status == bridge_pb2.FRAME_STATUS_PROCESSED
        session = server.sessions.get(session_id)
        assert session.frames_rejected == 1 and session.frames_received == 1


async def test_garbage_bytes_end_the_stream_but_not_the_session(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        session_id = (await bridge.Hello(hello_request())).session_id
        async with grpc.aio.insecure_channel(server.address) as channel:
            raw = channel.stream_stream(FRAMES_METHOD)  # bytes in, bytes out
            # Not even a FrameUp as the first message: nothing to answer.
            details = await _expect_status(
                _stream_all_raw(raw, [b"\xff\xff\xff"]), grpc.StatusCode.INVALID_ARGUMENT
            )
            assert "malformed" in details
            # Good frames, then bytes that do not decode (a truncated field).
            good = [
                frame_up(1, RGB, session_id=session_id).SerializeToString(),
                frame_up(2, RGB).SerializeToString(),
            ]
            call = raw()
            for data in good:
                await call.write(data)
            answers = [bridge_pb2.FrameDown.FromString(await call.read()) for _ in good]
            await call.write(b"\x0a\x50abc")
            details = await _expect_status(call.read(), grpc.StatusCode.INVALID_ARGUMENT)
            assert "malformed" in details
        assert [a.status for a in answers] == [bridge_pb2.FRAME_STATUS_PROCESSED] * 2
        session = server.sessions.get(session_id)
        await wait_for(lambda: session.open_streams == 0)
        # The session survives the stream its own bad bytes ended: a new stream goes on,
        # numbering above the frames it already sent.
        assert session.state is SessionState.CONNECTED
        assert session.frames_rejected == 1
        again = await _stream_all(
            bridge, [frame_up(2, RGB, session_id=session_id), frame_up(3, RGB)]
        )
        assert [a.status for a in again] == [
            bridge_pb2.FRAME_STATUS_REJECTED,
            bridge_pb2.FRAME_STATUS_PROCESSED,
        ]
        assert "does not increase" in again[0].error
        assert session.state is SessionState.CLOSED
    with Store(tmp_path / "store.sqlite") as store:
        rows = store.frames(session_id)
    assert [(f.sequence, f.status) for f in rows] == [
        (1, "processed"),
        (2, "processed"),
        (3, "processed"),
    ]


async def _stream_all_raw(raw, messages: list[bytes]) -> list[bytes]:
    call = raw()
    for message in messages:
        await call.write(message)
    await call.done_writing()
    return [answer async for answer in call]


async def test_only_garbage_frames_end_the_stream_after_the_cap(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        session_id = (await bridge.Hello(hello_request())).session_id
        no_image = [bridge_pb2.FrameUp(session_id=session_id, sequence=1)]
        no_image += [bridge_pb2.FrameUp(sequence=i) for i in range(2, MAX_CONSECUTIVE_REJECTED + 1)]
        call = bridge.Frames()
        for message in no_image:  # small messages: they fit the flow-control window
            await call.write(message)
        answers = []
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for answer in call:
                answers.append(answer)
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert f"{MAX_CONSECUTIVE_REJECTED} frames in a row were rejected" in info.value.details()
        assert "has no image" in info.value.details()
        assert len(answers) == MAX_CONSECUTIVE_REJECTED
        assert all(a.status == bridge_pb2.FRAME_STATUS_REJECTED for a in answers)
        session = server.sessions.get(session_id)
        await wait_for(lambda: session.open_streams == 0)
        assert session.frames_rejected == MAX_CONSECUTIVE_REJECTED
        assert session.state is SessionState.CONNECTED


async def test_a_message_over_the_receive_limit_is_resource_exhausted(tmp_path: Path) -> None:
    limits = Limits(max_frame_bytes=1024)
    async with (
        running_server(tmp_path, limits=limits) as server,
        stubs(server) as (bridge, control),
    ):
        session_id = (await bridge.Hello(hello_request())).session_id
        (first,) = await _stream_all(
            bridge, [frame_up(1, random_frame(8, 8), session_id=session_id)]
        )
        assert first.status == bridge_pb2.FRAME_STATUS_PROCESSED
        # grpc's own receive limit (2 x max_frame_bytes + 1 MiB) refuses the message.
        huge = frame_up(1, random_frame(8, 8), session_id=session_id)
        huge.image.pixels = bytes(3 * 1024 * 1024)
        details = await _expect_status(
            _stream_all(bridge, [huge]), grpc.StatusCode.RESOURCE_EXHAUSTED
        )
        assert "larger than max" in details or "exceeds" in details.lower() or "limit" in details
        # Unary calls too.
        hello = hello_request()
        hello.client.client_name = "x" * (3 * 1024 * 1024)
        await _expect_status(bridge.Hello(hello), grpc.StatusCode.RESOURCE_EXHAUSTED)
        # The server still works and stored frame 1.
        assert (await bridge.Hello(hello_request())).session_id
        await control.ListSessions(control_pb2.ListSessionsRequest())
    with Store(tmp_path / "store.sqlite") as store:
        assert [f.sequence for f in store.frames(session_id)] == [1]


async def test_frames_need_a_known_session_and_one_stream_at_a_time(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        details = await _expect_status(
            _stream_all(bridge, [frame_up(1, RGB, session_id="nope")]), grpc.StatusCode.NOT_FOUND
        )
        assert "'nope'" in details and "Hello" in details
        details = await _expect_status(
            _stream_all(bridge, [frame_up(1, RGB)]), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert "session_id" in details
        # A second Hello opens a second, independent session (Hello is unary: there is
        # no "second Hello on one stream" to refuse).
        one = (await bridge.Hello(hello_request())).session_id
        two = (await bridge.Hello(hello_request())).session_id
        assert one != two
        await _stream_all(bridge, [frame_up(1, RGB, session_id=one)])
        details = await _expect_status(
            _stream_all(bridge, [frame_up(2, RGB, session_id=one)]),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        assert "has ended" in details and "Hello" in details
        assert server.sessions.get(two).state is SessionState.CONNECTED


@pytest.mark.parametrize(
    ("mutate", "code", "words"),
    [
        (lambda h: setattr(h, "protocol_version", 0), "FAILED_PRECONDITION", ("version",)),
        (lambda h: setattr(h, "protocol_version", 99), "FAILED_PRECONDITION", ("99",)),
        (
            lambda h: setattr(h.client, "engine", 0),
            "INVALID_ARGUMENT",
            ("client.engine", "not set"),
        ),
        (lambda h: setattr(h.client, "engine", 42), "INVALID_ARGUMENT", ("client.engine", "42")),
        (
            lambda h: h.capabilities.pixel_formats.append(9),
            "INVALID_ARGUMENT",
            ("pixel_formats", "unknown (9)"),
        ),
        (
            lambda h: h.capabilities.pixel_formats.extend([1] * 100_000),
            "INVALID_ARGUMENT",
            ("pixel_formats lists 100002 formats",),
        ),
        (
            lambda h: setattr(h.client, "client_name", "n" * 1000),
            "INVALID_ARGUMENT",
            ("client_name", "1000 characters"),
        ),
    ],
)
async def test_bad_hello(tmp_path: Path, mutate, code: str, words: tuple[str, ...]) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        request = hello_request()
        mutate(request)
        details = await _expect_status(bridge.Hello(request), getattr(grpc.StatusCode, code))
        for word in words:
            assert word in details
        assert len(server.sessions) == 0


async def test_session_scoped_calls_name_the_missing_session(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, control):
        calls = {
            "ModelsRequest": lambda sid: bridge.Models(
                bridge_pb2.ModelsRequest(session_id=sid)
            ).read(),
            "ModelAck": lambda sid: bridge.AckModel(
                bridge_pb2.ModelAck(session_id=sid, push_id="p", status=1)
            ),
            "GetSessionStatsRequest": lambda sid: control.GetSessionStats(
                control_pb2.GetSessionStatsRequest(session_id=sid)
            ),
            "WatchSessionStatsRequest": lambda sid: control.WatchSessionStats(
                control_pb2.WatchSessionStatsRequest(session_id=sid)
            ).read(),
            "RecordRequest": lambda sid: control.RecordFrames(
                control_pb2.RecordRequest(session_id=sid, every_n=1)
            ).read(),
        }
        for name, call in calls.items():
            details = await _expect_status(call("nope"), grpc.StatusCode.NOT_FOUND)
            assert "'nope'" in details and "Hello" in details, name
            details = await _expect_status(call(""), grpc.StatusCode.INVALID_ARGUMENT)
            assert f"{name}.session_id is empty" in details, name
        assert len(server.sessions) == 0


@pytest.mark.parametrize(
    ("request_fields", "words"),
    [
        ({"every_n": 0}, ("every_n is 0", "between 1 and")),
        ({"every_n": 2**32 - 1}, ("every_n is 4294967295", "1000000")),
        ({"every_n": 1, "min_change": math.nan}, ("min_change is nan",)),
        ({"every_n": 1, "min_change": 300.0}, ("min_change is 300.0", "255")),
        ({"every_n": 1, "min_change": -1.0}, ("min_change is -1.0",)),
    ],
)
async def test_record_frames_with_bad_arguments(
    tmp_path: Path, request_fields: dict, words: tuple[str, ...]
) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, control):
        session_id = (await bridge.Hello(hello_request())).session_id
        call = control.RecordFrames(
            control_pb2.RecordRequest(session_id=session_id, **request_fields)
        )
        details = await _expect_status(call.read(), grpc.StatusCode.INVALID_ARGUMENT)
        for word in words:
            assert word in details
        assert server.sessions.get(session_id).state is SessionState.CONNECTED


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "a.onnx").write_bytes(tiny_onnx(1))
    return folder


async def test_swap_and_ack_with_bad_arguments(tmp_path: Path, catalog: Path) -> None:
    async with (
        running_server(tmp_path, catalog=catalog) as server,
        stubs(server) as (bridge, control),
    ):
        no_models = control_pb2.ListModelsRequest()
        assert (await control.ListModels(no_models)).models
        swap = control.Swap
        details = await _expect_status(
            swap(control_pb2.SwapRequest(model_id="nope", all=True)), grpc.StatusCode.NOT_FOUND
        )
        assert "'nope'" in details and "known: a" in details
        details = await _expect_status(
            swap(control_pb2.SwapRequest(model_id="")), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert "model_id is empty" in details
        details = await _expect_status(
            swap(control_pb2.SwapRequest(model_id="a")), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert "--all" in details
        details = await _expect_status(
            swap(control_pb2.SwapRequest(model_id="a", session_ids=["ghost"])),
            grpc.StatusCode.NOT_FOUND,
        )
        assert "'ghost'" in details
        details = await _expect_status(
            swap(control_pb2.SwapRequest(model_id="a", all=True, ack_timeout_ms=2**32 - 1)),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert "ack_timeout_ms is 4294967295" in details

        # A real push to one session, answered with bad acks before the good one.
        hello = hello_request(engine=common_pb2.ENGINE_KIND_REFERENCE)
        hello.capabilities.accepts_model_push = True
        hello.active_model.model_id = "other"
        session_id = (await bridge.Hello(hello)).session_id
        other_id = (await bridge.Hello(hello)).session_id
        models = bridge.Models(bridge_pb2.ModelsRequest(session_id=session_id, pinned=True))
        await wait_for(lambda: server.sessions.get(session_id).open_streams == 1)
        pending = asyncio.ensure_future(
            swap(
                control_pb2.SwapRequest(
                    model_id="a", session_ids=[session_id], ack_timeout_ms=20_000
                )
            )
        )
        chunk = await models.read()
        while not chunk.last:
            chunk = await models.read()
        push_id, ref = chunk.push_id, chunk.model

        def ack(**fields: object) -> bridge_pb2.ModelAck:
            values: dict[str, object] = {
                "session_id": session_id,
                "push_id": push_id,
                "model": ref,
                "status": bridge_pb2.ACK_STATUS_ACTIVE,
            }
            values.update(fields)
            return bridge_pb2.ModelAck(**values)

        bad_sha = common_pb2.ModelRef(model_id="a", sha256="0" * 64)
        cases = [
            (ack(push_id="unknown"), grpc.StatusCode.NOT_FOUND, "'unknown'"),
            (ack(session_id=other_id), grpc.StatusCode.NOT_FOUND, other_id),
            (ack(model=bad_sha), grpc.StatusCode.INVALID_ARGUMENT, "sha256 000000000000"),
            (ack(status=0), grpc.StatusCode.INVALID_ARGUMENT, "ModelAck.status is 0"),
            (ack(status=7), grpc.StatusCode.INVALID_ARGUMENT, "ModelAck.status is 7"),
            (ack(import_ms=math.nan), grpc.StatusCode.INVALID_ARGUMENT, "import_ms is nan"),
            (ack(warmup_ms=-3.0), grpc.StatusCode.INVALID_ARGUMENT, "warmup_ms is -3.0"),
            (ack(push_id=""), grpc.StatusCode.INVALID_ARGUMENT, "push_id is empty"),
        ]
        for message, code, words in cases:
            details = await _expect_status(bridge.AckModel(message), code)
            assert words in details, details
        assert not pending.done()  # none of the bad acks decided the push
        await bridge.AckModel(ack(import_ms=1.0))
        response = await pending
        assert response.outcomes[0].result == control_pb2.SWAP_RESULT_ACTIVE
        details = await _expect_status(bridge.AckModel(ack()), grpc.StatusCode.NOT_FOUND)
        assert "no push" in details
        models.cancel()
    with Store(tmp_path / "store.sqlite") as store:
        swaps = store.swaps(session_id)
    assert [(s.push_id, s.result) for s in swaps] == [(push_id, "active")]


async def test_open_sessions_are_capped(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        server.sessions.max_open = 2
        first = (await bridge.Hello(hello_request())).session_id
        await bridge.Hello(hello_request())
        details = await _expect_status(
            bridge.Hello(hello_request()), grpc.StatusCode.RESOURCE_EXHAUSTED
        )
        assert "2 open sessions" in details and "limit" in details
        await _stream_all(bridge, [frame_up(1, RGB, session_id=first)])  # ends `first`
        assert (await bridge.Hello(hello_request())).session_id
        assert len(server.sessions.open_sessions()) == 2


async def test_abandoned_sessions_are_reaped_as_interrupted(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        server.sessions.idle_timeout_s = 0.3
        idle = (await bridge.Hello(hello_request())).session_id
        listening = (await bridge.Hello(hello_request())).session_id
        models = bridge.Models(bridge_pb2.ModelsRequest(session_id=listening))
        await wait_for(lambda: server.sessions.get(listening).open_streams == 1)
        await wait_for(lambda: server.sessions.get(idle).state.ended, timeout=5)
        assert server.sessions.get(idle).state is SessionState.INTERRUPTED
        # A session with an open stream is not idle.
        await asyncio.sleep(0.6)
        assert server.sessions.get(listening).state is SessionState.CONNECTED
        models.cancel()
        await wait_for(lambda: server.sessions.get(listening).state.ended, timeout=5)
        # A session whose stream its own bad message ended is reaped too, if unused.
        left = (await bridge.Hello(hello_request())).session_id
        await _expect_status(
            _stream_all(
                bridge,
                [frame_up(1, RGB, session_id=left), frame_up(2, RGB, session_id="x")],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        await wait_for(lambda: server.sessions.get(left).state.ended, timeout=5)
        assert server.sessions.get(left).state is SessionState.INTERRUPTED
    with Store(tmp_path / "store.sqlite") as store:
        states = {s.session_id: s.state for s in store.sessions()}
        frames = store.frames(left)
    assert states == {idle: "interrupted", listening: "interrupted", left: "interrupted"}
    assert [(f.sequence, f.status) for f in frames] == [(1, "processed")]


async def test_malformed_request_bytes_are_invalid_argument_not_unknown(tmp_path: Path) -> None:
    # grpc answers bytes its deserializer cannot parse with UNKNOWN before any
    # interceptor runs; the servicers decode requests themselves instead.
    garbage = b"\xff\xff\xff"
    async with (
        running_server(tmp_path) as server,
        grpc.aio.insecure_channel(server.address) as channel,
    ):
        calls = {
            "HelloRequest": channel.unary_unary("/stylebridge.v1.Bridge/Hello")(garbage),
            "ModelAck": channel.unary_unary("/stylebridge.v1.Bridge/AckModel")(garbage),
            "ModelsRequest": channel.unary_stream("/stylebridge.v1.Bridge/Models")(
                garbage
            ).read(),
            "GetSessionStatsRequest": channel.unary_unary(
                "/stylebridge.v1.Control/GetSessionStats"
            )(garbage),
            "RecordRequest": channel.unary_stream("/stylebridge.v1.Control/RecordFrames")(
                garbage
            ).read(),
        }
        for name, call in calls.items():
            details = await _expect_status(call, grpc.StatusCode.INVALID_ARGUMENT)
            assert f"malformed stylebridge.v1.{name}" in details
