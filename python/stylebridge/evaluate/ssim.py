"""Structural similarity (SSIM) as defined by Wang, Bovik, Sheikh and Simoncelli (2004).

Gaussian window 11x11 with sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, statistics over
the *valid* window positions (the paper's MATLAB code, ``filter2(..., 'valid')``), on
each RGB channel, averaged. Distill and the catalog both use it, so "SSIM >= 0.90" means
the same number everywhere. Written with OpenCV (scikit-image is not a dependency).
"""

from __future__ import annotations

import cv2
import numpy as np

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


def _valid_filter(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    full = cv2.filter2D(image, cv2.CV_64F, window, borderType=cv2.BORDER_REFLECT)
    r = window.shape[0] // 2
    return full[r:-r, r:-r]


def ssim_map(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> np.ndarray:
    """The per-position SSIM of two single-channel images (valid window positions)."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    window = gaussian_window()
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = _valid_filter(x, window), _valid_filter(y, window)
    xx = _valid_filter(x * x, window) - mu_x * mu_x
    yy = _valid_filter(y * y, window) - mu_y * mu_y
    xy = _valid_filter(x * y, window) - mu_x * mu_y
    num = (2.0 * mu_x * mu_y + c1) * (2.0 * xy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (xx + yy + c2)
    return num / den


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
    if a.ndim == 2:
        return float(ssim_map(a, b, data_range).mean())
    return float(np.mean([ssim_map(a[..., c], b[..., c], data_range).mean()
                          for c in range(a.shape[2])]))
