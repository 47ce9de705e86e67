"""``stylebridge demo``: the bridge end to end, with a live table and a report."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from stylebridge.inference.base import BackendKind
from stylebridge.sizes import parse_size

console = Console()


def _stats_table(stats: object, sent: int, total: int) -> Table:
    from stylebridge.protocol import SessionStats

    assert isinstance(stats, SessionStats)
    table = Table(title=f"session {stats.session.session_id}", title_justify="left")
    for column in (
        "frames",
        "engine ms p50 / last",
        "Python ms p50 / last",
        "fps",
        "drops",
        "parity PSNR",
    ):
        table.add_column(column, justify="right")
    engine, python = stats.engine, stats.python
    parity = (
        f"{stats.parity_psnr_mean_db:.1f} dB ({stats.parity_count})" if stats.parity_count else "–"
    )
    table.add_row(
        f"{stats.frames_received}/{total}",
        f"{engine.p50_ms:.1f} / {engine.last_ms:.1f}" if engine.count else "–",
        f"{python.p50_ms:.1f} / {python.last_ms:.1f}" if python.count else "–",
        f"{stats.receive_fps:.1f}",
        str(stats.frames_dropped),
        parity,
    )
    for timings in stats.per_model:  # one row per model once there was a swap
        if len(stats.per_model) < 2:
            break
        e, p = timings.engine, timings.python
        table.add_row(
            f"  {timings.model_id}",
            f"{e.p50_ms:.1f} / {e.last_ms:.1f}" if e.count else "–",
            f"{p.p50_ms:.1f} / {p.last_ms:.1f}" if p.count else "–",
            "",
            "",
            "",
        )
    method = stats.engine_timing_method.label if stats.engine_timing_method else "not reported"
    caption = f"engine timing: {method}; Python: {stats.python_backend}"
    swap = stats.session.last_swap
    if swap is not None:
        caption += (
            f"; live swap: {swap.from_model.model_id} -> {swap.to_model.model_id} "
            f"{swap.result.label}"
            + (f" at frame {swap.first_sequence}" if swap.first_sequence else "")
            + (f" ({swap.reason})" if swap.reason else "")
        )
    table.caption = caption
    return table


def demo(
    model: Annotated[
        Path | None,
        typer.Option(help="A .onnx or .pth style model; default: the built-in style."),
    ] = None,
    frames: Annotated[
        Path | None,
        typer.Option(help="Folder of images, an image or a video; default: built-in frames."),
    ] = None,
    count: Annotated[int, typer.Option(min=1, help="Frames to stream.")] = 120,
    size: Annotated[str, typer.Option(help="Stream resolution, WIDTHxHEIGHT.")] = "320x180",
    fps: Annotated[
        float, typer.Option(min=0.0, help="Frames per second to send (0 = as fast as possible).")
    ] = 30.0,
    backend: Annotated[
        BackendKind, typer.Option(case_sensitive=False, help="Python inference backend.")
    ] = BackendKind.ONNXRUNTIME,
    parity_every: Annotated[
        int, typer.Option(min=0, help="Send the engine's output every N frames.")
    ] = 10,
    out: Annotated[Path, typer.Option(help="Where the report and the store go.")] = Path(
        "out/demo"
    ),
    swap: Annotated[
        bool, typer.Option(help="Swap models live half-way through (watched catalog, push, ack).")
    ] = True,
    swap_to: Annotated[
        Path | None,
        typer.Option(
            help="The .onnx model to swap to; default (built-in style): its fp16 variant."
        ),
    ] = None,
) -> None:
    """Start a server and the reference client, stream frames, show both timings live, report."""
    from stylebridge.demo.run import DemoConfig, run_demo

    config = DemoConfig(
        model=model,
        frames=frames,
        count=count,
        size=parse_size(size),
        fps=fps,
        backend=backend,
        parity_every=parity_every,
        out_dir=out,
        swap=swap,
        swap_to=swap_to,
    )
    if model is None:
        console.print(
            "[bold]built-in style[/]: making its weight-only variants and their report first "
            "(reused on later runs)"
        )
    with Live(console=console, refresh_per_second=8) as live:
        live.update("starting the bridge server and the reference client…")

        def on_stats(stats: object, sent: int) -> None:
            live.update(_stats_table(stats, sent, count))

        result = asyncio.run(run_demo(config, on_stats=on_stats))
    console.print()  # the live table's last line does not end one
    run = result.run
    console.print(
        f"streamed {run.sent} frames: {run.processed} processed, {run.dropped} dropped "
        f"(newest frame wins), {run.failed} failed; {run.fps:.1f} frames/s"
    )
    if result.swap_summary:
        console.print(f"live swap: {result.swap_summary}")
    elif swap and result.swap_model is None:
        console.print("no live swap: pass --swap-to MODEL.onnx to swap a trained model half-way")
    if result.optimize_catalog is not None:
        console.print(f"optimize report: {result.optimize_catalog / 'report' / 'report.md'}")
    console.print(
        f"report: {result.report.markdown}  (JSON: {result.report.json.name}, "
        f"plot: {result.report.plot.name}, sample: sample.png)"
    )


def register(app: typer.Typer) -> None:
    app.command()(demo)
