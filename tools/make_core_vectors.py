"""Write tests/vectors/frame_packing.json and timing_stats.json from the Python implementations.

Why: the Unity package's Runtime/Core re-implements frame packing (stylebridge.frames) and
timing statistics (stylebridge.timing) in C#. Both languages run these files (the C# NUnit
tests under `make unity-check`, tests/test_vectors.py under pytest), so a drift on either
side fails a test. Expected values come from running the Python code below; the inputs are
fixed (seeded), so the output is byte-identical on every run and `--check` is meaningful.

Usage:
    python tools/make_core_vectors.py            # writes both files
    python tools/make_core_vectors.py --check    # exit 1 when a committed file differs

Non-finite timing samples are written as the strings "NaN", "Infinity", "-Infinity"
(JSON has no such numbers); the stats must ignore them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from stylebridge.errors import InvalidInputError
from stylebridge.frames import PixelFormat, flip_rows, pack_texture, unpack_pixels
from stylebridge.timing import RateMeter, TimingWindow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vector_files import write_or_check

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors"
FRAME_FILE = "frame_packing.json"
TIMING_FILE = "timing_stats.json"
PERCENTS = (0.0, 1.0, 25.0, 33.3, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0)


def _texture(width: int, height: int, seed: int) -> np.ndarray:
    """A random RGBA texture whose alpha varies (so a side that drops or forces it shows)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(height, width, 4), dtype=np.uint8)


def _pack_case(
    name: str, width: int, height: int, fmt: PixelFormat, stride: int, *, bottom_up: bool, seed: int
) -> dict[str, Any]:
    rgba = _texture(width, height, seed)
    return {
        "name": name,
        "width": width,
        "height": height,
        "format": fmt.name,
        "row_stride": stride,
        "bottom_up": bottom_up,
        "rgba32_hex": rgba.tobytes().hex(),
        "wire_hex": pack_texture(rgba, fmt, stride, bottom_up=bottom_up).hex(),
    }


def _unpack_case(
    name: str, width: int, height: int, fmt: PixelFormat, stride: int, *, seed: int
) -> dict[str, Any]:
    """Wire bytes with random padding (a reader must skip it) -> the textures Unity loads."""
    rng = np.random.default_rng(seed)
    wire = rng.integers(0, 256, size=stride * height, dtype=np.uint8).tobytes()
    rgb_top_down = unpack_pixels(wire, width, height, fmt, stride)
    rgb_bottom_up = np.ascontiguousarray(flip_rows(rgb_top_down))
    rgba = np.full((height, width, 4), 255, dtype=np.uint8)
    rgba[:, :, :3] = rgb_bottom_up
    return {
        "name": name,
        "width": width,
        "height": height,
        "format": fmt.name,
        "row_stride": stride,
        "wire_hex": wire.hex(),
        "rgba32_bottom_up_hex": rgba.tobytes().hex(),
        "rgb24_bottom_up_hex": rgb_bottom_up.tobytes().hex(),
        "rgb24_top_down_hex": np.ascontiguousarray(rgb_top_down).tobytes().hex(),
    }


def _error_case(
    name: str,
    width: int,
    height: int,
    fmt: PixelFormat,
    stride: int,
    byte_count: int,
    contains: str,
) -> dict[str, Any]:
    """An unpack both sides must refuse, with a message containing ``contains``."""
    try:
        unpack_pixels(bytes(byte_count), width, height, fmt, stride)
    except InvalidInputError as exc:
        assert contains in str(exc).lower(), (name, str(exc))
    else:
        raise AssertionError(f"{name}: unpack_pixels accepted it")
    return {
        "name": name,
        "width": width,
        "height": height,
        "format": fmt.name,
        "row_stride": stride,
        "byte_count": byte_count,
        "error_contains": contains,
    }


