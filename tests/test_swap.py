"""Live hot-swap end to end: a real server on 127.0.0.1:0 watching a real temp catalog,
clients on real gRPC, real ONNX files (tiny, built in milliseconds), a real SQLite store.

Clients here speak the raw protocol (``swap_helpers.RawSwapClient``, as a Unity client
does) so that each test controls exactly when frames go and what is acknowledged; the
reference client's own swap handling is tested in test_reference_swap.py and, against
this server, at the end of this file.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import typer
from bridge_helpers import random_frame, running_server, stubs, wait_for
from swap_helpers import (
    BARRACUDA,
    SENTIS,
    RawSwapClient,
    drop_into,
    quantized_onnx,
    tiny_onnx,
)

from stylebridge.bridge import BridgeServer
from stylebridge.bridge.swaps.swap_domain import OutgoingChunk
from stylebridge.client import ControlClient
from stylebridge.errors import NotFoundError
from stylebridge.inference.base import BackendKind
from stylebridge.protocol import SwapResult
from stylebridge.store import Store
from stylebridge.v1 import bridge_pb2, control_pb2

if TYPE_CHECKING:
    from typer.testing import CliRunner

pytestmark = pytest.mark.timeout(60)

FRAME = random_frame(32, 18)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "a.onnx").write_bytes(tiny_onnx(1))
    return folder


@contextlib.asynccontextmanager
async def client(
    server: BridgeServer, model_id: str = "a", *, models: bool = True, **options: object
) -> AsyncIterator[RawSwapClient]:
    """A raw client that said Hello (running ``model_id`` from the catalog) and opened
    its Models and Frames streams."""
    async with stubs(server) as (bridge, _):
        sha = ""
        found = server.pushes.registry.find(model_id)
        if found is not None:
            sha = found.sha256
        raw = RawSwapClient(bridge, model_id=model_id, sha256=sha, **options)  # type: ignore[arg-type]
        await raw.hello()
        if models:
            await raw.open_models()
            await wait_for(lambda: server.sessions.get(raw.session_id).models_open)
        await raw.open_frames()
        try:
            yield raw
        finally:
            await raw.close()


async def stream_until(
    raw: RawSwapClient, done: object, *, start: int = 1, limit: int = 300
) -> int:
    """Send frames every 10 ms until ``done()`` holds (then 5 more); returns the next sequence."""
    sequence = start
    extra = 5
    while extra > 0 and sequence < start + limit:
        await raw.send_frame(sequence, FRAME)
        sequence += 1
        if done():  # type: ignore[operator]
            extra -= 1
        await asyncio.sleep(0.01)
    return sequence


async def assert_every_frame_answered_by_its_model(raw: RawSwapClient) -> None:
    with contextlib.suppress(AssertionError):
        await wait_for(lambda: len(raw.answers) >= len(raw.sent), timeout=5.0)
    assert sorted(raw.answers) == sorted(raw.sent), "a frame got no answer"
    wrong = {
        s: (m, raw.answers[s].model_id) for s, m in raw.sent.items() if raw.answers[s].model_id != m
    }
    assert not wrong, f"frames answered by another model than they named: {wrong}"
    statuses = {s: (a.status, a.error, a.model_note) for s, a in raw.answers.items()}
    # A busy machine may drop frames (newest frame wins); none may fail, and Python must
    # have run every model the client sent (the last frame of a stream is never dropped).
    ran = {bridge_pb2.FRAME_STATUS_PROCESSED, bridge_pb2.FRAME_STATUS_DROPPED}
    assert all(a.status in ran for a in raw.answers.values()), statuses
    processed = {
        a.model_id for a in raw.answers.values() if a.status == bridge_pb2.FRAME_STATUS_PROCESSED
    }
    assert processed == set(raw.sent.values()), statuses


async def test_swap_during_streaming_switches_python_at_the_same_frame(
    tmp_path: Path, catalog: Path
) -> None:
    async with (
        running_server(
            tmp_path, catalog=catalog, model=catalog / "a.onnx", backend=BackendKind.ONNXRUNTIME
        ) as server,
        client(server) as one,
        client(server) as two,
    ):
        assert server.pushes.registry.get("a").ref.version == 1
        for raw in (one, two):
            await raw.stream(5, FRAME)
        drop_into(catalog, tiny_onnx(2), "b.onnx")
        await asyncio.gather(
            stream_until(one, lambda: one.acks, start=6),
            stream_until(two, lambda: two.acks, start=6),
        )
        await wait_for(
            lambda: len(one.answers) == len(one.sent) and len(two.answers) == len(two.sent)
        )
        for raw in (one, two):
            assert [r.model.model_id for r in raw.received] == ["b"]
            (ack,) = raw.acks
            assert ack.status == bridge_pb2.ACK_STATUS_ACTIVE
            first_b = min(s for s, m in raw.sent.items() if m == "b")
            assert ack.first_sequence == first_b
            assert all(m == "a" for s, m in raw.sent.items() if s < first_b)
            await assert_every_frame_answered_by_its_model(raw)
            session = server.sessions.get(raw.session_id)
            assert session.active_model.model_id == "b"
            assert session.last_swap is not None and session.last_swap.result is SwapResult.ACTIVE
            assert {t.model_id for t in session.stats().per_model} == {"a", "b"}
        metadata = one.received[0].metadata
        assert (metadata.input_layout, metadata.input_range, metadata.opset) == ("NCHW", 255.0, 13)
    with Store(tmp_path / "store.sqlite") as store:
        rows = store.swaps()
        assert {r.session_id for r in rows} == {one.session_id, two.session_id}
        assert all(
            (r.result, r.from_model_id, r.to_model_id, r.trigger) == ("active", "a", "b", "watch")
            for r in rows
        )
        assert all(r.import_ms == 1.0 and r.first_sequence for r in rows)
        frames = store.frames(one.session_id)
        assert {f.python_model_id for f in frames} == {"a", "b"}
        assert all(f.python_model_id == f.engine_model_id for f in frames)


async def test_half_written_file_waits_and_one_write_pushes_once(
    tmp_path: Path, catalog: Path
) -> None:
    data = tiny_onnx(3)
    async with (
        running_server(tmp_path, catalog=catalog, settle_s=0.1) as server,
        client(server) as raw,
    ):
        target = catalog / "c.onnx"
        with target.open("wb") as out:  # an editor writing in place, stalling half way
            out.write(data[: len(data) // 2])
            out.flush()
            await stream_until(raw, lambda: bool(server.pushes.registry.refused()))
            assert raw.received == [], "a half-written file was pushed"
            (refused,) = server.pushes.registry.refused()
            assert refused.model_id == "c" and "not an ONNX model" in refused.error
            out.write(data[len(data) // 2 :])
        sequence = await stream_until(raw, lambda: raw.acks, start=100)
        target.write_bytes(data)  # the same bytes written again: no new version
        await stream_until(raw, lambda: False, start=sequence, limit=40)
        assert [r.model.model_id for r in raw.received] == ["c"]
        assert server.pushes.registry.get("c").ref.version == 1
        assert server.pushes.registry.refused() == []
        await assert_every_frame_answered_by_its_model(raw)


async def test_engine_verdicts_differ_per_client_and_refused_models_never_travel(
    tmp_path: Path, catalog: Path
) -> None:
    async with (
        running_server(tmp_path, catalog=catalog) as server,
        client(server, engine=BARRACUDA, engine_version="1.0.4") as old,
        client(server, engine=SENTIS, engine_version="2.1.0") as new,
    ):
        drop_into(catalog, tiny_onnx(4, opset=13), "d13.onnx")
        await asyncio.gather(
            stream_until(old, lambda: server.sessions.get(old.session_id).last_swap is not None),
            stream_until(new, lambda: new.acks),
        )
        refused = server.sessions.get(old.session_id).last_swap
        assert refused is not None and refused.result is SwapResult.REFUSED
        assert "barracuda-1.0 cannot run d13" in refused.reason and "opset" in refused.reason
        assert old.received == [] and old.acks == []
        assert server.sessions.get(old.session_id).active_model.model_id == "a"
        assert [r.model.model_id for r in new.received] == ["d13"]
        await assert_every_frame_answered_by_its_model(old)
        assert set(old.sent.values()) == {"a"}

        # An int8 model no engine runs: an explicit swap is refused for both, nothing sent.
        drop_into(catalog, quantized_onnx(tiny_onnx(5), tmp_path), "q8.onnx")
        await wait_for(lambda: server.pushes.registry.find("q8") is not None)
        async with ControlClient(server.address) as control:
            _, outcomes = await control.swap("q8", [old.session_id, new.session_id])
            listing = await control.list_models()
        assert [o.result for o in outcomes] == [SwapResult.REFUSED, SwapResult.REFUSED]
        assert all("cannot run q8" in o.reason for o in outcomes)
        assert len(old.received) == 0 and len(new.received) == 1
        verdicts = {
            m.model.model_id: {e.engine: e.verdict for e in m.engines} for m in listing.models
        }
        assert verdicts["d13"]["barracuda-1.0"] == "cannot-run"
        assert verdicts["d13"]["sentis-2"] == "runs"
        assert set(verdicts["q8"].values()) == {"cannot-run"}
    with Store(tmp_path / "store.sqlite") as store:
        rows = sorted((r.to_model_id, r.trigger, r.result) for r in store.swaps(old.session_id))
        assert rows == [
            ("d13", "watch", "refused"),
            ("q8", "swap", "refused"),
            ("q8", "watch", "refused"),
        ]


async def test_truncated_file_is_refused_before_any_push(tmp_path: Path, catalog: Path) -> None:
    async with running_server(tmp_path, catalog=catalog) as server, client(server) as raw:
        data = tiny_onnx(6)
        drop_into(catalog, data[: len(data) - 100], "broken.onnx")
        await stream_until(raw, lambda: bool(server.pushes.registry.refused()))
        async with ControlClient(server.address) as control:
            listing = await control.list_models()
            with pytest.raises(NotFoundError, match="refused"):
                await control.swap("broken", all_sessions=True)
        (broken,) = [m for m in listing.models if m.model.model_id == "broken"]
        assert not broken.valid and "ONNX" in broken.error
        assert raw.received == [] and raw.acks == []
        # The live table says why nothing came.
        last = server.sessions.get(raw.session_id).last_swap
        assert last is not None and last.result is SwapResult.REFUSED
        assert last.to_model.model_id == "broken" and "not an ONNX model" in last.reason
        assert server.sessions.get(raw.session_id).active_model.model_id == "a"


async def test_bad_sha256_in_transit_is_rolled_back(tmp_path: Path, catalog: Path) -> None:
    def corrupt(chunk: OutgoingChunk) -> OutgoingChunk:
        data = bytearray(chunk.data)
        data[len(data) // 2] ^= 0xFF
        return replace(chunk, data=bytes(data))

    (catalog / "e.onnx").write_bytes(tiny_onnx(7))
    async with running_server(tmp_path, catalog=catalog) as server, client(server) as raw:
        server.pushes.chunk_transform = corrupt
        async with ControlClient(server.address) as control:
            swap = asyncio.create_task(control.swap("e", [raw.session_id], ack_timeout_s=5.0))
            await stream_until(raw, swap.done)
            _, (outcome,) = swap.result()
        assert outcome.result is SwapResult.ROLLED_BACK and "sha256" in outcome.reason
        assert [a.status for a in raw.acks] == [bridge_pb2.ACK_STATUS_ROLLED_BACK]
        assert set(raw.sent.values()) == {"a"}
        assert server.sessions.get(raw.session_id).active_model.model_id == "a"
        await assert_every_frame_answered_by_its_model(raw)
    with Store(tmp_path / "store.sqlite") as store:
        (row,) = store.swaps(raw.session_id)
        assert (row.result, row.to_model_id, row.first_sequence) == ("rolled_back", "e", None)


async def test_late_joiner_gets_the_current_model_and_pinned_ones_only_explicit_swaps(
    tmp_path: Path, catalog: Path
) -> None:
    async with running_server(tmp_path, catalog=catalog) as server:
        drop_into(catalog, tiny_onnx(8), "f.onnx")
        await wait_for(lambda: server.pushes.registry.current is not None)
        assert server.pushes.registry.current.model_id == "f"
        async with client(server) as late, client(server, pinned=True) as pinned:
            await asyncio.gather(
                stream_until(late, lambda: late.acks),
                pinned.stream(20, FRAME),
            )
            assert [r.model.model_id for r in late.received] == ["f"]
            assert server.sessions.get(late.session_id).last_swap.trigger == "join"
            assert pinned.received == []
            async with ControlClient(server.address) as control:
                swap = asyncio.create_task(control.swap("f", [pinned.session_id]))
                await stream_until(pinned, swap.done, start=21)
                _, (outcome,) = swap.result()
                sessions = await control.list_sessions()
            assert outcome.result is SwapResult.ACTIVE and outcome.trigger == "swap"
            assert outcome.first_sequence == min(s for s, m in pinned.sent.items() if m == "f")
            by_id = {s.session_id: s for s in sessions}
            assert (
                by_id[pinned.session_id].pinned
                and by_id[pinned.session_id].active_model.model_id == "f"
            )
            await assert_every_frame_answered_by_its_model(late)
            await assert_every_frame_answered_by_its_model(pinned)


async def test_unknown_model_falls_back_and_says_so(tmp_path: Path, catalog: Path) -> None:
    async with (
        running_server(tmp_path, catalog=catalog) as server,
        client(server, "nowhere") as raw,
    ):
        await raw.stream(3, FRAME)
        await wait_for(lambda: len(raw.answers) == 3)
        for answer in raw.answers.values():
            assert answer.status == bridge_pb2.FRAME_STATUS_PROCESSED
            assert answer.model_id == "identity"
            assert "'nowhere' is unknown to the server" in answer.model_note


async def test_size_limit_and_clients_without_models_stream(tmp_path: Path, catalog: Path) -> None:
    (catalog / "g.onnx").write_bytes(tiny_onnx(9))
    async with (
        running_server(tmp_path, catalog=catalog) as server,
        client(server, max_model_bytes=100) as small,
        client(server, models=False) as silent,
    ):
        async with ControlClient(server.address) as control:
            _, outcomes = await control.swap("g", all_sessions=True)
        by_session = {o.session_id: o for o in outcomes}
        assert by_session[small.session_id].result is SwapResult.REFUSED
        assert "over this session's limit of 100 bytes" in by_session[small.session_id].reason
        assert by_session[silent.session_id].result is SwapResult.NOT_CONNECTED
        assert small.received == []


async def test_ack_for_unknown_push_is_refused(tmp_path: Path, catalog: Path) -> None:
    async with running_server(tmp_path, catalog=catalog) as server, stubs(server) as (bridge, _):
        raw = RawSwapClient(bridge, model_id="a")
        await raw.hello()
        with pytest.raises(Exception, match="no push"):
            await bridge.AckModel(
                bridge_pb2.ModelAck(
                    session_id=raw.session_id,
                    push_id="nope",
                    status=bridge_pb2.ACK_STATUS_ACTIVE,
                )
            )


async def test_server_without_catalog_refuses_swaps(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, stubs(server) as (_, control):
        with pytest.raises(Exception, match="--catalog"):
            await control.ListModels(control_pb2.ListModelsRequest())


async def test_cli_models_swap_and_sessions(tmp_path: Path, catalog: Path) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    runner = CliRunner(env={"COLUMNS": "250"})
    (catalog / "h.onnx").write_bytes(tiny_onnx(11))
    (catalog / "junk.onnx").write_bytes(b"junk")
    async with running_server(tmp_path, catalog=catalog) as server:
        async with client(server) as raw:
            await _cli_swap(runner, app, server.address, raw)
        # The session has closed: --watch shows its statistics once, per model.
        watched = await asyncio.to_thread(
            runner.invoke, app, ["sessions", "--server", server.address, "--watch", raw.session_id]
        )
        assert watched.exit_code == 0, watched.output
        assert "a engine" in watched.output and "h python" in watched.output
        assert "last swap" in watched.output and "a -> h v1 active (swap" in watched.output


async def _cli_swap(runner: CliRunner, app: typer.Typer, address: str, raw: RawSwapClient) -> None:
    """models, swap --all, sessions and the refusals, while ``raw`` streams."""
    listed = await asyncio.to_thread(runner.invoke, app, ["models", "--server", address])
    assert listed.exit_code == 0, listed.output
    assert "barracuda-1.0" in listed.output and "cannot-run" in listed.output
    assert "refused junk.onnx" in listed.output
    swap = asyncio.ensure_future(
        asyncio.to_thread(runner.invoke, app, ["swap", "h", "--all", "--server", address])
    )
    await stream_until(raw, swap.done)
    swapped = swap.result()
    assert swapped.exit_code == 0, swapped.output
    assert "active" in swapped.output and raw.session_id[:12] in swapped.output
    sessions = await asyncio.to_thread(runner.invoke, app, ["sessions", "--server", address])
    assert sessions.exit_code == 0, sessions.output
    assert "a -> h v1 active" in sessions.output
    missing = await asyncio.to_thread(
        runner.invoke, app, ["swap", "nope", "--all", "--server", address]
    )
    assert missing.exit_code != 0 and "no model 'nope'" in str(missing.exception)
    neither = await asyncio.to_thread(runner.invoke, app, ["swap", "h", "--server", address])
    assert neither.exit_code != 0


def _until_then(done: object, after: int = 3, limit: int = 2000) -> Iterator[np.ndarray]:
    """Frames until ``done()`` holds, then ``after`` more."""
    left = None
    for _ in range(limit):
        if left is None and done():  # type: ignore[operator]
            left = after
        if left is not None:
            if left == 0:
                return
            left -= 1
        yield FRAME


async def test_reference_clients_swap_live_and_a_late_one_catches_up(
    tmp_path: Path, catalog: Path
) -> None:
    """The reference client (real ONNX Runtime engine) against this server: a dropped file
    is pushed to a streaming client, and a client that joins later is brought to it."""
    from stylebridge.client import ReferenceClient
    from stylebridge.config import ClientConfig
    from stylebridge.protocol import FrameStatus

    def config(address: str) -> ClientConfig:
        return ClientConfig(
            server=address, size=(32, 18), fps=100.0, parity_every=0, want_stylized=False,
            engine_model=catalog / "a.onnx", drain_timeout_s=20.0,
        )  # fmt: skip

    async with running_server(
        tmp_path, catalog=catalog, model=catalog / "a.onnx", backend=BackendKind.ONNXRUNTIME
    ) as server:
        early: list[ReferenceClient] = []
        async with ReferenceClient(
            config(server.address), frames=_until_then(lambda: bool(early and early[0].swaps))
        ) as first:
            early.append(first)
            run = asyncio.create_task(first.run(2000))
            await asyncio.sleep(0.3)
            drop_into(catalog, tiny_onnx(12), "live.onnx")
            result = await run
            await first.pushes.flush()
        late: list[ReferenceClient] = []
        async with ReferenceClient(
            config(server.address), frames=_until_then(lambda: bool(late and late[0].swaps))
        ) as second:
            late.append(second)
            late_result = await second.run(2000)
            await second.pushes.flush()
    for run_result, trigger in ((result, "watch"), (late_result, "join")):
        (ack,) = run_result.swaps
        assert ack.model.model_id == "live" and ack.first_sequence > 1
        assert run_result.answered == run_result.sent
        for frame in run_result.frames:
            assert frame.model_id == ("a" if frame.sequence < ack.first_sequence else "live")
            if frame.status is FrameStatus.PROCESSED:
                assert frame.python_model_id == frame.model_id
        session = server.sessions.get(run_result.session_id)
        assert session.last_swap is not None and session.last_swap.trigger == trigger
        assert session.last_swap.first_sequence == ack.first_sequence
        assert session.last_swap.import_ms == pytest.approx(ack.import_ms)


def test_demo_swaps_half_way(tmp_path: Path) -> None:
    """`stylebridge demo` drops a second model into its catalog half-way: the report says
    the swap went active and lists both models' timings."""
    from typer.testing import CliRunner

    from stylebridge.cli import app

    out = tmp_path / "demo"
    args = ["demo", "--count", "40", "--size", "64x36", "--fps", "20", "--out", str(out)]
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, args)
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert "Live swap: builtin-style -> builtin-style-fp16-weights v1: active from frame" in report
    assert "builtin-style-fp16-weights: engine p50" in report
    with Store(out / "stylebridge.sqlite") as store:
        (session,) = store.sessions()
        frames = store.frames(session.session_id)
        (swap,) = store.swaps(session.session_id)
    assert swap.result == "active" and swap.first_sequence is not None
    for frame in frames:
        expected = (
            "builtin-style"
            if frame.sequence < swap.first_sequence
            else "builtin-style-fp16-weights"
        )
        assert frame.engine_model_id == expected
        if frame.status == "processed":
            assert frame.python_model_id == expected


async def test_no_ack_times_out_and_a_late_ack_is_still_recorded(
    tmp_path: Path, catalog: Path
) -> None:
    (catalog / "k.onnx").write_bytes(tiny_onnx(13))
    async with running_server(tmp_path, catalog=catalog) as server, client(server) as raw:
        async with ControlClient(server.address) as control:
            _, (outcome,) = await control.swap("k", [raw.session_id], ack_timeout_s=0.3)
        assert outcome.result is SwapResult.TIMED_OUT and "no ModelAck" in outcome.reason
        await wait_for(lambda: bool(raw.received))
        await stream_until(raw, lambda: raw.acks)  # the client swaps at its next frame
        session = server.sessions.get(raw.session_id)
        await wait_for(lambda: session.last_swap.result is SwapResult.ACTIVE)
        assert session.active_model.model_id == "k"
        await assert_every_frame_answered_by_its_model(raw)
    with Store(tmp_path / "store.sqlite") as store:
        (row,) = store.swaps(raw.session_id)
        assert row.result == "active" and row.push_id == outcome.push_id
