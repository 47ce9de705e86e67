"""What only the PostgreSQL store has: a server that goes away and comes back, many
writer processes on one database, passwords, migrations of a shared schema, and
``migrate-store``. All against the test session's real PostgreSQL server (pg_cluster)."""

from __future__ import annotations

import logging
import multiprocessing
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from stylebridge.cli import app
from stylebridge.doctor import Severity, postgres_store_finding
from stylebridge.errors import NotFoundError, StoreError
from stylebridge.harness.history import PerfHistory
from stylebridge.harness.results import CaseResult, CaseStatus, RunResult, RunStatus
from stylebridge.store import (
    SCHEMA_VERSION,
    STATE_STREAMING,
    FrameRecord,
    SessionRecord,
    Store,
    StoreLocation,
    store_location,
)
from stylebridge.store.copy import copy_store

_HEALTH_LOGGER = "stylebridge.store.health"


def _frame(session_id: str, sequence: int) -> FrameRecord:
    return FrameRecord(session_id, sequence, 1_000 + sequence, "processed", width=640, height=360)


def _wait(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_schema_version_is_kept_and_newer_or_foreign_databases_are_refused(
    pg_cluster, pg_url: str
) -> None:
    Store(pg_url).close()
    Store(pg_url).close()  # reopening migrates nothing
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version FROM stylebridge_schema").fetchall() == [
            (SCHEMA_VERSION,)
        ]
        kinds = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'frames'"
            ).fetchall()
        )
        assert kinds["received_at_us"] == "bigint"  # microseconds need 64 bits
        assert kinds["engine_ms"] == "double precision"
        conn.execute("UPDATE stylebridge_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer"):
        Store(pg_url)
    foreign = pg_cluster.database()
    with psycopg.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(StoreError, match="other tables"):
        Store(foreign)


def test_a_server_restart_mid_stream_is_counted_said_once_a_gap_and_writing_resumes(
    pg_cluster, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=_HEALTH_LOGGER)
    with Store(pg_url, batch_size=64) as store:
        store.start_session(SessionRecord("s", 1, state=STATE_STREAMING))
        for i in range(100):
            store.record_frame(_frame("s", i))
        assert store.flush()
        pg_cluster.stop("fast")
        try:
            slowest = 0.0
            for i in range(100, 400):  # frames keep coming while the server is away
                start = time.perf_counter()
                store.record_frame(_frame("s", i))
                slowest = max(slowest, time.perf_counter() - start)
                time.sleep(0.002)
            assert store.flush(30.0)
            health = store.health
            assert not health.ok and health.failing_since_us is not None
            lost = store.write_stats().failed
            assert lost > 0 and health.lost_writes == lost
            assert slowest < 0.1  # the stream never waited for the database
        finally:
            pg_cluster.start()

        # Writing resumes by itself on a new connection: no restart of the store.
        def resumed() -> bool:
            store.record_frame(_frame("s", resumed.next))  # type: ignore[attr-defined]
            resumed.next += 1  # type: ignore[attr-defined]
            store.flush()
            return store.health.ok

        resumed.next = 400  # type: ignore[attr-defined]
        assert _wait(resumed, 20.0)
        stats = store.write_stats()
        [gap] = store.gaps()
        assert gap.lost_writes == stats.failed and gap.server_id == store.instance_id
        stored = {f.sequence for f in store.frames("s")}
        assert set(range(100)) <= stored  # nothing committed before the outage was lost
        assert len(stored) == stats.committed - 1  # every frame that committed is there
        assert max(stored) == resumed.next - 1  # type: ignore[attr-defined]
    errors = [r for r in caplog.records if r.name == _HEALTH_LOGGER and r.levelno >= logging.ERROR]
    assert len(errors) == 1  # said once
    assert "still answered" in errors[0].getMessage()
    assert "PostgreSQL server is up" in errors[0].getMessage()


def _writer_process(url: str, password: str, index: int, frames: int) -> None:
    import os

    os.environ["PGPASSWORD"] = password
    with Store(url, batch_size=50) as store:
        store.mark_interrupted_open_sessions()
        session_id = f"writer-{index}"
        store.start_session(SessionRecord(session_id, index, state=STATE_STREAMING))
        for i in range(frames):
            store.record_frame(_frame(session_id, i))
            if i % 100 == 0:
                time.sleep(0.001)
        store.end_session(session_id, "ended", 10_000 + index)
        assert store.flush(60.0)
        assert store.write_stats().failed == store.write_stats().dropped == 0
    with PerfHistory(url) as history:
        history.save_run(_perf_run(f"run-{index}", f"build-{index}", started=index))