def frame_vectors() -> dict[str, Any]:
    rgb8, rgba8 = PixelFormat.RGB8, PixelFormat.RGBA8
    pack = [
        _pack_case("RGB8 tight, bottom-up 3x2", 3, 2, rgb8, 9, bottom_up=True, seed=1),
        _pack_case(
            "RGBA8 tight, bottom-up 3x2 keeps alpha", 3, 2, rgba8, 12, bottom_up=True, seed=2
        ),
        _pack_case("RGB8 stride padded to 4 bytes, 5x3", 5, 3, rgb8, 16, bottom_up=True, seed=3),
        _pack_case(
            "RGBA8 stride with 8 bytes padding, 2x4", 2, 4, rgba8, 16, bottom_up=True, seed=4
        ),
        _pack_case("RGB8 top-down source (no flip), 4x3", 4, 3, rgb8, 12, bottom_up=False, seed=5),
        _pack_case("single row is its own flip, 7x1", 7, 1, rgb8, 21, bottom_up=True, seed=6),
        _pack_case("single column, 1x5 RGBA8 padded", 1, 5, rgba8, 8, bottom_up=True, seed=7),
        _pack_case("RGB8 16x9 odd stride 50", 16, 9, rgb8, 50, bottom_up=True, seed=8),
    ]
    unpack = [
        _unpack_case("RGB8 tight 3x2", 3, 2, rgb8, 9, seed=11),
        _unpack_case("RGB8 padded rows 5x3 stride 16", 5, 3, rgb8, 16, seed=12),
        _unpack_case("RGBA8 tight 2x2 (alpha ignored)", 2, 2, rgba8, 8, seed=13),
        _unpack_case("RGBA8 padded 3x4 stride 20", 3, 4, rgba8, 20, seed=14),
        _unpack_case("RGB8 1x1", 1, 1, rgb8, 3, seed=15),
    ]
    errors = [
        _error_case("stride shorter than a row", 4, 2, rgb8, 11, 22, "row stride"),
        _error_case("too few bytes", 4, 2, rgb8, 12, 23, "pixel bytes"),
        _error_case("too many bytes", 2, 2, rgba8, 8, 17, "pixel bytes"),
        _error_case("zero width", 0, 2, rgb8, 0, 0, "invalid"),
        _error_case("zero height", 2, 0, rgba8, 8, 0, "invalid"),
    ]
    return {
        "version": 1,
        "generator": "tools/make_core_vectors.py (stylebridge.frames)",
        "pack": pack,
        "unpack": unpack,
        "errors": errors,
    }


def _sample_json(value: float) -> float | str:
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def _timing_case(name: str, window: int, samples: list[float]) -> dict[str, Any]:
    stats = TimingWindow(window)
    for sample in samples:
        stats.add(sample)
    summary = stats.summary()
    return {
        "name": name,
        "window": window,
        "samples": [_sample_json(s) for s in samples],
        "expect": {
            "count": summary.count,
            "mean_ms": summary.mean_ms,
            "p50_ms": summary.p50_ms,
            "p90_ms": summary.p90_ms,
            "p99_ms": summary.p99_ms,
            "last_ms": summary.last_ms,
            "total_count": summary.total_count,
        },
    }


def _lognormal(seed: int, count: int, median_ms: float) -> list[float]:
    """Frame-time-like samples: log-normal around ``median_ms``, rounded to 1 us."""
    rng = np.random.default_rng(seed)
    return [round(float(v), 3) for v in median_ms * rng.lognormal(0.0, 0.35, size=count)]


def _one_sided_lerp(values: list[float], percent: float) -> float:
    """The textbook a + (b - a) * t, which numpy does NOT use for t >= 0.5."""
    ordered = sorted(values)
    index = (len(ordered) - 1) * (percent / 100.0)
    if index >= len(ordered) - 1:
        return ordered[-1]
    low = math.floor(index)
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (index - low)


def _lerp_sensitive_set(seed: int) -> list[float]:
    """The first seeded sample set whose p99 differs in the last bit between numpy's
    two-sided lerp and the one-sided formula: an implementation that takes the shortcut
    fails on it (the ordinary sets cannot tell the two apart)."""
    rng = np.random.default_rng(seed)
    for _ in range(10_000):
        size = int(rng.integers(2, 8))
        values = [round(float(v), 3) for v in 12.0 * rng.lognormal(0.0, 0.35, size=size)]
        if float(np.percentile(values, 99.0)) != _one_sided_lerp(values, 99.0):
            return values
    raise AssertionError("no lerp-sensitive sample set found; change the seed")


