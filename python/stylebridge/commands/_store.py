"""``--store`` and ``--store-password-file``, shared by every command that opens the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.config import DEFAULT_STORE
from stylebridge.store.location import StoreLocation, store_location

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="STYLEBRIDGE_STORE",
        help="SQLite file, or a studio-wide PostgreSQL store: postgresql://user@host:port/db "
        "(also STYLEBRIDGE_STORE).",
    ),
]
StorePasswordFileOption = Annotated[
    Path | None,
    typer.Option(
        help="File whose first line is the PostgreSQL password (else the URL, PGPASSWORD or "
        "~/.pgpass); never printed.",
        show_default=False,
    ),
]
DEFAULT_STORE_TEXT = str(DEFAULT_STORE)


def resolve_store(store: str, password_file: Path | None) -> StoreLocation:
    """The store the options name; exits 2 with the reason when the password file is bad."""
    from rich.console import Console

    from stylebridge.errors import StyleBridgeError

    try:
        return store_location(store, password_file)
    except StyleBridgeError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
