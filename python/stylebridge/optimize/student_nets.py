"""Student shapes built for latency: where the time goes, not only how many FLOPs.

A TransformerNet spends most of its memory traffic at full resolution (the 9x9 first
and last convolutions, 32 channels at every pixel) and most of its FLOPs in the
residual blocks at 1/4 resolution. :class:`StudentShape` varies exactly those parts:

- ``widths``: one width per resolution level. Three widths: the teacher's layout
  (full, 1/2, 1/4). Four widths: a deeper encoder with one more stride-2 level
  (residual blocks run at 1/8 resolution, a quarter of the pixels).
- ``depthwise``: residual blocks made of depthwise 3x3 (``group = channels``, which
  Barracuda imports as DepthwiseConv2D) then pointwise 1x1 convolutions.
- ``end_kernel``: the first and last kernel (9 in the teacher); 5 or 3 cut the
  full-resolution cost by 3x or 9x.

Every layer is one the engines already run (reflection Pad, Conv, InstanceNorm, Relu,
nearest Upsample, Add), so a shape exports at opset 9 like the teacher. The network
also returns two intermediate activations at 1/4 resolution, for hint losses: the
encoder's output at 1/4 and the decoder's input at 1/4 (after the residual blocks).
"""

from __future__ import annotations

from typing import Annotated

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import nn

from stylebridge.models.transformer_net import ConvLayer, ResidualBlock, UpsampleConvLayer


class StudentShape(BaseModel):
    """One student architecture; its ``name`` is a stable id for catalogs and reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    widths: tuple[int, ...] = (16, 32, 64)
    residual_blocks: Annotated[int, Field(ge=0, le=16)] = 3
    depthwise: bool = False
    end_kernel: Annotated[int, Field(ge=1, le=9)] = 9

    @field_validator("widths")
    @classmethod
    def _levels(cls, widths: tuple[int, ...]) -> tuple[int, ...]:
        if len(widths) not in (3, 4) or min(widths) < 1:
            raise ValueError("widths must be 3 or 4 positive integers (one per resolution)")
        return widths

    @field_validator("end_kernel")
    @classmethod
    def _odd(cls, kernel: int) -> int:
        if kernel % 2 == 0:
            raise ValueError("end_kernel must be odd (3, 5, 7, 9)")
        return kernel

    @property
    def levels(self) -> int:
        """Resolution levels: 3 (down to 1/4) or 4 (down to 1/8)."""
        return len(self.widths)

    @property
    def name(self) -> str:
        w = "-".join(str(x) for x in self.widths)
        dw = "dw" if self.depthwise else ""
        k = "" if self.end_kernel == 9 else f"-k{self.end_kernel}"
        return f"s{w}-r{self.residual_blocks}{dw}{k}"


class DepthwiseResidualBlock(nn.Module):
    """The residual block with each 3x3 conv split into depthwise 3x3 + pointwise 1x1."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dw1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.dw1.conv2d = nn.Conv2d(channels, channels, 3, 1, groups=channels)
        self.pw1 = nn.Conv2d(channels, channels, 1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.dw2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.dw2.conv2d = nn.Conv2d(channels, channels, 3, 1, groups=channels)
        self.pw2 = nn.Conv2d(channels, channels, 1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.in1(self.pw1(self.dw1(x))))
        return self.in2(self.pw2(self.dw2(out))) + x


class StudentNet(nn.Module):
    """Encoder (stride-2 levels), residual blocks, decoder (nearest x2 + conv), head.

    With three widths and ``end_kernel`` 9 and dense blocks, this is the teacher's
    network, narrower; layer order matches so teacher weights can seed it.
    """

    def __init__(self, shape: StudentShape) -> None:
        super().__init__()
        self.shape = shape
        w = shape.widths
        k = shape.end_kernel
        self.stem = ConvLayer(3, w[0], kernel_size=k, stride=1)
        self.stem_norm = nn.InstanceNorm2d(w[0], affine=True)
        self.down = nn.ModuleList(ConvLayer(w[i], w[i + 1], 3, 2) for i in range(len(w) - 1))
        self.down_norm = nn.ModuleList(nn.InstanceNorm2d(c, affine=True) for c in w[1:])
        block = DepthwiseResidualBlock if shape.depthwise else ResidualBlock
        self.blocks = nn.ModuleList(block(w[-1]) for _ in range(shape.residual_blocks))
        self.up = nn.ModuleList(UpsampleConvLayer(w[i], w[i - 1], 3, 2)
                                for i in range(len(w) - 1, 0, -1))
        self.up_norm = nn.ModuleList(nn.InstanceNorm2d(c, affine=True)
                                     for c in reversed(w[:-1]))
        self.head = ConvLayer(w[0], 3, kernel_size=k, stride=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_hints(x)[0]

    def forward_with_hints(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The output and the two 1/4-resolution activations the hint losses match."""
        y = self.relu(self.stem_norm(self.stem(x)))
        encoded = y
        for index, (conv, norm) in enumerate(zip(self.down, self.down_norm, strict=True)):
            y = self.relu(norm(conv(y)))
            if index == 1:
                encoded = y  # 1/4 resolution
        for block in self.blocks:
            y = block(y)
        decoded = y
        for index, (conv, norm) in enumerate(zip(self.up, self.up_norm, strict=True)):
            if self.shape.levels == 4 and index == 1:
                decoded = y  # back at 1/4 resolution
            y = self.relu(norm(conv(y)))
        return self.head(y), [encoded, decoded]

    def hint_channels(self) -> tuple[int, int]:
        """Channels of the two hint activations (both at 1/4 resolution)."""
        w = self.shape.widths
        return w[2], w[-2] if self.shape.levels == 4 else w[-1]


def teacher_hints(teacher: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A FAST_NEURAL_STYLE TransformerNet's output plus its encoder and block outputs."""
    t = teacher
    y = t.relu(t.in1(t.conv1(x)))
    y = t.relu(t.in2(t.conv2(y)))
    encoded = t.relu(t.in3(t.conv3(y)))
    y = encoded
    for block in t.residual_layers:
        y = block(y)
    decoded = y
    y = t.relu(t.in4(t.deconv1(y)))
    y = t.relu(t.in5(t.deconv2(y)))
    return t.deconv3(y), [encoded, decoded]


def build_student(shape: StudentShape, *, seed: int = 0) -> StudentNet:
    """A freshly initialised student (PyTorch default init from ``seed``)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return StudentNet(shape)


def latency_ideas() -> tuple[StudentShape, ...]:
    """One shape per latency idea (each must export and pass barracuda-3; see tests).

    Dense 3-level (the known baseline, teacher-initialisable), the same with 5x5 ends
    (cheaper full resolution), depthwise-separable blocks with more width at 1/4
    (width is cheap there once the 3x3s are depthwise), and a 4-level encoder whose
    blocks run at 1/8 resolution.
    """
    return (
        StudentShape(widths=(16, 32, 64), residual_blocks=3),
        StudentShape(widths=(12, 32, 64), residual_blocks=3, end_kernel=5),
        StudentShape(widths=(12, 32, 96), residual_blocks=4, depthwise=True, end_kernel=5),
        StudentShape(widths=(12, 24, 64, 96), residual_blocks=3, end_kernel=5),
    )
