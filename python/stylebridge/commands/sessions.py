"""``stylebridge sessions``: the sessions of a running server, or one session live."""

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
from stylebridge.commands._store import StorePasswordFileOption, resolve_store
from stylebridge.config import DEFAULT_PORT
from stylebridge.store.location import StoreLocation

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from stylebridge.client.convert_control import StoreStatus
    from stylebridge.protocol import SessionStats, SessionSummary, SwapOutcome


def register(app: typer.Typer) -> None:
    """Add the ``sessions`` command to ``app``."""
    app.command("sessions")(sessions)


def sessions(
    server: Annotated[str, typer.Option(help="Server address, host:port.")] = (
        f"127.0.0.1:{DEFAULT_PORT}"
    ),
    watch: Annotated[
        str | None,
        typer.Option(help="Show this session's statistics live until it ends (or Ctrl+C)."),
    ] = None,
    interval_ms: Annotated[
        int, typer.Option(min=100, max=10_000, help="Refresh period of --watch.")
    ] = 1000,
    token: TokenOption = None,
    token_file: TokenFileOption = None,
    tls_ca: TlsCaOption = None,
    tls: TlsOption = False,
    store: Annotated[
        str | None,
        typer.Option(
            help="Read the sessions of every server from this store instead (SQLite file or "
            "postgresql://user@host:port/db), no server needed.",
            show_default=False,
        ),
    ] = None,
    store_password_file: StorePasswordFileOption = None,
) -> None:
    """List a server's sessions; with --watch, follow one session's statistics."""
    from rich.console import Console

    console = Console()
    if store is not None:
        console.print(stored_sessions_table(resolve_store(store, store_password_file)))
        return
    connection = Connection.from_options(server, token, token_file, tls_ca, tls)
    if watch is None:
        summaries, store = asyncio.run(_list(connection))
        console.print(sessions_table(summaries))
        if store is not None:
            style = "dim" if store.ok else "bold red"
            console.print(store.describe(), style=style, markup=False, highlight=False)
    else:
        asyncio.run(_watch(connection, watch, interval_ms, console))


def stored_sessions_table(location: StoreLocation) -> Table:
    """The newest sessions in a store, whichever server wrote them."""
    from rich.table import Table

    from stylebridge.store import Store

    with Store(location) as opened:
        records = opened.sessions()[-50:]
        counts = {r.session_id: sum(opened.frame_counts(r.session_id).values()) for r in records}
        where = opened.where
    table = Table(title=f"sessions in {where} (newest 50)")
    for column in ("session", "state", "engine", "gpu", "client", "started (UTC)", "frames"):
        table.add_column(column)
    table.add_column("server")
    for record in reversed(records):
        started = dt.datetime.fromtimestamp(record.started_at_us / 1e6, dt.UTC)
        table.add_row(
            record.session_id[:8],
            record.state,
            record.engine,
            record.gpu,
            record.client_name,
            started.strftime("%Y-%m-%d %H:%M:%S"),
            str(counts[record.session_id]),
            record.server_id[:8],
        )
    return table


async def _list(connection: Connection) -> tuple[list[SessionSummary], StoreStatus | None]:
    async with connection.control() as control:
        return await control.list_sessions(), await control.store_status()


async def _watch(
    connection: Connection, session_id: str, interval_ms: int, console: Console
) -> None:
    from rich.live import Live

    async with connection.control() as control:
        first = await control.session_stats(session_id)
        with Live(stats_table(first), console=console, refresh_per_second=4) as live:
            if first.session.state.ended:
                return
            async for stats in control.watch(session_id, interval_ms):
                live.update(stats_table(stats))
                if stats.session.state.ended:
                    break


def _started(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6).strftime("%H:%M:%S")


def sessions_table(summaries: list[SessionSummary]) -> Table:
    """One row per session."""
    from rich.table import Table

    table = Table(title=f"{len(summaries)} sessions", title_justify="left")
    table.add_column("session", overflow="fold", min_width=32)
    for column in ("state", "engine", "client", "models (engine / python)", "last swap", "since"):
        table.add_column(column, overflow="fold")
    for s in summaries:
        active = s.active_model
        version = f" v{active.version}" if active.version else ""
        push = "pinned" if s.pinned else ("takes pushes" if s.models_open else "no pushes")
        table.add_row(
            s.session_id,
            s.state.label,
            f"{s.engine.label} {s.engine_version}".strip(),
            f"{s.client_name}\n{s.peer}",
            f"{s.engine_model_id or '-'}{version} / {s.python_model_id or '-'}\n{push}",
            last_swap_text(s.last_swap),
            _started(s.started_at_us),
        )
    return table


def last_swap_text(swap: SwapOutcome | None) -> str:
    """A session's last swap in one or two lines: what, result, timings or why not."""
    if swap is None:
        return "-"
    when = _started(swap.completed_at_us or swap.requested_at_us)
    head = (
        f"{swap.from_model.model_id or '-'} -> {swap.to_model.model_id} v{swap.to_model.version}"
        f" {swap.result.label} ({swap.trigger}, {when})"
    )
    if swap.result.label == "active":
        return (
            f"{head}\nimport {swap.import_ms:.0f} ms, warm-up {swap.warmup_ms:.0f} ms, "
            f"first frame {swap.first_sequence}"
        )
    return f"{head}\n{swap.reason}" if swap.reason else head


def stats_table(stats: SessionStats) -> Table:
    """Counters and timing distributions of one session."""
    from rich.table import Table

    s = stats.session
    method = stats.engine_timing_method.label if stats.engine_timing_method else "-"
    table = Table(
        title=f"session {s.session_id} [{s.state.label}] {s.client_name}", title_justify="left"
    )
    for column in ("", "count", "mean ms", "p50", "p90", "p99", "last"):
        table.add_column(column, justify="right")
    for name, t in (
        (f"engine ({method})", stats.engine),
        (f"python ({stats.python_backend})", stats.python),
        ("queue", stats.queue),
    ):
        table.add_row(
            name,
            str(t.count),
            *(f"{v:.1f}" for v in (t.mean_ms, t.p50_ms, t.p90_ms, t.p99_ms, t.last_ms)),
        )
    for timings in stats.per_model:
        for side, t in (("engine", timings.engine), ("python", timings.python)):
            if t.count:
                table.add_row(
                    f"  {timings.model_id} {side}",
                    str(t.count),
                    *(f"{v:.1f}" for v in (t.mean_ms, t.p50_ms, t.p90_ms, t.p99_ms, t.last_ms)),
                )
    if s.last_swap is not None:
        table.add_section()
        table.add_row("last swap", last_swap_text(s.last_swap).replace("\n", "  "))
    table.caption = (
        f"received {stats.frames_received}  processed {stats.frames_processed}  "
        f"dropped {stats.frames_dropped}  failed {stats.frames_failed}  "
        f"rejected {stats.frames_rejected}  {stats.receive_fps:.1f} fps  "
        f"parity {stats.parity_count}× mean {stats.parity_psnr_mean_db:.1f} dB"
    )
    return table
