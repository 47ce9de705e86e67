"""The reference client's live hot-swap against a real gRPC server on loopback.

``PushServer`` is a small but real Bridge server (grpc.aio on 127.0.0.1, port 0) that
answers Hello and Frames, pushes chunks on Models when a chosen frame arrives, and
records every FrameUp and ModelAck: the client under test cannot tell it from the
bridge server. Real models (ORT sessions), real frames.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio
import numpy as np
import pytest
from conftest import load_rgb
from rich.console import Console

from stylebridge import PROTOCOL_VERSION
from stylebridge.client import ReferenceClient
from stylebridge.client.model_loader import Failed, Loaded, PushHints, Warmed, import_model, warm_up
from stylebridge.client.swap import AckStatus, PushedModel, SwapState
from stylebridge.commands.client import summary_table
from stylebridge.config import ClientConfig
from stylebridge.errors import InvalidInputError
from stylebridge.inference.base import BackendKind
from stylebridge.inference.factory import create_backend
from stylebridge.protocol import FrameStatus
from stylebridge.v1 import bridge_pb2, bridge_pb2_grpc, common_pb2

SIZE = (96, 54)
CAP = 100_000  # frames per run at most; a run ends once the test has seen enough, or
LIMIT_S = 30.0  # after this long (then the test fails on what it has not seen)


@dataclass
class Push:
    push_id: str
    model_id: str
    data: bytes
    sha256: str = ""
    chunk_bytes: int = 1024 * 1024
    corrupt_at: int | None = None  # flip this byte in transit

    def chunks(self) -> list[bridge_pb2.ModelChunk]:
        sent = bytearray(self.data)
        if self.corrupt_at is not None:
            sent[self.corrupt_at] ^= 0xFF
        digest = self.sha256 or hashlib.sha256(self.data).hexdigest()
        ref = common_pb2.ModelRef(model_id=self.model_id, version=1, sha256=digest)
        out = []
        for offset in range(0, len(sent), self.chunk_bytes):
            piece = bytes(sent[offset : offset + self.chunk_bytes])
            chunk = bridge_pb2.ModelChunk(
                model=ref, total_bytes=len(sent), offset=offset, data=piece, push_id=self.push_id,
                last=offset + len(piece) == len(sent),
            )
            if offset == 0:
                chunk.metadata.CopyFrom(
                    bridge_pb2.ModelMetadata(input_layout="NCHW", input_range=255.0)
                )
            out.append(chunk)
        return out


class PushServer(bridge_pb2_grpc.BridgeServicer):
    """A real Bridge server: pushes ``schedule[sequence]`` when that frame arrives, and the
    next push of ``chain`` whenever an ack arrives."""

    def __init__(self) -> None:
        self.schedule: dict[int, list[Push]] = {}
        self.chain: list[Push] = []
        self.hellos: list[bridge_pb2.HelloRequest] = []
        self.models_requests: list[bridge_pb2.ModelsRequest] = []
        self.frames: list[tuple[int, str]] = []
        # sequence -> the engine's own output, when the client sent it
        self.outputs: dict[int, bytes] = {}
        self.acks: list[bridge_pb2.ModelAck] = []
        self._queue: asyncio.Queue[Push] = asyncio.Queue()

    async def Hello(self, request, context):
        self.hellos.append(request)
        return bridge_pb2.HelloResponse(
            protocol_version=PROTOCOL_VERSION,
            session_id="session-1",
            limits=bridge_pb2.ServerLimits(
                max_frame_bytes=1 << 24, max_model_bytes=1 << 26, max_width=4096,
                max_height=4096, model_chunk_bytes=1 << 20, frame_queue_depth=4,
            ),
            capabilities=bridge_pb2.ServerCapabilities(python_backend="none", model_push=True),
            server_version="push-test-server",
        )

    async def Frames(self, request_iterator, context):
        async for up in request_iterator:
            self.frames.append((up.sequence, up.model_id))
            if up.HasField("engine_output"):
                self.outputs[up.sequence] = up.engine_output.pixels
            for push in self.schedule.pop(up.sequence, []):
                self._queue.put_nowait(push)
            yield bridge_pb2.FrameDown(
                sequence=up.sequence,
                status=bridge_pb2.FRAME_STATUS_RECORDED,
                model_id=up.model_id,
            )

    async def Models(self, request, context):
        self.models_requests.append(request)
        while True:
            push = await self._queue.get()
            for chunk in push.chunks():
                yield chunk

    async def AckModel(self, request, context):
        self.acks.append(request)
        if self.chain:
            self._queue.put_nowait(self.chain.pop(0))
        return bridge_pb2.ModelAckReceipt()


@pytest.fixture
async def push_server() -> AsyncIterator[tuple[PushServer, str]]:
    servicer = PushServer()
    server = grpc.aio.server(
        options=[("grpc.max_send_message_length", 1 << 25),
                 ("grpc.max_receive_message_length", 1 << 25)]
    )
    bridge_pb2_grpc.add_BridgeServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        await server.stop(grace=None)


@pytest.fixture(scope="module")
def frames(frame_paths: list[Path]) -> list[np.ndarray]:
    return [load_rgb(p, SIZE) for p in frame_paths[:3]]


def frames_until(
    images: list[np.ndarray], done: Callable[[], bool], after: int = 3
) -> Iterator[np.ndarray]:
    """Frames until ``done()`` holds, then ``after`` more (for LIMIT_S at most)."""
    extra = None
    deadline = time.monotonic() + LIMIT_S
    for index in range(CAP):
        if time.monotonic() > deadline:
            return
        if extra is None and done():
            extra = after
        if extra is not None:
            if extra == 0:
                return
            extra -= 1
        yield images[index % len(images)]


def config(address: str, model: Path | None, **overrides: object) -> ClientConfig:
    values: dict[str, object] = {
        "server": address, "size": SIZE, "fps": 100.0, "parity_every": 0,
        "engine_model": model, "want_stylized": False, "drain_timeout_s": 20.0,
        # Outputs are compared byte for byte with ONNX Runtime's (not auto's choice).
        "engine_backend": BackendKind.ONNXRUNTIME,
    }
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


def check_frames_flowed(server: PushServer, sent: int) -> None:
    """Every frame 1..sent reached the server, in order: none skipped for the swap."""
    assert [seq for seq, _ in server.frames] == list(range(1, sent + 1))


async def test_swap_at_a_frame_boundary_with_real_timings(
    push_server: tuple[PushServer, str], models_dir: Path, frames: list[np.ndarray]
) -> None:
    server, address = push_server
    mosaic = (models_dir / "mosaic.onnx").read_bytes()
    server.schedule = {3: [Push("p1", "mosaic", mosaic)]}  # 6.7 MB: 7 chunks of 1 MiB
    source = frames_until(frames, lambda: len(server.acks) >= 1)
    cfg = config(
        address, models_dir / "ingame-small.onnx", max_model_bytes=8 << 20, parity_every=1
    )
    async with ReferenceClient(cfg, frames=source) as client:
        first_engine = client.engine
        assert client.pushes.state is SwapState.IDLE
        result = await client.run(CAP)
        await client.pushes.flush()
        current = client.engine
        assert current.model.model_id == "mosaic"
        assert current.model.sha256 == hashlib.sha256(mosaic).hexdigest()
    assert not first_engine.active, "the old engine was not freed after the swap"
    # Each frame's own engine output is that of the model its FrameUp names (and the
    # pushed engine runs the pushed bytes): compare with fresh sessions of both models.
    expected = {}
    for name in ("ingame-small", "mosaic"):
        with create_backend(models_dir / f"{name}.onnx", BackendKind.ONNXRUNTIME) as backend:
            expected[name] = [backend.run(image).tobytes() for image in frames]
    assert set(server.outputs) == {seq for seq, _ in server.frames}
    for sequence, model_id in server.frames:
        want = expected[model_id][(sequence - 1) % len(frames)]
        assert server.outputs[sequence] == want, f"frame {sequence} was not run by {model_id}"

    [hello] = server.hellos
    assert hello.capabilities.accepts_model_push
    assert hello.capabilities.max_model_bytes == 8 << 20
    [request] = server.models_requests
    assert request.session_id == "session-1" and not request.pinned

    [ack] = server.acks
    assert ack.status == bridge_pb2.ACK_STATUS_ACTIVE and ack.error == ""
    assert ack.push_id == "p1" and ack.session_id == "session-1"
    assert ack.model.model_id == "mosaic" and ack.model.sha256 == hashlib.sha256(mosaic).hexdigest()
    assert ack.import_ms > 0 and ack.warmup_ms > 0 and ack.first_inference_ms > 0
    first = ack.first_sequence
    check_frames_flowed(server, result.sent)
    assert first > 3
    # Every FrameUp names the model that produced it; the swap falls between two frames.
    for sequence, model_id in server.frames:
        assert model_id == ("ingame-small" if sequence < first else "mosaic"), sequence
    assert result.answered == result.sent
    assert result.frame_models == dict(server.frames) == client.frame_models
    assert [f.python_model_id for f in result.frames] == [f.model_id for f in result.frames]
    [swap] = result.swaps
    assert swap.status is AckStatus.ACTIVE and swap.first_sequence == first
    assert swap.first_inference_ms == ack.first_inference_ms
    assert client.pushes.state is SwapState.ACTIVE


async def test_corrupted_chunk_rolls_back_then_a_good_push_swaps(
    push_server: tuple[PushServer, str], models_dir: Path, frames: list[np.ndarray]
) -> None:
    server, address = push_server
    small = (models_dir / "ingame-small.onnx").read_bytes()
    server.schedule = {
        2: [Push("bad", "student", small, chunk_bytes=64 * 1024, corrupt_at=100_000)]
    }
    server.chain = [Push("good", "student", small, chunk_bytes=64 * 1024)]
    source = frames_until(frames, lambda: len(server.acks) >= 2)
    cfg = config(address, models_dir / "ingame-small.onnx", pinned=True)
    async with ReferenceClient(cfg, frames=source) as client:
        result = await client.run(CAP)
        await client.pushes.flush()
    assert server.models_requests[0].pinned
    bad, good = server.acks
    assert bad.push_id == "bad" and bad.status == bridge_pb2.ACK_STATUS_ROLLED_BACK
    assert "sha256" in bad.error
    assert good.push_id == "good" and good.status == bridge_pb2.ACK_STATUS_ACTIVE
    check_frames_flowed(server, result.sent)
    for sequence, model_id in server.frames:
        assert model_id == ("ingame-small" if sequence < good.first_sequence else "student")
    assert [s.status for s in result.swaps] == [AckStatus.ROLLED_BACK, AckStatus.ACTIVE]
    console = Console(record=True, width=300)
    console.print(summary_table(result))
    text = console.export_text()
    assert "push bad" in text and "rolled back: sha256 mismatch" in text
    assert "push good" in text and f"student v1 active from frame {good.first_sequence}" in text


async def test_onnx_that_fails_to_load_rolls_back_and_keeps_the_model(
    push_server: tuple[PushServer, str], models_dir: Path, frames: list[np.ndarray]
) -> None:
    server, address = push_server
    small = (models_dir / "ingame-small.onnx").read_bytes()
    truncated = small[: len(small) // 2]  # its sha256 is right: it arrives intact, then fails
    server.schedule = {2: [Push("cut", "cut-model", truncated, chunk_bytes=50_000)]}
    server.chain = [Push("huge", "huge-model", small)]  # over this client's max_model_bytes
    source = frames_until(frames, lambda: len(server.acks) >= 2)
    cfg = config(address, models_dir / "ingame-small.onnx", max_model_bytes=len(small) - 1)
    async with ReferenceClient(cfg, frames=source) as client:
        result = await client.run(CAP)
        await client.pushes.flush()
        assert client.pushes.state is SwapState.ROLLED_BACK
        assert client.engine.active and client.engine.model.model_id == "ingame-small"
    cut, huge = server.acks
    assert cut.status == bridge_pb2.ACK_STATUS_ROLLED_BACK and "import failed" in cut.error
    assert "onnx" in cut.error.lower()
    assert huge.status == bridge_pb2.ACK_STATUS_ROLLED_BACK and "too large" in huge.error
    check_frames_flowed(server, result.sent)
    assert {model_id for _, model_id in server.frames} == {"ingame-small"}
    assert result.answered == result.sent


async def test_a_push_superseded_while_importing_never_runs(
    push_server: tuple[PushServer, str], models_dir: Path, frames: list[np.ndarray]
) -> None:
    """The newer push wins even while the older one's import runs in the loader thread."""
    server, address = push_server
    mosaic = (models_dir / "mosaic.onnx").read_bytes()
    small = (models_dir / "ingame-small.onnx").read_bytes()
    server.schedule = {2: [Push("old", "mosaic", mosaic), Push("new", "student", small)]}
    source = frames_until(frames, lambda: len(server.acks) >= 2)
    cfg = config(address, models_dir / "ingame-small.onnx")
    async with ReferenceClient(cfg, frames=source) as client:
        result = await client.run(CAP)
        await client.pushes.flush()
        assert client.engine.model.model_id == "student"
    old, new = server.acks
    assert old.push_id == "old" and old.status == bridge_pb2.ACK_STATUS_ROLLED_BACK
    assert "superseded" in old.error
    assert new.push_id == "new" and new.status == bridge_pb2.ACK_STATUS_ACTIVE
    check_frames_flowed(server, result.sent)
    assert "mosaic" not in {model_id for _, model_id in server.frames}


