"""Copy one store's history into another (``stylebridge migrate-store``), idempotently.

Every table has a primary key, so a row is copied with ``INSERT ... ON CONFLICT DO
NOTHING`` (the same statement on SQLite and PostgreSQL): running the copy twice, or
after a copy that was interrupted, copies each row once. Both stores are opened with
``Store`` first, so both are at the current schema and the columns match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stylebridge.store.engine import open_engine
from stylebridge.store.location import StoreLocation

# Parents before children, so a reader of the destination never sees a frame whose
# session has not arrived yet.
TABLES = ("servers", "sessions", "frames", "swaps", "store_gaps", "perf_runs", "perf_cases")
_CHUNK = 5_000


@dataclass(frozen=True)
class TableCopy:
    table: str
    read: int
    copied: int  # rows new to the destination; the rest were there already


def copy_store(
    source: StoreLocation,
    destination: StoreLocation,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableCopy]:
    """Copy every row of ``source`` that ``destination`` lacks; one transaction per chunk
    of rows. Raises StoreError when either store cannot be opened or written."""
    from stylebridge.errors import StoreError
    from stylebridge.store.store import Store

    Store(source).close()  # both created or migrated to the current schema
    Store(destination).close()
    src_engine, dst_engine = open_engine(source), open_engine(destination)
    src, dst = src_engine.connect(), dst_engine.connect()
    results = []
    try:
        for table in TABLES:
            try:
                results.append(_copy_table(src, dst, table, progress))
            except (*src_engine.errors, *dst_engine.errors) as exc:
                raise StoreError(
                    f"copying table {table} from {src_engine.where} to {dst_engine.where} "
                    f"failed: {exc}; rows copied so far stay, and running again continues"
                ) from exc
    finally:
        src.close()
        dst.close()
    return results


def _copy_table(
    src: Any, dst: Any, table: str, progress: Callable[[str, int], None] | None
) -> TableCopy:
    before = _count(dst, table)
    cursor = src.execute(f"SELECT * FROM {table}")
    columns = [d[0] for d in cursor.description]
    insert = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) ON CONFLICT DO NOTHING"
    )
    read = 0
    while rows := cursor.fetchmany(_CHUNK):
        dst.execute("BEGIN")
        try:
            dst.executemany(insert, rows)
            dst.execute("COMMIT")
        except BaseException:
            if dst.in_transaction:
                dst.execute("ROLLBACK")
            raise
        read += len(rows)
        if progress is not None:
            progress(table, read)
    return TableCopy(table, read, _count(dst, table) - before)


def _count(conn: Any, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
