"""What the writer thread executes: statements, rows as tuples, one batch per transaction."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, fields
from enum import Enum, IntEnum
from typing import Any

from stylebridge.store.records import (
    FrameRecord,
    ServerRecord,
    SessionRecord,
    StoreGap,
    SwapRecord,
)

SESSION_COLUMNS = tuple(f.name for f in fields(SessionRecord))
FRAME_COLUMNS = tuple(f.name for f in fields(FrameRecord))
SWAP_COLUMNS = tuple(f.name for f in fields(SwapRecord))
SERVER_COLUMNS = tuple(f.name for f in fields(ServerRecord))
INSERT_SWAP = (
    f"INSERT OR REPLACE INTO swaps ({', '.join(SWAP_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in SWAP_COLUMNS)})"
)
INSERT_SESSION = (
    f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in SESSION_COLUMNS)})"
)
INSERT_FRAME = (
    f"INSERT INTO frames ({', '.join(FRAME_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in FRAME_COLUMNS)})"
)
END_SESSION = "UPDATE sessions SET state = ?, ended_at_us = ? WHERE session_id = ?"
SET_STATE = "UPDATE sessions SET state = ? WHERE session_id = ?"
GAP_COLUMNS = tuple(f.name for f in fields(StoreGap))
INSERT_GAP = (
    f"INSERT OR REPLACE INTO store_gaps ({', '.join(GAP_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in GAP_COLUMNS)})"
)


@dataclass(frozen=True)
class Write:
    sql: str
    params: tuple[Any, ...]
    # Set for writes whose caller waits for the row count.
    done: Future[int] | None = None


@dataclass(frozen=True)
class Call:
    """Work for the writer thread itself, between two batches (start-up, test hooks)."""

    fn: Callable[[Any], Any]
    done: Future[Any]


STOP = object()


def value(value: Any) -> Any:
    """SQLite-ready value: enums as their name (IntEnum) or value (str enums)."""
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, Enum):
        return value.value
    return value


def row(
    record: SessionRecord | FrameRecord | SwapRecord | StoreGap, columns: tuple[str, ...]
) -> tuple[Any, ...]:
    # Not dataclasses.astuple: it deep-copies, ten times slower on the hot path.
    return tuple(value(getattr(record, name)) for name in columns)


def run_transaction(conn: Any, batch: list[Write]) -> list[int]:
    """Run ``batch`` in one transaction (one ``executemany`` per run of like writes);
    returns each write's row count (-1 inside an executemany). Rolls back and raises on
    any error: a batch is all stored or not at all."""
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
                cursor = conn.executemany(batch[start].sql, [w.params for w in batch[start:end]])
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
