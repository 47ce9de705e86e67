"""Recording a live session: the frame selector, and RecordFrames on a real server.

Real gRPC on 127.0.0.1 (port 0), the reference client streaming real game frames,
PNGs written by the client side and read back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from bridge_helpers import running_server, wait_for
from conftest import load_rgb

from stylebridge.bridge import BridgeServer
from stylebridge.bridge.control.recorder import (
    NO_PREVIOUS,
    FrameSelector,
    SelectionPolicy,
    thumbnail,
)
from stylebridge.bridge.control.recording import FrameTap
from stylebridge.bridge.core.domain import InboundFrame
from stylebridge.client import ControlClient, ReferenceClient
from stylebridge.client.recording import RecordOptions, frame_filename, record_to_folder
from stylebridge.config import ClientConfig
from stylebridge.errors import InvalidInputError, NotFoundError, StateError
from stylebridge.frames import PixelFormat

pytestmark = pytest.mark.timeout(60)

SIZE = (64, 36)


@pytest.fixture(scope="module")
def game_frames(frame_paths: list[Path]) -> list[np.ndarray]:
    """Six distinct real game frames at 64x36."""
    return [load_rgb(p, SIZE) for p in frame_paths[:6]]


# --- the selector (pure) -------------------------------------------------------------


def test_selector_keeps_every_nth_frame(game_frames: list[np.ndarray]) -> None:
    selector = FrameSelector(SelectionPolicy(every_n=2))
    kept = [i for i, rgb in enumerate(game_frames) if selector.offer(rgb).kept]
    assert kept == [0, 2, 4]
    assert selector.offered == 6 and selector.kept == 3


def test_selector_skips_exact_and_near_duplicates(game_frames: list[np.ndarray]) -> None:
    a, b = game_frames[0], game_frames[1]
    selector = FrameSelector(SelectionPolicy(every_n=1, min_change=0.0))
    first = selector.offer(a)
    assert first.kept and first.mean_change == NO_PREVIOUS
    same = selector.offer(a.copy())
    assert not same.kept and same.mean_change == 0.0  # exact duplicate: skipped even at 0
    other = selector.offer(b)
    assert other.kept and other.mean_change > 5.0

    # One gray level brighter everywhere: a near-duplicate at min_change 2, kept at 0.5.
    brighter = (b.astype(np.int16) + 1).clip(0, 255).astype(np.uint8)
    strict = FrameSelector(SelectionPolicy(min_change=2.0))
    assert strict.offer(b).kept
    near = strict.offer(brighter)
    assert not near.kept and 0.0 < near.mean_change < 2.0
    loose = FrameSelector(SelectionPolicy(min_change=0.5))
    assert loose.offer(b).kept and loose.offer(brighter).kept


def test_selector_compares_with_the_last_kept_frame_and_stops_at_max(
    game_frames: list[np.ndarray],
) -> None:
    a, b = game_frames[0], game_frames[1]
    selector = FrameSelector(SelectionPolicy(every_n=1, min_change=1.0, max_frames=2))
    assert selector.offer(a).kept
    assert not selector.offer(a).kept
    assert selector.offer(b).kept and selector.done
    assert not selector.offer(game_frames[2]).kept  # max_frames reached
    assert selector.kept == 2


def test_selector_thumbnails_any_size() -> None:
    tiny = np.full((3, 5, 3), 200, np.uint8)
    thumb = thumbnail(tiny)
    assert thumb.shape == (64, 64) and thumb.dtype == np.float32
    assert np.allclose(thumb, 200.0, atol=0.01)
    # Frames of different sizes compare (a resolution change is not an error).
    selector = FrameSelector(SelectionPolicy())
    assert selector.offer(tiny).kept
    assert selector.offer(np.zeros((36, 64, 3), np.uint8)).kept


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"every_n": 0}, "every_n is 0"),
        ({"min_change": -1.0}, "between 0 and 255"),
        ({"min_change": 300.0}, "between 0 and 255"),
        ({"max_frames": -1}, "max_frames is -1"),
    ],
)
def test_policy_refuses_bad_values(values: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        SelectionPolicy(**values)  # type: ignore[arg-type]


async def test_tap_never_blocks_and_drops_when_the_recorder_falls_behind(
    game_frames: list[np.ndarray],
) -> None:
    tap = FrameTap(FrameSelector(SelectionPolicy(every_n=2)), depth=2)
    frames = [_inbound(i + 1, game_frames[i % 6]) for i in range(10)]
    for frame in frames:
        tap(frame)  # synchronous: returns at once whatever the queue holds
    # Due: 1, 3, 5, 7, 9; the queue holds two, the other three are dropped and counted.
    assert tap.queue.qsize() == 2 and tap.dropped == 3
    assert [tap.queue.get_nowait().sequence for _ in range(2)] == [1, 3]


def _inbound(sequence: int, rgb: np.ndarray) -> InboundFrame:
    return InboundFrame(
        session_id="",
        sequence=sequence,
        capture_time_us=sequence,
        width=rgb.shape[1],
        height=rgb.shape[0],
        pixel_format=PixelFormat.RGB8,
        rgb=rgb,
        engine_ms=None,
        engine_timing_method=None,
        model_id="",
        engine_output=None,
        received_at_us=0,
        received_at=0.0,
    )


# --- RecordFrames on a real server ---------------------------------------------------


def _client_config(server: BridgeServer) -> ClientConfig:
    return ClientConfig(
        server=server.address,
        fps=0,
        size=SIZE,
        window=1,
        connect_timeout_s=5,
        drain_timeout_s=20,
    )


async def _listening(server: BridgeServer, session_id: str) -> None:
    await wait_for(lambda: bool(server.sessions.get(session_id).frame_listeners))


async def test_record_keeps_every_nth_frame_skips_duplicates_and_writes_pngs(
    tmp_path: Path, game_frames: list[np.ndarray]
) -> None:
    f = game_frames
    # Sequences 1..10; every 2nd is due (1, 3, 5, 7, 9): 3 and 7 repeat the frame kept last.
    stream = [f[0], f[1], f[0], f[2], f[3], f[3], f[3], f[4], f[5], f[5]]
    out = tmp_path / "recorded"
    async with running_server(tmp_path) as server:
        async with ReferenceClient(_client_config(server), frames=stream) as client:
            session_id = client.hello.session_id
            async with ControlClient(server.address) as control:
                recording = asyncio.create_task(
                    record_to_folder(
                        control, session_id, out, RecordOptions(every_n=2, min_change=0.0)
                    )
                )
                await _listening(server, session_id)
                result = await client.run(len(stream))
                # The session ended with the stream: the recording ends by itself.
                recorded = await asyncio.wait_for(recording, 20)
        assert result.answered == len(stream)
        assert server.sessions.get(session_id).frame_listeners == []

    kept_sequences = [1, 5, 9]
    assert [p.name for p in recorded.files] == [frame_filename(s) for s in kept_sequences]
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in recorded.files]
    for path, sequence in zip(recorded.files, kept_sequences, strict=True):
        assert np.array_equal(load_rgb(path), stream[sequence - 1]), path.name


async def test_record_stops_at_max_frames_and_reports_changes(
    tmp_path: Path, game_frames: list[np.ndarray]
) -> None:
    seen: list[float] = []
    async with (
        running_server(tmp_path) as server,
        ReferenceClient(_client_config(server), frames=game_frames) as client,
    ):
        session_id = client.hello.session_id
        async with ControlClient(server.address) as control:
            recording = asyncio.create_task(
                record_to_folder(
                    control,
                    session_id,
                    tmp_path / "two",
                    RecordOptions(every_n=1, min_change=1.0, max_frames=2),
                    on_frame=lambda frame, _path: seen.append(frame.mean_change),
                )
            )
            await _listening(server, session_id)
            result = await client.run(len(game_frames))
            recorded = await asyncio.wait_for(recording, 20)
        # Done after two frames, while the stream went on: the listener is gone.
        assert server.sessions.get(session_id).frame_listeners == []
    assert result.answered == len(game_frames)
    assert [p.name for p in recorded.files] == [frame_filename(1), frame_filename(2)]
    assert seen[0] == -1.0 and seen[1] > 1.0


async def test_record_refuses_unknown_ended_sessions_and_bad_options(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server, ControlClient(server.address) as control:
        with pytest.raises(NotFoundError, match="no session 'nope'"):
            await record_to_folder(control, "nope", tmp_path / "x", RecordOptions())
        async with ReferenceClient(_client_config(server)) as client:
            session_id = client.hello.session_id
            with pytest.raises(InvalidInputError, match="every_n is 0"):
                await record_to_folder(
                    control, session_id, tmp_path / "x", RecordOptions(every_n=0)
                )
            await client.run(2)
        with pytest.raises(StateError, match="has ended"):
            await record_to_folder(control, session_id, tmp_path / "x", RecordOptions())
    assert not any((tmp_path / "x").iterdir())


async def test_cli_record_writes_pngs(tmp_path: Path, game_frames: list[np.ndarray]) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    out = tmp_path / "cli"
    async with (
        running_server(tmp_path) as server,
        ReferenceClient(_client_config(server), frames=game_frames) as client,
    ):
        session_id = client.hello.session_id
        args = [
            "record",
            "--server",
            server.address,
            "--session",
            session_id,
            "--out",
            str(out),
            "--every",
            "3",
            "--min-change",
            "0",
        ]
        invoked = asyncio.create_task(asyncio.to_thread(CliRunner().invoke, app, args))
        await _listening(server, session_id)
        await client.run(len(game_frames))
        outcome = await asyncio.wait_for(invoked, 30)
    assert outcome.exit_code == 0, outcome.output
    assert "2 frames" in outcome.output
    assert sorted(p.name for p in out.iterdir()) == [frame_filename(1), frame_filename(4)]
    assert np.array_equal(load_rgb(out / frame_filename(4)), game_frames[3])
