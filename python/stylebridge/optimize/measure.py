"""What the catalog records of every variant file: FLOPs, fidelity, flicker, engine verdicts.

Runs wherever the variant was built (this process, or a Ray worker), on the file and
the evaluation frames it is given; latency is not here, because only timings taken
together on one machine compare (``pipeline._time_all``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from stylebridge import catalog as cat
from stylebridge.engines.checker import check_engines
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine
from stylebridge.evaluate.flops import count_flops
from stylebridge.evaluate.variant_eval import evaluate_fidelity


@dataclass(frozen=True)
class Measurement:
    """Everything measured of one file, to be merged into its catalog entry."""

    flops: dict[str, int]
    fidelity: cat.Fidelity
    engines: tuple[cat.EngineVerdict, ...]
    temporal: cat.Temporal

    def apply(self, variant: cat.Variant) -> cat.Variant:
        """``variant`` with these measures, and its notes ending in the engine summary."""
        return variant.model_copy(update={
            "flops": self.flops, "fidelity": self.fidelity, "engines": self.engines,
            "temporal": self.temporal, "notes": with_engine_note(variant.notes, self.engines)})


def measure(path: Path, evaluation: Sequence[np.ndarray], reference: Sequence[np.ndarray],
            sizes: Sequence[tuple[int, int]]) -> Measurement:
    """FLOPs at every size, fidelity to ``reference``, flicker and engine verdicts."""
    proto = onnx.load(str(path), load_external_data=False)
    flops = {f"{w}x{h}": count_flops(proto, w, h) for w, h in sorted(set(sizes))}
    fidelity = evaluate_fidelity(path, list(evaluation), list(reference))
    return Measurement(flops=flops, fidelity=fidelity, engines=engine_verdicts(proto),
                       temporal=temporal(path, evaluation))


def temporal(path: Path, evaluation: Sequence[np.ndarray]) -> cat.Temporal:
    """Flicker over pans and zooms of up to 4 evaluation frames (evaluation size)."""
    from stylebridge.evaluate.temporal import MotionSpec, onnx_model, temporal_error

    height, width = evaluation[0].shape[:2]
    spec = MotionSpec(width=width, height=height, steps=3, pan_px=8)
    error = temporal_error(onnx_model(path), list(evaluation)[:4], spec)
    return cat.Temporal(pan=error.pan, zoom=error.zoom, mean=error.mean, pairs=error.pairs,
                        width=width, height=height)


def engine_verdicts(model: onnx.ModelProto) -> tuple[cat.EngineVerdict, ...]:
    """The checker's verdict for every engine, with the first blocking reason and fix."""
    found: list[cat.EngineVerdict] = []
    for engine, report in check_engines(model, tuple(Engine)).items():
        worst = report.verdict
        items = [(v.verdict, v.reason, v.fix) for v in report.verdicts] + \
                [(f.verdict, f.reason, f.fix) for f in report.findings]
        reason, fix = next(((r, f) for v, r, f in items if v is worst and worst is not
                            Verdict.RUNS), ("", ""))
        found.append(cat.EngineVerdict(engine=engine.value, verdict=worst.value,
                                       reason=reason, fix=fix))
    return tuple(found)


def with_engine_note(notes: str, engines: Sequence[cat.EngineVerdict]) -> str:
    base = notes.split(" | engines:")[0]
    runs = [e.engine for e in engines if e.verdict != Verdict.CANNOT_RUN.value]
    blocked = [e.engine for e in engines if e.verdict == Verdict.CANNOT_RUN.value]
    summary = f"runs on {', '.join(runs) or 'none'}"
    if blocked:
        summary += f"; cannot run on {', '.join(blocked)}"
    return f"{base} | engines: {summary}"
