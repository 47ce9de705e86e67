"""How close a stylized frame is to a reference: PSNR, used for the engine/Python parity check."""

from __future__ import annotations

import numpy as np

from stylebridge.errors import InvalidInputError


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB between two same-shape images; ``inf`` when identical.

    Computed in float64 so uint8 inputs cannot wrap around. Raises InvalidInputError
    when shapes differ, an image is empty, or ``data_range`` is not positive.
    """
    if a.shape != b.shape:
        raise InvalidInputError(
            f"cannot compare images of shapes {a.shape} and {b.shape}; "
            "resize one to the other first"
        )
    if a.size == 0:
        raise InvalidInputError("cannot compute PSNR of empty images")
    if not data_range > 0:
        raise InvalidInputError(f"data_range must be > 0, got {data_range}")
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range * data_range / mse))
