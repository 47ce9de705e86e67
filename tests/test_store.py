"""The store on both engines (an SQLite file in tmp_path, a database of the test's own
PostgreSQL server): round trips, migrations, the writer thread. ``store_at`` runs each
parametrized test once per engine."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from stylebridge.errors import NotFoundError, StoreError
from stylebridge.frames import PixelFormat
from stylebridge.store import (
    SCHEMA_VERSION,
    STATE_ENDED,
    STATE_INTERRUPTED,
    STATE_STREAMING,
    FrameRecord,
    SessionRecord,
    Store,
)
from stylebridge.store.schema import MIGRATIONS


def session(session_id: str = "s1", **overrides: object) -> SessionRecord:
    values: dict[str, object] = {
        "session_id": session_id,
        "started_at_us": 1_000_000,
        "state": STATE_STREAMING,
        "engine": "reference",
        "engine_version": "1.31.1",
        "unity_version": "",
        "worker_type": "ComputePrecompiled",
        "gpu": "none",
        "platform": "linux",
        "client_name": "stylebridge-client",
        "protocol_version": 1,
        "peer": "ipv4:127.0.0.1:50000",
        "python_backend": "onnxruntime/CPUExecutionProvider",
        "python_model_id": "mosaic",
    }
    values.update(overrides)
    return SessionRecord(**values)  # type: ignore[arg-type]


def frame(sequence: int, session_id: str = "s1", status: str = "ok") -> FrameRecord:
    ran = status == "ok"
    return FrameRecord(
        session_id=session_id,
        sequence=sequence,
        received_at_us=2_000_000 + sequence * 33_000,
        capture_time_us=1_990_000 + sequence * 33_000,
        width=320,
        height=180,
        pixel_format="RGB8",
        engine_model_id="mosaic",
        engine_ms=12.5 + sequence if sequence % 2 else None,
        engine_timing_method="blocking_readback" if sequence % 2 else None,
        status=status,
        python_ms=40.25 if ran else None,
        python_model_id="mosaic" if ran else "",
        python_backend="onnxruntime/CPUExecutionProvider" if ran else "",
        queue_ms=0.5 if ran else None,
        parity_psnr_db=38.5 if sequence % 10 == 0 else None,
    )


def test_round_trip(store_at: str | Path) -> None:
    path = store_at
    if isinstance(path, Path):
        path = path.parent / "nested" / "store.db"  # missing folders are created
    records = [frame(i, status="dropped" if i % 3 == 0 else "ok") for i in range(30)]
    with Store(path) as store:
        store.start_session(session())
        store.start_session(session("s2", started_at_us=5_000_000, state="connected"))
        for record in reversed(records):  # arrival order does not matter
            store.record_frame(record)
        store.end_session("s1", STATE_ENDED, 9_000_000)
        assert store.flush(10.0)
        owner = store.instance_id  # the store stamps the server owning each session
        assert store.sessions() == [
            session(state=STATE_ENDED, ended_at_us=9_000_000, server_id=owner),
            session("s2", started_at_us=5_000_000, state="connected", server_id=owner),
        ]
        assert store.session("s2").state == "connected"
        assert store.frames("s1") == records
        assert store.frames("s2") == []
        assert store.frame_counts("s1") == {"dropped": 10, "ok": 20}
        assert store.frame_counts("nobody") == {}
        with pytest.raises(NotFoundError):
            store.session("nobody")
        stats = store.write_stats()
        assert stats.committed == stats.enqueued == 33 and stats.dropped == stats.failed == 0


def test_enums_are_stored_as_names(store_at: str | Path) -> None:
    with Store(store_at) as store:
        store.start_session(session())
        rgba = FrameRecord("s1", 0, 1, "ok", pixel_format=PixelFormat.RGBA8)  # type: ignore[arg-type]
        store.record_frame(rgba)
        store.flush()
        assert store.frames("s1")[0].pixel_format == "RGBA8"


def test_wal_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path):
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.close()


def test_migrates_an_older_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO sessions (session_id, started_at_us, state) VALUES ('old', 5, 'ended')"
    )
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert [s.session_id for s in store.sessions()] == ["old"]
        assert store.sessions()[0].engine == ""  # defaults filled in by the schema
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"sessions_by_state", "sessions_by_start"} <= indexes
    conn.close()
    with Store(path) as store:  # reopening an up-to-date store changes nothing
        assert len(store.sessions()) == 1


def test_refuses_newer_and_foreign_files(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(newer)
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE something (x)")
    conn.close()
    with pytest.raises(StoreError, match="something else"):
        Store(foreign)
    text = tmp_path / "notes.db"
    text.write_text("this is not a database, just text " * 100)
    with pytest.raises(StoreError, match="another --store path"):
        Store(text)


def test_unwritable_paths_give_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="writable"):
        Store(blocker / "store.db")
    with pytest.raises(StoreError):
        Store(tmp_path)  # a folder, not a file


def test_flush_waits_for_everything_enqueued(store_at: str | Path) -> None:
    with Store(store_at, batch_size=64) as store:
        store.start_session(session())
        for i in range(2_000):
            store.record_frame(frame(i))
        assert store.flush(30.0)
        assert len(store.frames("s1")) == 2_000


def test_ten_thousand_rows(store_at: str | Path) -> None:
    with Store(store_at) as store:
        store.start_session(session())
        for i in range(10_000):
            store.record_frame(frame(i))
        assert store.flush(60.0)
        assert store.frame_counts("s1") == {"ok": 10_000}
        assert store.write_stats().dropped == 0
    # Closing committed everything; a fresh store reads it back.
    with Store(store_at) as store:
        rows = store.frames("s1")
        assert len(rows) == 10_000 and rows[-1] == frame(9_999)


def test_reads_while_writing(store_at: str | Path) -> None:
    seen: list[int] = []
    errors: list[StoreError] = []
    with Store(store_at, batch_size=50) as store:
        store.start_session(session())
        store.flush()
        done = threading.Event()

        def read() -> None:
            try:
                while not done.is_set():
                    seen.append(store.frame_counts("s1").get("ok", 0))
                    store.sessions()
            except StoreError as exc:  # reported to the test thread below
                errors.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(3_000):
            store.record_frame(frame(i))
            if i % 500 == 0:
                time.sleep(0.01)  # let the reader in mid-stream
        assert store.flush(30.0)
        done.set()
        reader.join()
        # Another process-like reader on its own connection sees the same rows.
        with Store(store_at) as other:
            assert other.frame_counts("s1") == {"ok": 3_000}
    assert not errors
    assert seen and seen == sorted(seen)  # counts only grow: committed batches, never partial


def test_marks_sessions_a_crash_left_open(store_at: str | Path) -> None:
    path = store_at
    with Store(path) as store:
        store.start_session(session("crashed", state=STATE_STREAMING))
        store.start_session(session("hello-only", state="connected", started_at_us=7))
        store.start_session(session("done", state=STATE_ENDED, ended_at_us=3))
        for i in range(5):
            store.record_frame(frame(i, "crashed"))
        store.flush()
    with Store(path) as store:
        assert store.mark_interrupted_open_sessions() == 2
        crashed = store.session("crashed")
        assert crashed.state == STATE_INTERRUPTED
        assert crashed.ended_at_us == frame(4).received_at_us  # its last frame
        assert store.session("hello-only").ended_at_us == 7  # no frames: its start
        assert store.session("done").state == STATE_ENDED
        assert store.mark_interrupted_open_sessions() == 0


def test_a_bad_row_costs_only_itself(
    store_at: str | Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Store(store_at) as store:
        store.start_session(session())
        for i in range(10):
            store.record_frame(frame(i))
        store.record_frame(frame(3))  # duplicate primary key
        for i in range(10, 20):
            store.record_frame(frame(i))
        assert store.flush()
        stats = store.write_stats()
        assert stats.failed == 1 and stats.committed == 21
        assert len(store.frames("s1")) == 20
        store.record_frame(frame(20))  # the writer is still alive
        assert store.flush()
        assert len(store.frames("s1")) == 21
    # SQLite: "UNIQUE constraint failed"; PostgreSQL: "violates unique constraint".
    assert "unique constraint" in caplog.text.lower()


def test_a_row_sqlite_cannot_bind_costs_only_itself(store_at: str | Path) -> None:
    # sqlite3 raises OverflowError, not sqlite3.Error, for integers over 2**63 - 1;
    # PostgreSQL refuses it as out of bigint's range (a DataError).
    with Store(store_at) as store:
        store.start_session(session())
        store.record_frame(frame(1))
        store.record_frame(frame(2**63))
        store.record_frame(frame(3))
        assert store.flush()
        assert store.write_stats().failed == 1
        store.record_frame(frame(4))  # the writer thread is still alive
        assert store.flush()
        assert [f.sequence for f in store.frames("s1")] == [1, 3, 4]


def test_full_queue_drops_frames_and_never_blocks(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path, queue_size=2, block_s=0.05) as store:
        store.start_session(session())
        store.flush()
        # Another connection holds the write lock: the writer thread stalls on its batch.
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            start = time.perf_counter()
            sent = 0
            while store.write_stats().dropped == 0 and sent < 200:
                store.record_frame(frame(sent))
                sent += 1
                time.sleep(0.005)
            assert store.write_stats().dropped >= 1
            assert time.perf_counter() - start < 4.0  # never waited for the disk
            with pytest.raises(StoreError, match="behind"):
                store.end_session("s1", STATE_ENDED, 1)  # session rows wait, then fail loudly
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert store.flush(10.0)
        stats = store.write_stats()
        assert stats.committed == stats.enqueued
        assert len(store.frames("s1")) == sent - stats.dropped


def test_close_is_idempotent_and_final(store_at: str | Path) -> None:
    store = Store(store_at)
    store.start_session(session())
    store.close()
    store.close()
    store.record_frame(frame(0))  # after close: counted as dropped, not raised
    assert store.write_stats().dropped == 1
    with pytest.raises(StoreError, match="closed"):
        store.sessions()
    with pytest.raises(StoreError, match="closed"):
        store.mark_interrupted_open_sessions()
    with Store(store_at) as again:
        assert [s.session_id for s in again.sessions()] == ["s1"]
