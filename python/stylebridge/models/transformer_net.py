"""The TransformerNet of PyTorch's ``examples/fast_neural_style``, parametrized.

Module attribute names follow the example exactly (``conv1`` … ``res1`` … ``deconv3``,
each conv's ``.conv2d``) so that published checkpoints load by name. Widths and the
number of residual blocks are parameters, because the engine-friendly variants the
project builds (pruned, distilled) are the same network, only thinner or shallower.

A second wiring, :attr:`Architecture.IN_GAME`, is the variant of the "In-Game Style
Transfer" tutorial (``ingame-small.pth``): the same layers and parameter names, but
with encoder-to-decoder skip connections and residual blocks whose input is added
twice. Its weights have exactly the shapes of the example's, so the wiring cannot be
read from a state dict: the checkpoint loader takes it from the ``resnets.N`` key
layout that only that tutorial writes, or from a config saved beside the weights.

Input and output are RGB, NCHW float32 in 0..255. Spatial sizes that are multiples
of 4 come back unchanged; other sizes come back rounded up to a multiple of 4 (two
stride-2 convolutions, two x2 upsamplings), and the IN_GAME wiring refuses them
(its skip additions need equal shapes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import torch
from torch import nn

from stylebridge.errors import InvalidInputError


class Architecture(StrEnum):
    """How the layers of a TransformerNet are wired together."""

    # pytorch/examples fast_neural_style: a plain encoder, residual blocks, decoder.
    FAST_NEURAL_STYLE = "fast-neural-style"
    # The "In-Game Style Transfer" tutorial's variant: skip connections from each
    # encoder stage into the decoder; each block's output is added to its input.
    IN_GAME = "in-game"


@dataclass(frozen=True)
class TransformerNetConfig:
    """Shape of a TransformerNet: three channel widths and the residual depth."""

    widths: tuple[int, int, int] = (32, 64, 128)
    residual_blocks: int = 5
    architecture: Architecture = Architecture.FAST_NEURAL_STYLE

    def __post_init__(self) -> None:
        widths = tuple(self.widths)
        if len(widths) != 3 or not all(
            isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths
        ):
            raise InvalidInputError(f"widths must be three positive integers, got {self.widths!r}")
        object.__setattr__(self, "widths", widths)
        blocks = self.residual_blocks
        if not isinstance(blocks, int) or isinstance(blocks, bool) or blocks < 0:
            raise InvalidInputError(
                f"residual_blocks must be an integer >= 0, got {self.residual_blocks!r}"
            )
        object.__setattr__(self, "architecture", Architecture(self.architecture))

    def describe(self) -> str:
        """A short human label, e.g. ``32/64/128 x5 (fast-neural-style)``."""
        w = "/".join(str(x) for x in self.widths)
        return f"{w} x{self.residual_blocks} ({self.architecture.value})"


class ConvLayer(nn.Module):
    """Reflection padding then a convolution: no zero borders in the output."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    """conv-IN-relu-conv-IN plus the input (He et al.; no relu after the sum)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + x


class UpsampleConvLayer(nn.Module):
    """Nearest x2 upsampling then a convolution: avoids transposed-conv checkerboards."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, upsample: int):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(nn.Module):
    """Johnson et al.'s feed-forward style network, as in PyTorch's example."""

    def __init__(self, config: TransformerNetConfig | None = None):
        super().__init__()
        self.config = config if config is not None else TransformerNetConfig()
        w1, w2, w3 = self.config.widths
        self.conv1 = ConvLayer(3, w1, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(w1, affine=True)
        self.conv2 = ConvLayer(w1, w2, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(w2, affine=True)
        self.conv3 = ConvLayer(w2, w3, kernel_size=3, stride=2)
        self.in3 = nn.InstanceNorm2d(w3, affine=True)
        for index in range(1, self.config.residual_blocks + 1):
            self.add_module(f"res{index}", ResidualBlock(w3))
        self.deconv1 = UpsampleConvLayer(w3, w2, kernel_size=3, upsample=2)
        self.in4 = nn.InstanceNorm2d(w2, affine=True)
        self.deconv2 = UpsampleConvLayer(w2, w1, kernel_size=3, upsample=2)
        self.in5 = nn.InstanceNorm2d(w1, affine=True)
        self.deconv3 = ConvLayer(w1, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    @property
    def residual_layers(self) -> list[ResidualBlock]:
        """res1 … resN in order."""
        return [getattr(self, f"res{i}") for i in range(1, self.config.residual_blocks + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.architecture is Architecture.IN_GAME:
            return self._forward_in_game(x)
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        for block in self.residual_layers:
            y = block(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)

    def _forward_in_game(self, x: torch.Tensor) -> torch.Tensor:
        c1 = self.relu(self.in1(self.conv1(x)))
        c2 = self.relu(self.in2(self.conv2(c1)))
        c3 = self.relu(self.in3(self.conv3(c2)))
        y = c3
        for block in self.residual_layers:
            y = block(y) + y
        y = self.relu(self.in4(self.deconv1(c3 + y)))
        y = self.relu(self.in5(self.deconv2(c2 + y)))
        return self.deconv3(c1 + y)


def count_parameters(model: nn.Module) -> int:
    """Number of learnable scalars (mosaic/candy: 1,679,235)."""
    return sum(p.numel() for p in model.parameters())


def untrained_model(config: TransformerNetConfig | None = None, *, seed: int = 0) -> TransformerNet:
    """A TransformerNet with PyTorch's default init from ``seed``, in eval mode.

    Deterministic without touching the global RNG, so a demo or test that uses it
    gets the same weights every run. Its output is not a style: say so wherever it
    is shown.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = TransformerNet(config)
    return model.eval()
