"""Distillation: real mosaic teacher, real game frames, tiny crops and step counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.models import load_checkpoint, untrained_model
from stylebridge.models.transformer_net import TransformerNet
from stylebridge.optimize.crops import CropSampler, list_frames
from stylebridge.optimize.distill import (
    CHECKPOINT_NAME,
    DistillConfig,
    DistillResult,
    distill,
)
from stylebridge.optimize.losses import PixelLoss, distill_loss, ssim
from stylebridge.optimize.students import (
    default_grid,
    parse_widths,
    start_at_mean,
    student_config,
    teacher_mean_rgb,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """One torch thread: the machine is shared, and two spinning threads are slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def teacher(models_dir: Path) -> TransformerNet:
    return load_checkpoint(models_dir / "mosaic.pth").model


@pytest.fixture(scope="module")
def frames(frame_paths: list[Path]) -> list[Path]:
    return frame_paths[:3]


TINY = DistillConfig(steps=8, batch_size=2, crop=48, lr=3e-3, checkpoint_every=0)


def _run(teacher: TransformerNet, frames: list[Path], config: DistillConfig) -> DistillResult:
    student = untrained_model(student_config((8, 16, 32), 1), seed=0)
    return distill(teacher, student, frames, config, progress=False)


def test_distillation_lowers_the_loss(teacher: TransformerNet, frames: list[Path]) -> None:
    result = _run(teacher, frames, TINY.model_copy(update={"steps": 20, "lr": 1e-2}))
    first = sum(result.losses[:5]) / 5
    last = sum(result.losses[-5:]) / 5
    assert result.steps == 20 and len(result.losses) == 20
    assert last < first - 0.02, (first, last)
    assert not result.stopped_by_budget
    assert not result.student.training


def test_starting_at_the_teachers_mean_colour_lowers_the_first_losses(
    teacher: TransformerNet, frames: list[Path]
) -> None:
    """A fresh student outputs ~0 on the 0..255 scale; the distill recipe starts its
    output bias at the teacher's mean colour (on mosaic, 60 steps at 128 px: SSIM to the
    teacher 0.06 -> 0.24)."""
    mean = teacher_mean_rgb(teacher, frames, side=64)
    assert mean.shape == (3,) and bool(((mean > 10) & (mean < 245)).all()), mean
    config = TINY.model_copy(update={"steps": 3})
    plain = _run(teacher, frames, config)
    student = untrained_model(student_config((8, 16, 32), 1), seed=0)
    start_at_mean(student, mean)
    started = distill(teacher, student, frames, config, progress=False)
    assert max(started.losses) < min(plain.losses), (started.losses, plain.losses)


def test_same_seed_same_losses_other_seed_others(
    teacher: TransformerNet, frames: list[Path]
) -> None:
    config = TINY.model_copy(update={"steps": 5})
    a = _run(teacher, frames, config)
    b = _run(teacher, frames, config)
    c = _run(teacher, frames, config.model_copy(update={"seed": 1}))
    assert a.losses == b.losses
    assert a.losses != c.losses
    for x, y in zip(a.student.state_dict().values(), b.student.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_resume_equals_an_uninterrupted_run(
    teacher: TransformerNet, frames: list[Path], tmp_path: Path
) -> None:
    whole = _run(teacher, frames, TINY)
    split = TINY.model_copy(update={"checkpoint_dir": tmp_path, "checkpoint_every": 3})
    first = _run(teacher, frames, split.model_copy(update={"stop_after": 4}))
    assert first.steps == 4
    saved = torch.load(tmp_path / CHECKPOINT_NAME, map_location="cpu", weights_only=True)
    assert saved["step"] == 4
    resumed = _run(teacher, frames, split.model_copy(update={"resume": True}))
    assert resumed.steps == TINY.steps
    assert resumed.losses == whole.losses
    got, want = resumed.student.state_dict(), whole.student.state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want)


