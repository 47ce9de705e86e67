"""The store: one writer thread (``writer``), reads on their own connection; SQLite
(the default, one file) or PostgreSQL (a studio's shared history), see ``engine``.

The server is the only writer, and its asyncio loop never waits on the disk: writes
are queued to the writer thread (frame rows dropped and counted when it falls behind).
WAL mode lets the CLI and the Control service read while the writer commits;
``synchronous=NORMAL`` is durable across application crashes (a power cut may lose
the last transactions, never corrupt the file). A process killed mid-batch loses only
that batch's uncommitted rows: each batch is one transaction, so no session is ever
half-written.

A full disk or a read-only file does not stop the server: the writer logs it once (see
``health``), counts what it could not store, keeps trying with each new batch and
resumes on its own. Servers sharing one store tell their sessions apart (``servers``).
On PostgreSQL a lost connection or a server restart is such a condition too: the
connection comes back by itself (``postgres``) and writing resumes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from stylebridge.errors import NotFoundError, StoreError
from stylebridge.store import rows as _rows
from stylebridge.store import servers as _servers
from stylebridge.store.engine import open_engine
from stylebridge.store.location import StoreLocation, is_postgres_url
from stylebridge.store.records import (
    FrameRecord,
    ServerRecord,
    SessionRecord,
    StoreGap,
    StoreHealth,
    SwapRecord,
    WriteStats,
)
from stylebridge.store.writer import StoreWriter

_log = logging.getLogger(__name__)

# For benchmarks (`make bench-load`): a file the store writes its commit timings to when
# it closes (rows, batches, commit p50/p99 ms, rows per second).
STATS_FILE_ENV = "STYLEBRIDGE_STORE_STATS_FILE"


class Store:
    """Sessions and per-frame timings in one SQLite file; use as a context manager.

    Raises StoreError when the file cannot be created, opened or migrated: a server
    refuses to start then (someone is watching the terminal), while a store that fails
    later only stops storing (clients are streaming). ``heartbeat_s`` is how often a
    server that claimed the store (``mark_interrupted_open_sessions``) says it is alive.
    """

    def __init__(
        self,
        path: Path | str | StoreLocation,
        *,
        password: str | None = None,
        queue_size: int = 10_000,
        batch_size: int = 512,
        block_s: float = 0.5,
        heartbeat_s: float = 2.0,
    ) -> None:
        location = (
            path
            if isinstance(path, StoreLocation)
            else StoreLocation(path if is_postgres_url(path) else Path(path), password)
        )
        self._location = location
        self._me = _servers.ServerIdentity.new(heartbeat_s)
        self._closed = False
        self._engine = engine = open_engine(location)
        self._write_conn: Any = None
        self._reader: Any = None
        try:
            self._write_conn = conn = engine.connect()
            engine.migrate(conn)
            self._reader = engine.connect()
        except engine.errors as exc:
            self._close_connections()
            hint = (
                engine.advice(exc)
                if engine.name == "postgresql"
                else "check that the folder exists and is writable and the disk is not full, "
                "or pass another --store path"
            )
            raise StoreError(f"cannot open store {engine.where}: {exc}; {hint}") from exc
        except StoreError:
            self._close_connections()
            raise
        self._read_lock = threading.Lock()
        self._writer = StoreWriter(
            conn,
            engine,
            self._me,
            queue_size=queue_size,
            batch_size=batch_size,
            block_s=block_s,
        )

    @property
    def location(self) -> StoreLocation:
        return self._location

    @property
    def engine(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._engine.name

    @property
    def where(self) -> str:
        """The store as printed: its path, or its URL without the password."""
        return self._engine.where

    @property
    def path(self) -> Path | str:
        """The SQLite file, or the password-free URL of a PostgreSQL store."""
        return Path(self._location.target) if self._engine.name == "sqlite" else self.where

    @property
    def instance_id(self) -> str:
        """This process's id as a server of the store (stamped on its sessions)."""
        return self._me.instance_id

    @property
    def health(self) -> StoreHealth:
        """Whether writes reach the file now, SQLite's reason when not, what was lost."""
        return self._writer.health.snapshot(self.write_stats())

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Writes: all through the writer thread.

    def start_session(self, session: SessionRecord) -> None:
        if not session.server_id:
            session = replace(session, server_id=self._me.instance_id)
        self._writer.put(
            _rows.Write(_rows.INSERT_SESSION, _rows.row(session, _rows.SESSION_COLUMNS)), block=True
        )

    def set_session_state(self, session_id: str, state: str) -> None:
        self._writer.put(_rows.Write(_rows.SET_STATE, (_rows.value(state), session_id)), block=True)

    def end_session(self, session_id: str, state: str, ended_at_us: int) -> None:
        self._writer.put(
            _rows.Write(_rows.END_SESSION, (_rows.value(state), ended_at_us, session_id)),
            block=True,
        )

    def record_frame(self, frame: FrameRecord) -> None:
        """Queue one frame row; never blocks (dropped and counted when the queue is full)."""
        self._writer.put(
            _rows.Write(_rows.INSERT_FRAME, _rows.row(frame, _rows.FRAME_COLUMNS)), block=False
        )

    def record_swap(self, swap: SwapRecord) -> None:
        """Write one swap row (a later write with the same push_id replaces it)."""
        self._writer.put(
            _rows.Write(_rows.INSERT_SWAP, _rows.row(swap, _rows.SWAP_COLUMNS)), block=True
        )

    def mark_interrupted_open_sessions(self, timeout: float = 10.0) -> int:
        """At server start: claim the store as a server (registered, with a heartbeat)
        and mark 'interrupted' the open sessions of servers that are gone; returns how
        many. Sessions of another live server on the same store are left alone.

        Their end time becomes their last frame's arrival (or their start). Blocks until
        the writer has committed it; raises StoreError when it cannot.
        """

        def claim(conn: Any) -> int:
            count = _servers.claim(conn, self._me)
            self._writer.claimed = True
            return count

        return int(self.run_on_writer(claim, timeout=timeout))

    def run_on_writer(self, fn: Callable[[Any], Any], *, timeout: float = 10.0) -> Any:
        """Run ``fn(connection)`` on the writer thread between two batches; returns its
        result. For start-up work and for tests that change the writer connection
        (``PRAGMA max_page_count``, ``PRAGMA query_only``) to cause real SQLite errors.
        ``fn`` gets the engine's connection (sqlite3's, or ``postgres.PgConnection``).

        Raises StoreError when the store is closed, ``fn`` fails, or it takes too long.
        """
        return self._writer.call(fn, timeout=timeout)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every write queued so far is committed (or failed); False on timeout."""
        return self._writer.flush(timeout)

    def write_stats(self) -> WriteStats:
        return self._writer.stats()

    # Reads: their own connection, never waiting for the writer (WAL).

    def sessions(self) -> list[SessionRecord]:
        """All sessions, oldest first."""
        rows = self._read(
            f"SELECT {', '.join(_rows.SESSION_COLUMNS)} FROM sessions "
            "ORDER BY started_at_us, session_id"
        )
        return [SessionRecord(*row) for row in rows]

    def session(self, session_id: str) -> SessionRecord:
        """One session; raises NotFoundError when the store has none by that id."""
        rows = self._read(
            f"SELECT {', '.join(_rows.SESSION_COLUMNS)} FROM sessions WHERE session_id = ?",
            (session_id,),
        )
        if not rows:
            raise NotFoundError(f"no session {session_id!r} in store {self.where}")
        return SessionRecord(*rows[0])

    def frames(self, session_id: str) -> list[FrameRecord]:
        """The frames of one session in sequence order."""
        rows = self._read(
            f"SELECT {', '.join(_rows.FRAME_COLUMNS)} FROM frames WHERE session_id = ? "
            "ORDER BY sequence",
            (session_id,),
        )
        return [FrameRecord(*row) for row in rows]

    def swaps(self, session_id: str | None = None) -> list[SwapRecord]:
        """Swaps of one session (or of all sessions), oldest first."""
        sql = f"SELECT {', '.join(_rows.SWAP_COLUMNS)} FROM swaps"
        params: tuple[Any, ...] = ()
        if session_id is not None:
            sql += " WHERE session_id = ?"
            params = (session_id,)
        rows = self._read(sql + " ORDER BY requested_at_us, push_id", params)
        return [SwapRecord(*row) for row in rows]

    def servers(self) -> list[ServerRecord]:
        """Every server that claimed this store, oldest first."""
        rows = self._read(
            f"SELECT {', '.join(_rows.SERVER_COLUMNS)} FROM servers ORDER BY started_at_us"
        )
        return [ServerRecord(*row) for row in rows]

    def gaps(self) -> list[StoreGap]:
        """Stretches the store could not write, and how many writes each lost."""
        rows = self._read(
            f"SELECT {', '.join(_rows.GAP_COLUMNS)} FROM store_gaps ORDER BY started_at_us"
        )
        return [StoreGap(*row) for row in rows]

    def frame_counts(self, session_id: str) -> dict[str, int]:
        """How many frames of the session ended in each status."""
        rows = self._read(
            "SELECT status, count(*) FROM frames WHERE session_id = ? GROUP BY status",
            (session_id,),
        )
        return {str(status): int(count) for status, count in rows}

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        reader = self._reader
        if reader is None:
            raise StoreError(f"store {self.where} is closed")
        try:
            with self._read_lock:
                return reader.execute(sql, params).fetchall()
        except self._engine.errors as exc:
            raise StoreError(f"cannot read store {self.where}: {exc}") from exc

    # Shutdown.

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, stop the writer and close both connections; idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self._writer.stop(timeout):
            return
        with self._read_lock:
            self._close_connections()
        stats_file = os.environ.get(STATS_FILE_ENV)
        if stats_file:
            summary = self._writer.timings.summary() | {"engine": self.engine}
            Path(stats_file).write_text(json.dumps(summary))

    def _close_connections(self) -> None:
        for conn in (self._write_conn, self._reader):
            if conn is not None:
                conn.close()
        self._write_conn = self._reader = None
