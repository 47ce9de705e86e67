"""The catalog report: what each variant costs, gains, and where it runs.

``write_report(catalog)`` renders ``CATALOG/report/`` (Markdown, self-contained
HTML, JSON, and the latency-vs-fidelity, size and contact-sheet images) from the
manifest that ``stylebridge optimize`` wrote. Modules: ``summary`` (derived numbers,
Pareto front), ``plots`` (matplotlib figures), ``contact_sheet`` (every variant on
the same frames), ``render`` (Markdown/HTML), ``writer`` (the files).
"""

from stylebridge.report.summary import (
    BarracudaSupport,
    CatalogSummary,
    LatencyKey,
    VariantRow,
    choose_latency_key,
    pareto_front,
    summarize,
)
from stylebridge.report.writer import (
    ReportFiles,
    ReportOptions,
    default_report_dir,
    report_link,
    write_report,
)

__all__ = [
    "BarracudaSupport",
    "CatalogSummary",
    "LatencyKey",
    "ReportFiles",
    "ReportOptions",
    "VariantRow",
    "choose_latency_key",
    "default_report_dir",
    "pareto_front",
    "report_link",
    "summarize",
    "write_report",
]
