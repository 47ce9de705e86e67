"""Whether the store can write: store-wide failures told apart from bad rows, said once.

A full disk, a read-only file or an I/O error fails every write alike; retrying each
row of a batch alone would only fail it again, and logging each would bury the reason.
So the first such failure is logged once at ERROR, naming the store and the engine's reason
and saying that frames are still answered; later failures are only counted; the first
write that commits again ends the condition (logged at WARNING with the count lost) and
is recorded as a gap in the store itself. A bad row (a duplicate key) is not a store
condition: it costs only itself.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from stylebridge.store.records import StoreGap, StoreHealth, WriteStats

_log = logging.getLogger(__name__)

# SQLite primary result codes that mean the store, not the row, is at fault.
_STORE_CONDITIONS = (
    "SQLITE_FULL",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_PERM",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
)


def is_store_condition(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` fails every write of the store alike (not one bad row)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return any(name == code or name.startswith(code + "_") for code in _STORE_CONDITIONS)


def advice(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL"):
        return "free disk space (or restart with --store on a disk with room)"
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN")):
        return "make the file and its folder writable again (or restart with another --store)"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "stop the other program holding the store's write lock"
    return "check the disk (or restart with another --store)"


# A condition that comes back within this many seconds (a disk that is nearly full
# takes some batches and refuses others) is not logged at ERROR again.
_RELOG_S = 60.0


def _now_us() -> int:
    return time.time_ns() // 1000


class StoreHealthTracker:
    """The store's write condition, updated by the writer thread, read by anyone."""

    def __init__(
        self, path: Path | str, advise: Callable[[BaseException], str] | None = None
    ) -> None:
        self._path = path
        self._advise = advise or (lambda exc: advice(exc) if isinstance(exc, sqlite3.Error) else "")
        self._lock = threading.Lock()
        self._error = ""
        self._since_us: int | None = None
        self._lost_in_gap = 0
        self._last_error_log = -_RELOG_S
        self._last_recovery_log = -_RELOG_S

    def on_failure(self, exc: BaseException, lost: int) -> None:
        """``lost`` writes failed with a store-wide condition; logs only the first."""
        with self._lock:
            first = self._since_us is None
            if first:
                self._since_us = _now_us()
                self._error = str(exc)
            self._lost_in_gap += lost
        if not first:
            return
        now = time.monotonic()
        if now - self._last_error_log < _RELOG_S:
            _log.info("store %s: failing again: %s", self._path, exc)
            return
        self._last_error_log = now
        _log.error(
            "store %s: %s — frames are still answered but no longer stored; %s; "
            "storing resumes by itself when writes succeed again",
            self._path,
            exc,
            self._advise(exc),
        )

    def on_success(self, server_id: str) -> StoreGap | None:
        """A write committed; returns the gap that just ended (to record), if any."""
        with self._lock:
            if self._since_us is None:
                return None
            gap = StoreGap(server_id, self._since_us, _now_us(), self._error, self._lost_in_gap)
            self._since_us = None
            self._error = ""
            self._lost_in_gap = 0
        now = time.monotonic()
        level = logging.WARNING if now - self._last_recovery_log >= _RELOG_S else logging.INFO
        self._last_recovery_log = now
        _log.log(
            level,
            "store %s: writing again after %.1f s; %d writes were lost (%s)",
            self._path,
            (gap.ended_at_us - gap.started_at_us) / 1e6,
            gap.lost_writes,
            gap.reason,
        )
        return gap

    def snapshot(self, stats: WriteStats) -> StoreHealth:
        with self._lock:
            return StoreHealth(
                path=str(self._path),
                ok=self._since_us is None,
                error=self._error,
                failing_since_us=self._since_us,
                lost_writes=stats.failed + stats.dropped,
                stats=stats,
            )
