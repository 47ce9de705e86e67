"""Structural similarity (SSIM) as defined by Wang, Bovik, Sheikh and Simoncelli (2004).

Gaussian window 11x11 with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over the *valid*
window positions (the paper's MATLAB code, ``filter2(..., 'valid')``), on each channel,
averaged. One implementation, in torch so that it is differentiable: distillation's
loss (``optimize.losses``, images in 0..1) and the catalog's fidelity (``ssim`` below,
uint8 frames, L = 255, computed in float64) both call ``ssim_map``, so "SSIM >= 0.90"
means the same number everywhere.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from stylebridge.errors import InvalidInputError

WINDOW = 11
SIGMA = 1.5
K1 = 0.01
K2 = 0.03


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> np.ndarray:
    """The normalized 2-D Gaussian weights (sums to 1)."""
    axis = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(axis**2) / (2.0 * sigma * sigma))
    g /= g.sum()
    return np.outer(g, g)


def _window_1d(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
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
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    data_range: float = 1.0,
    window_size: int = WINDOW,
    sigma: float = SIGMA,
) -> torch.Tensor:
    """Per-position SSIM of two N x C x H x W images (valid region only).

    Differentiable in both arguments. Images smaller than the window are compared
    with a window shrunk to fit. Raises ValueError for different or non-4-D shapes.
    """
    if a.shape != b.shape or a.dim() != 4:
        raise ValueError(f"ssim needs two N x C x H x W tensors of one shape: {a.shape}, {b.shape}")
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    size = min(window_size, a.shape[2], a.shape[3])
    window = _window_1d(size, sigma, a.shape[1], a)
    mu_a, mu_b = _blur(a, window), _blur(b, window)
    aa = _blur(a * a, window) - mu_a * mu_a
    bb = _blur(b * b, window) - mu_b * mu_b
    ab = _blur(a * b, window) - mu_a * mu_b
    numerator = (2.0 * mu_a * mu_b + c1) * (2.0 * ab + c2)
    denominator = (mu_a * mu_a + mu_b * mu_b + c1) * (aa + bb + c2)
    return numerator / denominator


def ssim_tensor(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of two N x C x H x W images in 0..1 (1 = identical); a scalar tensor."""
    return ssim_map(a, b).mean()


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM of two same-shape images, H x W or H x W x C (channels averaged).

    1.0 for identical images. Raises InvalidInputError for different shapes or images
    smaller than the 11x11 window.
    """
    if a.shape != b.shape:
        raise InvalidInputError(f"cannot compare images of shapes {a.shape} and {b.shape}; "
                                "resize one to the other first")
    if a.ndim not in (2, 3) or min(a.shape[:2]) < WINDOW:
        raise InvalidInputError(f"SSIM needs H x W (x C) images of at least {WINDOW}x{WINDOW} "
                                f"pixels, got shape {a.shape}")
    if not data_range > 0:
        raise InvalidInputError(f"data_range must be > 0, got {data_range}")

    def nchw(image: np.ndarray) -> torch.Tensor:
        planes = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
        return torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float64))[None]

    with torch.no_grad():
        # Channels averaged after each one's mean: equal sizes make it the overall mean.
        return float(ssim_map(nchw(a), nchw(b), data_range=data_range).mean())
