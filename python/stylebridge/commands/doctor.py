"""``stylebridge doctor``: what a server configuration would expose, and whether it works."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stylebridge.commands._store import (
    DEFAULT_STORE_TEXT,
    StoreOption,
    StorePasswordFileOption,
    resolve_store,
)
from stylebridge.config import DEFAULT_PORT

if TYPE_CHECKING:
    from rich.table import Table

    from stylebridge.doctor import DoctorReport

_STYLE = {"ok": "green", "info": "cyan", "warn": "yellow", "fail": "bold red"}


def register(app: typer.Typer) -> None:
    """Add the ``doctor`` command to ``app``."""
    app.command("doctor")(doctor)


def doctor(
    host: Annotated[str, typer.Option(help="Address `serve` would listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port `serve` would use.")] = (
        DEFAULT_PORT
    ),
    token_file: Annotated[
        Path | None,
        typer.Option(help="Token file `serve` would read (else STYLEBRIDGE_TOKEN)."),
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate for TLS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for TLS.")] = None,
    catalog: Annotated[Path | None, typer.Option(help="Catalog folder to watch.")] = None,
    store: StoreOption = DEFAULT_STORE_TEXT,
    store_password_file: StorePasswordFileOption = None,
) -> None:
    """Explain who could reach a server started with these options, and check them.

    Needs no running server and no network; exits 1 when a check fails.
    """
    from rich.console import Console

    from stylebridge.doctor import DoctorOptions, diagnose

    report = diagnose(
        DoctorOptions(
            host=host,
            port=port,
            token_file=token_file,
            tls_cert=tls_cert,
            tls_key=tls_key,
            catalog=catalog,
            store=resolve_store(store, store_password_file),
        )
    )
    console = Console()
    console.print(report.summary(), soft_wrap=False)
    console.print(findings_table(report))
    if report.failed:
        console.print("[bold red]some checks failed[/]: fix them before `stylebridge serve`")
        raise typer.Exit(1)


def findings_table(report: DoctorReport) -> Table:
    """One row per finding, coloured by severity."""
    from rich.table import Table

    table = Table(show_header=True, title_justify="left")
    table.add_column("check", style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("finding")
    for finding in report.findings:
        style = _STYLE[finding.severity.value]
        table.add_row(finding.check.value, f"[{style}]{finding.severity.value}[/]", finding.message)
    return table
