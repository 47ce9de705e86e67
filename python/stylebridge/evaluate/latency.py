"""Latency of a model per backend and resolution: median and p90 after warm-up.

Runs the real ``stylebridge.inference`` backends on a real frame resized to each
resolution, so the numbers include what a client pays in Python (uint8 conversion in
the graph, padding to a multiple of 4). Warm-up runs (session allocation, first-touch
memory) are excluded.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylebridge.catalog import Latency
from stylebridge.errors import InvalidInputError
from stylebridge.frames import resize
from stylebridge.inference.base import BackendKind


@dataclass(frozen=True)
class LatencySpec:
    """How to time: resolutions (width, height), timed runs and warm-up runs each."""

    resolutions: tuple[tuple[int, int], ...] = ((640, 360),)
    runs: int = 5
    warmup: int = 1
    backends: tuple[BackendKind, ...] = (BackendKind.ONNXRUNTIME,)

    def __post_init__(self) -> None:
        if self.runs < 1 or self.warmup < 0:
            raise InvalidInputError("latency needs runs >= 1 and warmup >= 0")


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100.0 * (len(ordered) - 1)))]


def measure_latency(model_path: Path, frame: np.ndarray, spec: LatencySpec) -> list[Latency]:
    """One ``Latency`` per backend and resolution for ``model_path`` on ``frame``.

    A backend that cannot run this file (torch for an ONNX file) is skipped.
    """
    from stylebridge.inference.factory import create_backend

    results: list[Latency] = []
    suffix = Path(model_path).suffix.lower()
    for kind in spec.backends:
        if kind is BackendKind.TORCH and suffix == ".onnx":
            continue
        backend = create_backend(Path(model_path), kind)
        try:
            for width, height in spec.resolutions:
                image = resize(frame, (width, height))
                for _ in range(spec.warmup):
                    backend.run(image)
                samples = []
                for _ in range(spec.runs):
                    start = time.perf_counter()
                    backend.run(image)
                    samples.append((time.perf_counter() - start) * 1000.0)
                results.append(Latency(backend=backend.name, width=width, height=height,
                                       median_ms=statistics.median(samples),
                                       p90_ms=percentile(samples, 90), runs=spec.runs,
                                       warmup=spec.warmup))
        finally:
            backend.close()
    return results
