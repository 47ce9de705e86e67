"""The store's schema, as numbered forward migrations tracked by ``PRAGMA user_version``.

A new column or table is a new entry at the end of MIGRATIONS; entries already
released never change, so any older store upgrades by running the ones it lacks.
"""

from __future__ import annotations

import sqlite3

from stylebridge.errors import StoreError

# MIGRATIONS[i] takes a store from user_version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    # 1: sessions and their frames.
    """
    CREATE TABLE sessions (
        session_id       TEXT PRIMARY KEY,
        started_at_us    INTEGER NOT NULL,
        ended_at_us      INTEGER,
        state            TEXT NOT NULL,
        engine           TEXT NOT NULL DEFAULT '',
        engine_version   TEXT NOT NULL DEFAULT '',
        unity_version    TEXT NOT NULL DEFAULT '',
        worker_type      TEXT NOT NULL DEFAULT '',
        gpu              TEXT NOT NULL DEFAULT '',
        platform         TEXT NOT NULL DEFAULT '',
        client_name      TEXT NOT NULL DEFAULT '',
        protocol_version INTEGER NOT NULL DEFAULT 0,
        peer             TEXT NOT NULL DEFAULT '',
        python_backend   TEXT NOT NULL DEFAULT '',
        python_model_id  TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE frames (
        session_id           TEXT NOT NULL,
        sequence             INTEGER NOT NULL,
        received_at_us       INTEGER NOT NULL,
        capture_time_us      INTEGER NOT NULL DEFAULT 0,
        width                INTEGER NOT NULL DEFAULT 0,
        height               INTEGER NOT NULL DEFAULT 0,
        pixel_format         TEXT NOT NULL DEFAULT '',
        engine_model_id      TEXT NOT NULL DEFAULT '',
        engine_ms            REAL,
        engine_timing_method TEXT,
        status               TEXT NOT NULL,
        python_ms            REAL,
        python_model_id      TEXT NOT NULL DEFAULT '',
        python_backend       TEXT NOT NULL DEFAULT '',
        queue_ms             REAL,
        parity_psnr_db       REAL,
        PRIMARY KEY (session_id, sequence)
    ) WITHOUT ROWID;
    """,
    # 2: find open sessions at start-up and list sessions newest first without a scan.
    """
    CREATE INDEX sessions_by_state ON sessions (state);
    CREATE INDEX sessions_by_start ON sessions (started_at_us);
    """,
    # 3: every model swap pushed to a session, whatever its outcome.
    """
    CREATE TABLE swaps (
        push_id             TEXT PRIMARY KEY,
        session_id          TEXT NOT NULL,
        requested_at_us     INTEGER NOT NULL,
        completed_at_us     INTEGER,
        trigger             TEXT NOT NULL DEFAULT '',
        from_model_id       TEXT NOT NULL DEFAULT '',
        from_version        INTEGER NOT NULL DEFAULT 0,
        from_sha256         TEXT NOT NULL DEFAULT '',
        to_model_id         TEXT NOT NULL,
        to_version          INTEGER NOT NULL DEFAULT 0,
        to_sha256           TEXT NOT NULL DEFAULT '',
        result              TEXT NOT NULL,
        error               TEXT NOT NULL DEFAULT '',
        push_ms             REAL,
        import_ms           REAL,
        warmup_ms           REAL,
        first_inference_ms  REAL,
        first_sequence      INTEGER
    );
    CREATE INDEX swaps_by_session ON swaps (session_id, requested_at_us);
    """,
    # 4: in-engine performance test runs (perf-test) and their model x resolution cases.
    """
    CREATE TABLE perf_runs (
        run_id          TEXT PRIMARY KEY,
        label           TEXT NOT NULL,
        started_at_us   INTEGER NOT NULL,
        finished_at_us  INTEGER,
        status          TEXT NOT NULL,
        player          TEXT NOT NULL DEFAULT '',
        engine          TEXT NOT NULL DEFAULT '',
        plan_json       TEXT NOT NULL DEFAULT '{}',
        error           TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX perf_runs_by_label ON perf_runs (label, started_at_us);
    CREATE TABLE perf_cases (
        run_id          TEXT NOT NULL,
        model_id        TEXT NOT NULL,
        width           INTEGER NOT NULL,
        height          INTEGER NOT NULL,
        status          TEXT NOT NULL,
        engine          TEXT NOT NULL DEFAULT '',
        timing_method   TEXT NOT NULL DEFAULT '',
        engine_ms_json  TEXT NOT NULL DEFAULT '[]',
        python_ms_json  TEXT NOT NULL DEFAULT '[]',
        summary_json    TEXT NOT NULL DEFAULT '{}',
        error           TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (run_id, model_id, width, height)
    ) WITHOUT ROWID;
    """,
    # 5: servers sharing one store (each marks interrupted only the sessions of servers
    # that are gone), the owner of each session, and stretches the store could not write.
    """
    CREATE TABLE servers (
        instance_id     TEXT PRIMARY KEY,
        pid             INTEGER NOT NULL,
        host            TEXT NOT NULL DEFAULT '',
        started_at_us   INTEGER NOT NULL,
        heartbeat_us    INTEGER NOT NULL,
        heartbeat_s     REAL NOT NULL,
        stopped_at_us   INTEGER
    );
    ALTER TABLE sessions ADD COLUMN server_id TEXT NOT NULL DEFAULT '';
    CREATE TABLE store_gaps (
        server_id       TEXT NOT NULL,
        started_at_us   INTEGER NOT NULL,
        ended_at_us     INTEGER NOT NULL,
        reason          TEXT NOT NULL,
        lost_writes     INTEGER NOT NULL,
        PRIMARY KEY (server_id, started_at_us)
    ) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, where: str) -> int:
    """Bring the store up to SCHEMA_VERSION, one transaction per migration; returns the
    version found. ``conn`` must be in autocommit mode (isolation_level None).

    Raises StoreError for a store written by a newer StyleBridge, or a file that
    holds other tables and no StyleBridge version.
    """
    # Version and tables read in one snapshot: between two separate reads another server
    # may commit the first migration, and a new store would look like someone else's.
    conn.execute("BEGIN")
    try:
        found = user_version(conn)
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[
            0
        ]
    finally:
        conn.execute("COMMIT")
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"store {where} has schema version {found}, newer than this StyleBridge "
            f"understands ({SCHEMA_VERSION}); upgrade StyleBridge or use another --store path"
        )
    if found == 0 and tables:
        raise StoreError(
            f"{where} is an SQLite file of something else (tables but no StyleBridge "
            f"schema version); use another --store path"
        )
    while True:
        # One transaction per migration, the version re-read under the write lock: two
        # servers opening one new store at once must not both run a migration.
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return found
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """The statements of a migration (they hold no ';' inside literals)."""
    return [part.strip() for part in script.split(";") if part.strip()]
