"""Helpers for the bridge and client tests: servers on port 0, raw protocol messages.

Protocol-level tests speak through the generated stubs, i.e. standard protobuf, as
a Unity client does; the reference client's own fast path is tested separately.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import grpc.aio
import numpy as np

from stylebridge import PROTOCOL_VERSION
from stylebridge.bridge import BridgeServer
from stylebridge.config import Limits, ServerConfig
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.v1 import bridge_pb2, bridge_pb2_grpc, common_pb2, control_pb2_grpc

# Big enough for a 720p RGBA frame plus its engine output.
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
]


def server_config(tmp_path: Path, **overrides: object) -> ServerConfig:
    """A loopback config on a free port with its store in ``tmp_path``."""
    limits = overrides.pop("limits", Limits())
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "backend": BackendKind.IDENTITY,
        "store": tmp_path / "store.sqlite",
        "limits": limits,
        "grace_s": 0.5,
    }
    values.update(overrides)
    return ServerConfig(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_server(
    tmp_path: Path,
    *,
    inject: InferenceBackend | None = None,
    **overrides: object,
) -> AsyncIterator[BridgeServer]:
    """A started server; ``inject`` replaces the backend the config asks for."""
    config = server_config(tmp_path, **overrides)
    async with BridgeServer(config, backend=inject) as server:
        yield server


@contextlib.asynccontextmanager
async def stubs(
    server: BridgeServer,
) -> AsyncIterator[tuple[bridge_pb2_grpc.BridgeStub, control_pb2_grpc.ControlStub]]:
    async with grpc.aio.insecure_channel(
        server.address, options=CHANNEL_OPTIONS
    ) as channel:
        yield bridge_pb2_grpc.BridgeStub(channel), control_pb2_grpc.ControlStub(channel)


def hello_request(
    *,
    version: int = PROTOCOL_VERSION,
    engine: int = 1,
    wants_pixels: bool = True,
) -> bridge_pb2.HelloRequest:
    return bridge_pb2.HelloRequest(
        protocol_version=version,
        client=bridge_pb2.ClientInfo(
            engine=engine,
            engine_version="3.0.0",
            unity_version="2021.3.45f1",
            worker_type="ComputePrecompiled",
            gpu="test-gpu",
            platform="LinuxEditor",
            client_name="bridge-tests",
        ),
        capabilities=bridge_pb2.ClientCapabilities(
            pixel_formats=[common_pb2.PIXEL_FORMAT_RGB8, common_pb2.PIXEL_FORMAT_RGBA8],
            wants_stylized_pixels=wants_pixels,
            sends_engine_output=True,
        ),
        active_model=common_pb2.ModelRef(model_id="engine-model"),
    )


def image(rgb: np.ndarray, *, rgba: bool = False, pad: int = 0) -> common_pb2.Image:
    """An Image message of ``rgb``, as RGBA when asked and with ``pad`` bytes per row."""
    height, width = rgb.shape[:2]
    channels = 4 if rgba else 3
    rows = np.zeros((height, width * channels + pad), dtype=np.uint8)
    pixels = rows[:, : width * channels].reshape(height, width, channels)
    pixels[:, :, :3] = rgb
    if rgba:
        pixels[:, :, 3] = 255
    return common_pb2.Image(
        width=width,
        height=height,
        pixel_format=common_pb2.PIXEL_FORMAT_RGBA8
        if rgba
        else common_pb2.PIXEL_FORMAT_RGB8,
        row_stride=width * channels + pad,
        pixels=rows.tobytes(),
    )


def frame_up(
    sequence: int,
    rgb: np.ndarray,
    *,
    session_id: str = "",
    engine_ms: float | None = 5.0,
    engine_output: np.ndarray | None = None,
    rgba: bool = False,
    pad: int = 0,
) -> bridge_pb2.FrameUp:
    message = bridge_pb2.FrameUp(
        session_id=session_id,
        sequence=sequence,
        capture_time_us=1_700_000_000_000_000 + sequence,
        image=image(rgb, rgba=rgba, pad=pad),
        model_id="engine-model",
    )
    if engine_ms is not None:
        message.engine_timing.inference_ms = engine_ms
        message.engine_timing.method = common_pb2.TIMING_METHOD_BLOCKING_READBACK
    if engine_output is not None:
        message.engine_output.CopyFrom(image(engine_output))
    return message


def random_frame(width: int = 32, height: int = 18, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(
        0, 256, (height, width, 3), dtype=np.uint8
    )


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` until true; AssertionError after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