def _rate_case(
    name: str, window_s: float, ticks: list[float], queries: list[float]
) -> dict[str, Any]:
    """Ticks, then rate queries at increasing times (each query trims the window, as live)."""
    meter = RateMeter(window_s)
    for tick in ticks:
        meter.tick(tick)
    return {
        "name": name,
        "window_s": window_s,
        "ticks": ticks,
        "queries": [[now, meter.rate(now)] for now in queries],
        "total": meter.total,
    }


def timing_vectors() -> dict[str, Any]:
    inf, nan = float("inf"), float("nan")
    cases = [
        _timing_case("empty", 8, []),
        _timing_case("one sample", 8, [16.5]),
        _timing_case("two samples", 8, [10.0, 20.0]),
        _timing_case("three samples, p99 interpolates near the top", 8, [3.0, 1.0, 2.0]),
        _timing_case("ties", 16, [5.0, 5.0, 5.0, 7.0, 7.0, 9.0]),
        _timing_case("non-finite samples are ignored", 8, [4.0, nan, 6.0, inf, -inf, 5.0]),
        _timing_case("window slides: only the last 5 of 12 count", 5, _lognormal(21, 12, 8.0)),
        _timing_case("window of one", 1, [9.0, 3.0, 4.5]),
        _timing_case("fractions that do not add exactly", 10, [0.1, 0.2, 0.3, 0.7, 1.1, 2.3]),
        _timing_case("100 log-normal frame times", 512, _lognormal(22, 100, 16.0)),
        _timing_case("1000 samples through a 512 window", 512, _lognormal(23, 1000, 4.0)),
        _timing_case("101 samples: p99 lands on an index", 128, _lognormal(24, 101, 30.0)),
        _timing_case("p99 where numpy's two-sided lerp matters", 8, _lerp_sensitive_set(40)),
    ]
    percentiles = []
    for index, values in enumerate(
        [
            [1.0],
            [2.0, 1.0],
            [1.0, 2.0, 3.0, 4.0],
            _lognormal(31, 37, 12.0),
            _lognormal(32, 250, 3.3),
            _lerp_sensitive_set(41),
        ]
    ):
        array = np.asarray(values, dtype=np.float64)
        percentiles.append(
            {
                "name": f"percentiles of set {index} ({len(values)} values)",
                "values": values,
                "percents": list(PERCENTS),
                "expected": [float(v) for v in np.percentile(array, PERCENTS)],
            }
        )
    jittery = np.cumsum(np.random.default_rng(51).uniform(0.010, 0.024, size=200))
    rates = [
        _rate_case("steady 30 fps", 5.0, [i / 30 for i in range(31)], [1.0, 1.5, 6.0, 7.0]),
        _rate_case("stalled stream decays", 2.0, [0.0, 0.5, 1.0], [1.0, 2.0, 2.9, 3.1]),
        _rate_case("one tick", 5.0, [3.0], [3.0, 4.0]),
        _rate_case(
            "jittery frames through a 1 s window",
            1.0,
            [round(float(t), 6) for t in jittery],
            [1.0, 2.0, float(round(jittery[-1], 6)), 4.0],
        ),
    ]
    return {
        "version": 1,
        "generator": "tools/make_core_vectors.py (stylebridge.timing, numpy.percentile)",
        "cases": cases,
        "percentiles": percentiles,
        "rates": rates,
    }


def render() -> dict[str, str]:
    """{file name: JSON text} for both vector files."""
    return {
        FRAME_FILE: json.dumps(frame_vectors(), indent=1) + "\n",
        TIMING_FILE: json.dumps(timing_vectors(), indent=1) + "\n",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    parser.add_argument("--out", type=Path, default=VECTORS, help="folder of the vector files")
    args = parser.parse_args(argv)
    return write_or_check(render(), args.out, check=args.check, tool="make_core_vectors.py")


if __name__ == "__main__":
    raise SystemExit(main())
