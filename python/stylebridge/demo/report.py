"""The demo report: Markdown + JSON + a PNG plot of per-frame timings.

Built only from what the store recorded, so the report shows what the bridge really
saw, not what the client believes it sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from stylebridge.timing import summarize_ms


class FrameRow(Protocol):
    """The fields of a stored frame that the report reads."""

    sequence: int
    status: str
    engine_ms: float | None
    engine_timing_method: str | None
    python_ms: float | None
    queue_ms: float | None
    parity_psnr_db: float | None


@dataclass(frozen=True)
class DemoFacts:
    """What the run was, in words and numbers the report prints."""

    model: str
    model_note: str
    builtin_style: bool
    frames_source: str
    resolution: tuple[int, int]
    python_backend: str
    engine: str
    session_id: str
    wall_s: float
    client_fps: float
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportPaths:
    markdown: Path
    json: Path
    plot: Path


def _summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    summary = summarize_ms(values)
    return {
        "count": summary.count,
        "mean_ms": summary.mean_ms,
        "p50_ms": summary.p50_ms,
        "p90_ms": summary.p90_ms,
        "p99_ms": summary.p99_ms,
        "min_ms": summary.min_ms,
    }


def summarize(rows: Sequence[FrameRow]) -> dict[str, object]:
    """Counts by status and timing distributions, JSON-ready."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    engine = [r.engine_ms for r in rows if r.engine_ms is not None]
    python = [r.python_ms for r in rows if r.python_ms is not None]
    queue = [r.queue_ms for r in rows if r.queue_ms is not None]
    parity = [r.parity_psnr_db for r in rows if r.parity_psnr_db is not None]
    finite_parity = [p for p in parity if math.isfinite(p)]
    methods = sorted({r.engine_timing_method for r in rows if r.engine_timing_method})
    return {
        "frames": len(rows),
        "by_status": counts,
        "engine": _summary(engine),
        "engine_timing_methods": methods,
        "python": _summary(python),
        "queue": _summary(queue),
        "parity": {
            "count": len(parity),
            "identical": len(parity) - len(finite_parity),
            "mean_psnr_db": float(np.mean(finite_parity)) if finite_parity else None,
            "min_psnr_db": float(np.min(finite_parity)) if finite_parity else None,
        },
    }


def plot_timings(rows: Sequence[FrameRow], path: Path, title: str) -> None:
    """Per-frame engine and Python inference times; dropped frames marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seq0 = rows[0].sequence if rows else 0
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    engine = [(r.sequence - seq0, r.engine_ms) for r in rows if r.engine_ms is not None]
    python = [(r.sequence - seq0, r.python_ms) for r in rows if r.python_ms is not None]
    dropped = [r.sequence - seq0 for r in rows if r.status == "dropped"]
    if engine:
        ax.plot(*zip(*engine, strict=True), label="engine (client-reported)", lw=1.2)
    if python:
        ax.plot(*zip(*python, strict=True), label="Python (server)", lw=1.2)
    if dropped:
        ax.scatter(
            dropped, [0] * len(dropped), marker="|", color="red", label="dropped (newest wins)"
        )
    ax.set_xlabel("frame")
    ax.set_ylabel("inference time (ms)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt(summary: dict[str, float], key: str) -> str:
    value = summary.get(key)
    return "–" if value is None else f"{value:.1f}"


def write_report(rows: Sequence[FrameRow], facts: DemoFacts, out_dir: Path) -> ReportPaths:
    """Writes report.md, report.json and timings.png into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(rows)
    paths = ReportPaths(out_dir / "report.md", out_dir / "report.json", out_dir / "timings.png")
    plot_timings(rows, paths.plot, f"{facts.model} at {facts.resolution[0]}x{facts.resolution[1]}")
    payload = {
        "facts": {**facts.__dict__, "resolution": list(facts.resolution)},
        "summary": summary,
    }
    paths.json.write_text(json.dumps(payload, indent=2))

    engine, python, queue = summary["engine"], summary["python"], summary["queue"]
    parity = summary["parity"]
    assert isinstance(engine, dict) and isinstance(python, dict) and isinstance(queue, dict)
    assert isinstance(parity, dict)
    lines = [f"# StyleBridge demo — {facts.model}", ""]
    if facts.builtin_style:
        lines += [
            "> The built-in style: a small model trained by StyleBridge itself to imitate a",
            "> classical filter. Pass `--model ../shared/models/mosaic.onnx` (or any trained",
            "> TransformerNet) to stream your own style.",
            "",
        ]
    lines += [
        f"- Model: `{facts.model}` — {facts.model_note}",
        f"- Frames: {facts.frames_source}, {facts.resolution[0]}x{facts.resolution[1]}",
        f"- Engine (client): {facts.engine}; timing method: "
        f"{', '.join(summary['engine_timing_methods']) or 'none reported'}",  # type: ignore[arg-type]
        f"- Python (server): {facts.python_backend}",
        f"- Session: `{facts.session_id}`; wall time {facts.wall_s:.1f} s; "
        f"client throughput {facts.client_fps:.1f} frames/s",
        *[f"- {k}: {v}" for k, v in facts.extra.items()],
        "",
        "| | frames | mean ms | p50 ms | p90 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, s in (("engine", engine), ("Python", python), ("queue wait", queue)):
        lines.append(
            f"| {label} | {s.get('count', 0)} | {_fmt(s, 'mean_ms')} | {_fmt(s, 'p50_ms')} "
            f"| {_fmt(s, 'p90_ms')} | {_fmt(s, 'p99_ms')} |"
        )
    by_status = summary["by_status"]
    assert isinstance(by_status, dict)
    mean_psnr = parity["mean_psnr_db"]
    lines += [
        "",
        "Frames by status: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())),
        "",
        f"Parity (engine output vs Python output, PSNR): {parity['count']} frames checked"
        + (f", mean {mean_psnr:.1f} dB, worst {parity['min_psnr_db']:.1f} dB" if mean_psnr else "")
        + (f", {parity['identical']} bit-identical" if parity["identical"] else ""),
        "",
        "The reference client runs ONNX Runtime, as the server does, on the same file: this",
        "parity is high by construction and checks the bridge, not an engine. The Unity",
        "package measures the real Barracuda/Sentis parity.",
        "",
        f"![per-frame timings]({paths.plot.name})",
        "",
    ]
    paths.markdown.write_text("\n".join(lines))
    return paths
