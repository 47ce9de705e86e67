"""A run written four ways: JSON (machines, baselines), JUnit XML (CI), Markdown (people), a plot.

JUnit: one ``<testcase>`` per model x resolution; a regression is a ``<failure>``
naming the change, a case that was not measured (player error) an ``<error>``.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from stylebridge.atomic import write_bytes_atomically
from stylebridge.harness.gate import regression_message
from stylebridge.harness.results import CaseResult, CaseStatus, RunResult, run_to_dict

JSON_NAME = "perf.json"
JUNIT_NAME = "perf-junit.xml"
MARKDOWN_NAME = "perf.md"
PLOT_NAME = "perf.png"


@dataclass(frozen=True)
class OutputPaths:
    json: Path
    junit: Path
    markdown: Path
    plot: Path


def _write_atomically(path: Path, data: bytes) -> None:
    write_bytes_atomically(path, data)


def write_json(run: RunResult, path: Path) -> Path:
    _write_atomically(path, json.dumps(run_to_dict(run), indent=2).encode())
    return path


def _summary(case: CaseResult) -> str:
    stats = case.engine_stats
    lines = [
        case.engine if case.engine.startswith("engine:") else f"engine: {case.engine}",
        f"worker: {case.worker_type}; timing: {case.timing_method}",
        f"engine ms: median {stats.median_ms:.3f} p90 {stats.p90_ms:.3f} "
        f"p99 {stats.p99_ms:.3f} min {stats.min_ms:.3f} (n={stats.count})",
    ]
    if case.python_ms:
        py = case.python_stats
        lines.append(f"python ms ({case.python_backend}): median {py.median_ms:.3f} (n={py.count})")
    if case.parity_psnr_db is not None:
        lines.append(f"parity PSNR: {case.parity_psnr_db:.2f} dB")
    if case.gate is not None:
        lines.append(
            f"vs {case.gate.baseline}: {case.gate.change_percent:+.1f} % "
            f"(p={case.gate.p_value:.2g})"
        )
    return "\n".join(lines)


def write_junit(run: RunResult, path: Path) -> Path:
    failures = sum(c.status is CaseStatus.REGRESSED for c in run.cases)
    errors = sum(c.status is CaseStatus.ERROR for c in run.cases)
    seconds = ((run.finished_at_us or run.started_at_us) - run.started_at_us) / 1e6
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"stylebridge.perf.{run.label}",
        tests=str(len(run.cases)),
        failures=str(failures),
        errors=str(errors),
        time=f"{seconds:.3f}",
    )
    for case in run.cases:
        total_ms = sum(case.engine_ms) + sum(case.python_ms)
        element = ET.SubElement(
            suite,
            "testcase",
            classname=f"perf.{case.model_id}",
            name=case.name,
            time=f"{total_ms / 1000.0:.3f}",
        )
        if case.status is CaseStatus.REGRESSED:
            message = regression_message(case)
            ET.SubElement(element, "failure", message=message, type="regression").text = message
        elif case.status is CaseStatus.ERROR:
            ET.SubElement(
                element, "error", message=case.error or "not measured", type="player"
            ).text = case.error
        ET.SubElement(element, "system-out").text = _summary(case)
    ET.indent(suites)
    _write_atomically(path, ET.tostring(suites, encoding="utf-8", xml_declaration=True))
    return path


def _ms(value: float) -> str:
    return f"{value:.2f}" if value > 0 else "–"


def _psnr(value: float | None) -> str:
    if value is None:
        return "–"
    return "identical" if math.isinf(value) else f"{value:.1f} dB"


def _gate(case: CaseResult) -> str:
    if case.status is CaseStatus.ERROR:
        return "error"
    if case.gate is None:
        return "no baseline"
    verdict = "**REGRESSED**" if case.status is CaseStatus.REGRESSED else "ok"
    return f"{verdict} {case.gate.change_percent:+.1f} %"


def markdown_table(run: RunResult) -> str:
    """The report as Markdown: a header line and one table row per case."""
    engine = run.engine or "(no player info)"
    lines = [
        f"### perf-test `{run.label}` — {engine}",
        "",
        "| model | resolution | engine median ms | p90 | p99 | min | engine fps | timing "
        "| Python median ms | engine / Python | parity | memory | gate |",
        "|---|---|--:|--:|--:|--:|--:|---|--:|--:|---|--:|---|",
    ]
    for case in run.cases:
        eng, py = case.engine_stats, case.python_stats
        ratio = f"{eng.median_ms / py.median_ms:.2f}×" if eng.median_ms and py.median_ms else "–"
        memory = f"{case.memory_bytes / 2**20:.0f} MiB" if case.memory_bytes else "–"
        lines.append(
            f"| {case.model_id} | {case.width}×{case.height} | {_ms(eng.median_ms)} "
            f"| {_ms(eng.p90_ms)} | {_ms(eng.p99_ms)} | {_ms(eng.min_ms)} "
            f"| {eng.fps:.1f} | {case.timing_method or '–'} | {_ms(py.median_ms)} | {ratio} "
            f"| {_psnr(case.parity_psnr_db)} | {memory} | {_gate(case)} |"
        )
    measured = next((c for c in run.cases if c.engine_ms), None)
    if measured is not None:
        lines.append("")
        lines.append(
            f"{measured.engine_stats.count} measured frames per case; Python: "
            f"{measured.python_backend or 'not timed'}; worker: {measured.worker_type or '–'}."
        )
    if run.error:
        lines += ["", f"**Run error:** {run.error.splitlines()[0]}"]
    return "\n".join(lines) + "\n"


def write_markdown(run: RunResult, path: Path) -> Path:
    _write_atomically(path, markdown_table(run).encode())
    return path


def write_plot(run: RunResult, path: Path) -> Path:
    """Grouped bars: engine vs Python median per model and resolution (p90 as whiskers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cases = list(run.cases)
    x = np.arange(len(cases))
    engine = [c.engine_stats.median_ms for c in cases]
    python = [c.python_stats.median_ms for c in cases]
    engine_err = [max(c.engine_stats.p90_ms - c.engine_stats.median_ms, 0.0) for c in cases]
    python_err = [max(c.python_stats.p90_ms - c.python_stats.median_ms, 0.0) for c in cases]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(cases) + 2.0), 4.5))
    try:
        width = 0.38
        ax.bar(
            x - width / 2,
            engine,
            width,
            yerr=[[0] * len(cases), engine_err],
            label=run.engine or "engine",
            color="#4C72B0",
        )
        ax.bar(
            x + width / 2,
            python,
            width,
            yerr=[[0] * len(cases), python_err],
            label=f"Python ({next((c.python_backend for c in cases if c.python_backend), '-')})",
            color="#DD8452",
        )
        for index, case in enumerate(cases):
            if case.status is not CaseStatus.OK:
                ax.annotate(
                    case.status.value,
                    (index, 0),
                    ha="center",
                    va="bottom",
                    color="#C44E52",
                    fontsize=8,
                    rotation=90,
                )
        ax.set_xticks(x, [f"{c.model_id}\n{c.width}×{c.height}" for c in cases], fontsize=8)
        ax.set_ylabel("median ms per frame (whisker: p90)")
        ax.set_title(f"perf-test {run.label}: engine vs Python")
        ax.legend(fontsize=8)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def write_all(run: RunResult, out: Path) -> OutputPaths:
    """All four outputs under ``out`` (created), with fixed names."""
    out = Path(out)
    return OutputPaths(
        json=write_json(run, out / JSON_NAME),
        junit=write_junit(run, out / JUNIT_NAME),
        markdown=write_markdown(run, out / MARKDOWN_NAME),
        plot=write_plot(run, out / PLOT_NAME),
    )
