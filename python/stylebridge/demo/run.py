"""One command that shows the whole bridge: a server, the reference client, a live table.

Everything is real: the server listens on loopback, the client streams over gRPC,
the live table reads the Control service, and the report reads the SQLite store.
With no model given, the built-in style runs (a small model trained by the project's own
code, shipped with the package) on the built-in camera pan: nothing is downloaded. Before
streaming, the optimize pipeline makes its weight-only variants and their report.

Half-way through, a second model (for the built-in style, its fp16 variant from that
catalog) is dropped into the server's watched catalog (temp file, then rename, as
``stylebridge optimize`` writes): the server validates and pushes it,
the client swaps between two frames and acknowledges, Python follows at the same frame,
and the live table and the report show both models' timings side by side.
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
from stylebridge.client.results import ClientRunResult, FrameResult
from stylebridge.config import ClientConfig, Limits, ServerConfig
from stylebridge.demo.report import DemoFacts, ReportPaths, write_report
from stylebridge.inference.base import BackendKind
from stylebridge.protocol import SessionStats
from stylebridge.store import FrameRecord, Store, SwapRecord

logger = logging.getLogger(__name__)

# The variant of the built-in style the demo swaps to half-way: built by the optimize
# pipeline (fp16 weights, half the file, runs on every engine), so the demo walks the
# whole loop: optimize -> report -> drop into the watched catalog -> live swap.
DEMO_SWAP_RECIPE = "fp16-weights"


class DemoConfig(BaseModel):
    """What ``stylebridge demo`` runs; every field has a default that works offline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # .onnx or .pth; None runs the built-in style.
    model: Path | None = None
    # Folder of images, one image or a video; None streams the built-in frames.
    frames: Path | None = None
    count: int = Field(default=120, ge=1)
    size: tuple[int, int] = (320, 180)
    fps: float = Field(default=30.0, ge=0.0)
    backend: BackendKind = BackendKind.ONNXRUNTIME
    parity_every: int = Field(default=10, ge=0)
    out_dir: Path = Path("out/demo")
    # Swap models half-way through (live hot-swap): to ``swap_to``, or, for the built-in
    # style, to its fp16 variant. A --model without --swap-to: no swap.
    swap: bool = True
    swap_to: Path | None = None


@dataclass(frozen=True)
class DemoResult:
    run: ClientRunResult
    report: ReportPaths
    model_path: Path
    builtin_style: bool
    # The optimize catalog of the built-in style (None for a --model run).
    optimize_catalog: Path | None
    # The model swapped to half-way (None: no swap), and what happened, in one line.
    swap_model: Path | None = None
    swap_summary: str = ""


def prepare_model(config: DemoConfig) -> tuple[Path, bool, str]:
    """The model file both sides run, whether it is the built-in style, and a note."""
    if config.model is not None:
        from stylebridge.models import load_model

        loaded = load_model(config.model)
        note = getattr(loaded, "note", "") or "PyTorch checkpoint"
        return config.model, False, note
    from stylebridge.style import builtin_style_onnx, builtin_style_recipe

    recipe = builtin_style_recipe()
    student = recipe.get("config", {})
    widths = "/".join(str(w) for w in student.get("student_widths", ()))
    note = (
        f"built-in style '{recipe.get('name', 'builtin')}' (TransformerNet {widths} "
        f"x{student.get('student_blocks', '?')}, trained by `{recipe.get('command', '')}`; "
        "it imitates a classical filter, see builtin-style.json)"
    )
    return builtin_style_onnx(), True, note


def optimize_builtin(config: DemoConfig, model_path: Path) -> tuple[Path, Path]:
    """The built-in style's weight-only variants and their report, made by the optimize
    pipeline (reused on later runs); returns the catalog and the variant to swap to."""
    from stylebridge.catalog import load_manifest
    from stylebridge.optimize.pipeline import optimize
    from stylebridge.optimize.recipes import (
        EvaluationSpec,
        Fp16WeightsSpec,
        Int8WeightsSpec,
        LatencySettings,
        RecipeSet,
    )
    from stylebridge.report import write_report as write_catalog_report

    frames_dir = _frames_folder(config)
    width, height = config.size
    recipes = RecipeSet(
        name="demo",
        recipes=(Fp16WeightsSpec(), Int8WeightsSpec()),
        evaluation=EvaluationSpec(width=width, height=height, frames=2),
        latency=LatencySettings(resolutions=(f"{width}x{height}",), runs=3, warmup=1),
    )
    catalog = config.out_dir / "optimize"
    optimize(model_path, frames_dir, catalog, recipes)
    write_catalog_report(catalog, frames=frames_dir)
    manifest = load_manifest(catalog)
    return catalog, catalog / manifest.get(DEMO_SWAP_RECIPE).file


def _frames_folder(config: DemoConfig) -> Path:
    """A folder of images for the optimize pipeline: --frames when it is one, otherwise
    three frames of the built-in camera pan written out once."""
    if config.frames is not None and config.frames.is_dir():
        return config.frames
    from PIL import Image

    from stylebridge.frame_sources import builtin_frames

    folder = config.out_dir / "frames"
    folder.mkdir(parents=True, exist_ok=True)
    source = builtin_frames(config.size, count=3)
    for index in range(3):
        path = folder / f"builtin_{index}.png"
        if not path.exists():
            Image.fromarray(source.frame(index * 40)).save(path)
    return folder


