"""Successive halving over student shapes: every shape measured, the better half kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from stylebridge.errors import InvalidInputError
from stylebridge.evaluate.variant_eval import teacher_outputs
from stylebridge.models import load_checkpoint
from stylebridge.models.export import export_onnx
from stylebridge.optimize.fast_distill import TrainConfig
from stylebridge.optimize.student_nets import latency_ideas
from stylebridge.optimize.student_search import (
    SearchInputs,
    SearchSettings,
    parse_shape,
    successive_halving,
)
from stylebridge.optimize.teacher_cache import ViewSpec


def test_shape_names_round_trip_and_bad_ones_are_refused() -> None:
    for shape in latency_ideas():
        assert parse_shape(shape.name) == shape
    with pytest.raises(InvalidInputError, match="not like"):
        parse_shape("s8-16-x")


def test_the_search_measures_every_shape_and_keeps_the_better_half(
        models_dir: Path, frame_paths: list[Path], small_frames: list[np.ndarray],
        tmp_path: Path) -> None:
    torch.set_num_threads(1)
    teacher = load_checkpoint(models_dir / "mosaic.pth").model
    teacher_onnx = tmp_path / "teacher.onnx"
    export_onnx(teacher, teacher_onnx)
    evaluation = tuple(f[:40, :64].copy() for f in small_frames[:2])
    inputs = SearchInputs(teacher_onnx=teacher_onnx, train_frames=tuple(frame_paths[:2]),
                          eval_frames=evaluation,
                          eval_reference=tuple(teacher_outputs(teacher_onnx, evaluation)),
                          latency_frame=evaluation[0], latency_size=(64, 40), latency_runs=1)
    shapes = tuple(parse_shape(n) for n in ("s8-16-32-r1", "s8-16-32-r1dw-k3", "s4-8-16-r0"))
    settings = SearchSettings(shapes=shapes, budgets=(0.5, 0.5), min_speedup=1.0,
                              views=ViewSpec(width=64, height=40, views_per_frame=1),
                              train=TrainConfig(warmup_steps=2))
    result = successive_halving(teacher, inputs, settings, tmp_path / "work")
    first = [p for p in result.frontier if p.rung == 0]
    second = [p for p in result.frontier if p.rung == 1]
    assert {p.shape for p in first} == {s.name for s in shapes}
    assert {p.shape for p in second} == {p.shape for p in first if p.kept}
    assert len(second) == 2  # ceil(3 * 0.5)
    assert [p.shape for p in second if p.kept] == [result.winner.shape]
    assert all(p.speedup > 0 and -1 <= p.ssim_mean <= 1 and p.steps >= 1 for p in first)
    assert type(result.student).__name__ == "StudentNet"
