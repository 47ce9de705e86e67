"""The report's text: one table and its notes, rendered as Markdown and as HTML.

Both documents come from the same ``ReportText`` (headline lines, the variant
table, the reasons behind non-running verdicts), so they cannot disagree. The HTML
is self-contained: its images are embedded as base64 PNGs, so it can be mailed or
attached to a CI run; the Markdown links the PNGs next to it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stylebridge.catalog import Manifest, Variant
from stylebridge.engines.findings import Verdict
from stylebridge.report.summary import BarracudaSupport, CatalogSummary, VariantRow

NA = "n/a"
# The fidelity a variant needs to count as a usable replacement in the headline.
USABLE_SSIM = 0.90


@dataclass(frozen=True)
class Figure:
    """An image of the report: title, file (next to the report) and caption."""

    title: str
    path: Path
    caption: str


@dataclass(frozen=True)
class ReportText:
    """What both renderings say."""

    title: str
    facts: tuple[str, ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...]
    figures: tuple[Figure, ...]


def build_text(
    manifest: Manifest, summary: CatalogSummary, catalog: Path, figures: Sequence[Figure]
) -> ReportText:
    """The report's content from the manifest and its summary."""
    engines = sorted({e.engine for v in manifest.variants for e in v.engines})
    key = summary.latency_key
    headers = (
        "variant",
        "recipe",
        "size",
        "params",
        f"FLOPs{f' ({key.width}x{key.height})' if key else ''}",
        "PSNR dB mean / worst",
        "SSIM mean / worst",
        "latency ms median / p90",
        "speed-up",
        "Pareto",
        *engines,
    )
    rows = tuple(
        _row(r, engines, key.width if key else None, key.height if key else None)
        for r in summary.rows
    )
    facts = [
        f"Catalog: `{catalog}` ({len(manifest.variants)} variants, from "
        f"`{manifest.source or 'unknown source'}`)",
        f"Teacher: `{summary.teacher}`" if summary.teacher else "Teacher: none named",
        f"Latency compared at: {key.label}" if key else "Latency: no variant was timed",
    ]
    facts.extend(_highlights(summary))
    notes = [
        _verdict_note(v, e.engine, e.verdict, e.reason, e.fix)
        for v in (r.variant for r in summary.rows)
        for e in v.engines
        if e.verdict != Verdict.RUNS.value
    ]
    missing = [r.id for r in summary.rows if r.variant.fidelity is None and not r.is_teacher]
    if missing:
        notes.append(f"No fidelity measured (shown as {NA}): {', '.join(missing)}.")
    return ReportText(
        title=f"StyleBridge optimization report: {catalog.name or catalog}",
        facts=tuple(facts),
        headers=headers,
        rows=rows,
        notes=tuple(notes),
        figures=tuple(figures),
    )


def render_markdown(text: ReportText) -> str:
    """GitHub-flavoured Markdown; images linked by file name (they sit next to it)."""
    lines = [f"# {text.title}", ""]
    lines += [f"- {fact}" for fact in text.facts]
    lines += ["", "## Variants", ""]
    lines.append("| " + " | ".join(text.headers) + " |")
    lines.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(text.headers))) + "|")
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in text.rows
    ]
    if text.notes:
        lines += ["", "## Why not everywhere", ""]
        lines += [f"- {note}" for note in text.notes]
    for figure in text.figures:
        lines += [
            "",
            f"## {figure.title}",
            "",
            f"![{figure.title}]({figure.path.name})",
            "",
            figure.caption,
        ]
    lines.append("")
    return "\n".join(lines)


