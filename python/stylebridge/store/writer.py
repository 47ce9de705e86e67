"""The store's one writer thread: a bounded queue, one transaction per batch.

The server's asyncio loop must never wait on the disk, so every write is a queue entry
that this thread commits in batches (one transaction and one ``executemany`` per run of
like statements). When the queue is full, frame rows are dropped and counted rather
than blocking the loop: the store records the stream, and stalling the stream to record
it would change what is measured. Session rows, rare and important, wait up to
``block_s`` for room instead.

A failed batch is retried row by row, so a bad row costs only itself; a store-wide
condition (a full disk, a read-only file) fails the batch once, is said once (see
``health``), and every later batch tries again, so storing resumes on its own.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from stylebridge.errors import StoreError
from stylebridge.store import rows as _rows
from stylebridge.store import servers as _servers
from stylebridge.store.engine import Engine
from stylebridge.store.health import StoreHealthTracker
from stylebridge.store.records import StoreGap, WriteStats

_log = logging.getLogger(__name__)

_CALL_HINT = "check that the disk has room and the file is writable, or pass another --store path"

# Seconds between two log lines about dropped or failed writes.
_LOG_EVERY_S = 5.0


class CommitTimings:
    """How long each committed batch took and how many rows it held (for benchmarks:
    rows per second and commit latency percentiles); written by the writer thread."""

    def __init__(self) -> None:
        self.rows = 0
        self.seconds: list[float] = []
        self.first = self.last = 0.0

    def add(self, rows: int, seconds: float) -> None:
        now = time.time()
        if not self.seconds:
            self.first = now - seconds
        self.last = now
        self.rows += rows
        if len(self.seconds) < 1_000_000:
            self.seconds.append(seconds)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.seconds)

        def pct(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

        span = self.last - self.first
        return {
            "rows": self.rows,
            "batches": len(ordered),
            "commit_p50_ms": pct(0.50),
            "commit_p99_ms": pct(0.99),
            "commit_max_ms": ordered[-1] * 1000 if ordered else 0.0,
            "span_s": span,
            "rows_per_s": self.rows / span if span > 0 else 0.0,
            "first_commit_at": self.first,
            "last_commit_at": self.last,
        }


class StoreWriter:
    """Owns the write connection from its own thread; ``put`` from any thread.

    Once ``claimed`` (a server registered itself on the store), the thread also keeps
    that server's heartbeat and signs it off when stopped.
    """

    def __init__(
        self,
        conn: Any,
        engine: Engine,
        identity: _servers.ServerIdentity,
        *,
        queue_size: int,
        batch_size: int,
        block_s: float,
    ) -> None:
        self._conn = conn
        self._engine = engine
        self._path = engine.where
        self._me = identity
        self.health = StoreHealthTracker(engine.where, engine.advice)
        self.timings = CommitTimings()
        # What one write can raise without the store itself being at fault: a value the
        # driver cannot bind (an integer over 2**63) is a bad row like a constraint error.
        self._bad_row_errors = (*engine.errors, OverflowError, ValueError, TypeError)
        self.claimed = False
        self._batch_size = batch_size
        self._linger_s = engine.linger_s
        self._block_s = block_s
        self._queue: queue.Queue[_rows.Write | _rows.Call | object] = queue.Queue(
            maxsize=queue_size
        )
        self._cond = threading.Condition()
        self._enqueued = self._committed = self._dropped = self._failed = 0
        self._last_warning = 0.0
        self._closed = False
        self._thread = threading.Thread(
            target=self._loop, name=f"store-writer:{engine.name}", daemon=True
        )
        self._thread.start()

    def call(self, fn: Callable[[Any], Any], *, timeout: float) -> Any:
        """Run ``fn(connection)`` on this thread between two batches; returns its result."""
        if self._closed:
            raise StoreError(f"store {self._path} is closed")
        done: Future[Any] = Future()
        self.put(_rows.Call(fn, done), block=True)  # type: ignore[arg-type]
        try:
            return done.result(timeout=timeout)
        except TimeoutError as exc:
            raise StoreError(f"store {self._path} did not answer within {timeout} s") from exc
        except self._engine.errors as exc:
            raise StoreError(
                f"store {self._path}: {exc}; {self._engine.advice(exc) or _CALL_HINT}"
            ) from exc

    def flush(self, timeout: float) -> bool:
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

    def stats(self) -> WriteStats:
        with self._cond:
            return WriteStats(self._enqueued, self._committed, self._dropped, self._failed)

    def stop(self, timeout: float) -> bool:
        """Commit what is queued and end the thread; False when it is still busy."""
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
            return False
        return True

    def put(self, write: _rows.Write | _rows.Call, *, block: bool) -> None:
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

    # The thread.

    def _loop(self) -> None:
        conn = self._conn
        next_beat = time.monotonic() + self._me.heartbeat_s
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_beat - time.monotonic()))
            except queue.Empty:
                item = None
            batch: list[_rows.Write] = []
            call: _rows.Call | None = None
            stop = item is _rows.STOP
            # A batch may wait ``linger_s`` for more rows (PostgreSQL: fewer transactions,
            # each a few round trips, so the writer thread takes the GIL less often).
            linger_until = time.monotonic() + self._linger_s
            while item is not None and not stop:
                if isinstance(item, _rows.Call):
                    call = item  # a batch boundary: commit what came before it first
                    break
                batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= self._batch_size:
                    break
                try:
                    left = linger_until - time.monotonic()
                    item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
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

    def _run_call(self, conn: Any, call: _rows.Call) -> None:
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

    def _beat(self, conn: Any) -> None:
        """Refresh this server's heartbeat and interrupt the sessions of servers gone."""
        if not self.claimed:
            return
        try:
            _servers.heartbeat(conn, self._me)
        except self._engine.errors as exc:
            # A store that cannot write is reported by the data writes (health).
            _log.debug("store %s: heartbeat failed: %s", self._path, exc)

    def _sign_off(self, conn: Any) -> None:
        """A clean stop: this server's sessions are its own business no longer."""
        if not self.claimed:
            return
        try:
            _servers.sign_off(conn, self._me)
        except self._engine.errors as exc:
            _log.warning("store %s: could not record this server's stop: %s", self._path, exc)

    def _commit(self, conn: Any, batch: list[_rows.Write]) -> None:
        """Commit ``batch`` in one transaction; on failure, retry each write alone so
        that one bad row costs only itself."""
        began = time.perf_counter()
        try:
            counts = _rows.run_transaction(conn, batch)
        except self._bad_row_errors as exc:
            # A bad row is never the writer thread's end; a store condition fails the batch.
            condition = self._engine.is_store_condition(exc)
            if len(batch) > 1 and not condition:
                for write in batch:
                    self._commit(conn, [write])
                return
            if condition:
                # Said before the writes count as failed: flush() returning means the
                # store's condition (and its one log line) is already known.
                self.health.on_failure(exc, len(batch))
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
        self.timings.add(len(batch), time.perf_counter() - began)
        gap = self.health.on_success(self._me.instance_id)
        if gap is not None:
            self._record_gap(conn, gap)
        for write, count in zip(batch, counts, strict=True):
            if write.done is not None:
                write.done.set_result(count)
        with self._cond:
            self._committed += len(batch)
            self._cond.notify_all()

    def _record_gap(self, conn: Any, gap: StoreGap) -> None:
        try:
            conn.execute(
                _rows.INSERT_GAP, _rows.row(gap, _rows.GAP_COLUMNS)
            )  # autocommit: one statement
        except self._engine.errors as exc:
            _log.warning("store %s: could not record the gap in writing: %s", self._path, exc)
