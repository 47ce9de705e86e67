"""Student shapes for distillation: thinner and shallower TransformerNets.

The teacher of the example is 32/64/128 wide with 5 residual blocks (1.68 M
parameters). Cost scales with width squared and linearly with depth, and most of it
sits in the residual blocks at 1/4 resolution and the 9x9 convolutions at full
resolution, so the grid below halves the widths and drops blocks. Students keep the
FAST_NEURAL_STYLE wiring: it is the one every engine target already runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from stylebridge.errors import InvalidInputError
from stylebridge.models.transformer_net import Architecture, TransformerNetConfig

# Widths from the teacher's down to a quarter of it; depth from 5 blocks down to 1.
DEFAULT_WIDTHS: tuple[tuple[int, int, int], ...] = ((32, 64, 128), (16, 32, 64), (8, 16, 32))
DEFAULT_BLOCKS: tuple[int, ...] = (5, 3, 2, 1)


def student_config(widths: tuple[int, int, int], residual_blocks: int) -> TransformerNetConfig:
    """The FAST_NEURAL_STYLE config of a student ``widths`` wide, ``residual_blocks`` deep.

    Raises InvalidInputError for widths that are not three positive integers or a
    negative depth (TransformerNetConfig checks the same; this says which student).
    """
    if len(tuple(widths)) != 3:
        raise InvalidInputError(f"a student needs three widths (e.g. 16,32,64), got {widths!r}")
    return TransformerNetConfig(
        widths=(int(widths[0]), int(widths[1]), int(widths[2])),
        residual_blocks=int(residual_blocks),
        architecture=Architecture.FAST_NEURAL_STYLE,
    )


def default_grid() -> tuple[TransformerNetConfig, ...]:
    """Every width x depth pair of the default grid, largest first (12 students)."""
    return tuple(
        student_config(widths, blocks) for widths in DEFAULT_WIDTHS for blocks in DEFAULT_BLOCKS
    )


def parse_widths(text: str) -> tuple[int, int, int]:
    """``"16,32,64"`` -> (16, 32, 64); InvalidInputError naming the problem otherwise."""
    parts = [p.strip() for p in text.replace("/", ",").split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError as exc:
        raise InvalidInputError(
            f"widths {text!r} must be three integers separated by commas, e.g. 16,32,64"
        ) from exc
    if len(values) != 3 or min(values) <= 0:
        raise InvalidInputError(
            f"widths {text!r} must be three positive integers separated by commas, e.g. 16,32,64"
        )
    return values[0], values[1], values[2]


def start_at_mean(student: nn.Module, mean_rgb: torch.Tensor) -> None:
    """Start the student's output layer at the target's mean colour, not at ~0.

    A fresh TransformerNet outputs values near 0 on the 0..255 scale; from there Adam
    spends hundreds of steps just reaching the right brightness, and SSIM's luminance
    term is flat near 0. Starting the bias at the mean skips that.
    """
    with torch.no_grad():
        student.deconv3.conv2d.bias.copy_(mean_rgb.to(student.deconv3.conv2d.bias))


def teacher_mean_rgb(
    teacher: nn.Module, frames: Sequence[Path], *, side: int = 128, count: int = 4
) -> torch.Tensor:
    """Mean RGB (0..255) of the teacher's output on up to ``count`` frames at ``side`` px:
    cheap (a few small forward passes) and close to the mean at full resolution."""
    from stylebridge.frames import load_image, resize

    if not frames:
        raise InvalidInputError("no frames to measure the teacher's mean colour on")
    means = []
    with torch.no_grad():
        for path in list(frames)[:count]:
            rgb = resize(load_image(path), (side, side))
            x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float()
            means.append(teacher(x).clamp(0.0, 255.0).mean(dim=(0, 2, 3)))
    return torch.stack(means).mean(dim=0)
