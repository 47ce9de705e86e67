"""``stylebridge record``: keep a live session's frames as PNGs, to train students on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stylebridge.commands._connection import (
    Connection,
    TlsCaOption,
    TlsOption,
    TokenFileOption,
    TokenOption,
)
from stylebridge.config import DEFAULT_PORT

if TYPE_CHECKING:
    from rich.console import Console

    from stylebridge.client.recording import RecordingResult, RecordOptions


def register(app: typer.Typer) -> None:
    """Add the ``record`` command to ``app``."""
    app.command("record")(record)


def record(
    session: Annotated[str, typer.Option(help="Session id (see `stylebridge sessions`).")],
    out: Annotated[Path, typer.Option(help="Folder the PNGs are written to (created).")],
    server: Annotated[str, typer.Option(help="Server address, host:port.")] = (
        f"127.0.0.1:{DEFAULT_PORT}"
    ),
    every: Annotated[int, typer.Option(min=1, help="Consider every Nth frame.")] = 10,
    min_change: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=255.0,
            help="Skip frames whose mean gray change to the last kept one (0..255) is below.",
        ),
    ] = 2.0,
    max_frames: Annotated[
        int, typer.Option(min=0, help="Stop after this many frames (0 = until the session ends).")
    ] = 0,
    token: TokenOption = None,
    token_file: TokenFileOption = None,
    tls_ca: TlsCaOption = None,
    tls: TlsOption = False,
) -> None:
    """Record every Nth frame of a live session (near-duplicates skipped) as PNGs."""
    from rich.console import Console

    from stylebridge.client.recording import RecordOptions

    options = RecordOptions(every_n=every, min_change=min_change, max_frames=max_frames)
    console = Console()
    try:
        result = asyncio.run(
            _record(
                Connection.from_options(server, token, token_file, tls_ca, tls),
                session,
                out,
                options,
                console,
            )
        )
    except KeyboardInterrupt:
        console.print("stopped")
        return
    console.print(f"{len(result.files)} frames in {result.folder}")


async def _record(
    connection: Connection,
    session_id: str,
    out: Path,
    options: RecordOptions,
    console: Console,
) -> RecordingResult:
    from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    from stylebridge.client.recording import RecordedFrame, record_to_folder

    total = options.max_frames or None
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]recording"),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("frames", total=total, last="")

        def on_frame(frame: RecordedFrame, path: Path) -> None:
            progress.update(task, advance=1, last=f"{path.name} (change {frame.mean_change:.1f})")

        async with connection.control() as control:
            return await record_to_folder(control, session_id, out, options, on_frame=on_frame)
