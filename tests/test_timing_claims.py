"""Honest speed numbers: one timing summary, interleaved timing, and claims only an
interval supports (issue 13, "The headline speed-up was noise").

The statistics are checked on fixed samples (deterministic; no speed is asserted in a
unit test), the interleaving on real ONNX Runtime sessions of two tiny models, and the
report's wording on a manifest whose numbers are given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from corpus_models import plain

from stylebridge.catalog import (
    EngineVerdict,
    Fidelity,
    Latency,
    Manifest,
    Recipe,
    RecipeKind,
    SpeedUp,
    Variant,
)
from stylebridge.evaluate.latency import (
    InterleavedTiming,
    LatencySpec,
    measure_interleaved,
    speedups,
)
from stylebridge.report.render import _highlights
from stylebridge.report.summary import summarize
from stylebridge.timing import TimingWindow, median_ratio_ci, summarize_ms


def test_one_summary_for_every_timing() -> None:
    samples = [5.0, 1.0, 3.0, 2.0, 4.0, 10.0]
    summary = summarize_ms(samples)
    p50, p90, p99 = np.percentile(samples, [50, 90, 99])
    assert (summary.p50_ms, summary.p90_ms, summary.p99_ms) == (p50, p90, p99)
    assert summary.min_ms == 1.0 and summary.last_ms == 10.0 and summary.count == 6
    window = TimingWindow(maxlen=4)
    for value in samples:
        window.add(value)
    assert window.summary().p50_ms == summarize_ms(samples[-4:]).p50_ms
    assert window.summary().total_count == 6
    assert summarize_ms([]).count == 0


def _timing(teacher: list[float], variant: list[float]) -> InterleavedTiming:
    return InterleavedTiming(backend="onnxruntime/CPUExecutionProvider",
                             samples={(160, 90): {"t": tuple(teacher), "v": tuple(variant)}},
                             warmup=1)


def test_speedup_interval_decides_the_claim() -> None:
    rng = np.random.default_rng(1)
    teacher = list(10.0 + rng.normal(0, 0.3, 20))
    faster = list(5.0 + rng.normal(0, 0.2, 20))
    same = list(10.0 + rng.normal(0, 0.3, 20))
    up = speedups(_timing(teacher, faster), "t")["v"]
    assert up.verdict == "faster" and up.low > 1.8 and "x (" in up.describe()
    noise = speedups(_timing(teacher, same), "t")["v"]
    assert noise.verdict == "no measurable difference"
    assert noise.low < 1.0 < noise.high
    assert noise.describe().startswith("no measurable difference")
    # The interval is a bootstrap of medians: reproducible with its seed.
    assert median_ratio_ci(teacher, same) == median_ratio_ci(teacher, same)


def test_measure_interleaved_times_every_model_each_round(tmp_path: Path) -> None:
    paths = {}
    for name in ("a", "b"):
        paths[name] = tmp_path / f"{name}.onnx"
        onnx.save(plain(), str(paths[name]))
    frame = np.full((90, 160, 3), 128, np.uint8)
    timing = measure_interleaved(paths, frame, LatencySpec(resolutions=((64, 36), (32, 20)),
                                                           runs=4, warmup=1))
    assert set(timing.samples) == {(64, 36), (32, 20)}
    for by_model in timing.samples.values():
        assert {k: len(v) for k, v in by_model.items()} == {"a": 4, "b": 4}
    (first, second) = timing.latency("a")
    assert first.interleaved and first.runs == 4 and (second.width, second.height) == (32, 20)
    assert set(speedups(timing, "a")) == {"b"}


def _variant(vid: str, kind: RecipeKind, median: float, speedup: SpeedUp | None) -> Variant:
    return Variant(
        id=vid, parent=None if kind is RecipeKind.TEACHER else "t",
        recipe=Recipe(kind=kind), recipe_key=vid, file=f"{vid}.onnx", sha256="0" * 64,
        size_bytes=1000, params=10, nonzero_params=10,
        fidelity=Fidelity(psnr_mean_db=40, psnr_min_db=40, ssim_mean=0.99, ssim_min=0.99,
                          frames=2, width=160, height=90),
        latency=(Latency(backend="ort", width=160, height=90, median_ms=median, p90_ms=median,
                         runs=20, warmup=1, interleaved=True),),
        engines=tuple(EngineVerdict(engine=e, verdict="runs")
                      for e in ("barracuda-2", "barracuda-3")),
        speedup=speedup,
    )


@pytest.mark.parametrize(("low", "high", "claimed"), [(0.9, 1.4, False), (1.5, 1.9, True)])
def test_report_claims_a_speedup_only_when_the_interval_supports_it(
    low: float, high: float, claimed: bool
) -> None:
    interval = SpeedUp(backend="ort", width=160, height=90, ratio=1.6, low=low, high=high)
    manifest = Manifest(teacher="t", variants=(
        _variant("t", RecipeKind.TEACHER, 10.0, None),
        _variant("v", RecipeKind.FP16_WEIGHTS, 6.25, interval),
    ))
    summary = summarize(manifest)
    row = next(r for r in summary.rows if r.id == "v")
    assert row.measurably_faster is claimed
    text = "\n".join(_highlights(summary))
    assert "timed with ort only" in text and "interleaved" in text
    assert ("Fastest variant" in text) is claimed
    assert ("is measurably faster than the teacher" in text) is not claimed
    if not claimed:
        assert row.speedup_text().startswith("no measurable difference")
