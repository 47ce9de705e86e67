"""The SQLite store: one writer thread fed by a bounded queue, reads on their own connection.

The server is the only writer. Its asyncio loop must never wait on the disk, so
every write is a queue entry that a dedicated thread commits in batches (one
transaction and one ``executemany`` per run of like statements). When the queue is
full, frame rows are dropped and counted rather than blocking the loop: the store
records the stream, and stalling the stream to record it would change what is
measured. Session rows, rare and important, wait up to ``block_s`` for room instead.

WAL mode lets the CLI and the Control service read while the writer commits;
``synchronous=NORMAL`` is durable across application crashes (a power cut may lose
the last transactions, never corrupt the file). A process killed mid-batch loses only
that batch's uncommitted rows: each batch is one transaction, so no session is ever
half-written.

A full disk or a read-only file does not stop the server: the writer logs it once (see
``health``), counts what it could not store, keeps trying with each new batch and
resumes on its own. Servers sharing one store tell their sessions apart (``servers``).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from stylebridge.errors import NotFoundError, StoreError
from stylebridge.store import rows as _rows
from stylebridge.store import servers as _servers
from stylebridge.store.health import StoreHealthTracker, is_store_condition
from stylebridge.store.records import (
    FrameRecord,
    ServerRecord,
    SessionRecord,
    StoreGap,
    StoreHealth,
    SwapRecord,
    WriteStats,
)
from stylebridge.store.schema import migrate

_log = logging.getLogger(__name__)

# Seconds between two log lines about dropped or failed writes.
_LOG_EVERY_S = 5.0


def _connect(path: Path, *, shared: bool) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit BEGIN/COMMIT in the writer.
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=not shared)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


# Switching a new file to WAL needs an exclusive lock, and SQLite may answer "database is
# locked" at once (without its busy handler) while another process does the same.
_WAL_RETRY_S = 5.0


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


# What one write can raise without the store itself being at fault.
_BAD_ROW_ERRORS = (sqlite3.Error, OverflowError, ValueError, TypeError)


class Store:
    """Sessions and per-frame timings in one SQLite file; use as a context manager.

    Raises StoreError when the file cannot be created, opened or migrated: a server
    refuses to start then (someone is watching the terminal), while a store that fails
    later only stops storing (clients are streaming). ``heartbeat_s`` is how often a
    server that claimed the store (``mark_interrupted_open_sessions``) says it is alive.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        queue_size: int = 10_000,
        batch_size: int = 512,
        block_s: float = 0.5,
        heartbeat_s: float = 2.0,
    ) -> None:
        self._path = Path(path)
        self._me = _servers.ServerIdentity.new(heartbeat_s)
        # Set once a server claims the store: the writer thread then keeps its heartbeat.
        self._claimed = False
        self._health = StoreHealthTracker(self._path)
        self._batch_size = batch_size
        self._block_s = block_s
        self._queue: queue.Queue[_rows.Write | _rows.Call | object] = queue.Queue(
            maxsize=queue_size
        )
        self._cond = threading.Condition()
        self._enqueued = self._committed = self._dropped = self._failed = 0
        self._last_warning = 0.0
        self._closed = False
        hint = "check that the folder exists and is writable and the disk is not full, "
        hint += "or pass another --store path"
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder for store {self._path}: {exc}; {hint}"
            ) from exc
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        try:
            self._writer = _connect(self._path, shared=True)
            mode = _enable_wal(self._writer)
            if str(mode).lower() != "wal":
                _log.warning("store %s runs in %s mode, not WAL: reads may wait", self._path, mode)
            migrate(self._writer, str(self._path))
            # Fail now, not in the writer thread, when the file is read-only.
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.execute("ROLLBACK")
            self._reader = _connect(self._path, shared=True)
        except sqlite3.Error as exc:
            self._close_connections()
            raise StoreError(f"cannot open store {self._path}: {exc}; {hint}") from exc
        except StoreError:
            self._close_connections()
            raise
        self._read_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._write_loop, name=f"store-writer:{self._path.name}", daemon=True
        )
        self._thread.start()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def instance_id(self) -> str:
        """This process's id as a server of the store (stamped on its sessions)."""
        return self._me.instance_id

    @property
    def health(self) -> StoreHealth:
        """Whether writes reach the file now, SQLite's reason when not, what was lost."""
        return self._health.snapshot(self.write_stats())

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Writes: all through the writer thread.

    def start_session(self, session: SessionRecord) -> None:
        if not session.server_id:
            session = replace(session, server_id=self._me.instance_id)
        self._put(
            _rows.Write(_rows.INSERT_SESSION, _rows.row(session, _rows.SESSION_COLUMNS)), block=True
        )

    def set_session_state(self, session_id: str, state: str) -> None:
        self._put(_rows.Write(_rows.SET_STATE, (_rows.value(state), session_id)), block=True)

    def end_session(self, session_id: str, state: str, ended_at_us: int) -> None:
        self._put(
            _rows.Write(_rows.END_SESSION, (_rows.value(state), ended_at_us, session_id)),
            block=True,
        )

    def record_frame(self, frame: FrameRecord) -> None:
        """Queue one frame row; never blocks (dropped and counted when the queue is full)."""
        self._put(
            _rows.Write(_rows.INSERT_FRAME, _rows.row(frame, _rows.FRAME_COLUMNS)), block=False
        )

    def record_swap(self, swap: SwapRecord) -> None:
        """Write one swap row (a later write with the same push_id replaces it)."""
        self._put(_rows.Write(_rows.INSERT_SWAP, _rows.row(swap, _rows.SWAP_COLUMNS)), block=True)

    def mark_interrupted_open_sessions(self, timeout: float = 10.0) -> int:
        """At server start: claim the store as a server (registered, with a heartbeat)
        and mark 'interrupted' the open sessions of servers that are gone; returns how
        many. Sessions of another live server on the same store are left alone.

        Their end time becomes their last frame's arrival (or their start). Blocks until
        the writer has committed it; raises StoreError when it cannot.
        """

        def claim(conn: sqlite3.Connection) -> int:
            count = _servers.claim(conn, self._me)
            self._claimed = True
            return count

        return int(self.run_on_writer(claim, timeout=timeout))

    def run_on_writer(
        self, fn: Callable[[sqlite3.Connection], Any], *, timeout: float = 10.0
    ) -> Any:
        """Run ``fn(connection)`` on the writer thread between two batches; returns its
        result. For start-up work and for tests that change the writer connection
        (``PRAGMA max_page_count``, ``PRAGMA query_only``) to cause real SQLite errors.

        Raises StoreError when the store is closed, ``fn`` fails, or it takes too long.
        """
        if self._closed:
            raise StoreError(f"store {self._path} is closed")
        done: Future[Any] = Future()
        self._put(_rows.Call(fn, done), block=True)  # type: ignore[arg-type]
        try:
            return done.result(timeout=timeout)
        except TimeoutError as exc:
            raise StoreError(f"store {self._path} did not answer within {timeout} s") from exc
        except sqlite3.Error as exc:
            raise StoreError(
                f"store {self._path}: {exc}; check that the disk has room and the file is "
                "writable, or pass another --store path"
            ) from exc

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every write queued so far is committed (or failed); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._enqueued
            while self._committed + self._failed < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
        return True

    def write_stats(self) -> WriteStats:
        with self._cond:
            return WriteStats(self._enqueued, self._committed, self._dropped, self._failed)

    def _put(self, write: _rows.Write | _rows.Call, *, block: bool) -> None:
        if self._closed:
            self._note_drop(f"store {self._path} is closed")
            return
        try:
            with self._cond:
                # Counted before the put so that flush() never misses a write in flight.
                self._enqueued += 1
            self._queue.put(write, block=block, timeout=self._block_s if block else None)
        except queue.Full:
            with self._cond:
                self._enqueued -= 1
            if block:
                raise StoreError(
                    f"store {self._path} is {self._queue.maxsize} writes behind; "
                    "the disk is too slow or failing"
                ) from None
            self._note_drop(f"store {self._path} write queue is full")

    def _note_drop(self, why: str) -> None:
        with self._cond:
            self._dropped += 1
            dropped = self._dropped
        now = time.monotonic()
        if now - self._last_warning >= _LOG_EVERY_S:
            self._last_warning = now
            _log.warning("%s: dropped a write (%d dropped so far)", why, dropped)

    # The writer thread.

    def _write_loop(self) -> None:
        conn = self._writer
        assert conn is not None
        next_beat = time.monotonic() + self._me.heartbeat_s
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_beat - time.monotonic()))
            except queue.Empty:
                item = None
            batch: list[_rows.Write] = []
            call: _rows.Call | None = None
            stop = item is _rows.STOP
            while item is not None and not stop:
                if isinstance(item, _rows.Call):
                    call = item  # a batch boundary: commit what came before it first
                    break
                batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= self._batch_size:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                stop = item is _rows.STOP
            if batch:
                self._commit(conn, batch)
            if call is not None:
                self._run_call(conn, call)
            if time.monotonic() >= next_beat:
                self._beat(conn)
                next_beat = time.monotonic() + self._me.heartbeat_s
            if stop:
                self._sign_off(conn)
                return

    def _run_call(self, conn: sqlite3.Connection, call: _rows.Call) -> None:
        try:
            result = call.fn(conn)
        except Exception as exc:  # handed to the caller waiting on the future
            with self._cond:
                self._failed += 1
                self._cond.notify_all()
            call.done.set_exception(exc)
            return
        with self._cond:
            self._committed += 1
            self._cond.notify_all()
        call.done.set_result(result)

    def _beat(self, conn: sqlite3.Connection) -> None:
        """Refresh this server's heartbeat and interrupt the sessions of servers gone."""
        if not self._claimed:
            return
        try:
            _servers.heartbeat(conn, self._me)
        except sqlite3.Error as exc:
            # A store that cannot write is reported by the data writes (health).
            _log.debug("store %s: heartbeat failed: %s", self._path, exc)

    def _sign_off(self, conn: sqlite3.Connection) -> None:
        """A clean stop: this server's sessions are its own business no longer."""
        if not self._claimed:
            return
        try:
            _servers.sign_off(conn, self._me)
        except sqlite3.Error as exc:
            _log.warning("store %s: could not record this server's stop: %s", self._path, exc)

    def _commit(self, conn: sqlite3.Connection, batch: list[_rows.Write]) -> None:
        """Commit ``batch`` in one transaction; on failure, retry each write alone so
        that one bad row costs only itself."""
        try:
            counts = _rows.run_transaction(conn, batch)
        except _BAD_ROW_ERRORS as exc:
            # A value sqlite3 cannot bind (an integer over 2**63) raises OverflowError:
            # it is a bad row like any constraint error, never the writer thread's end.
            condition = isinstance(exc, sqlite3.Error) and is_store_condition(exc)
            if len(batch) > 1 and not condition:
                for write in batch:
                    self._commit(conn, [write])
                return
            if condition:
                # Said before the writes count as failed: flush() returning means the
                # store's condition (and its one log line) is already known.
                self._health.on_failure(exc, len(batch))
            with self._cond:
                self._failed += len(batch)
                failed = self._failed
                self._cond.notify_all()
            for write in batch:
                if write.done is not None:
                    write.done.set_exception(StoreError(f"store {self._path}: {exc}"))
            if condition:
                return
            now = time.monotonic()
            if now - self._last_warning >= _LOG_EVERY_S or failed == 1:
                self._last_warning = now
                _log.error(
                    "store %s could not write (%s); %d writes failed so far",
                    self._path,
                    exc,
                    failed,
                )
            return
        gap = self._health.on_success(self._me.instance_id)
        if gap is not None:
            self._record_gap(conn, gap)
        for write, count in zip(batch, counts, strict=True):
            if write.done is not None:
                write.done.set_result(count)
        with self._cond:
            self._committed += len(batch)
            self._cond.notify_all()

    def _record_gap(self, conn: sqlite3.Connection, gap: StoreGap) -> None:
        try:
            conn.execute(
                _rows.INSERT_GAP, _rows.row(gap, _rows.GAP_COLUMNS)
            )  # autocommit: one statement
        except sqlite3.Error as exc:
            _log.warning("store %s: could not record the gap in writing: %s", self._path, exc)

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
            raise NotFoundError(f"no session {session_id!r} in store {self._path}")
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
            raise StoreError(f"store {self._path} is closed")
        try:
            with self._read_lock:
                return reader.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self._path}: {exc}") from exc

    # Shutdown.

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, stop the writer and close both connections; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._queue.put(_rows.STOP, timeout=timeout)
        except queue.Full:
            _log.error("store %s: writer did not drain its queue; writes are lost", self._path)
        self._thread.join(timeout)
        if self._thread.is_alive():
            _log.error(
                "store %s: writer still busy after %.0f s; closing anyway", self._path, timeout
            )
            return
        with self._read_lock:
            self._close_connections()

    def _close_connections(self) -> None:
        for conn in (self._writer, self._reader):
            if conn is not None:
                conn.close()
        self._writer = self._reader = None
