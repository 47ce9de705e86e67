"""``stylebridge client``: the reference client, streaming frames to a running server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stylebridge.commands._connection import (
    TlsCaOption,
    TlsOption,
    TokenFileOption,
    TokenOption,
    client_credentials,
)
from stylebridge.config import DEFAULT_PORT
from stylebridge.errors import InvalidInputError
from stylebridge.inference.base import BackendKind
from stylebridge.sizes import parse_size

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from stylebridge.client import ClientRunResult, FrameResult
    from stylebridge.client.reconnect import ReconnectingRunResult
    from stylebridge.client.swap import SwapAck
    from stylebridge.config import ClientConfig


def register(app: typer.Typer) -> None:
    """Add the ``client`` command to ``app``."""
    app.command("client")(client)


def client(
    server: Annotated[str, typer.Option(help="Server address, host:port.")] = (
        f"127.0.0.1:{DEFAULT_PORT}"
    ),
    frames: Annotated[
        Path | None,
        typer.Option(help="Folder of images, an image or a video (default: built-in frames)."),
    ] = None,
    fps: Annotated[
        float, typer.Option(min=0, help="Frames per second; 0 = as fast as answered.")
    ] = 30.0,
    size: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT.")] = "640x360",
    count: Annotated[int, typer.Option(min=1, help="Frames to send.")] = 100,
    model: Annotated[
        Path | None,
        typer.Option(help="Model the local stand-in engine runs (none: frames go up untimed)."),
    ] = None,
    backend: Annotated[
        BackendKind,
        typer.Option(
            case_sensitive=False,
            help="Library of the local engine (auto: the fastest within parity, measured).",
        ),
    ] = BackendKind.AUTO,
    parity_every: Annotated[
        int, typer.Option(min=0, help="Send the engine's output every N frames (0 = never).")
    ] = 10,
    window: Annotated[int, typer.Option(min=1, help="Frames in flight at most.")] = 4,
    no_pixels: Annotated[
        bool, typer.Option("--no-pixels", help="Ask for timings only, not stylized pixels.")
    ] = False,
    token: TokenOption = None,
    token_file: TokenFileOption = None,
    tls_ca: TlsCaOption = None,
    tls: TlsOption = False,
    pinned: Annotated[
        bool,
        typer.Option("--pinned", help="Opt out of automatic model pushes (explicit swaps come)."),
    ] = False,
    no_pushes: Annotated[
        bool, typer.Option("--no-pushes", help="Take no pushed models at all.")
    ] = False,
    max_model_bytes: Annotated[
        int, typer.Option(min=0, help="Largest pushed model to import, bytes (0 = no limit).")
    ] = 0,
    reconnect: Annotated[
        bool,
        typer.Option(
            "--reconnect",
            help="When the server goes away, reconnect with back-off (as the Unity client "
            "does) and go on until COUNT frames are answered, across sessions.",
        ),
    ] = False,
    max_attempts: Annotated[
        int,
        typer.Option(
            min=0, help="With --reconnect: failed attempts in a row before giving up (0 = never)."
        ),
    ] = 10,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Declare this engine in Hello (barracuda-2, barracuda-3, sentis-2, ...): the "
            "server then pushes only models that engine can run. Default: the reference client."
        ),
    ] = None,
    engine_version: Annotated[
        str, typer.Option(help="Package version sent with --engine (default: one of its family).")
    ] = "",
) -> None:
    """Stream frames to a server as the Unity package would, and summarize both timings."""
    from rich.console import Console

    from stylebridge.client.engine import declared_engine
    from stylebridge.config import ClientConfig
    from stylebridge.engines.targets import Engine

    declared = None
    if engine is not None:
        try:
            declared = Engine(engine.strip().lower())
        except ValueError:
            known = ", ".join(e.value for e in Engine)
            raise InvalidInputError(f"unknown engine {engine!r}; use one of {known}") from None
        declared_engine(declared, engine_version)  # a version of another table is refused
    elif engine_version:
        raise InvalidInputError("--engine-version needs --engine")

    secret, client_tls = client_credentials(token, token_file, tls_ca, tls)
    config = ClientConfig(
        server=server,
        token=secret,
        tls=client_tls,
        fps=fps,
        size=parse_size(size),
        window=window,
        parity_every=parity_every,
        frames=frames,
        engine_model=model,
        engine_backend=backend,
        want_stylized=not no_pixels,
        pinned=pinned,
        accept_pushes=not no_pushes,
        max_model_bytes=max_model_bytes,
        engine=declared,
        engine_version=engine_version,
    )
    console = Console()
    if reconnect:
        across = asyncio.run(_run_reconnecting(config, count, max_attempts, console))
        console.print(reconnecting_table(across))
        return
    result = asyncio.run(_run(config, count, console))
    console.print(summary_table(result))


@contextlib.contextmanager
def _streaming(console: Console, count: int) -> Iterator[tuple[Progress, TaskID]]:
    """The progress bar of a run: frames answered of ``count``, and a status line."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]streaming"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("frames", total=count, status="")
        yield progress, task


