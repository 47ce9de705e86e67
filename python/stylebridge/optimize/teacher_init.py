"""Seed a student with the teacher's most important channels (structured-pruning style).

Magnitude importance, as torch-pruning's ``MagnitudeImportance`` uses: a layer keeps
the output channels whose filters have the largest L1 norm, the next layer keeps the
matching input channels, and InstanceNorm's scale and shift follow their channels.
The residual stream keeps one channel set through every block (the skip additions
need it); each block's inner channels are chosen on their own. A smaller first or last
kernel takes the centre of the teacher's 9x9. Blocks are taken evenly spaced from the
teacher's. Layers with no teacher counterpart (depthwise blocks, the extra 1/8 level)
keep their random init. Measured gain on the same budget: see the closing note of
issue 12 and ``tests/test_fast_distill.py``.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from stylebridge.optimize.student_nets import StudentNet

_log = logging.getLogger(__name__)


def _top(weight: torch.Tensor, count: int) -> torch.Tensor:
    """Indices of the ``count`` output channels with the largest L1 filter norm, sorted."""
    scores = weight.detach().abs().flatten(1).sum(dim=1)
    count = min(count, scores.numel())
    return torch.sort(torch.topk(scores, count).indices).values


def _centre(kernel: torch.Tensor, size: int) -> torch.Tensor:
    full = kernel.shape[-1]
    if size >= full:
        return kernel
    start = (full - size) // 2
    return kernel[..., start : start + size, start : start + size]


def _copy_conv(dst: nn.Conv2d, src: nn.Conv2d, out_idx: torch.Tensor,
               in_idx: torch.Tensor) -> None:
    weight = src.weight.detach()[out_idx][:, in_idx]
    weight = _centre(weight, dst.weight.shape[-1])
    if weight.shape != dst.weight.shape:
        return  # shapes differ in a way slicing cannot fix: keep the random init
    dst.weight.copy_(weight)
    if dst.bias is not None and src.bias is not None:
        dst.bias.copy_(src.bias.detach()[out_idx])


def _copy_norm(dst: nn.InstanceNorm2d, src: nn.InstanceNorm2d, idx: torch.Tensor) -> None:
    if dst.weight is not None and src.weight is not None and dst.weight.numel() == idx.numel():
        dst.weight.copy_(src.weight.detach()[idx])
        dst.bias.copy_(src.bias.detach()[idx])


@torch.no_grad()
def init_from_teacher(student: StudentNet, teacher: nn.Module) -> int:
    """Copy the teacher's most important channels into ``student``; returns layers copied.

    The teacher is a FAST_NEURAL_STYLE TransformerNet (``conv1`` … ``deconv3``). Widths
    wider than the teacher's keep their random init for that layer.
    """
    t = teacher
    w = student.shape.widths
    copied = 0
    rgb = torch.arange(3)
    idx0 = _top(t.conv1.conv2d.weight, w[0])
    idx1 = _top(t.conv2.conv2d.weight, w[1])
    idx2 = _top(t.conv3.conv2d.weight, w[2])
    pairs = [
        (student.stem.conv2d, t.conv1.conv2d, idx0, rgb, student.stem_norm, t.in1),
        (student.down[0].conv2d, t.conv2.conv2d, idx1, idx0, student.down_norm[0], t.in2),
        (student.down[1].conv2d, t.conv3.conv2d, idx2, idx1, student.down_norm[1], t.in3),
    ]
    # Decoder: the last two up layers are the teacher's deconv1 (1/4 -> 1/2) and deconv2.
    up1 = _top(t.deconv1.conv2d.weight, w[1])
    up0 = _top(t.deconv2.conv2d.weight, w[0])
    stream = idx2 if student.shape.levels == 3 else _top(t.conv3.conv2d.weight, w[2])
    pairs += [
        (student.up[-2].conv2d, t.deconv1.conv2d, up1, stream, student.up_norm[-2], t.in4),
        (student.up[-1].conv2d, t.deconv2.conv2d, up0, up1, student.up_norm[-1], t.in5),
    ]
    for dst, src, out_idx, in_idx, dst_norm, src_norm in pairs:
        if out_idx.numel() == dst.out_channels and in_idx.numel() == dst.in_channels:
            _copy_conv(dst, src, out_idx, in_idx)
            _copy_norm(dst_norm, src_norm, out_idx)
            copied += 1
    head = student.head.conv2d
    if up0.numel() == head.in_channels:
        _copy_conv(head, t.deconv3.conv2d, rgb, up0)
        copied += 1
    if student.shape.levels == 3 and not student.shape.depthwise and student.blocks:
        copied += _copy_blocks(student, t, idx2)
    _log.info("teacher init: %d layers copied into %s", copied, student.shape.name)
    return copied


def _copy_blocks(student: StudentNet, teacher: nn.Module, stream: torch.Tensor) -> int:
    source = list(teacher.residual_layers)
    count = len(student.blocks)
    picks = [round(i * (len(source) - 1) / max(count - 1, 1)) for i in range(count)]
    if count == 1:
        picks = [len(source) // 2]
    copied = 0
    for block, index in zip(student.blocks, picks, strict=True):
        src = source[index]
        inner = _top(src.conv1.conv2d.weight[:, stream], block.conv1.conv2d.out_channels)
        if stream.numel() != block.conv1.conv2d.in_channels:
            continue
        _copy_conv(block.conv1.conv2d, src.conv1.conv2d, inner, stream)
        _copy_norm(block.in1, src.in1, inner)
        _copy_conv(block.conv2.conv2d, src.conv2.conv2d, stream, inner)
        _copy_norm(block.in2, src.in2, stream)
        copied += 1
    return copied
