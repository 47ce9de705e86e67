"""Pruning: unstructured (sparsity only) and structured (fewer channels, then distilled).

Unstructured magnitude pruning zeroes the smallest weights but keeps every tensor's
shape: the ONNX file, its FLOPs and its latency are unchanged (dense kernels multiply
the zeros too); only ``sparsity`` moves. It is here to say so with numbers.

Structured pruning removes whole channels with torch-pruning, whose dependency graph
keeps coupled layers consistent: the residual trunk (conv3, every block's second
conv and the adds, deconv1's input) loses the same channels everywhere, and each
InstanceNorm(affine) loses the scale/shift of the channels its conv lost. Channel
importance is torch-pruning's GroupMagnitudeImportance (L2 norm over the group,
mean-normalised); the RGB input cannot be pruned and the RGB output layer
(``deconv3``) is ignored, so the model still maps 3 channels to 3. Every group is
pruned by the same ratio, so the widths stay expressible as a TransformerNetConfig
and the result is rebuilt as a plain TransformerNet (checkpoint and export as usual).
Pruning alone wrecks a style network's output; it is then fine-tuned by distillation
from the unpruned teacher.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from stylebridge.errors import InvalidInputError
from stylebridge.models.export import ExportConfig, ExportReport, export_onnx
from stylebridge.models.transformer_net import TransformerNet, TransformerNetConfig
from stylebridge.optimize.distill import DistillConfig, distill

log = logging.getLogger(__name__)

# Traced once to build torch-pruning's dependency graph; any size divisible by 4 works.
_TRACE_SIZE = 64


class PruneScope(StrEnum):
    """How unstructured pruning picks the weights to zero."""

    LAYER = "layer"  # the same fraction in every conv: no layer is emptied
    GLOBAL = "global"  # the smallest weights of the whole net, wherever they are


def prune_unstructured(
    model: nn.Module, amount: float, *, scope: PruneScope = PruneScope.LAYER
) -> nn.Module:
    """A copy of ``model`` with ``amount`` of its conv weights set to zero, by magnitude.

    Biases and norm parameters are kept. The pruning is made permanent
    (``prune.remove``): the copy has plain weights, same shapes, no masks.
    """
    _check_ratio("amount", amount)
    pruned = copy.deepcopy(model)
    convs = [(m, "weight") for m in pruned.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise InvalidInputError("the model has no Conv2d layers to prune")
    if scope is PruneScope.GLOBAL:
        torch_prune.global_unstructured(
            convs, pruning_method=torch_prune.L1Unstructured, amount=float(amount)
        )
    else:
        for module, name in convs:
            torch_prune.l1_unstructured(module, name, amount=float(amount))
    for module, name in convs:
        torch_prune.remove(module, name)
    return pruned.eval()


def sparsity(model: nn.Module) -> float:
    """Fraction of the model's parameters (all of them, biases included) that are 0."""
    total = zeros = 0
    for parameter in model.parameters():
        total += parameter.numel()
        zeros += int((parameter == 0).sum())
    return zeros / total if total else 0.0


def prune_channels(teacher: nn.Module, ratio: float) -> nn.Module:
    """A copy of ``teacher`` with ``ratio`` of the channels of every prunable group removed.

    No fine-tuning: see :func:`prune_structured`. Returns a TransformerNet with the new
    widths when ``teacher`` is one (always, for uniform ratios), else the pruned module.
    """
    import torch_pruning as tp  # heavy; only needed here

    _check_ratio("ratio", ratio)
    pruned = copy.deepcopy(teacher).cpu().eval()
    for parameter in pruned.parameters():
        parameter.requires_grad_(True)  # the dependency graph is traced through autograd
    output_layers = [
        m for m in pruned.modules() if isinstance(m, nn.Conv2d) and m.out_channels == 3
    ]
    example = torch.rand(1, 3, _TRACE_SIZE, _TRACE_SIZE, generator=torch.Generator().manual_seed(0))
    pruner = tp.pruner.BasePruner(
        pruned,
        example * 255.0,
        importance=tp.importance.GroupMagnitudeImportance(p=2),
        pruning_ratio=float(ratio),
        global_pruning=False,
        ignored_layers=output_layers,
    )
    pruner.step()
    return _as_transformer_net(pruned) if isinstance(teacher, TransformerNet) else pruned


def prune_structured(
    teacher: nn.Module, ratio: float, frames: Sequence[Path], config: DistillConfig
) -> nn.Module:
    """Remove ``ratio`` of the channels, then distill the result from ``teacher``.

    ``config`` is the fine-tuning run (steps, crops, budget, checkpoints). The
    teacher is not modified. Returns the fine-tuned student in eval mode.
    """
    pruned = prune_channels(teacher, ratio)
    device = next(teacher.parameters()).device
    result = distill(teacher, pruned.to(device), frames, config, progress=False)
    log.info(
        "pruned %.0f%% of channels; fine-tuned %d steps in %.1f s (last loss %.4f)",
        100 * ratio,
        result.steps,
        result.seconds,
        result.losses[-1] if result.losses else float("nan"),
    )
    return result.student.eval()


def conv_macs(model: nn.Module, width: int, height: int) -> int:
    """Multiply-accumulates of every Conv2d for one width x height frame (forward hooks).

    Counted from the shapes a real forward pass produces: out elements x (in channels
    / groups) x kernel area. Zeros are counted too, as dense kernels compute them.
    """
    total = 0

    def hook(module: nn.Conv2d, _inputs: object, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1]
        total += output.numel() * (module.in_channels // module.groups) * kernel

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, height, width, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return total


def export_module(module: nn.Module, path: Path, opset: int = 9) -> ExportReport:
    """Export any RGB-to-RGB module (a pruned net, too) to ONNX at ``opset``.

    ``stylebridge.models.export.export_onnx`` takes the module itself, so pruned
    nets with any widths export as they are; this only picks the opset.
    """
    return export_onnx(module, Path(path), ExportConfig(opset=opset))


def _as_transformer_net(pruned: nn.Module) -> nn.Module:
    """Rebuild a pruned TransformerNet with a config that states its new widths.

    Falls back to the pruned module itself when its shapes fit no TransformerNetConfig.
    """
    old: TransformerNetConfig = pruned.config  # type: ignore[assignment]
    sd = pruned.state_dict()
    widths = (
        int(sd["conv1.conv2d.weight"].shape[0]),
        int(sd["conv2.conv2d.weight"].shape[0]),
        int(sd["conv3.conv2d.weight"].shape[0]),
    )
    config = TransformerNetConfig(widths, old.residual_blocks, old.architecture)
    rebuilt = TransformerNet(config)
    try:
        rebuilt.load_state_dict(sd, strict=True)
    except RuntimeError:
        log.warning("pruned widths are not uniform; keeping the pruned module as it is")
        return pruned
    return rebuilt.eval()


def _check_ratio(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise InvalidInputError(f"{name} must be between 0 and 1 (exclusive), got {value}")
