"""``stylebridge migrate-store``: copy a local SQLite history into the studio's store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.commands._store import StorePasswordFileOption


def register(app: typer.Typer) -> None:
    """Add the ``migrate-store`` command to ``app``."""
    app.command("migrate-store")(migrate_store)


def migrate_store(
    source: Annotated[Path, typer.Argument(help="The local SQLite store to copy from.")],
    destination: Annotated[
        str, typer.Argument(help="The store to copy into: postgresql://user@host:port/db.")
    ],
    store_password_file: StorePasswordFileOption = None,
) -> None:
    """Copy SOURCE's sessions, frames, swaps, perf runs, servers and gaps into DESTINATION.

    Rows DESTINATION already has are left alone: running it twice copies nothing twice.
    """
    from rich.console import Console
    from rich.table import Table

    from stylebridge.commands._store import resolve_store
    from stylebridge.errors import InvalidInputError
    from stylebridge.store.copy import copy_store
    from stylebridge.store.location import StoreLocation

    if not source.is_file():
        raise InvalidInputError(f"no SQLite store at {source}")
    target = resolve_store(destination, store_password_file)
    console = Console()
    with console.status("copying") as status:
        results = copy_store(
            StoreLocation(source),
            target,
            progress=lambda table, rows: status.update(f"{table}: {rows} rows read"),
        )
    table = Table("table", "rows in source", "copied", "already there")
    for result in results:
        table.add_row(
            result.table, str(result.read), str(result.copied), str(result.read - result.copied)
        )
    console.print(table)
    copied = sum(r.copied for r in results)
    console.print(f"copied {copied} rows from {source} into {target.where}", highlight=False)
