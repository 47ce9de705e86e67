"""The PostgreSQL engine: psycopg 3 behind the few calls the store makes of sqlite3.

The store's SQL is written once, in SQLite's spelling (``?`` parameters, ``INSERT OR
REPLACE``, ``BEGIN IMMEDIATE``); ``translate`` rewrites it for PostgreSQL (``%s``, ``ON
CONFLICT ... DO UPDATE``, a transaction that first takes the store's advisory lock, as
SQLite's IMMEDIATE takes the write lock). ``PgConnection`` reconnects by itself: a
server restart or a dropped connection fails the statements in flight, and the next
one connects again (at most every ``RECONNECT_S``), so the writer thread's usual
handling of a store condition (counted, said once, a gap, resumes) covers an outage.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from stylebridge.errors import StoreError
from stylebridge.store.location import StoreLocation

# Seconds a batch waits for more rows: at 8 x 30 fps about a dozen rows per transaction
# instead of one (measured by `make bench-load ARGS="--store both"`).
LINGER_S = 0.05
# Seconds between two connection attempts while the server is away.
RECONNECT_S = 0.5
# Seconds a connection attempt may take (libpq's connect_timeout counts whole seconds).
CONNECT_TIMEOUT_S = 3
# One advisory lock key for the store's "BEGIN IMMEDIATE" transactions (heartbeats, perf
# runs, migrations): they read then write shared rows, as under SQLite's write lock.
_LOCK_KEY = 0x5B_B81D_6E
# Primary keys of the tables written with INSERT OR REPLACE.
_CONFLICT_KEYS = {
    "swaps": ("push_id",),
    "perf_runs": ("run_id",),
    "servers": ("instance_id",),
    "store_gaps": ("server_id", "started_at_us"),
}
_REPLACE = re.compile(r"^\s*INSERT OR REPLACE INTO (\w+) \(([^)]*)\)(.*)$", re.S)

Error = psycopg.Error


@lru_cache(maxsize=256)
def translate(sql: str) -> str:
    """The store's SQLite spelling of ``sql`` in PostgreSQL's."""
    if sql.lstrip().upper().startswith("PRAGMA"):
        raise StoreError(f"{sql.split()[0:2]} is SQLite's; the PostgreSQL store has no such thing")
    text = sql.replace("%", "%%").replace("?", "%s")
    match = _REPLACE.match(text)
    if match:
        table, columns, rest = match.groups()
        keys = _CONFLICT_KEYS[table]
        names = [c.strip() for c in columns.split(",")]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in names if c not in keys)
        text = (
            f"INSERT INTO {table} ({columns}){rest} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        )
    return text


def migration_sql(script: str) -> str:
    """A migration of ``schema.MIGRATIONS`` in PostgreSQL's types: microsecond times
    need 64-bit integers, and there is no WITHOUT ROWID."""
    text = re.sub(r"\bINTEGER\b", "BIGINT", script)
    text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
    return text.replace("WITHOUT ROWID", "")


def is_store_condition(exc: BaseException) -> bool:
    """Whether ``exc`` fails every write alike: the server is away, out of disk, read-only
    or refuses us; a duplicate key or a value out of range is one bad row instead."""
    if isinstance(exc, (pg_errors.IntegrityError, pg_errors.DataError)):
        return False
    return isinstance(
        exc,
        (
            psycopg.OperationalError,  # connection lost or refused, disk full, shutdown
            psycopg.InterfaceError,
            pg_errors.ReadOnlySqlTransaction,
            pg_errors.InsufficientPrivilege,
            pg_errors.InternalError,
        ),
    )


def advice(exc: BaseException) -> str:
    if isinstance(exc, pg_errors.DiskFull):
        return "free disk space on the database server"
    if isinstance(exc, (pg_errors.ReadOnlySqlTransaction, pg_errors.InsufficientPrivilege)):
        return "give the store's user write access (or point --store at the primary)"
    return "check that the PostgreSQL server is up and reachable"


class PgConnection:
    """A psycopg connection in autocommit mode (transactions are explicit, as with the
    SQLite store) that reconnects on the next statement after it was lost."""

    def __init__(self, location: StoreLocation) -> None:
        self._location = location
        self._conn: psycopg.Connection[Any] | None = None
        self._next_attempt = 0.0
        self.reconnects = 0
        self._ensure()

    @property
    def where(self) -> str:
        return self._location.where

    def _ensure(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        now = time.monotonic()
        if conn is not None and now < self._next_attempt:
            raise psycopg.OperationalError(
                f"not connected to {self.where} (next attempt in {self._next_attempt - now:.1f} s)"
            )
        self._next_attempt = now + RECONNECT_S
        extra: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
        if self._location.password is not None:
            extra["password"] = self._location.password
        first = conn is None
        if conn is not None:
            conn.close()
        self._conn = None
        new = psycopg.connect(
            str(self._location.target),
            autocommit=True,
            application_name="stylebridge",
            **extra,
        )
        self._conn = new
        if not first:
            self.reconnects += 1
        return new

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        conn = self._ensure()
        if sql.strip().upper() == "BEGIN IMMEDIATE":
            conn.execute("BEGIN")
            return conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        query = translate(sql)
        args = tuple(params) if params else None
        if self.in_transaction or not query.lstrip().upper().startswith("SELECT"):
            return conn.execute(query, args)
        try:
            return conn.execute(query, args)
        except psycopg.OperationalError:
            if not conn.broken:
                raise
            # A read outside a transaction is safe to repeat: the server restarted since
            # this connection's last statement, and a new connection may answer it.
            self._next_attempt = 0.0
            return self._ensure().execute(query, args)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cursor = self._ensure().cursor()
        cursor.executemany(translate(sql), rows)
        return cursor

    @property
    def in_transaction(self) -> bool:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return False
        return conn.info.transaction_status in (
            TransactionStatus.INTRANS,
            TransactionStatus.INERROR,
        )

    def server_version(self) -> str:
        number = self._ensure().info.server_version
        return f"{number // 10000}.{number % 10000}"

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def connect(location: StoreLocation) -> PgConnection:
    """A connection to the store's database; StoreError naming the (password-free) URL."""
    try:
        return PgConnection(location)
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot connect to store {location.where}: {_message(exc, location)}; "
            "check the URL, that the server is up, and the password (--store-password-file, "
            "PGPASSWORD or ~/.pgpass)"
        ) from None