async def test_client_without_an_engine_takes_a_pushed_model(
    push_server: tuple[PushServer, str], models_dir: Path, frames: list[np.ndarray]
) -> None:
    server, address = push_server
    small = (models_dir / "ingame-small.onnx").read_bytes()
    server.schedule = {1: [Push("p", "student", small)]}
    source = frames_until(frames, lambda: len(server.acks) >= 1)
    async with ReferenceClient(config(address, None), frames=source) as client:
        result = await client.run(CAP)
    [ack] = server.acks
    assert ack.status == bridge_pb2.ACK_STATUS_ACTIVE
    before = [f for f in result.frames if f.sequence < ack.first_sequence]
    after = [f for f in result.frames if f.sequence >= ack.first_sequence]
    assert before and all(f.model_id == "" and f.engine_ms is None for f in before)
    assert after and all(f.model_id == "student" and f.engine_ms is not None for f in after)


async def test_accept_pushes_false_never_opens_models(
    push_server: tuple[PushServer, str], frames: list[np.ndarray]
) -> None:
    server, address = push_server
    cfg = config(address, None, accept_pushes=False)
    async with ReferenceClient(cfg, frames=iter(frames)) as client:
        result = await client.run(3)
    assert not server.hellos[0].capabilities.accepts_model_push
    assert server.models_requests == []
    assert result.answered == 3 and result.swaps == ()


