"""Pruning the real mosaic model: structured really shrinks it, unstructured does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from stylebridge.errors import InvalidInputError
from stylebridge.models import count_parameters, load_checkpoint, load_onnx
from stylebridge.models.transformer_net import TransformerNet
from stylebridge.optimize.distill import DistillConfig
from stylebridge.optimize.prune import (
    PruneScope,
    conv_macs,
    export_module,
    prune_channels,
    prune_structured,
    prune_unstructured,
    sparsity,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def teacher(models_dir: Path) -> TransformerNet:
    return load_checkpoint(models_dir / "mosaic.pth").model


def _conv_shapes(model: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(m.weight.shape) for m in model.modules() if isinstance(m, nn.Conv2d)]


def test_structured_pruning_cuts_parameters_and_flops_and_exports(
    teacher: TransformerNet, frame_paths: list[Path], tmp_path: Path
) -> None:
    before = _conv_shapes(teacher)
    config = DistillConfig(steps=2, batch_size=1, crop=48, checkpoint_every=0)
    pruned = prune_structured(teacher, 0.5, frame_paths[:2], config)
    assert _conv_shapes(teacher) == before  # the teacher is not touched
    assert isinstance(pruned, TransformerNet)
    assert pruned.config.widths == (16, 32, 64)
    assert pruned.config.residual_blocks == teacher.config.residual_blocks
    params, macs = count_parameters(pruned), conv_macs(pruned, 160, 96)
    assert params < 0.3 * count_parameters(teacher)
    assert macs < 0.35 * conv_macs(teacher, 160, 96)
    assert pruned.conv1.conv2d.in_channels == 3 and pruned.deconv3.conv2d.out_channels == 3

    x = torch.rand(1, 3, 96, 160) * 255
    with torch.no_grad():
        expected = pruned(x).numpy()
    report = export_module(pruned, tmp_path / "pruned.onnx", opset=9)
    loaded = load_onnx(report.path)
    session = ort.InferenceSession(loaded.to_bytes(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {loaded.input_name: x.numpy()})
    assert got.shape == (1, 3, 96, 160)
    assert np.abs(got - expected).max() < 0.5


def test_channel_pruning_ratios_scale_the_cost(teacher: TransformerNet) -> None:
    full = conv_macs(teacher, 64, 64)
    quarter = prune_channels(teacher, 0.75)
    assert quarter.config.widths == (8, 16, 32)
    assert conv_macs(quarter, 64, 64) < 0.1 * full
    with torch.no_grad():
        out = quarter(torch.rand(1, 3, 64, 64) * 255)
    assert out.shape == (1, 3, 64, 64) and torch.isfinite(out).all()


@pytest.mark.parametrize("scope", list(PruneScope))
def test_unstructured_pruning_is_sparsity_only(teacher: TransformerNet, scope: PruneScope) -> None:
    pruned = prune_unstructured(teacher, 0.6, scope=scope)
    assert sparsity(teacher) < 0.01
    conv_weights = sum(m.weight.numel() for m in teacher.modules() if isinstance(m, nn.Conv2d))
    expected = 0.6 * conv_weights / count_parameters(teacher)
    assert sparsity(pruned) == pytest.approx(expected, abs=0.01)
    assert count_parameters(pruned) == count_parameters(teacher)
    assert _conv_shapes(pruned) == _conv_shapes(teacher)
    assert conv_macs(pruned, 64, 64) == conv_macs(teacher, 64, 64)
    assert sparsity(teacher) < 0.01  # a copy: the original keeps its weights
    assert not any("mask" in name for name, _ in pruned.named_buffers())


def test_bad_ratios_are_refused(teacher: TransformerNet) -> None:
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        prune_unstructured(teacher, 1.0)
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        prune_channels(teacher, 0.0)


def test_prune_command_unstructured_and_structured_needs_frames(
    models_dir: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    out = tmp_path / "sparse.pth"
    model = str(models_dir / "mosaic.pth")
    result = CliRunner().invoke(
        app, ["prune", model, "--mode", "unstructured", "--ratio", "0.5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sparsity(load_checkpoint(out).model) == pytest.approx(0.5, abs=0.02)
    result = CliRunner().invoke(
        app, ["prune", model, "--mode", "structured", "--ratio", "0.5", "--out", str(out)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidInputError)
    assert "--frames" in str(result.exception)
