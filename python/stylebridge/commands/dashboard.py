"""``stylebridge dashboard``: the store's history as one page in the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.commands._store import (
    DEFAULT_STORE_TEXT,
    StoreOption,
    StorePasswordFileOption,
    resolve_store,
)


def register(app: typer.Typer) -> None:
    """Add the ``dashboard`` command to ``app``."""
    app.command("dashboard")(dashboard)


def dashboard(
    store: StoreOption = DEFAULT_STORE_TEXT,
    store_password_file: StorePasswordFileOption = None,
    host: Annotated[
        str,
        typer.Option(
            help="Address to serve the page on. Anything but loopback needs the token "
            "(STYLEBRIDGE_TOKEN or --token-file), as the bridge does."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one).")] = 8050,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File whose first line is the token (else STYLEBRIDGE_TOKEN)."),
    ] = None,
) -> None:
    """Serve one page: perf-test runs over time (regressions marked), live sessions, swaps."""
    from rich.console import Console

    from stylebridge.config import is_loopback
    from stylebridge.credentials import TOKEN_ENV, check_exposed_token_length, resolve_token
    from stylebridge.dashboard.data import HistoryReader
    from stylebridge.dashboard.serve import DashboardServer, run_dashboard
    from stylebridge.errors import InvalidInputError

    location = resolve_store(store, store_password_file)
    resolved = resolve_token(token_file=token_file)
    token = None if resolved is None else resolved.value.get_secret_value()
    if not is_loopback(host):
        if token is None:
            raise InvalidInputError(
                f"refusing to serve the dashboard on {host!r} without a token: anything but a "
                f"loopback address is reachable from other machines; set {TOKEN_ENV} or pass "
                "--token-file, or use 127.0.0.1"
            )
        check_exposed_token_length(token)
    console = Console()
    reader = HistoryReader(location)
    try:
        server = DashboardServer(reader, host, port, token)

        def started(url: str) -> None:
            console.print(f"[bold green]StyleBridge history[/] at [bold]{url}[/]")
            console.print(f"  store: {reader.where}", highlight=False)
            if token is not None:
                console.print(f"  token required ({resolved.describe()})")  # type: ignore[union-attr]
            console.print("  Ctrl+C to stop")

        run_dashboard(server, started)
    finally:
        reader.close()
