"""The load bench's numbers: one phase's raw data in, its figures and verdicts out.

Definitions (also written into the Markdown):

* **throughput**: frames per second over the streaming time, sent by the clients and
  answered by the server (answered = processed + dropped + recorded); ``processed`` is
  what Python stylized; the target is clients x fps.
* **added latency**: the client's round trip (FrameUp written -> its FrameDown read)
  minus the server's ``python_inference_ms`` and ``queue_ms`` for that frame: what the
  bridge itself adds (transport both ways, parsing, checks, bookkeeping, the store,
  the answer). With inference off both are 0, so it is the whole round trip. DROPPED
  answers are left out (they answer a frame that never ran).
* **memory growth**: the server's RSS at the end of sending (median of the last
  seconds) over its RSS after the warm-up (median of the first seconds after it), minus
  1; gated at the limit when the window between them held >= ``min_frames`` answered
  frames (and >= ``min_swaps`` swaps when inference is on).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class _Limits(Protocol):
    duration_s: float
    growth_limit: float
    min_frames: int
    min_swaps: int

    @property
    def warmup(self) -> float: ...


@dataclass(frozen=True)
class Sample:
    """One psutil reading: wall clock, CPU % of one core and RSS in MiB."""

    t: float
    server_cpu: float
    server_rss_mb: float
    client_cpu: float
    client_rss_mb: float


@dataclass
class PhaseData:
    """What ``run_phase`` collected for one phase."""

    phase: str
    server_command: str
    description: str
    config: dict[str, Any]
    clients: dict[str, Any] | None
    samples: list[Sample]
    renamed_at: list[float]
    store_counts: dict[str, dict[str, int]]
    swap_results: dict[str, int]
    server_log_errors: list[str]
    failures: list[str] = field(default_factory=list)
    # The server's store: its engine, its commit timings (rows/s, commit p50/p99), the
    # gaps it recorded, and the PostgreSQL restart made mid-phase, if any.
    store_engine: str = "sqlite"
    store_stats: dict[str, Any] = field(default_factory=dict)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    restart: dict[str, float] | None = None


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
    return {
        "n": len(values),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(max(values)),
    }


def _median_rss(samples: list[Sample], start: float, end: float) -> float | None:
    values = [s.server_rss_mb for s in samples if start <= s.t <= end]
    return statistics.median(values) if values else None


def memory(data: PhaseData, limits: _Limits, stream_start: float) -> dict[str, Any]:
    """RSS after the warm-up vs at the end of sending, and what happened in between."""
    clients = data.clients or {}
    duration = limits.duration_s
    span = min(5.0, max(1.0, 0.1 * duration))
    base_at = stream_start + limits.warmup
    end_at = stream_start + duration
    base = _median_rss(data.samples, base_at, base_at + span)
    end = _median_rss(data.samples, end_at - span, end_at)
    answered = clients.get("timeline", {}).get("answered", {})
    frames = sum(n for second, n in answered.items() if base_at <= int(second) < end_at)
    swaps = sum(1 for t in data.renamed_at if base_at <= t <= end_at)
    growth = (end / base - 1.0) if base and end else None
    enough = frames >= limits.min_frames and (data.phase != "on" or swaps >= limits.min_swaps)
    return {
        "warmup_s": limits.warmup,
        "window_s": span,
        "rss_after_warmup_mb": base,
        "rss_end_mb": end,
        "growth": growth,
        "frames_in_window": frames,
        "swaps_in_window": swaps,
        "gated": enough,
        "limit": limits.growth_limit,
        "ok": growth is not None and growth < limits.growth_limit,
    }


def _store_check(data: PhaseData, reports: list[dict[str, Any]]) -> list[str]:
    """The store must hold one row per answered frame, with the status the client got;
    after a database restart, every missing row must be a write the gap recorded as lost."""
    if data.restart is not None:
        return _gap_check(data, reports)
    problems = []
    for report in reports:
        stored = data.store_counts.get(report["session_id"], {})
        if stored != report["statuses"]:
            problems.append(
                f"client {report['index']}: store rows {stored} but answers {report['statuses']}"
            )
    return problems


def _gap_check(data: PhaseData, reports: list[dict[str, Any]]) -> list[str]:
    answered = sum(sum(r["statuses"].values()) for r in reports)
    stored = sum(sum(data.store_counts.get(r["session_id"], {}).values()) for r in reports)
    lost = sum(int(g["lost_writes"]) for g in data.gaps)
    problems = []
    if not data.gaps:
        problems.append("the database restarted but the store recorded no gap")
    if answered - stored != lost:
        problems.append(
            f"{answered} answers, {stored} rows stored: {answered - stored} missing, but the "
            f"gaps recorded {lost} lost writes"
        )
    # The gap ends at the first commit after the restart; writing must go on after it.
    gap_end_s = max((int(g["ended_at_us"]) for g in data.gaps), default=0) / 1e6
    last_commit_s = float(data.store_stats.get("last_commit_at", 0.0))
    if data.restart is not None and data.gaps:
        if gap_end_s < data.restart["down_at"]:
            problems.append("the recorded gap ended before the database went down")
        if last_commit_s <= gap_end_s:
            problems.append("no write succeeded after the restart")
    return problems


def _store_summary(data: PhaseData, reports: list[dict[str, Any]]) -> dict[str, Any]:
    answered = sum(sum(r["statuses"].values()) for r in reports)
    stored = sum(sum(data.store_counts.get(r["session_id"], {}).values()) for r in reports)
    return {
        "engine": data.store_engine,
        "frames_answered": answered,
        "frame_rows_stored": stored,
        "commit": data.store_stats,
        "gaps": data.gaps,
        "restart": data.restart,
    }


def analyse_phase(data: PhaseData, limits: _Limits) -> dict[str, Any]:
    """Figures and verdicts of one phase; ``failures`` lists what makes the bench fail."""
    failures = list(data.failures)
    result: dict[str, Any] = {
        "phase": data.phase,
        "description": data.description,
        "server_command": data.server_command,
        "config": data.config,
        "failures": failures,
    }
    clients = data.clients
    if clients is None:
        return result
    reports: list[dict[str, Any]] = clients["clients"]
    duration = limits.duration_s
    stream_start = clients["sending_ended_at"] - duration
    totals: dict[str, int] = {}
    for report in reports:
        for status, count in report["statuses"].items():
            totals[status] = totals.get(status, 0) + count
    sent = sum(r["sent"] for r in reports)
    answered = sum(r["answered"] for r in reports)
    config = clients["config"]
    target = config["clients"] * config["fps"]
    result["counts"] = {
        "sent": sent,
        "answered": answered,
        **totals,
        "late_slots": sum(r["late_slots"] for r in reports),
    }
    result["throughput"] = {
        "target_per_s": target,
        "sent_per_s": sent / duration,
        "answered_per_s": answered / duration,
        **{f"{k}_per_s": v / duration for k, v in totals.items()},
        "achieved_of_target": sent / duration / target if target else 0.0,
        "per_client": [
            {
                "client": r["index"],
                "sent_per_s": r["sent"] / duration,
                "answered_per_s": r["answered"] / duration,
                "processed_per_s": r["statuses"].get("processed", 0) / duration,
            }
            for r in reports
        ],
    }
    result["latency_ms"] = {
        "added": percentiles(clients["added_ms"]),
        "round_trip": percentiles(clients["round_trip_ms"]),
        "python_inference": percentiles(clients.get("python_ms", [])),
        "queue": percentiles(clients.get("queue_ms", [])),
    }
    violations = sum(r["violations"] for r in reports)
    examples = [f"client {r['index']}: {e}" for r in reports for e in r["violation_examples"]]
    store_problems = _store_check(data, reports)
    result["checks"] = {
        "violations": violations,
        "violation_examples": examples[:20],
        "every_frame_answered_once": violations == 0 and sent == answered,
        "dropped_explained_by_newest_frame_wins": violations == 0,
        "store_rows_match_answers": not store_problems,
        "store_problems": store_problems,
        "server_log_errors": data.server_log_errors,
    }
    result["store"] = _store_summary(data, reports)
    if violations:
        failures.append(f"{violations} answer checks failed, e.g. {examples[:3]}")
    if sent != answered:
        failures.append(f"{sent} frames sent but {answered} answered")
    if answered == 0:
        failures.append("no frame was answered")
    failures += [f"store: {p}" for p in store_problems]
    if data.phase == "on":
        acked = sum(r["pushes_acked_active"] for r in reports)
        result["swaps"] = {
            "files_renamed": len(data.renamed_at),
            "pushes_received": sum(r["pushes_received"] for r in reports),
            "pushes_acked_active": acked,
            "pushes_rolled_back": sum(r["pushes_rolled_back"] for r in reports),
            "server_results": data.swap_results,
        }
        if data.renamed_at and acked == 0:
            failures.append("swaps were written but no client took a push")
        bad = {k: v for k, v in data.swap_results.items() if k in ("refused", "rolled_back")}
        if bad:
            failures.append(f"pushes that did not go through: {bad}")
    mem = memory(data, limits, stream_start)
    result["memory"] = mem
    if mem["gated"] and not mem["ok"]:
        failures.append(
            f"server RSS grew {100 * (mem['growth'] or 0):.1f} % after the warm-up "
            f"(limit {100 * limits.growth_limit:.0f} %)"
        )
    streaming = [s for s in data.samples if stream_start <= s.t <= stream_start + duration]
    result["cpu"] = {
        "server_mean_pct": statistics.fmean(s.server_cpu for s in streaming) if streaming else 0,
        "server_max_pct": max((s.server_cpu for s in streaming), default=0.0),
        "client_mean_pct": statistics.fmean(s.client_cpu for s in streaming) if streaming else 0,
        "server_rss_max_mb": max((s.server_rss_mb for s in streaming), default=0.0),
    }
    # Server CPU per answered frame: mean % of one core x 10 = CPU ms per wall second.
    per_s = result["throughput"]["answered_per_s"]
    result["cpu"]["server_ms_per_frame"] = (
        result["cpu"]["server_mean_pct"] * 10.0 / per_s if per_s else None
    )
    result["samples"] = [
        {
            "t_s": round(s.t - stream_start, 3),
            "server_cpu_pct": s.server_cpu,
            "server_rss_mb": round(s.server_rss_mb, 2),
            "client_cpu_pct": s.client_cpu,
            "client_rss_mb": round(s.client_rss_mb, 2),
        }
        for s in data.samples
    ]
    return result


# Server CPU per frame with inference off (issue 15): half of the 0.81 ms measured before.
SERVER_MS_PER_FRAME_GOAL = 0.4

_LATENCIES = (
    ("added", "added latency"),
    ("round_trip", "round trip"),
    ("python_inference", "server python_inference_ms (processed frames)"),
    ("queue", "server queue_ms (processed frames)"),
)


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Load: clients streaming at once, Python inference off then on", ""]
    for p in results["phases"]:
        store = p.get("store", {})
        engine = store.get("engine", "sqlite")
        restarted = ", restarted mid-stream" if store.get("restart") else ""
        lines += [f"## Phase {p['phase']} ({engine} store{restarted}): {p['description']}", ""]
        if "throughput" not in p:
            lines += ["No results: " + "; ".join(p["failures"]), ""]
            continue
        cfg = p["config"]
        lines += [
            f"{cfg['clients']} clients x {cfg['fps']:g} fps at {cfg['size'][0]}x{cfg['size'][1]} "
            f"for {cfg['duration_s']:g} s; server: `{p['server_command']}`",
            "",
        ]
        t, c, lat = p["throughput"], p["counts"], p["latency_ms"]
        lines += [
            "| frames/s | total | per client (mean) |",
            "|---|---:|---:|",
            f"| target | {t['target_per_s']:.0f} | {cfg['fps']:g} |",
        ]
        for key in ("sent", "answered", "processed", "dropped", "recorded"):
            value = t.get(f"{key}_per_s")
            if value is not None:
                lines.append(f"| {key} | {value:.1f} | {value / cfg['clients']:.1f} |")
        per_client = [c["sent_per_s"] for c in t["per_client"]]
        lines += [
            "",
            f"- per client sent/s: min {min(per_client):.1f}, max {max(per_client):.1f}",
            f"- achieved {100 * t['achieved_of_target']:.0f} % of the target send rate "
            f"({c['late_slots']} send slots skipped: client late or window full)",
            f"- counts: {', '.join(f'{k} {v}' for k, v in c.items() if k != 'late_slots')}",
        ]
        for name, label in _LATENCIES:
            s = lat[name]
            if s.get("n"):
                lines.append(
                    f"- {label}, ms (n={s['n']}): p50 {s['p50']:.1f}, "
                    f"p95 {s['p95']:.1f}, p99 {s['p99']:.1f}, max {s['max']:.1f}"
                )
        ch = p["checks"]
        lines.append(
            f"- checks: {ch['violations']} violations; every frame answered once: "
            f"{ch['every_frame_answered_once']}; drops explained by newest-frame-wins: "
            f"{ch['dropped_explained_by_newest_frame_wins']}; store rows match answers: "
            f"{ch['store_rows_match_answers']}"
        )
        if "swaps" in p:
            s = p["swaps"]
            lines.append(
                f"- swaps: {s['files_renamed']} files renamed into the catalog, "
                f"{s['pushes_received']} pushes received, {s['pushes_acked_active']} acked "
                f"active, {s['pushes_rolled_back']} rolled back; server: {s['server_results']}"
            )
        m, cpu = p["memory"], p["cpu"]
        lines += [
            f"- server CPU (% of one core): mean {cpu['server_mean_pct']:.0f}, max "
            f"{cpu['server_max_pct']:.0f}; client process mean {cpu['client_mean_pct']:.0f}",
            f"- server CPU per answered frame: {_fmt(cpu.get('server_ms_per_frame'), '.3f')} ms "
            f"(goal <= {SERVER_MS_PER_FRAME_GOAL} ms with inference off)",
            f"- server RSS: {_fmt(m['rss_after_warmup_mb'])} MB after {m['warmup_s']:g} s "
            f"warm-up, {_fmt(m['rss_end_mb'])} MB at the end: growth "
            f"{_fmt(None if m['growth'] is None else 100 * m['growth'], '+.2f')} % over "
            f"{m['frames_in_window']} frames and {m['swaps_in_window']} swaps "
            + (
                f"(gated: limit {100 * m['limit']:.0f} %, {'ok' if m['ok'] else 'FAILED'})"
                if m["gated"]
                else "(not gated: fewer frames/swaps than the issue's 10 000 / 100)"
            ),
        ]
        lines += _store_lines(p["store"])
        if ch["server_log_errors"]:
            lines.append(f"- server log errors: {ch['server_log_errors'][:3]}")
        lines.append("")
    lines += comparison_markdown(results.get("store_comparison", []))
    lines += [
        "Added latency = client round trip - python_inference_ms - queue_ms (the bridge's "
        "own time); DROPPED answers excluded. CPU is % of one core (psutil, every 0.5 s).",
        "",
        "**Result: " + ("ok**" if results["ok"] else "FAILED**: " + "; ".join(results["failures"])),
        "",
    ]
    return "\n".join(lines)


def _store_lines(store: dict[str, Any]) -> list[str]:
    commit = store["commit"]
    lines = [
        f"- store ({store['engine']}): {store['frame_rows_stored']} frame rows for "
        f"{store['frames_answered']} answers"
    ]
    if commit:
        lines.append(
            f"- store writes: {commit['rows']} rows in {commit['batches']} batches, "
            f"{commit['rows_per_s']:.0f} rows/s over {commit['span_s']:.0f} s; commit latency "
            f"p50 {commit['commit_p50_ms']:.2f} ms, p99 {commit['commit_p99_ms']:.2f} ms, "
            f"max {commit['commit_max_ms']:.1f} ms"
        )
    if store["restart"] is not None:
        r = store["restart"]
        lost = sum(int(g["lost_writes"]) for g in store["gaps"])
        spans = ", ".join(
            f"{(int(g['ended_at_us']) - int(g['started_at_us'])) / 1e6:.1f} s"
            for g in store["gaps"]
        )
        lines.append(
            f"- PostgreSQL restarted {r['down_at'] - r['phase_started_at']:.1f} s into the phase "
            f"(down {r['up_at'] - r['down_at']:.1f} s): {len(store['gaps'])} gap(s) recorded "
            f"({spans}), {lost} writes lost, writing resumed"
        )
    return lines


def compare_stores(phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Added latency of each PostgreSQL phase against the SQLite phase of the same kind."""
    rows = []
    for pg in phases:
        if pg.get("store", {}).get("engine") != "postgresql" or pg["store"]["restart"]:
            continue
        for lite in phases:
            if lite["phase"] != pg["phase"] or lite.get("store", {}).get("engine") != "sqlite":
                continue
            a, b = lite["latency_ms"]["added"], pg["latency_ms"]["added"]
            if not a.get("n") or not b.get("n"):
                continue
            rows.append(
                {
                    "phase": pg["phase"],
                    **{f"sqlite_{k}": a[k] for k in ("p50", "p95", "p99")},
                    **{f"postgresql_{k}": b[k] for k in ("p50", "p95", "p99")},
                    "p50_ratio": b["p50"] / a["p50"],
                    "p99_ratio": b["p99"] / a["p99"],
                }
            )
    return rows


