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

# Wang et al.'s constants for a data range of 1: (0.01 L)^2 and (0.03 L)^2.
_C1 = 0.01**2
_C2 = 0.03**2


class PixelLoss(StrEnum):
    """The per-pixel term of the distillation loss."""

    L1 = "l1"  # mean absolute error: robust to the teacher's rare extreme pixels
    L2 = "l2"  # mean squared error: what PSNR measures


def _gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2.0
    g = torch.exp(-(coords**2) / (2.0 * sigma * sigma))
    g = g / g.sum()
    return g.expand(channels, 1, 1, size)


def _blur(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter, per channel, without padding (borders are not invented)."""
    channels = x.shape[1]
    x = F.conv2d(x, window, groups=channels)
    return F.conv2d(x, window.transpose(2, 3), groups=channels)


def ssim_map(
    a: torch.Tensor, b: torch.Tensor, *, window_size: int = 11, sigma: float = 1.5
) -> torch.Tensor:
    """Per-pixel SSIM of two N x C x H x W images in 0..1 (valid region only).

    The standard Gaussian-windowed SSIM (11 x 11, sigma 1.5), computed per channel.
    Differentiable in both arguments. Images smaller than the window are compared
    with a window shrunk to fit.
    """
    if a.shape != b.shape or a.dim() != 4:
        raise ValueError(f"ssim needs two N x C x H x W tensors of one shape: {a.shape}, {b.shape}")
    size = min(window_size, a.shape[2], a.shape[3])
    window = _gaussian_window(size, sigma, a.shape[1], a)
    mu_a, mu_b = _blur(a, window), _blur(b, window)
    aa = _blur(a * a, window) - mu_a * mu_a
    bb = _blur(b * b, window) - mu_b * mu_b
    ab = _blur(a * b, window) - mu_a * mu_b
    numerator = (2.0 * mu_a * mu_b + _C1) * (2.0 * ab + _C2)
    denominator = (mu_a * mu_a + mu_b * mu_b + _C1) * (aa + bb + _C2)
    return numerator / denominator


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM over batch, channels and pixels (1 = identical); a scalar tensor."""
    return ssim_map(a, b).mean()


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
