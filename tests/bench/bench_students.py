"""Issue 12's ablations of the cached student trainer (the numbers in its closing note).

Each run: a student from the teacher-output cache (320x184 whole-frame views, 6 per frame)
for a time budget, then SSIM to the teacher on all 13 frames at 640x360 (torch, rounded
and clamped like a player sees it). One JSON line per run on stdout.

    python tests/bench/bench_students.py 150 a:8,16,32/2:t:0.1 b:8,16,32/2:r:0.1 c:8,16,32/2:t:0
        (name:widths/blocks:init t|r:hint weight)  -- teacher init vs random, hints on/off
    python tests/bench/bench_students.py --curve 150 4 s:8,16,32/2:t:0
        -- one run scored after each of 4 budgets of 150 s (the learning curve)
    python tests/bench/bench_students.py --temporal 100 0 0.3
        -- 100 steps at each temporal weight: SSIM and flicker (320x180, 4 frames)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from stylebridge.evaluate.ssim import ssim
from stylebridge.evaluate.temporal import MotionSpec, temporal_error
from stylebridge.frames import load_image, resize
from stylebridge.models import load_checkpoint
from stylebridge.optimize.fast_distill import TrainConfig, Trainer
from stylebridge.optimize.student_nets import StudentShape, build_student
from stylebridge.optimize.students import teacher_mean_rgb
from stylebridge.optimize.teacher_cache import ViewSpec, build_cache
from stylebridge.optimize.teacher_init import init_from_teacher
from stylebridge.paths import shared_dir

CACHE = Path(__file__).resolve().parents[2] / "out" / "bench" / "students-cache"


def _run(model: torch.nn.Module, frame: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
        return model(x)[0].permute(1, 2, 0).numpy()


def _shown(model: torch.nn.Module, frame: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(_run(model, frame)), 0, 255)


def _student(spec: str, teacher: torch.nn.Module, frames: list[Path]) -> tuple[str, object]:
    name, shape_text, init, hint = spec.split(":")
    widths, blocks = shape_text.split("/")
    shape = StudentShape(widths=tuple(int(w) for w in widths.split(",")),
                         residual_blocks=int(blocks))
    student = build_student(shape)
    if init == "t":
        init_from_teacher(student, teacher)
    else:
        with torch.no_grad():
            student.head.conv2d.bias.copy_(teacher_mean_rgb(teacher, frames))
    return name, (student, float(hint))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curve", type=int, default=0, help="score after each of N budgets")
    parser.add_argument("--temporal", action="store_true")
    parser.add_argument("budget", type=float, help="seconds per run (steps with --temporal)")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    shared = shared_dir()
    if shared is None:
        sys.exit("../shared with models/ and frames/ is required")
    teacher = load_checkpoint(shared / "models" / "mosaic.pth").model
    frames = sorted((shared / "frames").glob("*.png"))
    evals = [resize(load_image(p), (640, 360)) for p in frames]
    refs = [_shown(teacher, f) for f in evals]
    cache = build_cache(teacher, frames, ViewSpec(width=320, height=184, views_per_frame=6),
                        CACHE)

    def score(model: torch.nn.Module) -> tuple[float, float]:
        values = [ssim(_shown(model, f), r) for f, r in zip(evals, refs, strict=True)]
        return float(np.mean(values)), float(np.min(values))

    if args.temporal:
        spec = MotionSpec(width=320, height=180, steps=3, pan_px=8)
        few = evals[::4]
        print(json.dumps({"teacher_flicker": vars(temporal_error(
            lambda v: _run(teacher, v), few, spec))}), flush=True)
        for weight in (float(w) for w in args.runs):
            student = build_student(StudentShape(widths=(8, 16, 32), residual_blocks=2))
            init_from_teacher(student, teacher)
            trainer = Trainer(student, cache, TrainConfig(temporal_weight=weight))
            stats = trainer.run(steps=int(args.budget))
            model = trainer.model()
            flicker = temporal_error(lambda v, m=model: _run(m, v), few, spec)
            print(json.dumps({"temporal_weight": weight, "steps": stats.steps,
                              "ssim": score(model), "flicker": vars(flicker)}), flush=True)
        return
    for spec_text in args.runs:
        name, (student, hint) = _student(spec_text, teacher, frames)
        trainer = Trainer(student, cache, TrainConfig(hint_weight=hint))
        for rung in range(max(1, args.curve)):
            stats = trainer.run(time_budget_s=args.budget)
            print(json.dumps({"run": name, "rung": rung, "steps": trainer.total_steps,
                              "seconds": round(trainer.total_seconds, 1),
                              "steps_per_s": round(stats.steps_per_s, 3),
                              "ssim": score(trainer.model())}), flush=True)


if __name__ == "__main__":
    main()