def test_several_writer_processes_lose_no_row(pg_cluster, pg_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_writer_process, args=(pg_url, pg_cluster.password, i, 2_000))
        for i in range(4)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
        assert process.exitcode == 0
    with Store(pg_url) as store:
        sessions = store.sessions()
        assert sorted(s.session_id for s in sessions) == [f"writer-{i}" for i in range(4)]
        assert all(s.state == "ended" for s in sessions)  # no writer interrupted another
        for i in range(4):
            assert store.frame_counts(f"writer-{i}") == {"processed": 2_000}
        assert len(store.servers()) == 4
    with PerfHistory(pg_url) as history:  # every writer's runs are baselines for anyone
        for i in range(4):
            assert history.latest_run(f"build-{i}").run_id == f"run-{i}"


def _perf_run(run_id: str, label: str, started: int = 1) -> RunResult:
    case = CaseResult(
        model_id="mosaic",
        width=640,
        height=360,
        status=CaseStatus.OK,
        engine="sentis",
        timing_method="blocking_readback",
        engine_ms=(10.0, 11.0, 12.0),
        python_ms=(20.0, 21.0),
    )
    return RunResult(
        run_id=run_id,
        label=label,
        started_at_us=started,
        finished_at_us=started + 1,
        status=RunStatus.OK,
        player="player",
        engine="sentis",
        cases=(case,),
    )


def test_perf_baselines_are_found_across_writers(pg_url: str) -> None:
    with PerfHistory(pg_url) as one, PerfHistory(pg_url) as other:
        one.save_run(_perf_run("r1", "nightly-41", started=1))
        other.save_run(_perf_run("r2", "nightly-42", started=2))
        assert other.latest_run("nightly-41").run_id == "r1"
        assert one.latest_run("nightly-42").cases[0].engine_ms == (10.0, 11.0, 12.0)
        with pytest.raises(NotFoundError, match="nightly-41, nightly-42"):
            one.latest_run("nightly-40")


def test_passwords_from_url_file_or_environment_are_never_printed(
    pg_cluster,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = pg_cluster.password
    dbname = pg_url.rsplit("/", 1)[1]
    monkeypatch.delenv("PGPASSWORD")
    with_password = pg_cluster.url(dbname, with_password=True)
    with Store(with_password) as store:
        assert secret not in store.where and secret not in repr(store.location)
    password_file = tmp_path / "pw"
    password_file.write_text(secret + "\n")
    location = store_location(pg_url, password_file)
    Store(location).close()
    # A wrong password: refused, and neither password appears in the error.
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password-123\n")
    with pytest.raises(StoreError) as refused:
        Store(store_location(pg_url, wrong))
    assert "not-the-password-123" not in str(refused.value)
    assert "password authentication failed" in str(refused.value)
    finding = postgres_store_finding(location)
    assert finding.severity is Severity.OK and "--store-password-file" in finding.message
    assert secret not in finding.message
    bad = postgres_store_finding(store_location(pg_url, wrong))
    assert bad.severity is Severity.FAIL and "not-the-password-123" not in bad.message
    result = CliRunner().invoke(app, ["doctor", "--port", "0", "--store", with_password])
    assert "postgresql://stylebridge@127.0.0.1" in result.output
    assert "the URL" in result.output.replace("\n", " ")
    assert secret not in result.output
    assert secret not in caplog.text


def test_migrate_store_copies_a_local_history_once(pg_url: str, tmp_path: Path) -> None:
    local = tmp_path / "local.sqlite"
    with Store(local) as store:
        store.mark_interrupted_open_sessions()
        store.start_session(SessionRecord("old", 5, state="ended", ended_at_us=9))
        for i in range(1_200):
            store.record_frame(_frame("old", i))
        assert store.flush()
    with PerfHistory(local) as history:
        history.save_run(_perf_run("r-local", "laptop"))
    runner = CliRunner()
    first = runner.invoke(app, ["migrate-store", str(local), pg_url])
    assert first.exit_code == 0, first.output
    # a server, a session, its frames, a run and its case
    assert "copied 1204 rows" in first.output.replace("\n", " ")
    second = runner.invoke(app, ["migrate-store", str(local), pg_url])
    assert second.exit_code == 0 and "copied 0 rows" in second.output.replace("\n", " ")
    with Store(pg_url) as studio:
        assert [s.session_id for s in studio.sessions()] == ["old"]
        assert len(studio.frames("old")) == 1_200
    with PerfHistory(pg_url) as history:
        assert history.latest_run("laptop").run_id == "r-local"
    # Copies go into an existing history without touching what it had.
    more = copy_store(StoreLocation(local), StoreLocation(pg_url))
    assert sum(r.copied for r in more) == 0
