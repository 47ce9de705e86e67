"""Cached distillation: cache == live teacher, hint/temporal terms fall, shapes export.

Real mosaic teacher, real frames, tiny views (64x40) and a handful of steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from stylebridge.engines.checker import check_engines
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.models import load_checkpoint
from stylebridge.models.export import export_onnx
from stylebridge.models.transformer_net import TransformerNet
from stylebridge.optimize.fast_distill import TrainConfig, Trainer, temporal_loss
from stylebridge.optimize.losses import distill_loss
from stylebridge.optimize.student_nets import (
    StudentShape,
    build_student,
    latency_ideas,
    teacher_hints,
)
from stylebridge.optimize.teacher_cache import TeacherCache, ViewSpec, build_cache, open_cache
from stylebridge.optimize.teacher_init import init_from_teacher

VIEWS = ViewSpec(width=64, height=40, views_per_frame=2)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def teacher(models_dir: Path) -> TransformerNet:
    return load_checkpoint(models_dir / "mosaic.pth").model


@pytest.fixture(scope="module")
def cache(teacher: TransformerNet, frame_paths: list[Path],
          tmp_path_factory: pytest.TempPathFactory) -> TeacherCache:
    return build_cache(teacher, frame_paths[:2], VIEWS, tmp_path_factory.mktemp("cache"))


def test_the_cache_gives_the_loss_of_the_live_teacher(
        teacher: TransformerNet, cache: TeacherCache) -> None:
    assert cache.teacher_runs == len(cache) == 4
    student = build_student(StudentShape(widths=(8, 16, 32), residual_blocks=1))
    x, cached, hints = cache.batch([0, 3])
    with torch.no_grad():
        live_out, live_hints = teacher_hints(teacher, x)
        prediction = student(x) / 255.0
        live = distill_loss(prediction, live_out.clamp(0, 255) / 255.0)
        from_cache = distill_loss(prediction, cached)
    assert abs(float(live) - float(from_cache)) < 1e-4 * float(live)
    for stored, value in zip(hints, live_hints, strict=True):
        torch.testing.assert_close(stored, value, rtol=2e-3, atol=2e-3)


def test_a_second_build_reuses_the_cache_without_the_teacher(
        teacher: TransformerNet, cache: TeacherCache, frame_paths: list[Path]) -> None:
    again = build_cache(teacher, frame_paths[:2], VIEWS, cache.folder)
    assert again.teacher_runs == 0
    np.testing.assert_array_equal(again.targets, cache.targets)


def test_open_cache_refuses_a_cache_of_other_inputs(
        teacher: TransformerNet, cache: TeacherCache, frame_paths: list[Path],
        tmp_path: Path) -> None:
    opened = open_cache(teacher, frame_paths[:2], VIEWS, cache.folder)
    assert opened.teacher_runs == 0 and np.array_equal(opened.targets, cache.targets)
    with pytest.raises(NotFoundError, match="another teacher, frames or view"):
        open_cache(teacher, frame_paths[:1], VIEWS, cache.folder)
    with pytest.raises(NotFoundError, match="no finished teacher cache"):
        open_cache(teacher, frame_paths[:2], VIEWS, tmp_path)


def test_a_trainer_restored_from_its_state_trains_on_as_if_never_stopped(
        cache: TeacherCache, tmp_path: Path) -> None:
    shape = StudentShape(widths=(8, 16, 32), residual_blocks=1)
    config = TrainConfig(warmup_steps=2, hint_weight=0.5)  # adapters and EMA in the state
    straight = Trainer(build_student(shape), cache, config)
    straight.run(steps=4)
    torch.save(straight.state_dict(), tmp_path / "state.pt")
    straight.run(steps=3)
    resumed = Trainer(build_student(shape, seed=7), cache, config)
    resumed.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    assert (resumed.total_steps, resumed.cycles) == (4, 1)
    resumed.run(steps=3)
    for ours, theirs in zip(resumed.model().state_dict().values(),
                            straight.model().state_dict().values(), strict=True):
        assert torch.equal(ours, theirs)
    other = Trainer(build_student(StudentShape(widths=(4, 8, 16), residual_blocks=1)), cache,
                    config)
    with pytest.raises(InvalidInputError, match="does not fit"):
        other.load_state_dict(straight.state_dict())


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_the_hint_loss_lowers_its_own_term(cache: TeacherCache) -> None:
    student = build_student(StudentShape(widths=(8, 16, 32), residual_blocks=1))
    config = TrainConfig(lr=5e-3, warmup_steps=0, ema_decay=0.0, ssim_weight=0.0,
                         hint_weight=1.0)
    values = Trainer(student, cache, config, torch.device("cpu")).run(steps=24).terms["hint"]
    assert _mean(values[-4:]) < 0.8 * _mean(values[:4]), values


def test_the_temporal_loss_lowers_its_own_term(
        teacher: TransformerNet, cache: TeacherCache) -> None:
    x, _, _ = cache.batch(range(len(cache)))
    flicker = {}
    for weight in (0.0, 4.0):
        student = build_student(StudentShape(widths=(8, 16, 32), residual_blocks=1))
        init_from_teacher(student, teacher)
        config = TrainConfig(lr=3e-3, warmup_steps=0, ema_decay=0.0, hint_weight=0.0,
                             temporal_weight=weight)
        trained = Trainer(student, cache, config, torch.device("cpu"))
        stats = trained.run(steps=16)
        assert ("temporal" in stats.terms) == (weight > 0)
        with torch.no_grad():
            flicker[weight] = float(temporal_loss(student, x, student(x) / 255.0, 8))
    assert flicker[4.0] < 0.8 * flicker[0.0], flicker


def test_teacher_init_starts_closer_than_random(
        teacher: TransformerNet, cache: TeacherCache) -> None:
    shape = StudentShape(widths=(16, 32, 64), residual_blocks=2)
    seeded, fresh = build_student(shape), build_student(shape)
    assert init_from_teacher(seeded, teacher) == 8  # 5 convs + head + 2 blocks
    x, target, _ = cache.batch([0, 1, 2, 3])
    with torch.no_grad():
        ours = distill_loss(seeded(x) / 255.0, target)
        theirs = distill_loss(fresh(x) / 255.0, target)
    assert float(ours) < 0.8 * float(theirs)


@pytest.mark.parametrize("shape", latency_ideas(), ids=lambda s: s.name)
def test_each_student_shape_exports_and_passes_barracuda_3(
        shape: StudentShape, tmp_path: Path, small_frames: list[np.ndarray]) -> None:
    student = build_student(shape).eval()
    report = export_onnx(student, tmp_path / f"{shape.name}.onnx",
                         frames=[small_frames[0][:88, :160].copy()])
    assert report.passed, report.check
    verdict = check_engines(onnx.load(str(report.path)), (Engine.BARRACUDA_3,))
    assert verdict[Engine.BARRACUDA_3].verdict is not Verdict.CANNOT_RUN
    if shape.depthwise:
        groups = [a.i for n in onnx.load(str(report.path)).graph.node if n.op_type == "Conv"
                  for a in n.attribute if a.name == "group"]
        assert max(groups) == shape.widths[-1]  # depthwise: group = channels
