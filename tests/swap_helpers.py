"""Helpers for the hot-swap tests: tiny real models and a raw-protocol swap client.

``RawSwapClient`` speaks the Bridge service through the generated stubs, as a Unity
client does: Hello, a Models stream, a Frames stream. It verifies each push's sha256
and switches models between two frames (acking ACTIVE with that frame's sequence), or
acks ROLLED_BACK; it does not import the model (the reference client does that).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc.aio
import numpy as np

from stylebridge import PROTOCOL_VERSION
from stylebridge.v1 import bridge_pb2, bridge_pb2_grpc, common_pb2

REFERENCE = common_pb2.ENGINE_KIND_REFERENCE
BARRACUDA = common_pb2.ENGINE_KIND_BARRACUDA
SENTIS = common_pb2.ENGINE_KIND_SENTIS


def export_tiny(
    dst: Path, *, seed: int, opset: int = 13, widths: tuple[int, int, int] = (4, 8, 8)
) -> Path:
    """A small untrained TransformerNet exported to ``dst`` (real ONNX, ~10 kB)."""
    from stylebridge.engines.targets import Engine
    from stylebridge.models import TransformerNetConfig, untrained_model
    from stylebridge.models.export import ExportConfig, export_onnx

    model = untrained_model(TransformerNetConfig(widths=widths, residual_blocks=1), seed=seed)
    engine = Engine.SENTIS_2 if opset > 10 else Engine.BARRACUDA_1_0
    export_onnx(model, dst, ExportConfig(engine=engine, opset=opset, sample_size=(32, 32)))
    return dst


def tiny_onnx(seed: int, *, opset: int = 13, channels: int = 8) -> bytes:
    """A hand-built style model (Conv 3->C, Relu, Conv C->3) with seeded weights: real
    ONNX that loads, checks and runs, made in milliseconds without torch."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w1 = numpy_helper.from_array(rng.normal(0, 0.1, (channels, 3, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.1, (3, channels, 1, 1)).astype(np.float32), "w2")
    initializers = [w1, w2]
    # A reflection Pad, like TransformerNet's: from opset 11 its sizes are an input,
    # which Barracuda 1.0 cannot import (the checker says cannot-run there).
    if opset >= 11:
        pads = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")
        initializers.append(pads)
        pad = helper.make_node("Pad", ["input", "pads"], ["padded"], mode="reflect")
    else:
        pad = helper.make_node(
            "Pad", ["input"], ["padded"], mode="reflect", pads=[0, 0, 1, 1, 0, 0, 1, 1]
        )
    nodes = [
        pad,
        helper.make_node("Conv", ["padded", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Conv", ["r", "w2"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "H", "W"])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8  # onnx 1.23 writes 14, which onnxruntime 1.31 cannot run
    onnx.checker.check_model(model)
    return model.SerializeToString()


def quantized_onnx(data: bytes, folder: Path) -> bytes:
    """``data`` through onnxruntime's dynamic int8 quantization (ConvInteger)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = folder / "q-src.onnx", folder / "q-dst.onnx"
    src.write_bytes(data)
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    return dst.read_bytes()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def drop_into(folder: Path, src_bytes: bytes, name: str) -> Path:
    """Write to a temp name in ``folder``, then rename: the way tools publish files."""
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(src_bytes)
    final = folder / name
    os.replace(tmp, final)
    return final


@dataclass
class Received:
    """One complete push as the raw client saw it."""

    push_id: str
    model: common_pb2.ModelRef
    data: bytes
    metadata: bridge_pb2.ModelMetadata
    chunks: int


@dataclass
class RawSwapClient:
    """A bridge client on raw stubs that takes pushes (see module docstring)."""

    stub: bridge_pb2_grpc.BridgeStub
    model_id: str
    sha256: str = ""
    engine: int = REFERENCE
    engine_version: str = "onnxruntime 1.31"
    pinned: bool = False
    max_model_bytes: int = 0
    session_id: str = ""
    received: list[Received] = field(default_factory=list)
    acks: list[bridge_pb2.ModelAck] = field(default_factory=list)
    # perf_counter() when each ack was sent (benchmarks time pushes with it)
    ack_times: list[float] = field(default_factory=list)
    # sequence -> model id the frame named; sequence -> FrameDown
    sent: dict[int, str] = field(default_factory=dict)
    answers: dict[int, bridge_pb2.FrameDown] = field(default_factory=dict)
    _ready: Received | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _queue: asyncio.Queue[bridge_pb2.FrameUp | None] = field(default_factory=asyncio.Queue)
    _models_call: object = None
    _frames_task: asyncio.Task[None] | None = None

    async def hello(self) -> bridge_pb2.HelloResponse:
        reply = await self.stub.Hello(
            bridge_pb2.HelloRequest(
                protocol_version=PROTOCOL_VERSION,
                client=bridge_pb2.ClientInfo(
                    engine=self.engine,
                    engine_version=self.engine_version,
                    client_name="swap-tests",
                ),
                capabilities=bridge_pb2.ClientCapabilities(
                    pixel_formats=[common_pb2.PIXEL_FORMAT_RGB8],
                    accepts_model_push=True,
                    wants_stylized_pixels=False,
                    max_model_bytes=self.max_model_bytes,
                ),
                active_model=common_pb2.ModelRef(model_id=self.model_id, sha256=self.sha256),
            )
        )
        self.session_id = reply.session_id
        return reply

    async def open_models(self) -> None:
        call = self.stub.Models(
            bridge_pb2.ModelsRequest(session_id=self.session_id, pinned=self.pinned)
        )
        self._models_call = call
        self._tasks.append(asyncio.create_task(self._read_models(call)))

    async def _read_models(self, call: grpc.aio.UnaryStreamCall) -> None:
        parts: list[bytes] = []
        first: bridge_pb2.ModelChunk | None = None
        async for chunk in call:
            if chunk.offset == 0:
                parts, first = [], chunk
            parts.append(chunk.data)
            if chunk.last:
                assert first is not None
                data = b"".join(parts)
                push = Received(first.push_id, first.model, data, first.metadata, len(parts))
                self.received.append(push)
                if hashlib.sha256(data).hexdigest() != first.model.sha256:
                    await self._ack(push, active=False, error="sha256 mismatch: rolled back")
                else:
                    self._ready = push

    async def _ack(
        self, push: Received, *, active: bool, sequence: int = 0, error: str = ""
    ) -> None:
        ack = bridge_pb2.ModelAck(
            session_id=self.session_id,
            push_id=push.push_id,
            model=push.model,
            status=bridge_pb2.ACK_STATUS_ACTIVE if active else bridge_pb2.ACK_STATUS_ROLLED_BACK,
            import_ms=1.0,
            warmup_ms=0.5,
            first_inference_ms=0.25 if active else 0.0,
            first_sequence=sequence,
            error=error,
        )
        self.acks.append(ack)
        self.ack_times.append(time.perf_counter())
        await self.stub.AckModel(ack)

    async def open_frames(self) -> None:
        async def requests():
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                yield item

        call = self.stub.Frames(requests())
        self._frames_task = asyncio.create_task(self._read_frames(call))
        self._tasks.append(self._frames_task)

    async def _read_frames(self, call: grpc.aio.StreamStreamCall) -> None:
        async for down in call:
            self.answers[down.sequence] = down

    async def send_frame(self, sequence: int, rgb: np.ndarray) -> None:
        """One frame: the swap happens here when a verified push is ready."""
        ready, self._ready = self._ready, None
        if ready is not None:
            self.model_id, self.sha256 = ready.model.model_id, ready.model.sha256
        self.sent[sequence] = self.model_id
        height, width = rgb.shape[:2]
        message = bridge_pb2.FrameUp(
            session_id=self.session_id if sequence == min(self.sent) else "",
            sequence=sequence,
            image=common_pb2.Image(
                width=width,
                height=height,
                pixel_format=common_pb2.PIXEL_FORMAT_RGB8,
                row_stride=width * 3,
                pixels=rgb.tobytes(),
            ),
            model_id=self.model_id,
        )
        message.engine_timing.inference_ms = 1.0
        message.engine_timing.method = common_pb2.TIMING_METHOD_SYNCHRONOUS
        await self._queue.put(message)
        if ready is not None:
            await self._ack(ready, active=True, sequence=sequence)

    async def stream(
        self, count: int, rgb: np.ndarray, *, start: int = 1, interval_s: float = 0.01
    ) -> None:
        for sequence in range(start, start + count):
            await self.send_frame(sequence, rgb)
            await asyncio.sleep(interval_s)

    async def close(self) -> None:
        """Half-close the frames (the server answers what is left), then stop reading."""
        await self._queue.put(None)
        if self._frames_task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(self._frames_task, return_exceptions=True), 5.0
                )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
