"""Find the student frontier: several shapes, a time budget each, successive halving.

Every shape starts from the teacher's most important channels (``teacher_init``) and
trains on one shared teacher-output cache for the first budget. Then each is exported
(opset 9, like the teacher), timed in ONNX Runtime against the teacher in the same
run, and its fidelity measured on the evaluation frames. The better ``keep`` share
goes on to the next budget (continuing its own optimiser and EMA), and so on. Rank:
first whether a shape reaches ``min_speedup * speed_tolerance``, then SSIM. The
tolerance is there because latency on a shared 2-core machine moves by tens of percent
between runs (measured here: s8-16-32-r2 at 5.3x in one run, 9.4x in another), and a
hard cut at 6.0x once promoted a 6.7x shape at SSIM 0.07 over a 5.3x one at 0.38.
Every shape after every budget is one :class:`~stylebridge.catalog.FrontierPoint`;
the report plots them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from stylebridge.catalog import Fidelity, FrontierPoint
from stylebridge.evaluate.latency import LatencySpec, measure_interleaved
from stylebridge.evaluate.latency import speedups as interleaved_speedups
from stylebridge.evaluate.variant_eval import evaluate_fidelity
from stylebridge.models.export import export_onnx
from stylebridge.optimize.fast_distill import TrainConfig, Trainer
from stylebridge.optimize.student_nets import StudentNet, StudentShape, build_student
from stylebridge.optimize.students import teacher_mean_rgb
from stylebridge.optimize.teacher_cache import ViewSpec, build_cache
from stylebridge.optimize.teacher_init import init_from_teacher

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchInputs:
    """What the search measures against: the teacher's ONNX file, frames, latency size."""

    teacher_onnx: Path
    train_frames: tuple[Path, ...]
    eval_frames: tuple[np.ndarray, ...]
    eval_reference: tuple[np.ndarray, ...]
    latency_frame: np.ndarray
    latency_size: tuple[int, int]
    latency_runs: int = 5


@dataclass(frozen=True)
class SearchSettings:
    """Shapes, budgets (training seconds per shape per rung) and the training config."""

    shapes: tuple[StudentShape, ...]
    budgets: tuple[float, ...]
    keep: float = 0.5
    min_speedup: float = 6.0
    speed_tolerance: float = 0.8
    teacher_init: bool = True
    views: ViewSpec = field(default_factory=ViewSpec)
    train: TrainConfig = field(default_factory=TrainConfig)


@dataclass
class SearchResult:
    student: StudentNet
    frontier: list[FrontierPoint] = field(default_factory=list)
    steps_per_s: dict[str, float] = field(default_factory=dict)
    cache_seconds: float = 0.0

    @property
    def winner(self) -> FrontierPoint:
        return next(p for p in reversed(self.frontier) if p.kept)


def successive_halving(teacher: nn.Module, inputs: SearchInputs, settings: SearchSettings,
                       work_dir: Path) -> SearchResult:
    """Train, measure and halve; returns the best student and every frontier point."""
    import time

    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cache = build_cache(teacher, inputs.train_frames, settings.views, work_dir / "cache")
    cache_seconds = time.perf_counter() - started
    trainers: dict[str, Trainer] = {}
    for shape in settings.shapes:
        student = initial_student(shape, teacher, settings, inputs.train_frames)
        trainers[shape.name] = Trainer(student, cache, settings.train)
        export_onnx(student.eval(), work_dir / f"{shape.name}.onnx")
    speedups = shape_speedups(work_dir, [s.name for s in settings.shapes], inputs)
    frontier: list[FrontierPoint] = []
    alive = [s.name for s in settings.shapes]
    scores: dict[str, float] = {}
    for rung, budget in enumerate(settings.budgets):
        points: dict[str, FrontierPoint] = {}
        for name in alive:
            trainer = trainers[name]
            fid = train_and_measure(trainer, budget, work_dir / f"{name}.onnx", inputs)
            scores[name] = rank_score(speedups[name], fid.ssim_mean, settings)
            points[name] = FrontierPoint(
                shape=name, rung=rung, train_seconds=trainer.total_seconds,
                steps=trainer.total_steps, speedup=speedups[name], ssim_mean=fid.ssim_mean,
                ssim_min=fid.ssim_min, kept=False)
            _log.info("rung %d %s: %d steps, SSIM %.3f at %.2fx", rung, name,
                      trainer.total_steps, fid.ssim_mean, speedups[name])
        last = rung == len(settings.budgets) - 1
        count = 1 if last else max(1, math.ceil(len(alive) * settings.keep))
        alive = sorted(alive, key=lambda n: scores[n], reverse=True)[:count]
        frontier += [p.model_copy(update={"kept": p.shape in alive}) for p in points.values()]
    best = trainers[alive[0]]
    rates = {n: t.total_steps / t.total_seconds for n, t in trainers.items() if t.total_seconds}
    return SearchResult(student=best.model(), frontier=frontier, steps_per_s=rates,
                        cache_seconds=cache_seconds)


