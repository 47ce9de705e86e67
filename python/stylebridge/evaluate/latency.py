"""Latency of catalog variants in ONNX Runtime: median and p90 after warm-up, interleaved.

Runs the real ``stylebridge.inference`` backends on a real frame resized to each
resolution, so the numbers include what a client pays in Python (uint8 conversion in
the graph, padding to a multiple of 4). Warm-up runs (session allocation, first-touch
memory) are excluded.

``measure_interleaved`` times several models round-robin (one run of each in turn,
the order rotated every round), so drift on a shared machine (other processes, clock
changes, thermal state) lands on all of them alike, and speed-ups between them are
given with a bootstrap interval (``speedups``) instead of a single ratio.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylebridge.catalog import Latency, SpeedUp
from stylebridge.errors import InvalidInputError
from stylebridge.frames import resize
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.timing import median_ratio_ci, summarize_ms


@dataclass(frozen=True)
class LatencySpec:
    """How to time: resolutions (width, height), timed runs and warm-up runs each."""

    resolutions: tuple[tuple[int, int], ...] = ((640, 360),)
    runs: int = 5
    warmup: int = 1

    def __post_init__(self) -> None:
        if self.runs < 1 or self.warmup < 0:
            raise InvalidInputError("latency needs runs >= 1 and warmup >= 0")


@dataclass(frozen=True)
class InterleavedTiming:
    """Samples (ms) per model id, per resolution, of one interleaved run on one backend."""

    backend: str
    samples: dict[tuple[int, int], dict[str, tuple[float, ...]]]
    warmup: int

    def latency(self, model_id: str) -> list[Latency]:
        """The ``Latency`` records of one model, one per resolution."""
        out = []
        for (width, height), by_model in self.samples.items():
            summary = summarize_ms(by_model[model_id])
            out.append(Latency(backend=self.backend, width=width, height=height,
                               median_ms=summary.p50_ms, p90_ms=summary.p90_ms,
                               runs=summary.count, warmup=self.warmup, interleaved=True))
        return out


def measure_interleaved(models: Mapping[str, Path], frame: np.ndarray,
                        spec: LatencySpec) -> InterleavedTiming:
    """Time every model of ``models`` (id -> ONNX file) round-robin in ONNX Runtime.

    Per resolution: ``spec.warmup`` runs of each, then ``spec.runs`` rounds of one run
    each, the order rotated by one model per round. Only ONNX Runtime is timed: it is
    what the server runs (the report says so).
    """
    from stylebridge.inference.factory import create_backend

    if not models:
        raise InvalidInputError("measure_interleaved needs at least one model")
    backends: dict[str, InferenceBackend] = {}
    try:
        for model_id, path in models.items():
            backends[model_id] = create_backend(Path(path), BackendKind.ONNXRUNTIME)
        ids = list(backends)
        samples: dict[tuple[int, int], dict[str, tuple[float, ...]]] = {}
        for width, height in spec.resolutions:
            image = resize(frame, (width, height))
            for model_id in ids:
                for _ in range(spec.warmup):
                    backends[model_id].run(image)
            timed: dict[str, list[float]] = {model_id: [] for model_id in ids}
            for round_index in range(spec.runs):
                shift = round_index % len(ids)
                for model_id in ids[shift:] + ids[:shift]:
                    start = time.perf_counter()
                    backends[model_id].run(image)
                    timed[model_id].append((time.perf_counter() - start) * 1000.0)
            samples[(width, height)] = {k: tuple(v) for k, v in timed.items()}
        name = next(iter(backends.values())).name
    finally:
        for backend in backends.values():
            backend.close()
    return InterleavedTiming(backend=name, samples=samples, warmup=spec.warmup)


def speedups(timing: InterleavedTiming, teacher: str, *,
             confidence: float = 0.95) -> dict[str, SpeedUp]:
    """Each other model against ``teacher`` at the first resolution: the ratio of medians
    (teacher / model, above 1 = faster) and its bootstrap interval."""
    (width, height), by_model = next(iter(timing.samples.items()))
    base = by_model[teacher]
    found: dict[str, SpeedUp] = {}
    for model_id, mine in by_model.items():
        if model_id == teacher:
            continue
        low, high = median_ratio_ci(base, mine, confidence=confidence)
        ratio = summarize_ms(base).p50_ms / max(summarize_ms(mine).p50_ms, 1e-12)
        found[model_id] = SpeedUp(backend=timing.backend, width=width, height=height,
                                  ratio=ratio, low=low, high=high, confidence=confidence,
                                  runs=len(mine))
    return found
