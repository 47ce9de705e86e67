"""Show a CheckReport: a rich table grouped so a 70-node model reads in a screen, or JSON.

Grouping: one row per distinct (op_type, verdict, reason) with the node count and an
example node name; ``all_nodes`` lists every node instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from stylebridge.engines.checker import CheckReport, NodeVerdict
from stylebridge.engines.findings import Verdict

_STYLE = {
    Verdict.RUNS: "green",
    Verdict.RUNS_WITH_DIFFERENCE: "yellow",
    Verdict.CANNOT_RUN: "bold red",
}
_WORDS = {
    Verdict.RUNS: "runs",
    Verdict.RUNS_WITH_DIFFERENCE: "runs, differs",
    Verdict.CANNOT_RUN: "cannot run",
}


@dataclass(frozen=True)
class SummaryRow:
    """Nodes that share an operator, a verdict and a reason."""

    op_type: str
    verdict: Verdict
    reason: str
    fix: str
    count: int
    first_node: str


def summary_rows(verdicts: Sequence[NodeVerdict]) -> list[SummaryRow]:
    """Group node verdicts, worst first, then by operator in order of appearance."""
    groups: dict[tuple[str, Verdict, str], list[NodeVerdict]] = {}
    for verdict in verdicts:
        groups.setdefault((verdict.op_type, verdict.verdict, verdict.reason), []).append(verdict)
    rows = [SummaryRow(op, v, reason, members[0].fix, len(members), members[0].node_name)
            for (op, v, reason), members in groups.items()]
    return sorted(rows, key=lambda r: -r.verdict.severity)  # stable: keeps graph order


def report_json(report: CheckReport) -> str:
    """The report as indented JSON for tools."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)


def report_renderable(report: CheckReport, all_nodes: bool = False) -> Group:
    """Header, model findings, node table and engine notes as one rich renderable."""
    verdict = report.verdict
    counts = ", ".join(f"{n} {_WORDS[v]}" for v, n in report.counts.items() if n)
    header = Text.assemble(
        (f"{report.engine_label} ({report.engine.value})", "bold"),
        f" · opset {report.opset if report.opset is not None else '?'} · ",
        (_WORDS[verdict].upper(), _STYLE[verdict]),
        f" · {len(report.verdicts)} nodes: {counts or 'none'}",
    )
    parts: list[object] = [header]
    if report.findings:
        findings = Table(title="Model", show_lines=False, expand=True)
        findings.add_column("verdict", no_wrap=True)
        findings.add_column("finding", ratio=3)
        findings.add_column("fix", ratio=2)
        for f in report.findings:
            findings.add_row(Text(_WORDS[f.verdict], _STYLE[f.verdict]), f.reason, f.fix)
        parts.append(findings)
    parts.append(_node_table(report, all_nodes))
    if report.engine_notes:
        parts.append(Panel("\n".join(report.engine_notes), title="Engine notes",
                           border_style="dim"))
    return Group(*parts)  # type: ignore[arg-type]


def print_report(report: CheckReport, console: Console, all_nodes: bool = False) -> None:
    console.print(report_renderable(report, all_nodes))


def _node_table(report: CheckReport, all_nodes: bool) -> Table:
    table = Table(title="Nodes" if all_nodes else "Operators", expand=True)
    if all_nodes:
        table.add_column("node", no_wrap=True)
        table.add_column("op", no_wrap=True)
    else:
        table.add_column("op", no_wrap=True)
        table.add_column("nodes", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("reason", ratio=3)
    table.add_column("fix", ratio=2)
    if all_nodes:
        for v in report.verdicts:
            table.add_row(v.node_name, v.op_type, Text(_WORDS[v.verdict], _STYLE[v.verdict]),
                          v.reason, v.fix)
    else:
        for row in summary_rows(report.verdicts):
            table.add_row(row.op_type, str(row.count),
                          Text(_WORDS[row.verdict], _STYLE[row.verdict]), row.reason, row.fix)
    return table
