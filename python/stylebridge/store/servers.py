"""Servers sharing one store: who owns which open session, and who is gone.

Every server registers a row in ``servers`` when it claims the store and its writer
thread refreshes the row's heartbeat every ``heartbeat_s``; every session row names its
server. A session still open in the store is interrupted only when its server is gone:
stopped cleanly, its process no longer running on this host (checked with the process's
start time, so a reused pid does not count), or, for a server this host cannot see, its
heartbeat older than ``STALE_BEATS`` beats. A second server on the same store therefore
leaves the first one's live sessions alone, and a restart after a crash still cleans up
at once instead of after a timeout.

These functions run on the writer thread's connection inside its transactions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import psutil

from stylebridge.store.records import OPEN_STATES, STATE_INTERRUPTED, ServerRecord

_log = logging.getLogger(__name__)

# A server whose heartbeat is older than this many of its beats is gone.
STALE_BEATS = 5
# Slack between a process's start and its registration, for clocks of coarse grain.
_START_SLACK_US = 2_000_000

_SERVER_COLUMNS = tuple(f.name for f in fields(ServerRecord))


def _now_us() -> int:
    return time.time_ns() // 1000


def host_name() -> str:
    """This machine, and on Linux its pid namespace: pids mean one process only there."""
    name = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return name
    return f"{name}/{namespace}"


@dataclass(frozen=True)
class ServerIdentity:
    """This process as a server of the store."""

    instance_id: str
    pid: int
    host: str
    started_at_us: int
    heartbeat_s: float

    @classmethod
    def new(cls, heartbeat_s: float) -> ServerIdentity:
        return cls(uuid.uuid4().hex, os.getpid(), host_name(), _now_us(), heartbeat_s)


def claim(conn: Any, me: ServerIdentity) -> int:
    """At start, in one transaction: register ``me`` and interrupt the sessions of servers
    gone; returns how many."""
    with _transaction(conn):
        register(conn, me)
        return interrupt_orphans(conn, me)


def heartbeat(conn: Any, me: ServerIdentity) -> None:
    """Every ``heartbeat_s``, in one transaction: say ``me`` is alive and interrupt the
    sessions of servers that went away since (their sessions end at their last frame)."""
    with _transaction(conn):
        beat(conn, me)
        interrupt_orphans(conn, me)


@contextlib.contextmanager
def _transaction(conn: Any) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def register(conn: Any, me: ServerIdentity) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO servers ({', '.join(_SERVER_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _SERVER_COLUMNS)})",
        (me.instance_id, me.pid, me.host, me.started_at_us, _now_us(), me.heartbeat_s, None),
    )


def beat(conn: Any, me: ServerIdentity) -> None:
    conn.execute(
        "UPDATE servers SET heartbeat_us = ? WHERE instance_id = ?", (_now_us(), me.instance_id)
    )


def sign_off(conn: Any, me: ServerIdentity) -> None:
    conn.execute(
        "UPDATE servers SET stopped_at_us = ?, heartbeat_us = ? WHERE instance_id = ?",
        (_now_us(), _now_us(), me.instance_id),
    )


def servers(conn: Any) -> list[ServerRecord]:
    rows = conn.execute(
        f"SELECT {', '.join(_SERVER_COLUMNS)} FROM servers ORDER BY started_at_us"
    ).fetchall()
    return [ServerRecord(*row) for row in rows]


def is_alive(server: ServerRecord, me: ServerIdentity, now_us: int) -> bool:
    """Whether ``server`` may still be writing its sessions."""
    if server.instance_id == me.instance_id:
        return True
    if server.stopped_at_us is not None:
        return False
    if server.host == me.host:
        return _process_runs(server.pid, server.started_at_us)
    return now_us - server.heartbeat_us <= STALE_BEATS * server.heartbeat_s * 1_000_000


def _process_runs(pid: int, registered_at_us: int) -> bool:
    try:
        created_us = int(psutil.Process(pid).create_time() * 1_000_000)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.Error:
        return True  # it exists but cannot be inspected: assume it is that server
    # A process started after the server registered is another one with the same pid.
    return created_us <= registered_at_us + _START_SLACK_US


def interrupt_orphans(conn: Any, me: ServerIdentity) -> int:
    """Mark interrupted the open sessions whose server is gone (or unknown: sessions of a
    store older than the servers table); returns how many. The end time becomes the
    session's last frame's arrival, or its start."""
    now = _now_us()
    known = servers(conn)
    live = [s.instance_id for s in known if is_alive(s, me, now)]
    if me.instance_id not in live:
        live.append(me.instance_id)
    gone = [s for s in known if s.stopped_at_us is None and s.instance_id not in live]
    cursor = conn.execute(
        "UPDATE sessions SET state = ?, ended_at_us = COALESCE(ended_at_us, "
        "(SELECT MAX(received_at_us) FROM frames f WHERE f.session_id = sessions.session_id), "
        f"started_at_us) WHERE state IN ({', '.join('?' for _ in OPEN_STATES)}) "
        f"AND server_id NOT IN ({', '.join('?' for _ in live)})",
        (STATE_INTERRUPTED, *OPEN_STATES, *live),
    )
    for server in gone:
        # Gone without a clean stop: its row says so from now on (its last beat as the end).
        conn.execute(
            "UPDATE servers SET stopped_at_us = heartbeat_us WHERE instance_id = ?",
            (server.instance_id,),
        )
        _log.info(
            "store: server %s (pid %d on %s) is gone; its open sessions are interrupted",
            server.instance_id[:8],
            server.pid,
            server.host,
        )
    return max(cursor.rowcount, 0)
