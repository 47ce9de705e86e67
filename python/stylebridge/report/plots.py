"""The report's plots, as matplotlib Figures drawn with the Agg canvas.

No pyplot: each function builds a ``Figure`` on its own ``FigureCanvasAgg``, so
nothing global (the backend, the current figure) changes and figures are not kept
alive by pyplot's registry. Callers save them with ``save_figure`` and may inspect
them (tests read the series back from the axes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stylebridge.catalog import Variant
from stylebridge.report.summary import BarracudaSupport, CatalogSummary, VariantRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PARETO_LABEL = "Pareto front"
# How each Barracuda answer is drawn: marker, colour.
STYLES: dict[BarracudaSupport, tuple[str, str]] = {
    BarracudaSupport.RUNS: ("o", "#2a9d4b"),
    BarracudaSupport.CANNOT_RUN: ("X", "#d62728"),
    BarracudaSupport.UNCHECKED: ("s", "#7f7f7f"),
}
_MB = 1024 * 1024


def _figure(width_in: float, height_in: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def latency_fidelity_figure(summary: CatalogSummary) -> Figure:
    """SSIM to the teacher against median latency; the Pareto front joined.

    One scatter series per Barracuda answer (labelled with ``BarracudaSupport``
    values), one line labelled ``PARETO_LABEL`` through the front, fastest first.
    Variants without latency at the report's key or without fidelity are listed
    under the x axis label instead.
    """
    figure = _figure(8.0, 5.0)
    ax = figure.add_subplot()
    plotted = [row for row in summary.rows if row.plotted]
    for support, (marker, color) in STYLES.items():
        rows = [row for row in plotted if row.barracuda is support]
        if not rows:
            continue
        ax.scatter(
            [_latency_ms(r) for r in rows],
            [_ssim(r) for r in rows],
            marker=marker,
            s=64,
            color=color,
            edgecolors="black",
            linewidths=0.5,
            label=support.value,
            zorder=3,
        )
    for row in plotted:
        ax.annotate(
            f"{row.id} (teacher)" if row.is_teacher else row.id,
            (_latency_ms(row), _ssim(row)),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=8,
        )
    front = sorted((r for r in plotted if r.pareto), key=lambda r: (_latency_ms(r), -_ssim(r)))
    if front:
        ax.plot(
            [_latency_ms(r) for r in front],
            [_ssim(r) for r in front],
            linestyle="--",
            color="#1f4e9c",
            linewidth=1.2,
            marker="o",
            markersize=13,
            markerfacecolor="none",
            label=PARETO_LABEL,
            zorder=2,
        )
    latencies = [_latency_ms(r) for r in plotted]
    if latencies and min(latencies) > 0 and max(latencies) / min(latencies) > 10:
        ax.set_xscale("log")
    key = summary.latency_key
    xlabel = f"median latency, ms ({key.label})" if key else "median latency, ms"
    missing = _missing(summary.rows)
    if missing:
        xlabel += "\nnot plotted: " + "; ".join(missing)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("SSIM to the teacher (mean over frames)")
    ax.set_title("Latency vs fidelity (lower right is worse; the front is the best trade-offs)")
    ax.grid(alpha=0.3)
    if plotted:
        ax.legend(loc="lower right", fontsize=8)
    return figure


def size_figure(summary: CatalogSummary) -> Figure:
    """File size per variant (MiB), bars coloured by the Barracuda answer, ratio noted."""
    rows = summary.rows
    figure = _figure(8.0, max(2.5, 0.45 * len(rows) + 1.2))
    ax = figure.add_subplot()
    labels = [f"{r.id} (teacher)" if r.is_teacher else r.id for r in rows]
    sizes = [r.variant.size_bytes / _MB for r in rows]
    colors = [STYLES[r.barracuda][1] for r in rows]
    bars = ax.barh(range(len(rows)), sizes, color=colors, edgecolor="black", linewidth=0.5)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    for bar, row in zip(bars, rows, strict=True):
        note = f"{row.variant.size_bytes / _MB:.2f} MiB"
        if row.size_ratio is not None and not row.is_teacher:
            note += f" ({row.size_ratio:.2f}x)"
        ax.annotate(
            note,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            textcoords="offset points",
            xytext=(4, 0),
            va="center",
            fontsize=8,
        )
    ax.set_xlabel("file size, MiB (ratio to the teacher)")
    ax.set_title("Size per variant")
    ax.set_xlim(0, max(sizes, default=1.0) * 1.35 or 1.0)
    ax.grid(axis="x", alpha=0.3)
    return figure


def frontier_figure(variants: Sequence[Variant]) -> Figure | None:
    """SSIM against speed-up of every student shape after every budget (None: no search).

    One line per shape through its budgets (marker size grows with the budget); the
    goal region (>= 6x, SSIM >= 0.90) is shaded.
    """
    points = [(v.id, p) for v in variants for p in v.frontier]
    if not points:
        return None
    figure = _figure(8.0, 5.0)
    ax = figure.add_subplot()
    ax.axvspan(6.0, max(6.5, max(p.speedup for _, p in points) * 1.1), ymin=0, ymax=1,
               color="#d9f0d3", alpha=0.5, label="goal: >= 6x")
    ax.axhline(0.90, color="#1b7837", linestyle=":", label="SSIM 0.90")
    for shape in sorted({p.shape for _, p in points}):
        mine = sorted((p for _, p in points if p.shape == shape), key=lambda p: p.rung)
        ax.plot([p.speedup for p in mine], [p.ssim_mean for p in mine], marker="o",
                label=shape)
        for p in mine:
            ax.annotate(f"{p.train_seconds:.0f}s", (p.speedup, p.ssim_mean), fontsize=7,
                        xytext=(4, 2), textcoords="offset points")
    ax.set_xlabel("speed-up over the teacher (same run, ONNX Runtime)")
    ax.set_ylabel("SSIM to the teacher (mean over evaluation frames)")
    ax.set_title("Student frontier after each training budget")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def save_figure(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as PNG to ``path``."""
    figure.savefig(path, format="png")
    return path


def _latency_ms(row: VariantRow) -> float:
    assert row.latency is not None
    return row.latency.median_ms


def _ssim(row: VariantRow) -> float:
    assert row.ssim_mean is not None
    return row.ssim_mean


def _missing(rows: Sequence[VariantRow]) -> list[str]:
    notes = []
    for row in rows:
        if row.plotted:
            continue
        why = []
        if row.latency is None:
            why.append("no latency")
        if row.ssim_mean is None:
            why.append("no fidelity")
        notes.append(f"{row.id} ({', '.join(why)})")
    return notes
