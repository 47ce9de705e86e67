"""The bridge server on real gRPC (127.0.0.1, port 0), real ONNX Runtime, real SQLite.

Protocol-level tests speak through the generated stubs (standard protobuf, as a Unity
client does); streaming with the reference client is in test_client.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import grpc.aio
import numpy as np
import pytest
from bridge_helpers import (
    frame_up,
    hello_request,
    random_frame,
    running_server,
    stubs,
    wait_for,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from stylebridge import PROTOCOL_VERSION
from stylebridge.bridge import BridgeServer
from stylebridge.bridge.control.servicer import clamp_interval_ms
from stylebridge.bridge.core.domain import FrameOutcome, PackedImage
from stylebridge.bridge.frames.convert import frame_down_wire, frame_from_wire
from stylebridge.bridge.frames.runner import PARITY_CAP_DB
from stylebridge.bridge.serving.interceptors import ErrorInterceptor
from stylebridge.config import Limits, ServerConfig
from stylebridge.errors import (
    BackendError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    ProtocolVersionError,
    StateError,
)
from stylebridge.frames import PixelFormat
from stylebridge.inference.base import BackendKind
from stylebridge.inference.simple import IdentityBackend, SlowBackend
from stylebridge.protocol import FrameStatus, SessionState, check_protocol_version
from stylebridge.store import Store
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2
from stylebridge.wire import Blob, join_blobs, split_blobs

pytestmark = pytest.mark.timeout(60)


async def _hello(bridge) -> str:
    return (await bridge.Hello(hello_request())).session_id


async def _expect_status(awaitable, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    assert info.value.code() is code, info.value.details()
    return info.value.details() or ""


async def _stream_all(bridge, messages: list[bridge_pb2.FrameUp]) -> list[bridge_pb2.FrameDown]:
    call = bridge.Frames()
    for message in messages:
        await call.write(message)
    await call.done_writing()
    return [answer async for answer in call]


# --- pure functions -----------------------------------------------------------------


def test_protocol_version_check_names_both_versions() -> None:
    check_protocol_version(PROTOCOL_VERSION, PROTOCOL_VERSION)
    with pytest.raises(ProtocolVersionError, match="client speaks 7, server speaks 1"):
        check_protocol_version(7, 1)
    with pytest.raises(ProtocolVersionError, match="no protocol_version"):
        check_protocol_version(0, 1)


def test_watch_interval_is_clamped() -> None:
    assert [clamp_interval_ms(v) for v in (0, 50, 100, 2500, 10_000, 60_000)] == [
        100,
        100,
        100,
        2500,
        10_000,
        10_000,
    ]


def test_non_loopback_host_needs_a_token(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="without a token"):
        ServerConfig(host="0.0.0.0", store=tmp_path / "s.sqlite")
    with pytest.raises(InvalidInputError, match="at least 16"):
        ServerConfig(host="0.0.0.0", token="secret")
    assert ServerConfig(host="0.0.0.0", token="a-long-enough-secret").host == "0.0.0.0"
    assert ServerConfig(host="::1").host == "::1"


# --- Hello and the frame stream -----------------------------------------------------


async def test_frames_are_processed_with_parity_and_stored(tmp_path: Path) -> None:
    rgb = random_frame(48, 27)
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        hello = await bridge.Hello(hello_request())
        assert hello.protocol_version == PROTOCOL_VERSION
        assert hello.capabilities.python_inference
        assert hello.limits.frame_queue_depth == 1
        assert hello.python_model.model_id == "identity"
        other = random_frame(48, 27, seed=1)
        messages = [
            frame_up(1, rgb, session_id=hello.session_id, engine_output=rgb),
            frame_up(2, rgb, rgba=True, pad=8),  # padded RGBA rows come back as RGB
            frame_up(5, rgb, engine_output=other, engine_ms=None),
        ]
        answers = []
        call = bridge.Frames()
        for message in messages:  # one at a time: no drops
            await call.write(message)
            answers.append(await call.read())
        await call.done_writing()
        assert await call.read() is grpc.aio.EOF
        session = server.sessions.get(hello.session_id)
        assert session.state is SessionState.CLOSED
    assert [a.sequence for a in answers] == [1, 2, 5]
    assert all(a.status == bridge_pb2.FRAME_STATUS_PROCESSED for a in answers)
    for answer in answers:
        out = np.frombuffer(answer.stylized.pixels, np.uint8).reshape(27, 48, 3)
        np.testing.assert_array_equal(out, rgb)  # identity backend
        assert answer.backend == "identity" and answer.model_id == "identity"
    assert answers[0].has_parity and answers[0].parity_psnr_db == PARITY_CAP_DB
    assert not answers[1].has_parity
    assert answers[2].has_parity and 0 < answers[2].parity_psnr_db < 20

    with Store(tmp_path / "store.sqlite") as store:
        rows = store.frames(hello.session_id)
        record = store.session(hello.session_id)
    assert record.state == "ended" and record.ended_at_us
    assert record.engine == "barracuda" and record.gpu == "test-gpu"
    assert [r.sequence for r in rows] == [1, 2, 5]
    assert [r.status for r in rows] == ["processed"] * 3
    assert [r.engine_ms for r in rows] == [5.0, 5.0, None]
    assert rows[0].engine_timing_method == "blocking_readback"
    assert all(r.python_ms is not None and r.python_ms >= 0 for r in rows)
    assert rows[1].pixel_format == "RGBA8"
    assert rows[0].parity_psnr_db == PARITY_CAP_DB and rows[1].parity_psnr_db is None


async def test_slow_python_drops_oldest_frames_and_counts_them_everywhere(
    tmp_path: Path,
) -> None:
    sent = 40
    slow = SlowBackend(IdentityBackend(), 0.05)
    rgb = random_frame(32, 18)
    async with (
        running_server(tmp_path, inject=slow) as server,
        stubs(server) as (bridge, control),
    ):
        session_id = await _hello(bridge)
        messages = [
            frame_up(i + 1, rgb, session_id=session_id if i == 0 else "") for i in range(sent)
        ]
        answers = await _stream_all(bridge, messages)
        stats = await control.GetSessionStats(
            control_pb2.GetSessionStatsRequest(session_id=session_id)
        )
    statuses = [a.status for a in answers]
    processed = statuses.count(bridge_pb2.FRAME_STATUS_PROCESSED)
    dropped = statuses.count(bridge_pb2.FRAME_STATUS_DROPPED)
    assert sorted(a.sequence for a in answers) == list(range(1, sent + 1))  # each once
    assert dropped > 0 and processed + dropped == sent
    # Newest frame wins: the last frame is never the one dropped.
    last = next(a for a in answers if a.sequence == sent)
    assert last.status == bridge_pb2.FRAME_STATUS_PROCESSED
    dropped_answers = [a for a in answers if a.status == bridge_pb2.FRAME_STATUS_DROPPED]
    assert all(not a.HasField("stylized") for a in dropped_answers)
    assert max(a.dropped_total for a in answers) == dropped
    assert stats.frames_dropped == dropped and stats.frames_processed == processed
    assert stats.frames_received == sent and stats.python.count == processed
    with Store(tmp_path / "store.sqlite") as store:
        counts = store.frame_counts(session_id)
    assert counts == {"processed": processed, "dropped": dropped}


async def test_record_only_server_answers_recorded(tmp_path: Path) -> None:
    rgb = random_frame()
    async with (
        running_server(tmp_path, backend=BackendKind.ONNXRUNTIME) as server,
        stubs(server) as (bridge, _),
    ):
        hello = await bridge.Hello(hello_request())
        assert not hello.capabilities.python_inference
        assert server.python_backend == "none"
        answers = await _stream_all(
            bridge, [frame_up(1, rgb, session_id=hello.session_id), frame_up(2, rgb)]
        )
    assert [a.status for a in answers] == [bridge_pb2.FRAME_STATUS_RECORDED] * 2
    assert not any(a.HasField("stylized") for a in answers)


class _FailingBackend(IdentityBackend):
    def run(self, frame: np.ndarray) -> np.ndarray:
        raise BackendError("model exploded on purpose")


async def test_backend_failure_fails_the_frame_not_the_stream(tmp_path: Path) -> None:
    rgb = random_frame()
    async with (
        running_server(tmp_path, inject=_FailingBackend()) as server,
        stubs(server) as (bridge, _),
    ):
        session_id = await _hello(bridge)
        call = bridge.Frames()
        answers = []
        for i in range(3):
            await call.write(frame_up(i + 1, rgb, session_id=session_id if i == 0 else ""))
            answers.append(await call.read())
        await call.done_writing()
        assert await call.read() is grpc.aio.EOF
        stats = server.sessions.get(session_id).stats()
    assert [a.status for a in answers] == [bridge_pb2.FRAME_STATUS_FAILED] * 3
    assert answers[0].error == "model exploded on purpose"
    assert stats.frames_failed == 3 and stats.session.state is SessionState.CLOSED


# --- refusals -------------------------------------------------------------------------


async def test_wrong_protocol_version_is_failed_precondition(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        details = await _expect_status(
            bridge.Hello(hello_request(version=PROTOCOL_VERSION + 1)),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        assert f"client speaks {PROTOCOL_VERSION + 1}" in details
        assert f"server speaks {PROTOCOL_VERSION}" in details
        details = await _expect_status(
            bridge.Hello(hello_request(engine=0)), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert "client.engine is not set" in details
        assert len(server.sessions) == 0


async def test_frames_for_an_unknown_session_is_not_found(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        details = await _expect_status(
            _stream_all(bridge, [frame_up(1, random_frame(), session_id="nope")]),
            grpc.StatusCode.NOT_FOUND,
        )
        assert "'nope'" in details and "Hello" in details
        details = await _expect_status(
            _stream_all(bridge, [frame_up(1, random_frame())]),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert "first FrameUp" in details


@pytest.mark.parametrize(
    ("mutate", "code", "needle"),
    [
        (
            lambda m: setattr(m.image, "pixels", m.image.pixels[:-1]),
            "INVALID_ARGUMENT",
            "pixel bytes",
        ),
        (lambda m: setattr(m.image, "row_stride", 3), "INVALID_ARGUMENT", "row stride"),
        (lambda m: setattr(m.image, "pixel_format", 0), "INVALID_ARGUMENT", "not set"),
        (lambda m: m.ClearField("image"), "INVALID_ARGUMENT", "has no image"),
        (
            lambda m: setattr(m.engine_timing, "inference_ms", -1.0),
            "INVALID_ARGUMENT",
            "finite",
        ),
        (
            lambda m: setattr(m.engine_timing, "inference_ms", float("nan")),
            "INVALID_ARGUMENT",
            "finite",
        ),
        (
            lambda m: setattr(m.engine_timing, "method", 0),
            "INVALID_ARGUMENT",
            "method is not set",
        ),
        (lambda m: setattr(m, "sequence", 1), "INVALID_ARGUMENT", "does not increase"),
        (lambda m: setattr(m.image, "width", 5000), "RESOURCE_EXHAUSTED", "limit"),
        (
            lambda m: m.engine_output.CopyFrom(
                common_pb2.Image(width=2, height=2, pixel_format=1, row_stride=6, pixels=bytes(12))
            ),
            "INVALID_ARGUMENT",
            "engine_output is 2x2",
        ),
    ],
)
async def test_invalid_frame_is_rejected_and_the_stream_goes_on(
    tmp_path: Path,
    mutate,
    code: str,
    needle: str,
) -> None:
    # Issue 7: a frame whose content breaks a rule is answered REJECTED (with the
    # status code and message it used to end the stream with); the stream goes on.
    rgb = random_frame()
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        session_id = await _hello(bridge)
        bad = frame_up(2, rgb)
        mutate(bad)
        answers = await _stream_all(
            bridge, [frame_up(1, rgb, session_id=session_id), bad, frame_up(3, rgb)]
        )
        # A rejection is answered at once, maybe before an earlier frame in inference.
        assert sorted(a.sequence for a in answers) == sorted([1, bad.sequence, 3])
        (rejected,) = [a for a in answers if a.status == bridge_pb2.FRAME_STATUS_REJECTED]
        assert rejected.sequence == bad.sequence
        assert rejected.error_code == getattr(grpc.StatusCode, code).value[0]
        assert needle in rejected.error
        assert answers[-1].sequence == 3
        assert answers[-1].status == bridge_pb2.FRAME_STATUS_PROCESSED
        session = server.sessions.get(session_id)
        await wait_for(lambda: session.state.ended)
        assert session.state is SessionState.CLOSED
        assert session.frames_rejected == 1 and session.frames_received == 2


async def test_another_session_id_mid_stream_ends_the_stream(tmp_path: Path) -> None:
    rgb = random_frame()
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        session_id = await _hello(bridge)
        details = await _expect_status(
            _stream_all(
                bridge,
                [frame_up(1, rgb, session_id=session_id), frame_up(2, rgb, session_id="other")],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert "belongs to" in details
        session = server.sessions.get(session_id)
        await wait_for(lambda: session.open_streams == 0)
        # The stream ended for the client's own bad message: the session stays open.
        assert session.state is SessionState.CONNECTED
        assert session.frames_rejected == 1 and session.frames_received == 1


async def test_frame_over_the_byte_limit_is_resource_exhausted(tmp_path: Path) -> None:
    rgb = random_frame(64, 36)
    limits = Limits(max_frame_bytes=64 * 36 * 3 - 1)
    async with (
        running_server(tmp_path, limits=limits) as server,
        stubs(server) as (bridge, _),
    ):
        session_id = await _hello(bridge)
        # Issue 7: answered REJECTED with RESOURCE_EXHAUSTED's code; the stream goes on.
        (answer,) = await _stream_all(bridge, [frame_up(1, rgb, session_id=session_id)])
        assert answer.status == bridge_pb2.FRAME_STATUS_REJECTED
        assert answer.error_code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
        assert "max_frame_bytes" in answer.error
        assert server.sessions.get(session_id).frames_rejected == 1


async def test_second_concurrent_stream_is_refused(tmp_path: Path) -> None:
    rgb = random_frame()
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        session_id = await _hello(bridge)
        first = bridge.Frames()
        await first.write(frame_up(1, rgb, session_id=session_id))
        assert (await first.read()).sequence == 1
        details = await _expect_status(
            _stream_all(bridge, [frame_up(1, rgb, session_id=session_id)]),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        assert "already has an open Frames stream" in details
        await first.write(frame_up(2, rgb))  # the first stream is unharmed
        assert (await first.read()).status == bridge_pb2.FRAME_STATUS_PROCESSED
        await first.done_writing()
        assert await first.read() is grpc.aio.EOF
        details = await _expect_status(
            _stream_all(bridge, [frame_up(3, rgb, session_id=session_id)]),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        assert "has ended" in details


async def test_client_disconnect_marks_the_session_interrupted(tmp_path: Path) -> None:
    rgb = random_frame()
    slow = SlowBackend(IdentityBackend(), 0.2)
    async with (
        running_server(tmp_path, inject=slow) as server,
        stubs(server) as (bridge, _),
    ):
        session_id = await _hello(bridge)
        models = bridge.Models(bridge_pb2.ModelsRequest(session_id=session_id))
        call = bridge.Frames()
        await call.write(frame_up(1, rgb, session_id=session_id))
        await call.write(frame_up(2, rgb))
        session = server.sessions.get(session_id)
        await wait_for(lambda: session.frames_received == 2)
        call.cancel()  # the client goes away with frames in flight
        await wait_for(lambda: session.state.ended)
        assert session.state is SessionState.INTERRUPTED
        # The Models stream lasts as long as the session: it ends now, cleanly.
        assert [chunk async for chunk in models] == []
    with Store(tmp_path / "store.sqlite") as store:
        assert store.session(session_id).state == "interrupted"


async def test_shutdown_interrupts_open_sessions_and_leaks_no_tasks(
    tmp_path: Path,
) -> None:
    before = asyncio.all_tasks()
    rgb = random_frame()
    server = BridgeServer(
        ServerConfig(
            port=0,
            backend=BackendKind.IDENTITY,
            store=tmp_path / "s.sqlite",
            grace_s=0.1,
        )
    )
    await server.start()
    async with stubs(server) as (bridge, control):
        session_id = await _hello(bridge)
        idle_id = await _hello(bridge)
        call = bridge.Frames()
        await call.write(frame_up(1, rgb, session_id=session_id))
        assert (await call.read()).sequence == 1
        watch = control.WatchSessionStats(control_pb2.WatchSessionStatsRequest(session_id=idle_id))
        assert (await watch.read()).session.session_id == idle_id
        await server.close()
        await server.close()  # safe twice
        states = {s.session_id: s.state for s in server.sessions}
        assert states == {
            session_id: SessionState.INTERRUPTED,
            idle_id: SessionState.INTERRUPTED,
        }
        with pytest.raises(grpc.aio.AioRpcError):
            await call.read()
    await asyncio.sleep(0.1)
    leaked = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
    assert leaked == []
    with Store(tmp_path / "s.sqlite") as store:
        assert {s.state for s in store.sessions()} == {"interrupted"}


# --- Control ---------------------------------------------------------------------------


async def test_control_lists_and_reports_consistent_numbers(tmp_path: Path) -> None:
    rgb = random_frame()
    async with running_server(tmp_path) as server, stubs(server) as (bridge, control):
        session_id = await _hello(bridge)
        other_id = await _hello(bridge)
        await _stream_all(
            bridge,
            [frame_up(1, rgb, session_id=session_id, engine_output=rgb)]
            + [frame_up(i, rgb, engine_ms=float(i)) for i in range(2, 11)],
        )
        listed = await control.ListSessions(control_pb2.ListSessionsRequest())
        stats = await control.GetSessionStats(
            control_pb2.GetSessionStatsRequest(session_id=session_id)
        )
        watch = control.WatchSessionStats(
            control_pb2.WatchSessionStatsRequest(session_id=session_id, interval_ms=1)
        )
        watched = [await watch.read(), await watch.read()]
        watch.cancel()
        await _expect_status(
            control.GetSessionStats(control_pb2.GetSessionStatsRequest(session_id="nope")),
            grpc.StatusCode.NOT_FOUND,
        )
    by_id = {s.session_id: s for s in listed.sessions}
    assert set(by_id) == {session_id, other_id}
    assert by_id[session_id].state == control_pb2.SESSION_STATE_CLOSED
    assert by_id[other_id].state == control_pb2.SESSION_STATE_CONNECTED
    assert by_id[session_id].engine_model_id == "engine-model"
    assert by_id[session_id].python_model_id == "identity"
    assert by_id[session_id].peer.startswith("ipv")
    assert stats.frames_received == 10
    assert stats.frames_processed + stats.frames_dropped == 10
    assert stats.python.count == stats.frames_processed
    assert stats.engine.count == 10 and stats.engine.last_ms == 10.0
    assert stats.engine_timing_method == common_pb2.TIMING_METHOD_BLOCKING_READBACK
    assert stats.parity_count == 1 and stats.parity_psnr_last_db == PARITY_CAP_DB
    assert stats.python_backend == "identity"
    for update in watched:
        assert update.frames_received == stats.frames_received
        assert update.frames_dropped == stats.frames_dropped
        assert update.engine.mean_ms == pytest.approx(stats.engine.mean_ms)


async def test_models_and_ack_validate_the_session(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (bridge, _):
        session_id = await _hello(bridge)
        # An ack must answer a push (issue 4): one without a push_id is refused.
        await _expect_status(
            bridge.AckModel(bridge_pb2.ModelAck(session_id=session_id)),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        await _expect_status(
            bridge.AckModel(bridge_pb2.ModelAck(session_id="nope")),
            grpc.StatusCode.NOT_FOUND,
        )
        models = bridge.Models(bridge_pb2.ModelsRequest(session_id="nope"))
        await _expect_status(models.read(), grpc.StatusCode.NOT_FOUND)
        assert server.sessions.get(session_id).state is SessionState.CONNECTED


# --- the interceptor, for all four RPC kinds -------------------------------------------


async def _raising_unary(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    raise NotFoundError(f"no {request.decode()}")


async def _raising_server_stream(request: bytes, context: grpc.aio.ServicerContext):
    yield b"first"
    raise LimitExceededError("too much")


async def _raising_client_stream(requests, context: grpc.aio.ServicerContext) -> bytes:
    async for _ in requests:
        raise StateError("not now")
    return b""


async def _raising_bidi(requests, context: grpc.aio.ServicerContext):
    async for request in requests:
        yield request
        raise RuntimeError("secret internal detail")


async def test_error_interceptor_maps_errors_for_all_four_rpc_kinds() -> None:
    handler = grpc.method_handlers_generic_handler(
        "test.Errors",
        {
            "Unary": grpc.unary_unary_rpc_method_handler(_raising_unary),
            "ServerStream": grpc.unary_stream_rpc_method_handler(_raising_server_stream),
            "ClientStream": grpc.stream_unary_rpc_method_handler(_raising_client_stream),
            "Bidi": grpc.stream_stream_rpc_method_handler(_raising_bidi),
        },
    )
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            details = await _expect_status(
                channel.unary_unary("/test.Errors/Unary")(b"thing"),
                grpc.StatusCode.NOT_FOUND,
            )
            assert details == "no thing"
            call = channel.unary_stream("/test.Errors/ServerStream")(b"")
            assert await call.read() == b"first"
            details = await _expect_status(call.read(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            assert details == "too much"
            details = await _expect_status(
                channel.stream_unary("/test.Errors/ClientStream")(iter([b"x"])),
                grpc.StatusCode.FAILED_PRECONDITION,
            )
            assert details == "not now"
            call = channel.stream_stream("/test.Errors/Bidi")(iter([b"echo"]))
            assert await call.read() == b"echo"
            details = await _expect_status(call.read(), grpc.StatusCode.INTERNAL)
            assert "RuntimeError" in details and "secret" not in details
    finally:
        await server.stop(0)


async def test_token_is_required_when_configured(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path, token="s3cret") as server,
        stubs(server) as (bridge, control),
    ):
        await _expect_status(bridge.Hello(hello_request()), grpc.StatusCode.UNAUTHENTICATED)
        await _expect_status(
            bridge.Hello(hello_request(), metadata=(("authorization", "Bearer wrong"),)),
            grpc.StatusCode.UNAUTHENTICATED,
        )
        good = (("authorization", "Bearer s3cret"),)
        hello = await bridge.Hello(hello_request(), metadata=good)
        await _expect_status(
            _stream_all(bridge, [frame_up(1, random_frame(), session_id=hello.session_id)]),
            grpc.StatusCode.UNAUTHENTICATED,
        )
        listed = await control.ListSessions(control_pb2.ListSessionsRequest(), metadata=good)
        assert [s.session_id for s in listed.sessions] == [hello.session_id]


# --- the wire format of frames ----------------------------------------------------------

_blob = st.binary(max_size=64)
_image = st.builds(
    common_pb2.Image,
    width=st.integers(0, 2**32 - 1),
    height=st.integers(0, 2**32 - 1),
    pixel_format=st.sampled_from([0, 1, 2]),
    row_stride=st.integers(0, 2**32 - 1),
    pixels=_blob,
)


@st.composite
def _frame_ups(draw: st.DrawFn) -> bridge_pb2.FrameUp:
    message = bridge_pb2.FrameUp(
        session_id=draw(st.text(max_size=8)),
        sequence=draw(st.integers(0, 2**64 - 1)),
        capture_time_us=draw(st.integers(-(2**63), 2**63 - 1)),
        model_id=draw(st.text(max_size=8)),
    )
    if draw(st.booleans()):
        message.image.CopyFrom(draw(_image))
    if draw(st.booleans()):
        message.engine_output.CopyFrom(draw(_image))
    if draw(st.booleans()):
        message.engine_timing.inference_ms = draw(st.floats(allow_nan=False))
        message.engine_timing.method = draw(st.integers(0, 4))
    return message


@settings(max_examples=200, deadline=None)
@given(_frame_ups())
def test_split_blobs_cuts_pixels_out_of_any_frame_up(
    message: bridge_pb2.FrameUp,
) -> None:
    data = message.SerializeToString()
    split = split_blobs(data, {4: 5, 7: 5})
    rest = bridge_pb2.FrameUp.FromString(split.rest)
    expected = bridge_pb2.FrameUp()
    expected.CopyFrom(message)
    blobs = {}
    for field, name in ((4, "image"), (7, "engine_output")):
        if expected.HasField(name):
            sub = getattr(expected, name)
            if sub.pixels:
                blobs[(field, 5)] = sub.pixels
            sub.pixels = b""
    assert rest == expected
    assert {key: bytes(view) for key, view in split.blobs.items()} == blobs


@settings(max_examples=100, deadline=None)
@given(_frame_ups(), st.binary(max_size=64), st.binary(max_size=64))
def test_join_blobs_is_standard_protobuf(
    message: bridge_pb2.FrameUp, pixels: bytes, output: bytes
) -> None:
    message.ClearField("image")
    message.ClearField("engine_output")
    head = common_pb2.Image(width=3, height=1, pixel_format=1, row_stride=9)
    data = join_blobs(
        message.SerializeToString(),
        [
            Blob(4, head.SerializeToString(), 5, pixels),
            Blob(7, b"", 5, memoryview(np.frombuffer(output, np.uint8))),
        ],
    )
    parsed = bridge_pb2.FrameUp.FromString(data)
    assert parsed.image.pixels == pixels and parsed.image.row_stride == 9
    assert parsed.engine_output.pixels == output
    parsed.ClearField("image")
    parsed.ClearField("engine_output")
    assert parsed == message
    assert split_blobs(data, {4: 5, 7: 5}).blobs[(4, 5)] == pixels


@pytest.mark.parametrize(
    "data",
    [
        b"\x22\x05ab",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x00\x01",
        b"\x23\x01",
    ],
)
def test_split_blobs_refuses_malformed_bytes(data: bytes) -> None:
    with pytest.raises(InvalidInputError, match="malformed"):
        split_blobs(data, {4: 5})


def test_frame_down_wire_parses_as_a_frame_down() -> None:
    rgb = random_frame(4, 2)
    frame = frame_from_wire(frame_up(9, rgb, session_id="s").SerializeToString(), Limits())
    assert frame.session_id == "s" and frame.sequence == 9 and frame.engine_ms == 5.0
    np.testing.assert_array_equal(frame.rgb, rgb)
    stylized = PackedImage(4, 2, PixelFormat.RGB8, 12, memoryview(rgb.tobytes()))
    outcome = FrameOutcome(
        frame,
        FrameStatus.PROCESSED,
        stylized=stylized,
        python_ms=1.5,
        queue_ms=0.5,
        parity_psnr_db=42.0,
        dropped_total=3,
    )
    down = bridge_pb2.FrameDown.FromString(frame_down_wire(outcome, backend="b", model_id="m"))
    assert (down.sequence, down.status, down.dropped_total) == (9, 1, 3)
    assert (down.backend, down.model_id, down.python_inference_ms) == ("b", "m", 1.5)
    assert down.has_parity and down.parity_psnr_db == 42.0
    assert down.stylized.pixels == rgb.tobytes() and down.stylized.row_stride == 12


async def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        second = BridgeServer(
            ServerConfig(
                port=server.port, backend=BackendKind.IDENTITY, store=tmp_path / "b.sqlite"
            )
        )
        with pytest.raises(StateError, match=r"cannot listen on 127\.0\.0\.1"):
            await second.start()
        await second.close()  # closing a server that failed to start is harmless