def comparison_markdown(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "## PostgreSQL store against SQLite (same run): added latency, ms",
        "",
        "| phase | SQLite p50 | PostgreSQL p50 | ratio | SQLite p99 | PostgreSQL p99 | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['phase']} | {r['sqlite_p50']:.2f} | {r['postgresql_p50']:.2f} | "
            f"{r['p50_ratio']:.2f} | {r['sqlite_p99']:.2f} | {r['postgresql_p99']:.2f} | "
            f"{r['p99_ratio']:.2f} |"
        )
    return [*lines, ""]


def plot(phases: list[dict[str, Any]], path: Path) -> None:
    """CPU % and RSS of the server (and the client process's CPU) vs time, per phase."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_cpu, ax_rss) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for index, p in enumerate(phases):
        samples = p.get("samples") or []
        if not samples:
            continue
        color = f"C{index}"
        name = f"{p['phase']} ({p.get('store', {}).get('engine', 'sqlite')})"
        t = [s["t_s"] for s in samples]
        cpu = [s["server_cpu_pct"] for s in samples]
        ax_cpu.plot(t, cpu, color=color, label=f"server, {name}")
        clients = [s["client_cpu_pct"] for s in samples]
        ax_cpu.plot(t, clients, ":", color=color, label=f"client process, {name}")
        ax_rss.plot(t, [s["server_rss_mb"] for s in samples], color=color, label=f"server, {name}")
        warmup = p.get("memory", {}).get("warmup_s")
        if warmup is not None:
            ax_rss.axvline(warmup, color="grey", linestyle="--", linewidth=0.8)
    ax_cpu.set_ylabel("CPU % (of one core)")
    ax_rss.set_ylabel("RSS (MiB)")
    ax_rss.set_xlabel("seconds since streaming started (dashed: end of warm-up)")
    ax_cpu.legend(loc="upper right", fontsize=8)
    ax_rss.legend(loc="lower right", fontsize=8)
    ax_cpu.set_title("StyleBridge server under load")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
