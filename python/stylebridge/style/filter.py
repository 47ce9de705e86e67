"""The classical filter the built-in style imitates: "sunset ink", a poster look.

Three steps, all in OpenCV and numpy, all smooth functions of the picture (a network
can learn them): the luminance is smoothed with an edge-preserving filter (recursive
domain transform), which flattens textures into painted areas; it is mapped onto a
fixed five-colour ramp (night blue, purple, coral, amber, cream), so every picture
comes out in the same palette; and a difference of Gaussians on the original
luminance draws dark ink lines where it has edges. The palette is what makes it
learnable by a TransformerNet: its InstanceNorms discard each picture's absolute
colours, so a filter that kept them could only be approximated. Deterministic.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from stylebridge.frames import check_rgb

SMOOTH_SIGMA_S = 30.0  # spatial extent of the smoothing, pixels
SMOOTH_SIGMA_R = 0.3  # edges stronger than this (0..1 grey distance) are kept
# Luminance 0 -> first colour, 1 -> last, linear in between (RGB).
PALETTE = np.array(
    [[20, 24, 82], [128, 40, 140], [238, 96, 80], [255, 200, 90], [255, 250, 220]],
    dtype=np.float32,
)
LINE_SIGMAS = (1.0, 2.0)  # the two Gaussians of the DoG, pixels
LINE_CONTRAST = 6.0  # DoG grey levels that make a fully black line


def ink_filter(rgb: np.ndarray) -> np.ndarray:
    """The "sunset ink" stylization of an H x W x 3 uint8 RGB picture (same shape)."""
    check_rgb(rgb)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    smooth = (
        cv2.edgePreservingFilter(
            cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB),
            flags=cv2.RECURS_FILTER,
            sigma_s=SMOOTH_SIGMA_S,
            sigma_r=SMOOTH_SIGMA_R,
        )[..., 0].astype(np.float32)
        / 255.0
    )
    position = smooth * (len(PALETTE) - 1)
    index = np.clip(position.astype(np.int64), 0, len(PALETTE) - 2)
    t = (position - index)[..., None]
    colour = PALETTE[index] * (1.0 - t) + PALETTE[index + 1] * t
    luma = grey.astype(np.float32)
    fine, coarse = LINE_SIGMAS
    dog = cv2.GaussianBlur(luma, (0, 0), fine) - cv2.GaussianBlur(luma, (0, 0), coarse)
    ink = np.clip(1.0 + dog / LINE_CONTRAST, 0.0, 1.0)  # 1: paper, 0: black line
    return np.clip(colour * ink[..., None] + 0.5, 0, 255).astype(np.uint8)


class FilterTeacher(nn.Module):
    """The filter as a "teacher" module: N x 3 x H x W RGB 0..255 in and out.

    Lets :func:`stylebridge.optimize.distill.distill` train a network on the filter's
    output exactly as it distills one network into another. Not differentiable (it
    never needs to be: teachers run under no_grad).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = x.detach().clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()
        out = np.stack([ink_filter(np.ascontiguousarray(img)) for img in images.numpy()])
        return torch.from_numpy(out).permute(0, 3, 1, 2).to(x.device, torch.float32)
