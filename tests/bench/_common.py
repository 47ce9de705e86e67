"""Shared helpers for the benchmarks: timing statistics and where results go.

Benchmarks report ratios against a baseline measured in the same run, so the numbers
mean something on any machine; absolute milliseconds are printed for context.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from stylebridge.timing import summarize_ms

OUT_DIR = Path(__file__).resolve().parents[2] / "out" / "bench"


@dataclass(frozen=True)
class Stats:
    """Milliseconds over repeated runs, warm-up excluded."""

    n: int
    median_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Stats:
        """From the project's one timing summary (``stylebridge.timing.summarize_ms``)."""
        summary = summarize_ms(samples_ms)
        return cls(
            n=summary.count,
            median_ms=summary.p50_ms,
            p90_ms=summary.p90_ms,
            mean_ms=summary.mean_ms,
            min_ms=summary.min_ms,
        )


def measure(fn: Callable[[], object], *, warmup: int, repeats: int) -> Stats:
    """Times ``fn`` ``repeats`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return Stats.of(samples)


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }


def write_results(name: str, results: dict[str, object], markdown: str) -> Path:
    """Writes ``out/bench/<name>.json`` and ``.md``; returns the Markdown path."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **results}
    (OUT_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2, default=_jsonable))
    md_path = OUT_DIR / f"{name}.md"
    md_path.write_text(markdown)
    return md_path


def _jsonable(value: object) -> object:
    if isinstance(value, Stats):
        return asdict(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")
