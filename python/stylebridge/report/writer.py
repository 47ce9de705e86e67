"""``write_report``: a catalog folder in, Markdown + HTML + JSON + plots out.

Reads only the manifest and the variants' ONNX files (for the contact sheet); it
measures nothing else, so a report always shows what ``stylebridge optimize``
recorded. The JSON carries the manifest unchanged plus what the report derived.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from stylebridge.catalog import Manifest, load_manifest, manifest_path
from stylebridge.errors import NotFoundError
from stylebridge.report.contact_sheet import make_contact_sheet, save_png, sheet_frames
from stylebridge.report.plots import latency_fidelity_figure, save_figure, size_figure
from stylebridge.report.render import Figure, build_text, render_html, render_markdown
from stylebridge.report.summary import CatalogSummary, summarize

REPORT_DIR = "report"
REPORT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ReportOptions:
    """Where latency is compared (None: chosen, see ``choose_latency_key``) and the sheet."""

    latency_backend: str | None = None
    latency_size: tuple[int, int] | None = None
    sheet_size: tuple[int, int] = (160, 96)
    sheet_frames: int = 4


@dataclass(frozen=True)
class ReportFiles:
    """The files one report wrote (all inside ``folder``)."""

    folder: Path
    markdown: Path
    html: Path
    json: Path
    latency_plot: Path
    size_plot: Path
    contact_sheet: Path


def default_report_dir(catalog: Path) -> Path:
    return Path(catalog) / REPORT_DIR


def write_report(
    catalog: Path,
    out: Path | None = None,
    frames: Path | None = None,
    options: ReportOptions | None = None,
) -> ReportFiles:
    """Render the report of ``catalog`` into ``out`` (default ``CATALOG/report``).

    ``frames``: a folder of images for the contact sheet (default: the frames optimize
    was given, recorded in the manifest; built-in frames only for a catalog that has none).
    Raises NotFoundError when the catalog has no manifest, InvalidInputError for a
    malformed one or a latency key no variant was measured at.
    """
    catalog = Path(catalog)
    options = options or ReportOptions()
    if not manifest_path(catalog).is_file():
        raise NotFoundError(
            f"{catalog} has no manifest.json; make a catalog first with "
            "`stylebridge optimize MODEL --out CATALOG`"
        )
    manifest = load_manifest(catalog)
    out = Path(out) if out is not None else default_report_dir(catalog)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(manifest, options.latency_backend, options.latency_size)
    files = ReportFiles(
        folder=out,
        markdown=out / "report.md",
        html=out / "report.html",
        json=out / "report.json",
        latency_plot=out / "latency_vs_fidelity.png",
        size_plot=out / "size.png",
        contact_sheet=out / "contact_sheet.png",
    )
    save_figure(latency_fidelity_figure(summary), files.latency_plot)
    save_figure(size_figure(summary), files.size_plot)
    frames = frames if frames is not None else _optimize_frames(manifest.frames)
    shown = sheet_frames(frames, options.sheet_size, options.sheet_frames)
    variants = [r.variant for r in summary.rows]
    sheet = make_contact_sheet(catalog, variants, shown, teacher=summary.teacher)
    save_png(sheet.image, files.contact_sheet)
    width, height = options.sheet_size
    failed = "; ".join(f"{vid}: {why}" for vid, why in sheet.failures)
    figures = [
        Figure(
            "Latency vs fidelity",
            files.latency_plot,
            "Each point is a variant; the dashed line joins the Pareto front (no other "
            "variant is both faster and closer to the teacher).",
        ),
        Figure("Size per variant", files.size_plot, "File size of each ONNX variant."),
        Figure(
            "Contact sheet",
            files.contact_sheet,
            f"Each variant's output on the same {sheet.frames} frames at {width}x{height} "
            f"(ONNX Runtime), from {frames if frames is not None else 'the built-in frames'}; "
            "first row is the input." + (f" Failed: {failed}." if failed else ""),
        ),
    ]
    text = build_text(manifest, summary, catalog, figures)
    files.markdown.write_text(render_markdown(text), encoding="utf-8")
    files.html.write_text(render_html(text), encoding="utf-8")
    payload = report_json(manifest, summary, files, sheet_failures=sheet.failures)
    files.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return files


def report_json(
    manifest: Manifest,
    summary: CatalogSummary,
    files: ReportFiles,
    *,
    sheet_failures: tuple[tuple[str, str], ...] = (),
) -> dict[str, object]:
    """The manifest as saved, plus per variant: Pareto flag, speed-up, size ratio."""
    key = summary.latency_key
    derived = [
        {
            "id": row.id,
            "is_teacher": row.is_teacher,
            "pareto": row.pareto,
            "speedup_vs_teacher": row.speedup,
            "speedup_interval": (
                row.speedup_interval.model_dump() if row.speedup_interval is not None else None
            ),
            "measurably_faster": row.measurably_faster,
            "size_ratio": row.size_ratio,
            "latency_median_ms": row.latency.median_ms if row.latency else None,
            "latency_p90_ms": row.latency.p90_ms if row.latency else None,
            "ssim_mean": row.ssim_mean,
            "barracuda": row.barracuda.name.lower(),
        }
        for row in summary.rows
    ]
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_at": time.time(),
        "teacher": summary.teacher,
        "latency_key": (
            {"backend": key.backend, "width": key.width, "height": key.height} if key else None
        ),
        "pareto_front": list(summary.pareto_ids),
        "variants": derived,
        "contact_sheet_failures": [{"id": i, "error": e} for i, e in sheet_failures],
        "files": {
            name: getattr(files, name).name
            for name in ("markdown", "html", "latency_plot", "size_plot", "contact_sheet")
        },
        "manifest": manifest.model_dump(mode="json"),
    }


def report_link(catalog: Path, relative_to: Path | None = None) -> str:
    """A Markdown line linking a catalog's report, for the demo report.

    The link is relative to ``relative_to`` (the folder of the document that shows
    it) when given; when the report has not been written yet, the line says how to.
    """
    markdown = default_report_dir(catalog) / "report.md"
    if not markdown.is_file():
        return (
            f"Optimization report: not written yet for `{catalog}`; "
            f"run `stylebridge report {catalog}`."
        )
    target = markdown.resolve()
    shown = os.path.relpath(target, Path(relative_to).resolve()) if relative_to else str(target)
    return f"Optimization report: [{Path(catalog).name or catalog}]({Path(shown).as_posix()})"


def _optimize_frames(recorded: str) -> Path | None:
    """The frames folder the manifest records; NotFoundError when it is gone."""
    if not recorded:
        return None
    folder = Path(recorded)
    if not folder.is_dir():
        raise NotFoundError(
            f"the frames this catalog was optimized on ({folder}) are gone; pass the "
            "contact sheet's frames with --frames DIR"
        )
    return folder
