"""`stylebridge perf-test` end to end: the stand-in player, launched by UnityEnvironment.

A tiny untrained TransformerNet at 64x64 and 96x64 keeps each run to a few seconds.
No timing assertions except the artificial slowdown, which is ~10x the model's time.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stylebridge.harness.protocol import STANDIN_ENGINE
from stylebridge.paths import REPO_ROOT

PLAYER = REPO_ROOT / "tools" / "standin-player"
WARMUP, MEASURED = 2, 8


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stylebridge.models import TransformerNetConfig, untrained_model
    from stylebridge.models.export import ExportConfig, export_onnx

    folder = tmp_path_factory.mktemp("perf")
    model = untrained_model(TransformerNetConfig(widths=(8, 16, 32), residual_blocks=1))
    export_onnx(model, folder / "tiny.onnx", ExportConfig(sample_size=(64, 64)))
    path = folder / "plan.toml"
    path.write_text(
        'models = ["tiny.onnx"]\nresolutions = ["64x64", "96x64"]\n'
        f"warmup_frames = {WARMUP}\nmeasured_frames = {MEASURED}\n"
        "[engine]\nquality_level = 3\ntime_scale = 1.0\n"
    )
    return path


@pytest.fixture(scope="module")
def small_plan(plan: Path) -> Path:
    """One resolution, three frames: for the tests about the player, not the numbers."""
    path = plan.parent / "small.toml"
    path.write_text(
        'models = ["tiny.onnx"]\nresolutions = ["64x64"]\nwarmup_frames = 1\nmeasured_frames = 3\n'
    )
    return path


def _perf(plan: Path, out: Path, *args: str, player: Path | None = PLAYER) -> tuple[int, str]:
    from stylebridge.cli import app

    launch = ["--player", str(player)] if player is not None else []
    result = CliRunner().invoke(
        app, ["perf-test", *launch, "--plan", str(plan), "--out", str(out), *args]
    )
    return result.exit_code, result.output


def _junit(out: Path) -> list[ET.Element]:
    return ET.parse(out / "perf-junit.xml").getroot().findall("testsuite/testcase")


@pytest.mark.timeout(120)
def test_full_path_then_slowed_model_fails_the_gate(plan: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    out = tmp_path / "b1"
    code, output = _perf(plan, out, "--label", "b1", "--store", str(store), "--timeout", "30")
    assert code == 0, output
    data = json.loads((out / "perf.json").read_text())
    assert data["status"] == "ok" and data["engine"] == STANDIN_ENGINE
    assert [c["name"] for c in data["cases"]] == ["tiny@64x64", "tiny@96x64"]
    for case in data["cases"]:
        assert case["engine"] == STANDIN_ENGINE and case["timing_method"] == "synchronous"
        assert len(case["engine_ms"]) == MEASURED and len(case["python_ms"]) == MEASURED
        assert case["engine_stats"]["p99_ms"] >= case["engine_stats"]["median_ms"] > 0
        # The stand-in reports the EngineConfigurationChannel values it applied.
        assert case["quality_level"] == 3 and case["time_scale"] == 1.0
        assert case["parity_psnr_db"] == "inf" or case["parity_psnr_db"] > 40
        assert case["memory_bytes"] > 0
    assert [c.get("name") for c in _junit(out)] == ["tiny@64x64", "tiny@96x64"]
    assert all(c.find("failure") is None and c.find("error") is None for c in _junit(out))
    assert "| tiny | 96×64 |" in (out / "perf.md").read_text()
    assert (out / "perf.png").read_bytes()[:4] == b"\x89PNG"
    assert "connected on port" in (out / "Player-0.log").read_text()
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT label, status FROM perf_runs").fetchall() == [("b1", "ok")]
        assert conn.execute("SELECT count(*) FROM perf_cases").fetchone()[0] == 2

    out2 = tmp_path / "b2"
    code, output = _perf(
        plan,
        out2,
        "--label",
        "b2",
        "--store",
        str(store),
        "--baseline",
        "b1",
        "--timeout",
        "30",
        "--",
        "--slowdown-ms",
        "80",
    )
    assert code == 1, output
    assert "regressed: tiny@64x64" in output and "regressed: tiny@96x64" in output
    failures = [c.find("failure") for c in _junit(out2)]
    assert all(f is not None and "tiny@" in f.get("message") for f in failures)
    data = json.loads((out2 / "perf.json").read_text())
    assert data["status"] == "regressed"
    assert all(c["gate"]["median_ratio"] > 1.1 for c in data["cases"])


@pytest.mark.timeout(120)
def test_player_crash_mid_plan_keeps_partial_results(plan: Path, tmp_path: Path) -> None:
    # Step 1 answers RESET; the first case takes WARMUP + MEASURED steps; crash in the second.
    crash_after = 1 + WARMUP + MEASURED + 1
    out = tmp_path / "crash"
    started = time.monotonic()
    code, output = _perf(
        plan, out, "--no-store", "--timeout", "30", "--", "--crash-after-steps", str(crash_after)
    )
    assert code == 3, output
    assert time.monotonic() - started < 60
    assert "return code 17" in output and "1 of 2 cases measured" in output
    assert "simulated crash" in output  # the player log's tail is in the message
    data = json.loads((out / "perf.json").read_text())
    assert data["status"] == "error"
    assert [c["status"] for c in data["cases"]] == ["ok", "error"]
    errors = [c.find("error") for c in _junit(out)]
    assert errors[0] is None and "return code 17" in errors[1].get("message")


@pytest.mark.timeout(90)
def test_player_that_hangs_mid_plan_times_out(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "hang"
    started = time.monotonic()
    code, output = _perf(
        small_plan, out, "--no-store", "--timeout", "3", "--", "--hang-after-steps", "2"
    )
    assert code == 3, output
    assert time.monotonic() - started < 40
    assert "did not answer within 3 s" in output and "simulated hang" in output
    data = json.loads((out / "perf.json").read_text())
    assert [c["status"] for c in data["cases"]] == ["error"]


@pytest.mark.timeout(60)
def test_player_that_never_connects_times_out(small_plan: Path, tmp_path: Path) -> None:
    out = tmp_path / "never"
    started = time.monotonic()
    code, output = _perf(small_plan, out, "--no-store", "--timeout", "3", "--", "--never-connect")
    elapsed = time.monotonic() - started
    assert code == 3, output
    assert "did not connect within 3 s" in output
    assert elapsed < 25
    data = json.loads((out / "perf.json").read_text())
    assert [c["status"] for c in data["cases"]] == ["error"]
    assert _junit(out)[0].find("error") is not None


@pytest.mark.timeout(90)
def test_without_player_waits_on_the_port_like_the_editor(small_plan: Path, tmp_path: Path) -> None:
    from stylebridge.harness.launch import free_port

    # Stands in for pressing Play: a "player" that was not launched by the harness.
    port = free_port()
    log = tmp_path / "editor.log"
    editor = subprocess.Popen([str(PLAYER), "--mlagents-port", str(port), "-logFile", str(log)])
    try:
        args = ("--no-store", "--port", str(port), "--timeout", "30")
        code, output = _perf(small_plan, tmp_path / "editor", *args, player=None)
        assert code == 0, output
        assert editor.wait(timeout=30) == 0
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.wait()
    data = json.loads((tmp_path / "editor" / "perf.json").read_text())
    assert data["player"] == f"editor:{port}"
    assert [c["status"] for c in data["cases"]] == ["ok"]
    assert "Python closed the environment" in log.read_text()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("inference_on", "code"), [("frame", 3), ("step", 0)])
def test_several_steps_per_rendered_frame_catch_inference_per_frame(
    small_plan: Path, tmp_path: Path, inference_on: str, code: int
) -> None:
    # ML-Agents steps the academy in FixedUpdate: at 8 steps per rendered frame (a slow frame or a
    # time scale above 1) a player that runs inference in Update needs 8x the steps the harness
    # budgets (warm-up + measured + 20), and the case never ends; the contract (one inference per
    # academy step) measures the same plan at any ratio.
    out = tmp_path / inference_on
    exit_code, output = _perf(
        small_plan,
        out,
        "--no-store",
        "--timeout",
        "30",
        "--",
        "--steps-per-frame",
        "8",
        "--inference-on",
        inference_on,
    )
    assert exit_code == code, output
    data = json.loads((out / "perf.json").read_text())
    if inference_on == "frame":
        assert "sent no result" in output and "per academy step" in output
        assert [c["status"] for c in data["cases"]] == ["error"]
    else:
        assert [c["status"] for c in data["cases"]] == ["ok"]
        assert len(data["cases"][0]["engine_ms"]) == 3