def _fresh_catalog(folder: Path) -> Path:
    """An empty catalog: a model left there by an earlier run would be old news."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.onnx"):
        old.unlink()
    return folder


def _publish(src: Path, catalog: Path, name: str) -> None:
    """Copy ``src`` into the catalog the way tools publish: temp name, then rename."""
    import os
    import shutil

    tmp = catalog / f".{name}.tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, catalog / name)


async def run_demo(
    config: DemoConfig,
    *,
    on_stats: Callable[[SessionStats, int], None] | None = None,
) -> DemoResult:
    """Serve, stream ``config.count`` frames, and write the report.

    ``on_stats(stats, sent)`` is called a few times a second with the server's view of
    the session (read over the Control service) for a live display.
    """
    model_path, builtin, note = await asyncio.to_thread(prepare_model, config)
    optimize_catalog: Path | None = None
    swap_model = config.swap_to if config.swap else None
    swap_name = swap_model.name if swap_model is not None else ""
    if builtin and (config.swap_to is None or not config.swap):
        optimize_catalog, variant = await asyncio.to_thread(optimize_builtin, config, model_path)
        if config.swap:
            swap_model, swap_name = variant, f"{model_path.stem}-{DEMO_SWAP_RECIPE}.onnx"
    catalog = await asyncio.to_thread(_fresh_catalog, config.out_dir / "catalog")
    store_path = config.out_dir / "stylebridge.sqlite"
    server_config = ServerConfig(
        port=0,
        model=model_path,
        backend=config.backend,
        store=store_path,
        limits=Limits(),
        catalog=catalog,
    )
    half_way = max(1, config.count // 2)
    published: list[asyncio.Task[None]] = []

    def on_result(result: FrameResult) -> None:
        if swap_model is not None and not published and result.sequence >= half_way:
            published.append(
                asyncio.ensure_future(asyncio.to_thread(_publish, swap_model, catalog, swap_name))
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
        async with ReferenceClient(client_config, on_result=on_result) as client:
            session_id = client.hello.session_id
            watcher = asyncio.create_task(_watch(server.address, session_id, on_stats))
            try:
                run = await client.run(config.count)
                if published:
                    await published[0]
                await client.pushes.flush()
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
        swaps = store.swaps(session_id)
    swap_summary = describe_swap(swap_model, swaps, rows)
    frames_source = (
        str(config.frames) if config.frames else "built-in camera pan (matplotlib sample images)"
    )
    facts = DemoFacts(
        model=model_path.name,
        model_note=note,
        builtin_style=builtin,
        frames_source=frames_source,
        resolution=config.size,
        python_backend=python_backend,
        engine=f"reference client ({run.engine_backend}) standing in for Barracuda",
        session_id=session_id,
        wall_s=wall_s,
        client_fps=run.fps,
        extra=_extra_facts(swap_summary, optimize_catalog, config.out_dir),
    )
    report = await asyncio.to_thread(write_report, rows, facts, config.out_dir)
    await asyncio.to_thread(_write_sample, model_path, config, config.out_dir / "sample.png")
    return DemoResult(
        run=run,
        report=report,
        model_path=model_path,
        builtin_style=builtin,
        optimize_catalog=optimize_catalog,
        swap_model=swap_model,
        swap_summary=swap_summary,
    )


def _extra_facts(swap_summary: str, catalog: Path | None, out_dir: Path) -> dict[str, str]:
    extra = {"Live swap": swap_summary} if swap_summary else {}
    if catalog is not None:
        from stylebridge.report import report_link

        extra["Optimize"] = report_link(catalog, relative_to=out_dir)
    return extra


def describe_swap(swap_model: Path | None, swaps: list[SwapRecord], rows: list[FrameRecord]) -> str:
    """The half-way swap in one line: result, client timings, both models' medians."""
    if swap_model is None:
        return ""
    if not swaps:
        return f"{swap_model.stem} was dropped into the catalog half-way but never pushed"
    swap = swaps[-1]
    head = f"{swap.from_model_id or '-'} -> {swap.to_model_id} v{swap.to_version}: {swap.result}"
    if swap.result != "active":
        return f"{head} ({swap.error})"
    parts = [
        f"{head} from frame {swap.first_sequence}",
        f"client import {swap.import_ms or 0:.1f} ms, warm-up {swap.warmup_ms or 0:.1f} ms, "
        f"first inference {swap.first_inference_ms or 0:.1f} ms",
    ]
    for model_id in dict.fromkeys(r.engine_model_id for r in rows if r.engine_model_id):
        engine = [r.engine_ms for r in rows if r.engine_model_id == model_id and r.engine_ms]
        python = [r.python_ms for r in rows if r.python_model_id == model_id and r.python_ms]
        if engine or python:
            parts.append(
                f"{model_id}: engine p50 {_median(engine)}, Python p50 {_median(python)} "
                f"({len(engine)} frames)"
            )
    return "; ".join(parts)


def _median(values: list[float]) -> str:
    return f"{float(np.median(values)):.1f} ms" if values else "–"


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

    from stylebridge.frame_sources import FrameSource, builtin_frames
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