def render_html(text: ReportText) -> str:
    """One self-contained HTML page (images embedded as base64 PNG)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(text.title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
        "table{border-collapse:collapse;font-size:13px}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "th:nth-child(-n+2),td:nth-child(-n+2){text-align:left}"
        "tr:nth-child(even){background:#f6f6f6}img{max-width:100%}"
        "code{background:#f0f0f0;padding:0 3px}</style>",
        "</head><body>",
        f"<h1>{esc(text.title)}</h1>",
        "<ul>" + "".join(f"<li>{_inline_code(fact)}</li>" for fact in text.facts) + "</ul>",
        "<h2>Variants</h2>",
        "<table><thead><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in text.headers)
        + "</tr></thead><tbody>",
    ]
    parts += [
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in text.rows
    ]
    parts.append("</tbody></table>")
    if text.notes:
        parts.append("<h2>Why not everywhere</h2><ul>")
        parts += [f"<li>{_inline_code(note)}</li>" for note in text.notes]
        parts.append("</ul>")
    for figure in text.figures:
        data = base64.b64encode(figure.path.read_bytes()).decode("ascii")
        parts += [
            f"<h2>{esc(figure.title)}</h2>",
            f'<img alt="{esc(figure.title)}" src="data:image/png;base64,{data}">',
            f"<p>{esc(figure.caption)}</p>",
        ]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def recipe_label(variant: Variant) -> str:
    """``kind`` plus its parameters, e.g. ``distill (blocks=1, widths=8/16/32)``."""
    params = variant.recipe.params
    if not params:
        return variant.recipe.kind.value
    shown = ", ".join(
        f"{k}={'/'.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in sorted(params.items())
    )
    return f"{variant.recipe.kind.value} ({shown})"


def _row(
    row: VariantRow, engines: Sequence[str], width: int | None, height: int | None
) -> tuple[str, ...]:
    v = row.variant
    fid = v.fidelity
    size = _size(v.size_bytes)
    if row.size_ratio is not None and not row.is_teacher:
        size += f" ({row.size_ratio:.2f}x)"
    params = f"{v.params:,}"
    if v.nonzero_params != v.params:
        params += f" ({v.nonzero_params / v.params:.0%} non-zero)" if v.params else ""
    verdicts = {e.engine: e.verdict for e in v.engines}
    return (
        f"{v.id} (teacher)" if row.is_teacher else v.id,
        recipe_label(v),
        size,
        params,
        _flops(v, width, height),
        f"{fid.psnr_mean_db:.2f} / {fid.psnr_min_db:.2f}" if fid else _na(row),
        f"{fid.ssim_mean:.4f} / {fid.ssim_min:.4f}" if fid else _na(row),
        f"{row.latency.median_ms:.1f} / {row.latency.p90_ms:.1f}" if row.latency else NA,
        (row.speedup_text() or NA) if not row.is_teacher else "1.00x",
        "yes" if row.pareto else "",
        *(verdicts.get(engine, NA) for engine in engines),
    )


def _na(row: VariantRow) -> str:
    """What a missing fidelity reads as: the teacher is the reference, others lack it."""
    return "reference" if row.is_teacher else NA


def _flops(variant: Variant, width: int | None, height: int | None) -> str:
    flops = variant.flops
    if not flops:
        return NA
    key = f"{width}x{height}"
    if key in flops:
        return f"{flops[key] / 1e9:.2f} G"
    first = sorted(flops)[0]
    return f"{flops[first] / 1e9:.2f} G at {first}"


def _size(size_bytes: int) -> str:
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / (1024 * 1024):.2f} MiB"
    return f"{size_bytes / 1024:.1f} KiB"


def _highlights(summary: CatalogSummary) -> list[str]:
    lines = []
    key = summary.latency_key
    if key is not None:
        interleaved = any(r.latency is not None and r.latency.interleaved for r in summary.rows)
        lines.append(
            f"Latency was timed with {key.backend} only, at {key.width}x{key.height}"
            + (", all variants interleaved in one run; a speed-up is claimed only when its "
               "bootstrap interval lies above 1" if interleaved else
               "; the variants were not timed together, so no speed-up is claimed")
        )
    usable = [
        r
        for r in summary.rows
        if not r.is_teacher
        and r.measurably_faster
        and r.ssim_mean is not None
        and r.ssim_mean >= USABLE_SSIM
        and r.barracuda is BarracudaSupport.RUNS
    ]
    if usable:
        best = max(usable, key=lambda r: r.speedup or 0.0)
        lines.append(
            f"Fastest variant that runs in Barracuda with SSIM >= {USABLE_SSIM:.2f}: "
            f"`{best.id}`, {best.speedup_text()} the teacher's speed "
            f"(SSIM {best.ssim_mean:.3f})"
        )
    else:
        lines.append(
            f"No variant that runs in Barracuda with SSIM >= {USABLE_SSIM:.2f} is measurably "
            "faster than the teacher"
        )
    if summary.pareto_ids:
        lines.append(
            "Pareto front (fastest first): " + ", ".join(f"`{i}`" for i in summary.pareto_ids)
        )
    return lines


def _verdict_note(variant: Variant, engine: str, verdict: str, reason: str, fix: str) -> str:
    note = f"`{variant.id}` on {engine}: {verdict}"
    if reason:
        note += f": {reason.rstrip('.')}."
    if fix:
        note += f" Fix: {fix.rstrip('.')}."
    return note


def _inline_code(text: str) -> str:
    """Escape ``text`` and turn Markdown backtick spans into <code>."""
    pieces = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
