"""Store faults on real SQLite files: disk full, read-only, a kill mid-batch, two servers.
(Those that hold for both engines run on PostgreSQL too, through ``store_at``; the
PostgreSQL outages, a server stopped and restarted, are in test_store_postgres.py.)

Disk full and read-only are SQLite's real SQLITE_FULL and SQLITE_READONLY, caused on
the writer's own connection (``PRAGMA max_page_count`` / ``PRAGMA query_only``) through
``Store.run_on_writer``; the kill is a real SIGKILL of a process inside a transaction.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from stylebridge.store import (
    STATE_ENDED,
    STATE_INTERRUPTED,
    STATE_STREAMING,
    FrameRecord,
    SessionRecord,
    Store,
)
from stylebridge.store.records import ServerRecord
from stylebridge.store.schema import MIGRATIONS, SCHEMA_VERSION
from stylebridge.store.servers import STALE_BEATS, ServerIdentity, is_alive

_HEALTH_LOGGER = "stylebridge.store.health"


def _frame(session_id: str, sequence: int) -> FrameRecord:
    return FrameRecord(session_id, sequence, 1_000 + sequence, "processed", width=160, height=90)


def _integrity(path: Path) -> tuple[str, str]:
    conn = sqlite3.connect(path)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    return check, mode


def _wait(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == _HEALTH_LOGGER and r.levelno >= logging.ERROR]


def test_disk_full_is_said_once_counted_and_storing_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "full.sqlite"
    caplog.set_level(logging.INFO, logger=_HEALTH_LOGGER)
    with Store(path) as store:
        store.start_session(SessionRecord("s", 1, state=STATE_STREAMING))
        for i in range(200):
            store.record_frame(_frame("s", i))
        assert store.flush()
        before = store.frames("s")
        # The file may not grow by a single page: every new page is SQLITE_FULL.
        pages = store.run_on_writer(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
        store.run_on_writer(lambda c: c.execute(f"PRAGMA max_page_count = {pages}").fetchone())
        for i in range(200, 3_000):
            store.record_frame(_frame("s", i))
        # A nearly full disk still takes a batch that fits in a page's free room; a row
        # that needs pages of its own cannot fit: the last batch surely fails.
        store.start_session(SessionRecord("big", 2, client_name="x" * 100_000))
        assert store.flush()
        health = store.health
        assert not health.ok
        assert "database or disk is full" in health.error
        assert health.failing_since_us is not None
        failed = store.write_stats().failed
        assert failed > 0 and health.lost_writes == failed
        assert "NOT WRITING" in health.describe()
        errors = _errors(caplog)
        assert len(errors) == 1  # said once, not once per batch or per row
        message = errors[0].getMessage()
        assert str(path) in message and "database or disk is full" in message
        assert "still answered" in message and "free disk space" in message
        # Space comes back: the next writes commit, and the gap is recorded with its count.
        store.run_on_writer(lambda c: c.execute("PRAGMA max_page_count = 1073741823").fetchone())
        for i in range(3_000, 3_010):
            store.record_frame(_frame("s", i))
        assert store.flush()
        assert store.health.ok
        gaps = store.gaps()
        assert gaps and sum(g.lost_writes for g in gaps) == failed
        assert all("full" in g.reason for g in gaps)
        after = {f.sequence: f for f in store.frames("s")}
        assert all(after[f.sequence] == f for f in before)  # nothing stored was lost
        assert all(i in after for i in range(3_000, 3_010))
        assert len(after) + len(store.sessions()) == 3_010 + 2 - failed
    assert _integrity(path) == ("ok", "wal")


def test_read_only_store_keeps_the_writer_alive_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ro.sqlite"
    caplog.set_level(logging.INFO, logger=_HEALTH_LOGGER)
    with Store(path) as store:
        store.start_session(SessionRecord("s", 1, state=STATE_STREAMING))
        store.record_frame(_frame("s", 0))
        assert store.flush()
        store.run_on_writer(lambda c: c.execute("PRAGMA query_only = ON"))
        for i in range(1, 50):
            store.record_frame(_frame("s", i))
        store.end_session("s", STATE_ENDED, 99)
        assert store.flush()
        health = store.health
        assert not health.ok and "readonly" in health.error
        assert store.write_stats().failed == 50
        [error] = _errors(caplog)
        assert str(path) in error.getMessage() and "writable" in error.getMessage()
        store.run_on_writer(lambda c: c.execute("PRAGMA query_only = OFF"))
        store.record_frame(_frame("s", 50))
        assert store.flush()
        assert store.health.ok and store.health.lost_writes == 50
        assert [f.sequence for f in store.frames("s")] == [0, 50]
        assert store.session("s").state == STATE_STREAMING  # the lost end_session
        [gap] = store.gaps()
        assert gap.lost_writes == 50 and "readonly" in gap.reason
    assert _integrity(path) == ("ok", "wal")


def test_a_bad_row_is_not_a_store_condition(store_at: str | Path) -> None:
    with Store(store_at) as store:
        store.start_session(SessionRecord("s", 1))
        store.start_session(SessionRecord("s", 1))  # duplicate key: only this row fails
        assert store.flush()
        assert store.health.ok and store.write_stats().failed == 1


_KILL_MID_BATCH = textwrap.dedent(
    """
    import os, signal, sys, threading
    from stylebridge.store import FrameRecord, SessionRecord, Store

    store = Store(sys.argv[1], batch_size=100_000, queue_size=100_000)
    store.start_session(SessionRecord("first", 1, state="streaming"))
    for i in range(1_000):
        store.record_frame(FrameRecord("first", i, 1, "processed"))
    assert store.flush()
    gate = threading.Event()
    ops = [0]

    def kill_midway():
        ops[0] += 1
        if ops[0] == 300:  # some 300 000 VM steps into the big transaction
            os.kill(os.getpid(), signal.SIGKILL)
        return 0

    def hold(conn):
        conn.set_progress_handler(kill_midway, 1_000)
        gate.wait()

    threading.Thread(target=store.run_on_writer, args=(hold,), kwargs={"timeout": 60}).start()
    # While the writer waits, one batch piles up: a session and its 40 000 frames.
    store.start_session(SessionRecord("second", 2, state="streaming"))
    for i in range(40_000):
        store.record_frame(FrameRecord("second", i, 2, "processed"))
    gate.set()
    threading.Event().wait(30)
    """
)


def test_a_kill_inside_a_batch_leaves_no_half_written_session(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    child = subprocess.run(
        [sys.executable, "-c", _KILL_MID_BATCH, str(path)], capture_output=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert _integrity(path) == ("ok", "wal")
    with Store(path) as store:
        assert [s.session_id for s in store.sessions()] == ["first"]
        assert len(store.frames("first")) == 1_000
        assert store.frames("second") == []  # all of its batch or nothing: nothing


def test_a_second_server_leaves_the_first_ones_live_sessions_alone(
    store_at: str | Path,
) -> None:
    path = store_at
    first = Store(path, heartbeat_s=0.2)
    try:
        first.mark_interrupted_open_sessions()
        first.start_session(SessionRecord("a1", 1, state=STATE_STREAMING))
        assert first.flush()
        with Store(path, heartbeat_s=0.2) as second:
            assert second.mark_interrupted_open_sessions() == 0
            assert second.session("a1").state == STATE_STREAMING
            assert second.session("a1").server_id == first.instance_id
            time.sleep(0.5)  # a few heartbeats of both: still alive, still streaming
            assert second.session("a1").state == STATE_STREAMING
            ids = {s.instance_id for s in second.servers()}
            assert ids == {first.instance_id, second.instance_id}
            # The first server stops without ending its session: the second one's next
            # heartbeat sees it gone and interrupts the session it left open.
            first.close()
            assert _wait(lambda: second.session("a1").state == STATE_INTERRUPTED)
            assert second.session("a1").ended_at_us == 1
    finally:
        first.close()


def test_an_older_store_is_migrated_and_its_open_sessions_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite"
    conn = sqlite3.connect(path)
    for version, script in enumerate(MIGRATIONS[:4]):
        conn.executescript(script + f"\nPRAGMA user_version = {version + 1};")
    conn.execute(
        "INSERT INTO sessions (session_id, started_at_us, state) VALUES ('old', 5, 'streaming')"
    )
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.mark_interrupted_open_sessions() == 1  # no owner recorded: gone
        assert store.session("old").state == STATE_INTERRUPTED
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    conn.close()


def test_two_processes_opening_a_new_store_at_once_both_migrate_it(
    store_at: str | Path,
) -> None:
    path = store_at
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        try:
            start.wait()
            Store(path).close()
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_liveness_of_servers_on_other_hosts_goes_by_heartbeat() -> None:
    me = ServerIdentity.new(2.0)
    now = 100_000_000_000
    beat_s = 1.0

    def other(heartbeat_us: int, *, stopped: int | None = None, host: str = "elsewhere") -> bool:
        record = ServerRecord("x", 1, host, 0, heartbeat_us, beat_s, stopped)
        return is_alive(record, me, now)

    assert other(now - 1_000_000)
    assert not other(now - int((STALE_BEATS + 1) * beat_s * 1_000_000))
    assert not other(now, stopped=now)
    # On this host the process decides: a pid that runs no process is gone at once.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    gone_pid = int(dead.stdout)
    assert not is_alive(ServerRecord("y", gone_pid, me.host, 0, now, beat_s), me, now)
    mine = ServerRecord("z", os.getpid(), me.host, me.started_at_us, now, beat_s)
    assert is_alive(mine, me, now)
    # The same pid, but this process started long after that server registered: reused.
    reused = ServerRecord("r", os.getpid(), me.host, 1_000_000, now, beat_s)
    assert not is_alive(reused, me, now)
