"""``stylebridge swap`` and ``stylebridge models``: live model swaps on a running server."""

from __future__ import annotations

import asyncio
import datetime as dt
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
from stylebridge.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.table import Table

    from stylebridge.protocol import ModelList, ModelRef, SwapOutcome

_SERVER_HELP = "Server address, host:port."
_DEFAULT_SERVER = f"127.0.0.1:{DEFAULT_PORT}"

# Colours of the verdicts and results in the tables.
_VERDICT_STYLE = {"runs": "green", "runs-with-difference": "yellow", "cannot-run": "red"}
_RESULT_STYLE = {
    "active": "green",
    "unchanged": "dim",
    "rolled_back": "red",
    "refused": "red",
    "timed_out": "yellow",
    "not_connected": "yellow",
}


def register(app: typer.Typer) -> None:
    """Add the ``swap`` and ``models`` commands to ``app``."""
    app.command("swap")(swap)
    app.command("models")(models)


def swap(
    model: Annotated[
        str, typer.Argument(help="Registry id of the model (see `stylebridge models`).")
    ],
    session: Annotated[
        list[str] | None,
        typer.Option("--session", "-s", help="Session to swap (repeatable)."),
    ] = None,
    all_sessions: Annotated[
        bool, typer.Option("--all", help="Every open session, pinned ones included.")
    ] = False,
    server: Annotated[str, typer.Option(help=_SERVER_HELP)] = _DEFAULT_SERVER,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for each client's acknowledgement.")
    ] = 10.0,
    token: TokenOption = None,
    token_file: TokenFileOption = None,
    tls_ca: TlsCaOption = None,
    tls: TlsOption = False,
) -> None:
    """Push MODEL to running clients; each validates, loads, swaps between frames and acks."""
    from rich.console import Console

    if bool(session) == all_sessions:
        raise InvalidInputError("pass either --session ID (repeatable) or --all")
    connection = Connection.from_options(server, token, token_file, tls_ca, tls)
    ref, outcomes = asyncio.run(_swap(connection, model, session or [], all_sessions, timeout))
    console = Console()
    console.print(swap_table(ref, outcomes))
    if not outcomes:
        console.print("[yellow]no open sessions[/]")
    if any(o.result.label not in ("active", "unchanged") for o in outcomes):
        raise typer.Exit(1)


async def _swap(
    connection: Connection,
    model: str,
    sessions: list[str],
    all_sessions: bool,
    timeout: float,
) -> tuple[ModelRef, list[SwapOutcome]]:
    async with connection.control() as control:
        return await control.swap(model, sessions, all_sessions=all_sessions, ack_timeout_s=timeout)


def models(
    server: Annotated[str, typer.Option(help=_SERVER_HELP)] = _DEFAULT_SERVER,
    token: TokenOption = None,
    token_file: TokenFileOption = None,
    tls_ca: TlsCaOption = None,
    tls: TlsOption = False,
) -> None:
    """The server's model registry: versions, sizes and each engine's verdict."""
    from rich.console import Console

    listing = asyncio.run(_models(Connection.from_options(server, token, token_file, tls_ca, tls)))
    console = Console()
    console.print(models_table(listing))
    for m in listing.models:
        if not m.valid:
            console.print(f"[red]refused[/] {m.file}: {m.error}")
        for check in m.engines:
            if check.verdict == "cannot-run":
                console.print(f"[red]{m.model.model_id} on {check.engine}[/]: {check.reason}")


async def _models(connection: Connection) -> ModelList:
    async with connection.control() as control:
        return await control.list_models()


def _short(ref: ModelRef) -> str:
    if not ref.model_id:
        return "-"
    version = f" v{ref.version}" if ref.version else ""
    return f"{ref.model_id}{version}"


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1e6:.2f} MB" if size_bytes >= 100_000 else f"{size_bytes / 1e3:.1f} kB"


def swap_table(model: ModelRef, outcomes: list[SwapOutcome]) -> Table:
    """One row per session: result, timings (ms) and the reason when it did not go."""
    from rich.table import Table

    table = Table(title=f"swap to {_short(model)} ({model.sha256[:12]})", title_justify="left")
    for column in ("session", "from", "result", "push", "import", "warm-up", "1st frame", "at seq"):
        table.add_column(column, justify="right" if column in ("push", "import") else "left")
    table.add_column("reason", overflow="fold")
    for o in outcomes:
        style = _RESULT_STYLE.get(o.result.label, "")
        acked = o.result.label in ("active", "rolled_back")
        table.add_row(
            o.session_id[:12],
            _short(o.from_model),
            f"[{style}]{o.result.label}[/]" if style else o.result.label,
            f"{o.push_ms:.1f}" if o.push_id else "-",
            f"{o.import_ms:.1f}" if acked else "-",
            f"{o.warmup_ms:.1f}" if acked else "-",
            f"{o.first_inference_ms:.1f}" if o.result.label == "active" else "-",
            str(o.first_sequence) if o.result.label == "active" else "-",
            o.reason,
        )
    return table


def models_table(listing: ModelList) -> Table:
    """One row per model: version, size, opset, recipe and a verdict column per engine."""
    from rich.table import Table

    engines: list[str] = []
    for m in listing.models:
        for check in m.engines:
            if check.engine not in engines:
                engines.append(check.engine)
    title = f"{len(listing.models)} models in {listing.catalog or '(no catalog)'}"
    if listing.catalog_missing:
        title += " [bold red](folder missing: waiting for it to come back)[/]"
    table = Table(title=title, title_justify="left")
    for column in ("model", "version", "size", "opset", "recipe", "registered", *engines):
        table.add_column(column)
    for m in listing.models:
        name = m.model.model_id
        if name == listing.current_model_id:
            name = f"[bold]{name}[/] *"
        verdicts = {c.engine: c.verdict for c in m.engines}
        cells = [
            f"[{_VERDICT_STYLE.get(verdicts.get(e, ''), '')}]{verdicts.get(e, '-')}[/]"
            if verdicts.get(e)
            else "-"
            for e in engines
        ]
        table.add_row(
            name,
            str(m.model.version)
            if m.valid
            else "[yellow]removed[/]"
            if m.removed
            else "[red]refused[/]",
            _size(m.size_bytes),
            str(m.opset or "-"),
            m.recipe or "-",
            dt.datetime.fromtimestamp(m.registered_at_us / 1e6).strftime("%H:%M:%S")
            if m.registered_at_us
            else "-",
            *cells,
        )
    if listing.current_model_id:
        table.caption = "* current: what new sessions are brought to"
    return table
