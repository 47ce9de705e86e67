"""The load bench (``make bench-load``): a seconds-long run of the real code path, and
the checks that make it fail, fed answers and samples that break them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))

import bench_load
import load_clients
from load_report import PhaseData, Sample, analyse_phase

from stylebridge.client.convert import FrameAnswer
from stylebridge.protocol import FrameStatus


@pytest.mark.timeout(120)
def test_short_run_of_both_phases_streams_swaps_and_writes_its_report(tmp_path: Path) -> None:
    config = bench_load.parse_args(
        [
            "--duration", "1.5", "--clients", "2", "--fps", "20", "--size", "160x90",
            "--swap-every", "0.4", "--warmup", "0.5", "--out", str(tmp_path),
        ]
    )  # fmt: skip
    _, failures = bench_load.run(config)

    assert failures == []
    written = json.loads((tmp_path / "load.json").read_text())
    assert written["ok"] is True
    off, on = written["phases"]
    for phase in (off, on):
        counts = phase["counts"]
        assert counts["sent"] > 0 and counts["sent"] == counts["answered"]
        assert phase["checks"]["violations"] == 0
        assert phase["checks"]["store_rows_match_answers"] is True
        assert phase["latency_ms"]["added"]["n"] > 0
        assert phase["memory"]["rss_after_warmup_mb"] > 0
        assert any(s["server_cpu_pct"] > 0 for s in phase["samples"])
    assert off["counts"]["recorded"] == off["counts"]["sent"]
    assert on["counts"]["processed"] > 0
    assert on["swaps"]["files_renamed"] >= 1
    assert on["swaps"]["pushes_acked_active"] >= 1
    assert on["swaps"]["server_results"].get("active", 0) >= 1
    assert (tmp_path / "load.png").stat().st_size > 0
    assert "Result: ok" in (tmp_path / "load.md").read_text()


def _answer(sequence: int, status: FrameStatus, dropped_total: int) -> FrameAnswer:
    return FrameAnswer(
        sequence=sequence,
        status=status,
        python_ms=3.0,
        queue_ms=1.0,
        backend="test",
        model_id="m",
        parity_psnr_db=None,
        dropped_total=dropped_total,
        error="",
        stylized=None,
    )


def _client(sent: int) -> load_clients._Client:
    client = load_clients._Client(0, load_clients.LoadConfig(server="127.0.0.1:1"), [])
    for sequence in range(1, sent + 1):
        client._pending[sequence] = 0.0
    client._last_sent = sent
    return client


def test_answer_checks_accept_drops_superseded_by_a_newer_frame() -> None:
    client = _client(3)
    client._check(_answer(1, FrameStatus.DROPPED, 1), 1.0)
    client._check(_answer(2, FrameStatus.PROCESSED, 1), 1.0)
    client._check(_answer(3, FrameStatus.PROCESSED, 1), 1.0)

    assert client.report.violations == 0
    assert client.report.answered == 3
    assert len(client.added_ms) == 2


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # The newest frame cannot be superseded: its drop is not newest-frame-wins.
        ([(3, FrameStatus.DROPPED, 1)], "no newer frame"),
        ([(1, FrameStatus.PROCESSED, 0), (1, FrameStatus.PROCESSED, 0)], "answered twice"),
        ([(9, FrameStatus.PROCESSED, 0)], "never sent"),
        ([(1, FrameStatus.DROPPED, 2)], "dropped_total 2"),
        ([(1, FrameStatus.FAILED, 0)], "FAILED"),
    ],
)
def test_answer_checks_flag_what_the_policy_does_not_explain(
    answers: list[tuple[int, FrameStatus, int]], expected: str
) -> None:
    client = _client(3)
    for sequence, status, dropped_total in answers:
        client._check(_answer(sequence, status, dropped_total), 1.0)

    assert client.report.violations >= 1
    assert any(expected in example for example in client.report.violation_examples)


def _phase(rss_end_mb: float, frames: int, swaps: int) -> PhaseData:
    start = 1000.0
    samples = [
        Sample(start + t / 2, 50.0, 100.0 if t < 30 else rss_end_mb, 5.0, 50.0)
        for t in range(0, 41)
    ]
    clients = {
        "config": {"clients": 1, "fps": 30.0},
        "sending_ended_at": start + 20.0,
        "clients": [
            {"index": 0, "session_id": "s", "sent": frames, "answered": frames,
             "statuses": {"processed": frames}, "late_slots": 0, "violations": 0,
             "violation_examples": [], "pushes_received": swaps, "pushes_acked_active": swaps,
             "pushes_rolled_back": 0}
        ],
        "added_ms": [1.0], "round_trip_ms": [2.0],
        "timeline": {"answered": {str(int(start) + 5): frames}},
    }  # fmt: skip
    return PhaseData(
        phase="on", server_command="serve", description="test", config={}, clients=clients,
        samples=samples, renamed_at=[start + 6.0] * swaps,
        store_counts={"s": {"processed": frames}}, swap_results={"active": swaps},
        server_log_errors=[],
    )  # fmt: skip


def test_memory_growth_over_the_limit_fails_a_phase_of_the_issues_size() -> None:
    limits = bench_load.BenchConfig(duration_s=20.0, warmup_s=2.0)

    grown = analyse_phase(_phase(110.0, frames=10_000, swaps=100), limits)
    steady = analyse_phase(_phase(101.0, frames=10_000, swaps=100), limits)
    too_short = analyse_phase(_phase(110.0, frames=500, swaps=3), limits)

    assert grown["memory"]["gated"] and not grown["memory"]["ok"]
    assert any("RSS grew 10.0 %" in f for f in grown["failures"])
    assert steady["failures"] == [] and steady["memory"]["ok"]
    assert not too_short["memory"]["gated"] and too_short["failures"] == []


def test_store_rows_that_do_not_match_the_answers_fail_a_phase() -> None:
    data = _phase(100.0, frames=50, swaps=1)
    data.store_counts = {"s": {"processed": 49}}

    result = analyse_phase(data, bench_load.BenchConfig(duration_s=20.0, warmup_s=2.0))

    assert any(f.startswith("store:") for f in result["failures"])


def test_rows_missing_after_a_restart_must_be_the_gaps_lost_writes() -> None:
    config = bench_load.BenchConfig(duration_s=20.0, warmup_s=2.0)
    data = _phase(100.0, frames=50, swaps=1)
    data.store_engine = "postgresql"
    data.store_counts = {"s": {"processed": 40}}
    data.restart = {"down_at": 1005.0, "up_at": 1006.0, "phase_started_at": 999.0}
    data.store_stats = {"last_commit_at": 1010.0}
    gap = {"server_id": "x", "started_at_us": 1005_000_000, "reason": "lost"}
    data.gaps = [{**gap, "ended_at_us": 1007_000_000, "lost_writes": 10}]
    assert analyse_phase(data, config)["failures"] == []
    data.gaps = [{**gap, "ended_at_us": 1007_000_000, "lost_writes": 9}]  # one row unexplained
    assert any("9 lost writes" in f for f in analyse_phase(data, config)["failures"])
    data.gaps = []
    assert any("no gap" in f for f in analyse_phase(data, config)["failures"])
    data.gaps = [{**gap, "ended_at_us": 1007_000_000, "lost_writes": 10}]
    data.store_stats = {"last_commit_at": 1007.0}  # nothing committed after the gap
    assert any("after the restart" in f for f in analyse_phase(data, config)["failures"])