async def test_against_the_bridge_server_a_dropped_file_swaps_and_python_follows(
    tmp_path: Path,
) -> None:
    """End to end with the project's own server: a file dropped into its watched catalog is
    pushed, imported, swapped between two frames, and Python follows at the same frame."""
    from bridge_helpers import running_server
    from swap_helpers import drop_into, tiny_onnx

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.onnx").write_bytes(tiny_onnx(1))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8) for _ in range(3)]
    async with running_server(
        tmp_path, catalog=catalog, model=catalog / "a.onnx", backend=BackendKind.ONNXRUNTIME
    ) as server:
        cfg = config(server.address, catalog / "a.onnx", fps=50.0)
        holder: list[ReferenceClient] = []
        source = frames_until(images, lambda: bool(holder and holder[0].swaps))
        async with ReferenceClient(cfg, frames=source) as client:
            holder.append(client)
            task = asyncio.create_task(client.run(CAP))
            await asyncio.sleep(0.3)
            drop_into(catalog, tiny_onnx(2), "b.onnx")
            result = await task
            await client.pushes.flush()
    [swap] = result.swaps
    assert swap.status is AckStatus.ACTIVE and swap.model.model_id == "b"
    assert swap.import_ms > 0 and swap.warmup_ms > 0
    assert result.answered == result.sent
    # Answers may come out of order (a frame dropped by newest-frame-wins is answered late).
    assert sorted(f.sequence for f in result.frames) == list(range(1, result.sent + 1))
    assert result.processed > 0
    for frame in result.frames:
        assert frame.model_id == ("a" if frame.sequence < swap.first_sequence else "b")
        if frame.status is FrameStatus.PROCESSED:
            assert frame.python_model_id == frame.model_id, f"python lags at {frame.sequence}"


