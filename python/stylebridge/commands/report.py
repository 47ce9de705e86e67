"""``stylebridge report``: a catalog's Markdown + HTML + JSON report with its plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.sizes import parse_size


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command("report")(report)


def report(
    catalog: Annotated[Path, typer.Argument(help="Catalog folder (holds manifest.json).")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the report (default: CATALOG/report).")
    ] = None,
    frames: Annotated[
        Path | None,
        typer.Option(
            help="Folder of images for the contact sheet (default: the frames optimize used)."
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="Compare latency on this backend, e.g. onnxruntime/CPUExecutionProvider."
        ),
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="Compare latency at this resolution, WIDTHxHEIGHT.")
    ] = None,
    sheet_size: Annotated[
        str, typer.Option(help="Contact sheet tile size, WIDTHxHEIGHT (multiples of 4).")
    ] = "160x96",
    sheet_frames: Annotated[
        int, typer.Option(min=1, max=12, help="Frames on the contact sheet.")
    ] = 4,
) -> None:
    """Write CATALOG's report: tables, latency vs fidelity, sizes, a contact sheet."""
    from rich.console import Console

    from stylebridge.report import ReportOptions, write_report

    options = ReportOptions(
        latency_backend=backend,
        latency_size=parse_size(size) if size else None,
        sheet_size=parse_size(sheet_size),
        sheet_frames=sheet_frames,
    )
    console = Console()
    with console.status("rendering the report (running each variant for the contact sheet)"):
        files = write_report(catalog, out, frames, options)
    console.print(f"report written to {files.folder}")
    for path in (files.markdown, files.html, files.json):
        console.print(f"  {path}")