async def _run(config: ClientConfig, count: int, console: Console) -> ClientRunResult:
    from stylebridge.client import ReferenceClient

    with _streaming(console, count) as (progress, task):

        def on_result(result: FrameResult) -> None:
            progress.advance(task)

        async with ReferenceClient(config, on_result=on_result) as reference:
            hello = reference.hello
            backend = hello.capabilities.python_backend
            progress.update(task, status=f"session {hello.session_id[:8]} · python {backend}")
            return await reference.run(count)


async def _run_reconnecting(
    config: ClientConfig, count: int, max_attempts: int, console: Console
) -> ReconnectingRunResult:
    from stylebridge.client.reconnect import BackoffPolicy, Reconnect, ReconnectingClient

    with _streaming(console, count) as (progress, task):

        def on_reconnect(event: Reconnect) -> None:
            progress.update(
                task, status=f"reconnected after {event.down_s:.1f} s: {event.new_session_id[:8]}"
            )

        client = ReconnectingClient(
            config,
            policy=BackoffPolicy(max_attempts=max_attempts),
            on_result=lambda _: progress.advance(task),
            on_reconnect=on_reconnect,
        )
        return await client.run(count)


def reconnecting_table(result: ReconnectingRunResult) -> Table:
    """A run across sessions: each session's counts, and each reconnection."""
    from rich.table import Table

    table = Table(title="sessions", title_justify="left")
    for column in ("session", "sent", "answered", "ended by"):
        table.add_column(column)
    for run in result.sessions:
        table.add_row(run.session_id, str(run.sent), str(run.answered), run.error or "-")
    for event in result.reconnects:
        table.add_row(
            f"[dim]reconnect -> {event.new_session_id}",
            "",
            "",
            f"[dim]down {event.down_s:.2f} s, {event.attempts} attempts",
        )
    table.caption = (
        f"{result.answered} answered of {result.sent} sent "
        f"({result.unanswered} lost in flight) in {result.elapsed_s:.1f} s"
    )
    return table


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def summary_table(result: ClientRunResult) -> Table:
    """The run in one table: counts, timings side by side, parity."""
    from rich.table import Table

    hello = result.hello
    table = Table(title=f"session {result.session_id}", show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    parity = result.parity
    rows = [
        ("server", f"{hello.server_version} · python {hello.capabilities.python_backend}"),
        ("python model", hello.python_model.model_id or "-"),
        ("engine", result.engine_backend),
        ("frames sent / answered", f"{result.sent} / {result.answered}"),
        (
            "processed / dropped / recorded / failed / rejected",
            f"{result.processed} / {result.dropped} / {result.recorded} / {result.failed}"
            f" / {result.rejected}",
        ),
        ("engine ms (mean)", _ms(result.engine_ms_mean)),
        ("python ms (mean)", _ms(result.python_ms_mean)),
        ("round trip ms (mean)", _ms(result.round_trip_ms_mean)),
        ("answered fps", f"{result.fps:.1f}"),
        (
            "parity PSNR",
            f"{len(parity)} frames, mean {sum(parity) / len(parity):.1f} dB" if parity else "-",
        ),
    ]
    for swap in result.swaps:
        rows.append((f"push {swap.push_id}", _swap_line(swap)))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _swap_line(swap: SwapAck) -> str:
    """One pushed model's outcome: active from which frame with its timings, or why not."""
    model = f"{swap.model.model_id} v{swap.model.version}"
    if swap.error:
        return f"{model} [red]rolled back[/red]: {swap.error}"
    return (
        f"{model} active from frame {swap.first_sequence} · import {swap.import_ms:.0f} ms · "
        f"warm-up {swap.warmup_ms:.0f} ms · first frame {swap.first_inference_ms:.1f} ms"
    )
