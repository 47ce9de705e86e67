"""Distillation losses: pixel agreement plus SSIM, differentiable, in plain torch.

No VGG and nothing downloaded: a student learns the teacher's *output*, so the
target is the picture itself. L1 (or L2) keeps colours right; SSIM (Wang et al.
2004) keeps local structure (edges, texture contrast) that a pixel loss averages
away. Both work on images scaled to 0..1. See ``stylebridge.optimize.distill`` for
how they are combined.
"""

from __future__ import annotations

from enum import StrEnum

import torch
import torch.nn.functional as F

from stylebridge.evaluate.ssim import ssim_tensor


class PixelLoss(StrEnum):
    """The per-pixel term of the distillation loss."""

    L1 = "l1"  # mean absolute error: robust to the teacher's rare extreme pixels
    L2 = "l2"  # mean squared error: what PSNR measures


# One SSIM for the whole project (``evaluate.ssim``): the loss and the catalog agree.
ssim = ssim_tensor


def distill_loss(
    prediction: torch.Tensor,
    target: torch.Tensor,
    *,
    pixel: PixelLoss = PixelLoss.L1,
    ssim_weight: float = 0.5,
) -> torch.Tensor:
    """``pixel(prediction, target) + ssim_weight * (1 - SSIM)`` on 0..1 images."""
    if pixel is PixelLoss.L1:
        loss = F.l1_loss(prediction, target)
    else:
        loss = F.mse_loss(prediction, target)
    if ssim_weight > 0:
        # SSIM of the displayable picture: out-of-range values are clamped, so SSIM cannot
        # push a channel below 0 (where its luminance term is flat); L1 pulls it back.
        loss = loss + ssim_weight * (1.0 - ssim(prediction.clamp(0.0, 1.0), target))
    return loss