def initial_student(shape: StudentShape, teacher: nn.Module, settings: SearchSettings,
                    frames: Sequence[Path]) -> StudentNet:
    """A new student of ``shape``, seeded, started from the teacher's channels (or, without
    ``teacher_init``, with its output bias at the teacher's mean colour)."""
    student = build_student(shape, seed=settings.train.seed)
    if settings.teacher_init:
        init_from_teacher(student, teacher)
    else:
        with torch.no_grad():
            student.head.conv2d.bias.copy_(teacher_mean_rgb(teacher, frames))
    return student


def train_and_measure(trainer: Trainer, budget: float, onnx_path: Path,
                      inputs: SearchInputs) -> Fidelity:
    """One rung: ``budget`` more seconds of training, export (the EMA), fidelity on the
    evaluation frames."""
    trainer.run(time_budget_s=budget)
    export_onnx(trainer.model(), onnx_path)
    return evaluate_fidelity(onnx_path, inputs.eval_frames, inputs.eval_reference)


def rank_score(speedup: float, ssim_mean: float, settings: SearchSettings) -> float:
    """One number that ranks as (fast enough, SSIM) does: SSIM lies in [-1, 1], so a bonus
    of 2 puts every shape reaching ``min_speedup * speed_tolerance`` above every other."""
    fast = speedup >= settings.min_speedup * settings.speed_tolerance
    return ssim_mean + (2.0 if fast else 0.0)


def shape_speedups(work_dir: Path, names: Sequence[str], inputs: SearchInputs
                   ) -> dict[str, float]:
    """Every shape (``work_dir/<name>.onnx``) against the teacher, timed interleaved in one
    run (as the catalog is): a load spike on a shared machine then hits teacher and
    students alike. Latency does not depend on the weights, so untrained exports do."""
    teacher_id = "__teacher__"
    models = {teacher_id: inputs.teacher_onnx, **{n: work_dir / f"{n}.onnx" for n in names}}
    spec = LatencySpec(resolutions=(inputs.latency_size,), runs=inputs.latency_runs, warmup=1)
    timing = measure_interleaved(models, inputs.latency_frame, spec)
    ratios = {n: up.ratio for n, up in interleaved_speedups(timing, teacher_id).items()}
    for name, ratio in ratios.items():
        _log.info("shape %s: %.2fx the teacher's speed", name, ratio)
    return ratios


def parse_shape(name: str) -> StudentShape:
    """``s8-16-32-r2``, ``s12-32-96-r4dw-k5`` -> StudentShape (the inverse of ``.name``)."""
    from stylebridge.errors import InvalidInputError

    try:
        body = name.removeprefix("s")
        parts = body.split("-")
        kernel = 9
        if parts[-1].startswith("k"):
            kernel = int(parts.pop()[1:])
        depth = parts.pop()
        if not depth.startswith("r"):
            raise ValueError(depth)
        depthwise = depth.endswith("dw")
        blocks = int(depth[1:].removesuffix("dw"))
        return StudentShape(widths=tuple(int(p) for p in parts), residual_blocks=blocks,
                            depthwise=depthwise, end_kernel=kernel)
    except (ValueError, IndexError) as exc:
        raise InvalidInputError(f"student shape {name!r} is not like s8-16-32-r2 or "
                                f"s12-32-96-r4dw-k5 ({exc})") from exc


def describe(frontier: Sequence[FrontierPoint]) -> str:
    """One line per rung: shape SSIM@speed-up, kept ones starred."""
    lines = []
    for rung in sorted({p.rung for p in frontier}):
        cells = [f"{p.shape} {p.ssim_mean:.3f}@{p.speedup:.1f}x{'*' if p.kept else ''}"
                 for p in frontier if p.rung == rung]
        lines.append(f"budget {rung + 1}: " + ", ".join(cells))
    return "; ".join(lines)