def test_resume_refuses_a_checkpoint_of_other_settings(
    teacher: TransformerNet, frames: list[Path], tmp_path: Path
) -> None:
    config = TINY.model_copy(update={"steps": 2, "checkpoint_dir": tmp_path})
    _run(teacher, frames, config)
    other = config.model_copy(update={"lr": 1e-4, "resume": True, "steps": 3})
    with pytest.raises(InvalidInputError, match="other settings"):
        _run(teacher, frames, other)
    wider = untrained_model(student_config((16, 16, 32), 1))
    with pytest.raises(InvalidInputError, match="another student"):
        distill(teacher, wider, frames, config.model_copy(update={"resume": True}), progress=False)


def test_time_budget_stops_cleanly_with_a_checkpoint(
    teacher: TransformerNet, frames: list[Path], tmp_path: Path
) -> None:
    config = TINY.model_copy(
        update={"steps": 100_000, "time_budget_s": 1.0, "checkpoint_dir": tmp_path}
    )
    result = _run(teacher, frames, config)
    assert result.stopped_by_budget
    assert 0 < result.steps < 100_000 and len(result.losses) == result.steps
    saved = torch.load(tmp_path / CHECKPOINT_NAME, map_location="cpu", weights_only=True)
    assert saved["step"] == result.steps


def test_ssim_is_one_for_equal_images_and_falls_with_noise() -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 48, 48, generator=generator)
    noisy = (x + 0.1 * torch.randn(x.shape, generator=generator)).clamp(0, 1)
    noisier = (x + 0.3 * torch.randn(x.shape, generator=generator)).clamp(0, 1)
    assert float(ssim(x, x)) == pytest.approx(1.0, abs=1e-5)
    assert 1.0 > float(ssim(x, noisy)) > float(ssim(x, noisier))
    y = noisy.clone().requires_grad_(True)
    distill_loss(y, x, pixel=PixelLoss.L2, ssim_weight=1.0).backward()
    assert y.grad is not None and float(y.grad.abs().sum()) > 0


def test_crops_are_seeded_per_step(frame_paths: list[Path]) -> None:
    sampler = CropSampler(frame_paths[:2], 32)
    a, b = sampler.batch(7, 3, 2), sampler.batch(7, 3, 2)
    assert a.shape == (2, 3, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, sampler.batch(7, 4, 2))
    assert float(a.min()) >= 0 and float(a.max()) <= 255


def test_frame_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no frames"):
        list_frames(tmp_path)
    with pytest.raises(NotFoundError, match="does not exist"):
        list_frames(tmp_path / "missing")


def test_student_grid_and_widths() -> None:
    grid = default_grid()
    assert grid[0].widths == (32, 64, 128) and grid[0].residual_blocks == 5
    assert grid[-1].widths == (8, 16, 32) and grid[-1].residual_blocks == 1
    assert parse_widths("16,32,64") == (16, 32, 64)
    with pytest.raises(InvalidInputError, match="three"):
        parse_widths("16,32")
    with pytest.raises(ValueError, match="multiple"):
        DistillConfig(crop=66)


def test_distill_command_writes_a_loadable_student_and_onnx(
    models_dir: Path, frames_dir: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    out, onnx = tmp_path / "student.pth", tmp_path / "student.onnx"
    args = [
        "distill",
        str(models_dir / "mosaic.pth"),
        "--frames",
        str(frames_dir),
        "--widths",
        "8,16,32",
        "--blocks",
        "1",
        "--steps",
        "2",
        "--batch-size",
        "1",
        "--crop",
        "48",
        "--out",
        str(out),
        "--onnx",
        str(onnx),
        "--threads",
        "1",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    loaded = load_checkpoint(out)
    assert loaded.config.widths == (8, 16, 32) and loaded.config.residual_blocks == 1
    assert onnx.stat().st_size > 0
    assert (tmp_path / "student-checkpoints" / CHECKPOINT_NAME).is_file()
