"""One studio history: two `stylebridge serve` processes and a perf-test run write one
PostgreSQL database, and `sessions --store` reads it back. Real processes, real gRPC on
loopback, the test session's real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stylebridge.cli import app
from stylebridge.harness.history import PerfHistory
from stylebridge.paths import REPO_ROOT
from stylebridge.store import Store

PLAYER = REPO_ROOT / "tools" / "standin-player"


def _serve(url: str, password_file: Path) -> tuple[subprocess.Popen[str], str, str]:
    """A started server, its address and what it printed while starting."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stylebridge",
            "serve",
            "--port",
            "0",
            "--backend",
            "identity",
            "--store",
            url,
            "--store-password-file",
            str(password_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200", "PGPASSWORD": ""},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    seen: list[str] = []
    address = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if "listening on" in line:
            address = line.split("listening on")[1].strip()
        if "Ctrl+C to stop" in line:
            return process, address, "".join(seen)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("serve did not start: " + "".join(seen))


@pytest.mark.timeout(240)
def test_servers_and_perf_test_write_one_shared_history(
    pg_cluster, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylebridge.models import TransformerNetConfig, untrained_model
    from stylebridge.models.export import ExportConfig, export_onnx

    password_file = tmp_path / "pw"
    password_file.write_text(pg_cluster.password + "\n")
    servers = [_serve(pg_url, password_file) for _ in range(2)]
    runner = CliRunner()
    try:
        for _, address, _ in servers:
            streamed = runner.invoke(
                app, ["client", "--server", address, "--size", "64x36", "--count", "15"]
            )
            assert streamed.exit_code == 0, streamed.output
    finally:
        for process, _, _ in servers:
            process.send_signal(signal.SIGINT)
        outputs = [start + process.communicate(timeout=60)[0] for process, _, start in servers]
    assert all(process.returncode == 0 for process, _, _ in servers), outputs
    assert all(pg_cluster.password not in output for output in outputs)
    assert all(f"store: {pg_url}" in output for output in outputs), outputs

    model = untrained_model(TransformerNetConfig(widths=(8, 16, 32), residual_blocks=1))
    export_onnx(model, tmp_path / "tiny.onnx", ExportConfig(sample_size=(64, 64)))
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'models = ["tiny.onnx"]\nresolutions = ["64x64"]\nwarmup_frames = 2\nmeasured_frames = 8\n'
    )
    monkeypatch.setenv("STYLEBRIDGE_STORE", pg_url)  # the store from the environment
    perf = runner.invoke(
        app,
        [
            "perf-test",
            "--player",
            str(PLAYER),
            "--plan",
            str(plan),
            "--out",
            str(tmp_path / "perf"),
            "--label",
            "nightly-7",
            "--timeout",
            "30",
        ],
    )
    assert perf.exit_code == 0, perf.output
    assert f"in {pg_url}" in perf.output.replace("\n", "")
    # The next night, on another machine: the gate finds nightly-7 in the shared store.
    gated = runner.invoke(
        app,
        [
            "perf-test",
            "--player",
            str(PLAYER),
            "--plan",
            str(plan),
            "--out",
            str(tmp_path / "perf2"),
            "--label",
            "nightly-8",
            "--baseline",
            "nightly-7",
            "--timeout",
            "30",
            "--",
            "--slowdown-ms",
            "80",
        ],
    )
    assert gated.exit_code == 1, gated.output  # the slowed player regressed against it
    assert "regressed: tiny@64x64" in gated.output

    with Store(pg_url) as store:
        sessions = store.sessions()
        assert len(sessions) == 2 and all(s.state == "ended" for s in sessions)
        assert len({s.server_id for s in sessions}) == 2  # one per server
        # Every frame stored, whatever its status (newest-frame-wins may drop one under load).
        counts = [store.frame_counts(s.session_id) for s in sessions]
        assert [sum(c.values()) for c in counts] == [15, 15], counts
        assert all(c.get("processed", 0) > 0 for c in counts), counts
        assert len(store.servers()) == 2
    with PerfHistory(pg_url) as history:
        assert history.latest_run("nightly-7").cases[0].model_id == "tiny"
    listed = runner.invoke(app, ["sessions", "--store", pg_url])
    assert listed.exit_code == 0, listed.output
    assert all(s.session_id[:8] in listed.output for s in sessions)