def test_loader_imports_warms_and_turns_every_failure_into_a_value(models_dir: Path) -> None:
    data = (models_dir / "ingame-small.onnx").read_bytes()
    model = PushedModel("student", 3, hashlib.sha256(data).hexdigest())
    loaded = import_model(data, model, PushHints(input_range=255.0, input_layout="NCHW"))
    assert isinstance(loaded, Loaded) and loaded.import_ms > 0
    assert loaded.engine.model.model_id == "student" and loaded.engine.model.version == 3
    warmed = warm_up(loaded.engine, SIZE, runs=2)
    assert isinstance(warmed, Warmed) and warmed.warmup_ms > 0
    loaded.engine.close()
    closed = warm_up(loaded.engine, SIZE)
    assert isinstance(closed, Failed) and "no model loaded" in closed.error

    truncated = import_model(data[:1000], model, PushHints())
    assert isinstance(truncated, Failed) and "import failed" in truncated.error
    assert isinstance(import_model(b"", model, PushHints()), Failed)
    too_big = import_model(data, model, PushHints(), max_bytes=1000)
    assert isinstance(too_big, Failed) and "1000" in too_big.error
    nhwc = import_model(data, model, PushHints(input_layout="NHWC"))
    assert isinstance(nhwc, Failed) and "NCHW" in nhwc.error
    with pytest.raises(InvalidInputError, match="at least one"):
        warm_up(loaded.engine, SIZE, runs=0)