def _message(exc: BaseException, location: StoreLocation) -> str:
    """libpq's message, with any password it might quote replaced."""
    text = str(exc).strip().replace("\n", " ")
    from stylebridge.store.location import _url_parts

    for secret in (location.password, _url_parts(str(location.target)).get("password")):
        if secret:
            text = text.replace(secret, "***")
    return text


_VERSION_TABLE = "stylebridge_schema"


def migrate(conn: PgConnection, migrations: Sequence[str], where: str) -> int:
    """Bring the database up to ``len(migrations)`` in one transaction under the store's
    advisory lock (PostgreSQL's DDL is transactional); returns the version found."""
    target = len(migrations)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_VERSION_TABLE} (version INTEGER NOT NULL)")
        row = conn.execute(f"SELECT max(version) FROM {_VERSION_TABLE}").fetchone()
        found = int(row[0]) if row and row[0] is not None else 0
        others = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name <> ?",
            (_VERSION_TABLE,),
        ).fetchone()[0]
        if found > target:
            raise StoreError(
                f"store {where} has schema version {found}, newer than this StyleBridge "
                f"understands ({target}); upgrade StyleBridge or use another --store"
            )
        if found == 0 and others:
            raise StoreError(
                f"{where} holds other tables and no StyleBridge schema version; "
                "use another database (or schema) for --store"
            )
        for script in migrations[found:]:
            for statement in migration_sql(script).split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"DELETE FROM {_VERSION_TABLE}")
        conn.execute(f"INSERT INTO {_VERSION_TABLE} (version) VALUES (?)", (target,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found
