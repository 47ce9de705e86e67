"""The two engines behind one ``Store``: what differs between SQLite and PostgreSQL.

Everything else (the writer thread, batching, health and gaps, servers sharing a store,
the schema's migrations) is written once against the few DB-API calls both drivers
share: ``execute``, ``executemany``, ``in_transaction``, ``close``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stylebridge.errors import StoreError
from stylebridge.store import health as _health
from stylebridge.store import schema
from stylebridge.store.location import StoreLocation

# Switching a new file to WAL needs an exclusive lock, and SQLite may answer "database is
# locked" at once (without its busy handler) while another process does the same.
_WAL_RETRY_S = 5.0


@dataclass(frozen=True)
class Engine:
    """One engine's connections, migration and error classification."""

    name: str
    where: str
    errors: tuple[type[BaseException], ...]
    connect: Callable[[], Any]
    migrate: Callable[[Any], int]
    is_store_condition: Callable[[BaseException], bool]
    advice: Callable[[BaseException], str]
    # Seconds the writer waits for more rows before committing a batch: a PostgreSQL
    # transaction costs network round trips, an SQLite one a fraction of a millisecond.
    linger_s: float = 0.0


def open_engine(location: StoreLocation) -> Engine:
    """The engine for ``location``; raises StoreError for a folder it cannot create."""
    if location.is_postgres:
        from stylebridge.store import postgres

        where = location.where
        return Engine(
            name="postgresql",
            where=where,
            errors=(postgres.Error,),
            connect=lambda: postgres.connect(location),
            migrate=lambda conn: postgres.migrate(conn, schema.MIGRATIONS, where),
            is_store_condition=postgres.is_store_condition,
            advice=postgres.advice,
            linger_s=postgres.LINGER_S,
        )
    path = Path(location.target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for store {path}: {exc}; check that the folder "
            "exists and is writable and the disk is not full, or pass another --store path"
        ) from exc
    return Engine(
        name="sqlite",
        where=str(path),
        errors=(sqlite3.Error,),
        connect=lambda: sqlite_connect(path),
        migrate=lambda conn: _sqlite_migrate(conn, path),
        is_store_condition=lambda exc: (
            isinstance(exc, sqlite3.Error) and _health.is_store_condition(exc)
        ),
        advice=lambda exc: _health.advice(exc) if isinstance(exc, sqlite3.Error) else "",
    )


def sqlite_connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit BEGIN/COMMIT in the writer.
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _sqlite_migrate(conn: sqlite3.Connection, path: Path) -> int:
    mode = _enable_wal(conn)
    if str(mode).lower() != "wal":
        import logging

        logging.getLogger("stylebridge.store").warning(
            "store %s runs in %s mode, not WAL: reads may wait", path, mode
        )
    found = schema.migrate(conn, str(path))
    # Fail now, not in the writer thread, when the file is read-only.
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("ROLLBACK")
    return found


def _enable_wal(conn: sqlite3.Connection) -> str:
    """The journal mode after asking for WAL, retrying a racing opener's lock briefly."""
    deadline = time.monotonic() + _WAL_RETRY_S
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
