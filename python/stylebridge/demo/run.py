"""One command that shows the whole bridge: a server, the reference client, a live table.

Everything is real: the server listens on loopback, the client streams over gRPC,
the live table reads the Control service, and the report reads the SQLite store.
With no model given, an untrained TransformerNet is made and exported on the spot
(seeded, so every run is the same) and the frames are the built-in camera pan:
nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from stylebridge.bridge import BridgeServer
from stylebridge.client import ControlClient, ReferenceClient
from stylebridge.client.results import ClientRunResult
from stylebridge.config import ClientConfig, Limits, ServerConfig
from stylebridge.demo.report import DemoFacts, ReportPaths, write_report
from stylebridge.inference.base import BackendKind
from stylebridge.protocol import SessionStats
from stylebridge.store import Store

logger = logging.getLogger(__name__)

# The untrained default: small enough to stylize 320x180 at interactive rates on 2 cores.
UNTRAINED_WIDTHS = (8, 16, 32)
UNTRAINED_BLOCKS = 3
# A freshly initialized output layer gives values near 0 (a black frame once clipped
# to 0..255); centring and scaling it makes the random filter visible.
UNTRAINED_OUTPUT_GAIN = 40.0
UNTRAINED_OUTPUT_BIAS = 127.5


class DemoConfig(BaseModel):
    """What ``stylebridge demo`` runs; every field has a default that works offline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # .onnx or .pth; None makes the untrained default model.
    model: Path | None = None
    # Folder of images, one image or a video; None streams the built-in frames.
    frames: Path | None = None
    count: int = Field(default=120, ge=1)
    size: tuple[int, int] = (320, 180)
    fps: float = Field(default=30.0, ge=0.0)
    backend: BackendKind = BackendKind.ONNXRUNTIME
    parity_every: int = Field(default=10, ge=0)
    out_dir: Path = Path("out/demo")


@dataclass(frozen=True)
class DemoResult:
    run: ClientRunResult
    report: ReportPaths
    model_path: Path
    untrained: bool


def prepare_model(config: DemoConfig) -> tuple[Path, bool, str]:
    """The model file both sides run, whether it is the untrained default, and a note."""
    if config.model is not None:
        from stylebridge.models import load_model

        loaded = load_model(config.model)
        note = getattr(loaded, "note", "") or "PyTorch checkpoint"
        return config.model, False, note
    from stylebridge.models.transformer_net import TransformerNetConfig, untrained_model
    from stylebridge.optimize.export import ExportConfig, export_onnx

    net_config = TransformerNetConfig(widths=UNTRAINED_WIDTHS, residual_blocks=UNTRAINED_BLOCKS)
    path = config.out_dir / "untrained-style.onnx"
    if not path.exists():
        import torch

        config.out_dir.mkdir(parents=True, exist_ok=True)
        model = untrained_model(net_config, seed=0)
        with torch.no_grad():
            model.deconv3.conv2d.weight.mul_(UNTRAINED_OUTPUT_GAIN)
            model.deconv3.conv2d.bias.fill_(UNTRAINED_OUTPUT_BIAS)
        export_onnx(model, path, ExportConfig(opset=13))
    widths = "/".join(map(str, UNTRAINED_WIDTHS))
    note = (
        f"untrained TransformerNet {widths} x{UNTRAINED_BLOCKS} blocks (seed 0, output layer "
        "centred on mid-grey so the random filter is visible), exported here"
    )
    return path, True, note


async def run_demo(
    config: DemoConfig,
    *,
    on_stats: Callable[[SessionStats, int], None] | None = None,
) -> DemoResult:
    """Serve, stream ``config.count`` frames, and write the report.

    ``on_stats(stats, sent)`` is called a few times a second with the server's view of
    the session (read over the Control service) for a live display.
    """
    model_path, untrained, note = await asyncio.to_thread(prepare_model, config)
    store_path = config.out_dir / "stylebridge.sqlite"
    server_config = ServerConfig(
        port=0,
        model=model_path,
        backend=config.backend,
        store=store_path,
        limits=Limits(),
    )
    started = time.perf_counter()
    async with BridgeServer(server_config) as server:
        client_config = ClientConfig(
            server=server.address,
            fps=config.fps,
            frames=config.frames,
            size=config.size,
            parity_every=config.parity_every,
            engine_model=model_path,
        )
        async with ReferenceClient(client_config) as client:
            session_id = client.hello.session_id
            watcher = asyncio.create_task(_watch(server.address, session_id, on_stats))
            try:
                run = await client.run(config.count)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if on_stats is not None:
                async with ControlClient(server.address) as control:
                    on_stats(await control.session_stats(session_id), run.sent)
        python_backend = server.python_backend
    wall_s = time.perf_counter() - started

    with Store(store_path) as store:
        rows = store.frames(session_id)
    frames_source = (
        str(config.frames) if config.frames else "built-in camera pan (matplotlib sample images)"
    )
    facts = DemoFacts(
        model=model_path.name,
        model_note=note,
        untrained=untrained,
        frames_source=frames_source,
        resolution=config.size,
        python_backend=python_backend,
        engine=f"reference client ({run.engine_backend}) standing in for Barracuda",
        session_id=session_id,
        wall_s=wall_s,
        client_fps=run.fps,
    )
    report = await asyncio.to_thread(write_report, rows, facts, config.out_dir)
    await asyncio.to_thread(_write_sample, model_path, config, config.out_dir / "sample.png")
    return DemoResult(run=run, report=report, model_path=model_path, untrained=untrained)


async def _watch(
    address: str, session_id: str, on_stats: Callable[[SessionStats, int], None] | None
) -> None:
    if on_stats is None:
        return
    async with ControlClient(address) as control:
        async for stats in control.watch(session_id, interval_ms=250):
            on_stats(stats, stats.frames_received)


def _write_sample(model_path: Path, config: DemoConfig, path: Path) -> None:
    """One frame and its stylized output side by side, to see what the model does."""
    from PIL import Image

    from stylebridge.frames import FrameSource, builtin_frames
    from stylebridge.inference.factory import create_backend

    source = (
        FrameSource(config.frames, config.size)
        if config.frames is not None
        else builtin_frames(config.size)
    )
    frame = next(iter(source))
    backend = create_backend(model_path, BackendKind.ONNXRUNTIME)
    try:
        styled = backend.run(frame)
    finally:
        backend.close()
    Image.fromarray(np.concatenate([frame, styled], axis=1)).save(path)
