"""``stylebridge doctor``: configurations in, findings out (no server, no network)."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
from pathlib import Path

from security_helpers import TOKEN, make_cert
from typer.testing import CliRunner

from stylebridge.cli import app
from stylebridge.credentials import TOKEN_ENV
from stylebridge.doctor import Check, DoctorOptions, DoctorReport, Severity, diagnose


def _diagnose(tmp_path: Path, **overrides: object) -> DoctorReport:
    values: dict[str, object] = {"port": 0, "store": tmp_path / "store.sqlite", "environ": {}}
    values.update(overrides)
    return diagnose(DoctorOptions(**values))  # type: ignore[arg-type]


def _severities(report: DoctorReport, check: Check) -> set[Severity]:
    return {f.severity for f in report.about(check)}


def _text(report: DoctorReport) -> str:
    return " ".join(f.message for f in report.findings)


def test_loopback_without_token_is_fine(tmp_path: Path) -> None:
    report = _diagnose(tmp_path)
    assert not report.failed
    assert "only programs on this machine can connect" in report.summary()
    assert _severities(report, Check.TOKEN) == {Severity.INFO}
    assert _severities(report, Check.TLS) == {Severity.INFO}
    assert _severities(report, Check.STORE) == {Severity.OK}
    assert "will be created" in _text(report)
    assert "onnxruntime" in report.about(Check.LIBRARIES)[0].message


def test_exposed_without_token_fails(tmp_path: Path) -> None:
    report = _diagnose(tmp_path, host="0.0.0.0")
    assert report.failed
    assert "reachable from other machines on your network" in report.summary()
    assert _severities(report, Check.TOKEN) == {Severity.FAIL}
    assert "clear text" in report.summary()


def test_exposed_with_token_says_where_it_comes_from_never_what_it_is(tmp_path: Path) -> None:
    report = _diagnose(tmp_path, host="0.0.0.0", environ={TOKEN_ENV: TOKEN})
    assert not report.failed
    assert f"A token is required (from {TOKEN_ENV}, {len(TOKEN)} characters; never printed)" in (
        report.summary()
    )
    assert _severities(report, Check.TLS) == {Severity.WARN}
    assert "the token and frames travel in clear text; add --tls-cert/--tls-key" in _text(report)
    assert TOKEN not in _text(report)

    short = _diagnose(tmp_path, host="0.0.0.0", environ={TOKEN_ENV: "short"})
    assert short.failed and "token_urlsafe" in _text(short)


def test_token_file_findings(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    private = _diagnose(tmp_path, host="0.0.0.0", token_file=token_file)
    assert _severities(private, Check.TOKEN) == {Severity.OK}
    assert f"from the file {token_file}" in private.summary()
    token_file.chmod(0o644)
    shared = _diagnose(tmp_path, host="0.0.0.0", token_file=token_file)
    assert _severities(shared, Check.TOKEN) == {Severity.OK, Severity.WARN}
    assert "chmod 600" in _text(shared) and not shared.failed
    missing = _diagnose(tmp_path, token_file=tmp_path / "nope")
    assert missing.failed and "nope does not exist" in _text(missing)


def test_tls_findings(tmp_path: Path) -> None:
    good = make_cert(tmp_path, "good")
    report = _diagnose(
        tmp_path, host="0.0.0.0", environ={TOKEN_ENV: TOKEN}, tls_cert=good.cert, tls_key=good.key
    )
    assert _severities(report, Check.TLS) == {Severity.OK}
    assert "TLS is on" in report.summary() and "valid until" in report.summary()
    assert "localhost, 127.0.0.1" in report.summary()

    now = dt.datetime.now(dt.UTC)
    expired = make_cert(
        tmp_path, "expired", valid_from=now - dt.timedelta(days=30), valid_for=dt.timedelta(days=1)
    )
    report = _diagnose(tmp_path, tls_cert=expired.cert, tls_key=expired.key)
    assert report.failed and "EXPIRED" in _text(report)
    soon = make_cert(tmp_path, "soon", valid_for=dt.timedelta(days=10))
    report = _diagnose(tmp_path, tls_cert=soon.cert, tls_key=soon.key)
    assert _severities(report, Check.TLS) == {Severity.WARN} and not report.failed
    report = _diagnose(tmp_path, tls_cert=good.cert, tls_key=soon.key)
    assert report.failed and "does not belong to the certificate" in _text(report)
    report = _diagnose(tmp_path, tls_cert=good.cert)
    assert report.failed and "--tls-key is missing" in _text(report)


def test_port_findings(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        in_use = _diagnose(tmp_path, port=port)
        assert _severities(in_use, Check.PORT) == {Severity.WARN}
        assert "in use" in _text(in_use)
    free = _diagnose(tmp_path, port=port)
    assert _severities(free, Check.PORT) == {Severity.OK}
    # TEST-NET-1: never an address of this machine.
    foreign = _diagnose(tmp_path, host="192.0.2.1", port=port, environ={TOKEN_ENV: TOKEN})
    assert foreign.failed and "not an address of this machine" in _text(foreign)


def test_store_findings_leave_the_store_alone(tmp_path: Path) -> None:
    store = tmp_path / "existing.sqlite"
    with sqlite3.connect(store) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = store.read_bytes(), store.stat().st_mtime_ns
    report = _diagnose(tmp_path, store=store)
    assert _severities(report, Check.STORE) == {Severity.OK}
    assert (store.read_bytes(), store.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.sqlite"]

    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a database")
    assert "not an SQLite file" in _text(_diagnose(tmp_path, store=not_sqlite))
    under_a_file = _diagnose(tmp_path, store=not_sqlite / "store.sqlite")
    assert under_a_file.failed and "not a writable folder" in _text(under_a_file)
    assert _diagnose(tmp_path, store=tmp_path).failed


def test_catalog_findings(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    assert _diagnose(tmp_path, catalog=catalog).failed
    catalog.mkdir()
    (catalog / "a.onnx").write_bytes(b"x")
    (catalog / "b.onnx").write_bytes(b"x")
    (catalog / "notes.md").write_text("x")
    report = _diagnose(tmp_path, catalog=catalog)
    assert _severities(report, Check.CATALOG) == {Severity.OK}
    assert "(2 .onnx files)" in _text(report)
    assert _diagnose(tmp_path, catalog=catalog / "a.onnx").failed


def test_doctor_command(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["doctor", "--host", "0.0.0.0", "--port", "0", "--store", str(tmp_path / "s.sqlite")]
    ok = runner.invoke(app, args, env={TOKEN_ENV: TOKEN, "COLUMNS": "200"})
    assert ok.exit_code == 0, ok.output
    assert "reachable from other machines on your network" in ok.output
    assert "clear text" in ok.output and TOKEN not in ok.output
    refused = runner.invoke(app, args, env={TOKEN_ENV: None, "COLUMNS": "200"})
    assert refused.exit_code == 1
    assert "No token" in refused.output
    assert not (tmp_path / "s.sqlite").exists()
