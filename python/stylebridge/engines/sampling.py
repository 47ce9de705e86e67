"""Which input pixel nearest-neighbour resizing reads, per the ONNX Resize formulas.

Barracuda ignores ``coordinate_transformation_mode`` and ``nearest_mode`` and
always reads input ``floor(i / scale)`` for output ``i`` (asymmetric + floor). For
an integer upscale factor several ONNX mode pairs land on exactly the same pixels
(half_pixel with any rounding mode except floor/ceil, for example), so "ignored"
is not always "different". These functions decide that exactly, with fractions,
for a range of input sizes so that clamping at the borders is covered too.
"""

from __future__ import annotations

import math
from fractions import Fraction

COORDINATE_MODES = frozenset({
    "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
    "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize",
})
NEAREST_MODES = frozenset({"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})

_SIZES_CHECKED = range(1, 9)
_HALF = Fraction(1, 2)


def source_coordinate(mode: str, i: int, scale: Fraction, in_size: int) -> Fraction | None:
    """x_original for output index ``i``; None for modes that need more (roi)."""
    out_size = math.floor(in_size * scale)
    if mode in ("half_pixel", "half_pixel_symmetric"):
        # half_pixel_symmetric only differs when out_size != in_size * scale.
        return (i + _HALF) / scale - _HALF
    if mode == "pytorch_half_pixel":
        return (i + _HALF) / scale - _HALF if out_size > 1 else Fraction(0)
    if mode == "align_corners":
        return Fraction(i * (in_size - 1), out_size - 1) if out_size > 1 else Fraction(0)
    if mode == "asymmetric":
        return i / scale
    if mode == "tf_half_pixel_for_nn":
        return (i + _HALF) / scale
    return None


def round_nearest(x: Fraction, mode: str) -> int:
    """ONNX nearest_mode rounding of a source coordinate."""
    low = math.floor(x)
    if mode == "floor":
        return low
    if mode == "ceil":
        return math.ceil(x)
    frac = x - low
    if frac == _HALF:
        return low if mode == "round_prefer_floor" else low + 1
    return low if frac < _HALF else low + 1


def nearest_index(coord_mode: str, nearest_mode: str, i: int, scale: int,
                  in_size: int) -> int | None:
    """The input index ONNX nearest resizing reads for output ``i``, clamped."""
    x = source_coordinate(coord_mode, i, Fraction(scale), in_size)
    if x is None:
        return None
    return min(max(round_nearest(x, nearest_mode), 0), in_size - 1)


def first_mismatch(coord_mode: str, nearest_mode: str, scale: int) -> tuple[int, int, int] | None:
    """Where ONNX sampling differs from Barracuda's floor(i/scale) for integer ``scale``.

    Returns (output index, ONNX input index, Barracuda input index) for the first
    difference over input sizes 1..8, or None when every pixel is identical.
    Raises ValueError for modes this module cannot evaluate.
    """
    if coord_mode not in COORDINATE_MODES or nearest_mode not in NEAREST_MODES:
        raise ValueError(f"unknown resize modes {coord_mode!r}/{nearest_mode!r}")
    if scale < 1:
        raise ValueError(f"integer upscale factor expected, got {scale}")
    for in_size in _SIZES_CHECKED:
        for i in range(in_size * scale):
            onnx_index = nearest_index(coord_mode, nearest_mode, i, scale, in_size)
            if onnx_index is None:
                raise ValueError(f"{coord_mode!r} depends on the roi input")
            barracuda_index = min(i // scale, in_size - 1)
            if onnx_index != barracuda_index:
                return i, onnx_index, barracuda_index
    return None
