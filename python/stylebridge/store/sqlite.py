"""The SQLite store: one writer thread fed by a bounded queue, reads on their own connection.

The server is the only writer. Its asyncio loop must never wait on the disk, so
every write is a queue entry that a dedicated thread commits in batches (one
transaction and one ``executemany`` per run of like statements). When the queue is
full, frame rows are dropped and counted rather than blocking the loop: the store
records the stream, and stalling the stream to record it would change what is
measured. Session rows, rare and important, wait up to ``block_s`` for room instead.

WAL mode lets the CLI and the Control service read while the writer commits;
``synchronous=NORMAL`` is durable across application crashes (a power cut may lose
the last transactions, never corrupt the file).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, fields
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

from stylebridge.errors import NotFoundError, StoreError
from stylebridge.store.records import (
    OPEN_STATES,
    STATE_INTERRUPTED,
    FrameRecord,
    SessionRecord,
    SwapRecord,
    WriteStats,
)
from stylebridge.store.schema import migrate

_log = logging.getLogger(__name__)

_SESSION_COLUMNS = tuple(f.name for f in fields(SessionRecord))
_FRAME_COLUMNS = tuple(f.name for f in fields(FrameRecord))
_SWAP_COLUMNS = tuple(f.name for f in fields(SwapRecord))
_INSERT_SWAP = (
    f"INSERT OR REPLACE INTO swaps ({', '.join(_SWAP_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _SWAP_COLUMNS)})"
)
_INSERT_SESSION = (
    f"INSERT INTO sessions ({', '.join(_SESSION_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _SESSION_COLUMNS)})"
)
_INSERT_FRAME = (
    f"INSERT INTO frames ({', '.join(_FRAME_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _FRAME_COLUMNS)})"
)
_END_SESSION = "UPDATE sessions SET state = ?, ended_at_us = ? WHERE session_id = ?"
_SET_STATE = "UPDATE sessions SET state = ? WHERE session_id = ?"
_MARK_INTERRUPTED = (
    "UPDATE sessions SET state = ?, ended_at_us = COALESCE(ended_at_us, "
    "(SELECT MAX(received_at_us) FROM frames f WHERE f.session_id = sessions.session_id), "
    f"started_at_us) WHERE state IN ({', '.join('?' for _ in OPEN_STATES)})"
)
# Seconds between two log lines about dropped or failed writes.
_LOG_EVERY_S = 5.0


@dataclass(frozen=True)
class _Write:
    sql: str
    params: tuple[Any, ...]
    # Set for writes whose caller waits for the row count.
    done: Future[int] | None = None


_STOP = object()


def _value(value: Any) -> Any:
    """SQLite-ready value: enums as their name (IntEnum) or value (str enums)."""
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, Enum):
        return value.value
    return value


def _row(
    record: SessionRecord | FrameRecord | SwapRecord, columns: tuple[str, ...]
) -> tuple[Any, ...]:
    # Not dataclasses.astuple: it deep-copies, ten times slower on the hot path.
    return tuple(_value(getattr(record, name)) for name in columns)


def _connect(path: Path, *, shared: bool) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit BEGIN/COMMIT in the writer.
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=not shared)
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Store:
    """Sessions and per-frame timings in one SQLite file; use as a context manager.

    Raises StoreError when the file cannot be created, opened or migrated.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        queue_size: int = 10_000,
        batch_size: int = 512,
        block_s: float = 0.5,
    ) -> None:
        self._path = Path(path)
        self._batch_size = batch_size
        self._block_s = block_s
        self._queue: queue.Queue[_Write | object] = queue.Queue(maxsize=queue_size)
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
            mode = self._writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
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

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Writes: all through the writer thread.

    def start_session(self, session: SessionRecord) -> None:
        self._put(_Write(_INSERT_SESSION, _row(session, _SESSION_COLUMNS)), block=True)

    def set_session_state(self, session_id: str, state: str) -> None:
        self._put(_Write(_SET_STATE, (_value(state), session_id)), block=True)

    def end_session(self, session_id: str, state: str, ended_at_us: int) -> None:
        self._put(_Write(_END_SESSION, (_value(state), ended_at_us, session_id)), block=True)

    def record_frame(self, frame: FrameRecord) -> None:
        """Queue one frame row; never blocks (dropped and counted when the queue is full)."""
        self._put(_Write(_INSERT_FRAME, _row(frame, _FRAME_COLUMNS)), block=False)

    def record_swap(self, swap: SwapRecord) -> None:
        """Write one swap row (a later write with the same push_id replaces it)."""
        self._put(_Write(_INSERT_SWAP, _row(swap, _SWAP_COLUMNS)), block=True)

    def mark_interrupted_open_sessions(self, timeout: float = 10.0) -> int:
        """At server start: sessions a crash left open become 'interrupted'; returns how many.

        Their end time becomes their last frame's arrival (or their start). Blocks until
        the writer has committed it.
        """
        if self._closed:
            raise StoreError(f"store {self._path} is closed")
        done: Future[int] = Future()
        self._put(_Write(_MARK_INTERRUPTED, (STATE_INTERRUPTED, *OPEN_STATES), done), block=True)
        try:
            return done.result(timeout=timeout)
        except TimeoutError as exc:
            raise StoreError(f"store {self._path} did not answer within {timeout} s") from exc

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

    def _put(self, write: _Write, *, block: bool) -> None:
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
        while True:
            item = self._queue.get()
            batch: list[_Write] = []
            stop = item is _STOP
            if not stop:
                batch.append(item)  # type: ignore[arg-type]
            while not stop and len(batch) < self._batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                else:
                    batch.append(item)  # type: ignore[arg-type]
            if batch:
                self._commit(conn, batch)
            if stop:
                return

    def _commit(self, conn: sqlite3.Connection, batch: list[_Write]) -> None:
        """Commit ``batch`` in one transaction; on failure, retry each write alone so
        that one bad row costs only itself."""
        try:
            counts = self._run_transaction(conn, batch)
        except sqlite3.Error as exc:
            if len(batch) > 1:
                for write in batch:
                    self._commit(conn, [write])
                return
            with self._cond:
                self._failed += 1
                failed = self._failed
                self._cond.notify_all()
            if batch[0].done is not None:
                batch[0].done.set_exception(StoreError(f"store {self._path}: {exc}"))
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
        for write, count in zip(batch, counts, strict=True):
            if write.done is not None:
                write.done.set_result(count)
        with self._cond:
            self._committed += len(batch)
            self._cond.notify_all()

    @staticmethod
    def _run_transaction(conn: sqlite3.Connection, batch: list[_Write]) -> list[int]:
        counts: list[int] = []
        conn.execute("BEGIN")
        try:
            start = 0
            while start < len(batch):
                end = start + 1
                if batch[start].done is None:
                    while (
                        end < len(batch)
                        and batch[end].sql == batch[start].sql
                        and (batch[end].done is None)
                    ):
                        end += 1
                    cursor = conn.executemany(
                        batch[start].sql, [w.params for w in batch[start:end]]
                    )
                    counts.extend([-1] * (end - start))
                else:
                    cursor = conn.execute(batch[start].sql, batch[start].params)
                    counts.append(cursor.rowcount)
                start = end
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return counts

    # Reads: their own connection, never waiting for the writer (WAL).

    def sessions(self) -> list[SessionRecord]:
        """All sessions, oldest first."""
        rows = self._read(
            f"SELECT {', '.join(_SESSION_COLUMNS)} FROM sessions ORDER BY started_at_us, session_id"
        )
        return [SessionRecord(*row) for row in rows]

    def session(self, session_id: str) -> SessionRecord:
        """One session; raises NotFoundError when the store has none by that id."""
        rows = self._read(
            f"SELECT {', '.join(_SESSION_COLUMNS)} FROM sessions WHERE session_id = ?",
            (session_id,),
        )
        if not rows:
            raise NotFoundError(f"no session {session_id!r} in store {self._path}")
        return SessionRecord(*rows[0])

    def frames(self, session_id: str) -> list[FrameRecord]:
        """The frames of one session in sequence order."""
        rows = self._read(
            f"SELECT {', '.join(_FRAME_COLUMNS)} FROM frames WHERE session_id = ? "
            "ORDER BY sequence",
            (session_id,),
        )
        return [FrameRecord(*row) for row in rows]

    def swaps(self, session_id: str | None = None) -> list[SwapRecord]:
        """Swaps of one session (or of all sessions), oldest first."""
        sql = f"SELECT {', '.join(_SWAP_COLUMNS)} FROM swaps"
        params: tuple[Any, ...] = ()
        if session_id is not None:
            sql += " WHERE session_id = ?"
            params = (session_id,)
        rows = self._read(sql + " ORDER BY requested_at_us, push_id", params)
        return [SwapRecord(*row) for row in rows]

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
            self._queue.put(_STOP, timeout=timeout)
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
