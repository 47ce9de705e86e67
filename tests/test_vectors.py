"""The shared Core vectors (tests/vectors/frame_packing.json, timing_stats.json) on the
Python side. The C# Runtime/Core runs the same files under `make unity-check`; a change
on either side that the other does not follow fails one of the two."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from stylebridge.errors import InvalidInputError
from stylebridge.frames import PixelFormat, flip_rows, pack_texture, unpack_pixels
from stylebridge.timing import RateMeter, TimingWindow

REPO = Path(__file__).resolve().parent.parent
VECTORS = REPO / "tests" / "vectors"


def _load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_core_vectors", REPO / "tools/make_core_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_core_vectors"] = module
    spec.loader.exec_module(module)
    return module


FRAMES = _load("frame_packing.json")
TIMING = _load("timing_stats.json")


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


def test_committed_vectors_are_current(tmp_path: Path) -> None:
    gen = _generator()
    assert gen.main(["--check"]) == 0, "run python tools/make_core_vectors.py"
    # And --check really compares: a changed copy is reported stale.
    assert gen.main(["--out", str(tmp_path)]) == 0
    (tmp_path / "timing_stats.json").write_text("{}\n")
    assert gen.main(["--check", "--out", str(tmp_path)]) == 1


def test_vector_files_are_substantial() -> None:
    assert len(FRAMES["pack"]) >= 6 and len(FRAMES["unpack"]) >= 4 and len(FRAMES["errors"]) >= 4
    assert len(TIMING["cases"]) >= 10 and len(TIMING["percentiles"]) >= 4
    assert len(TIMING["rates"]) >= 3
    formats = {c["format"] for c in FRAMES["pack"]}
    assert formats == {"RGB8", "RGBA8"}
    assert any(c["row_stride"] > c["width"] * 3 for c in FRAMES["pack"] if c["format"] == "RGB8")
    assert any(not c["bottom_up"] for c in FRAMES["pack"])


@pytest.mark.parametrize("case", FRAMES["pack"], ids=_ids(FRAMES["pack"]))
def test_pack_vector(case: dict[str, Any]) -> None:
    width, height, stride = case["width"], case["height"], case["row_stride"]
    fmt = PixelFormat[case["format"]]
    rgba = np.frombuffer(bytes.fromhex(case["rgba32_hex"]), np.uint8).reshape(height, width, 4)
    wire = bytes.fromhex(case["wire_hex"])
    assert pack_texture(rgba, fmt, stride, bottom_up=case["bottom_up"]) == wire
    # What the server reads from those bytes is the texture's RGB, top row first.
    expected = flip_rows(rgba) if case["bottom_up"] else rgba
    np.testing.assert_array_equal(
        unpack_pixels(wire, width, height, fmt, stride), expected[:, :, :3]
    )
    row_bytes = width * fmt.bytes_per_pixel
    padding = [wire[y * stride + row_bytes : (y + 1) * stride] for y in range(height)]
    assert all(p == bytes(len(p)) for p in padding), "padding bytes must be zero"


@pytest.mark.parametrize("case", FRAMES["unpack"], ids=_ids(FRAMES["unpack"]))
def test_unpack_vector(case: dict[str, Any]) -> None:
    width, height = case["width"], case["height"]
    wire = bytes.fromhex(case["wire_hex"])
    rgb = unpack_pixels(wire, width, height, PixelFormat[case["format"]], case["row_stride"])
    assert np.ascontiguousarray(rgb).tobytes().hex() == case["rgb24_top_down_hex"]
    bottom_up = np.ascontiguousarray(flip_rows(rgb))
    assert bottom_up.tobytes().hex() == case["rgb24_bottom_up_hex"]
    rgba = bytes.fromhex(case["rgba32_bottom_up_hex"])
    assert rgba[3::4] == b"\xff" * (width * height)
    assert (
        bytes(np.frombuffer(rgba, np.uint8).reshape(-1, 4)[:, :3].tobytes()) == bottom_up.tobytes()
    )


@pytest.mark.parametrize("case", FRAMES["errors"], ids=_ids(FRAMES["errors"]))
def test_unpack_error_vector(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError) as info:
        unpack_pixels(
            bytes(case["byte_count"]),
            case["width"],
            case["height"],
            PixelFormat[case["format"]],
            case["row_stride"],
        )
    assert case["error_contains"] in str(info.value).lower()


def _sample(value: float | str) -> float:
    return float(value) if isinstance(value, str) else value


@pytest.mark.parametrize("case", TIMING["cases"], ids=_ids(TIMING["cases"]))
def test_timing_vector(case: dict[str, Any]) -> None:
    window = TimingWindow(case["window"])
    for value in case["samples"]:
        window.add(_sample(value))
    summary = window.summary()
    expect = case["expect"]
    assert summary.count == expect["count"]
    assert summary.total_count == expect["total_count"]
    for field in ("mean_ms", "p50_ms", "p90_ms", "p99_ms", "last_ms"):
        assert math.isclose(getattr(summary, field), expect[field], rel_tol=1e-12), field


@pytest.mark.parametrize("case", TIMING["percentiles"], ids=_ids(TIMING["percentiles"]))
def test_percentile_vector(case: dict[str, Any]) -> None:
    got = np.percentile(np.asarray(case["values"], dtype=np.float64), case["percents"])
    assert [float(v) for v in got] == case["expected"]


@pytest.mark.parametrize("case", TIMING["rates"], ids=_ids(TIMING["rates"]))
def test_rate_vector(case: dict[str, Any]) -> None:
    meter = RateMeter(case["window_s"])
    for tick in case["ticks"]:
        meter.tick(tick)
    for now, expected in case["queries"]:
        assert math.isclose(meter.rate(now), expected, rel_tol=1e-12), now
    assert meter.total == case["total"]


def test_pack_texture_round_trips_through_unpack() -> None:
    rgba = np.random.default_rng(5).integers(0, 256, size=(6, 5, 4), dtype=np.uint8)
    for fmt in PixelFormat:
        stride = 5 * fmt.bytes_per_pixel + 3
        wire = pack_texture(rgba, fmt, stride)
        assert len(wire) == stride * 6
        np.testing.assert_array_equal(unpack_pixels(wire, 5, 6, fmt, stride), rgba[::-1, :, :3])
    tight = pack_texture(rgba, PixelFormat.RGBA8, 20, bottom_up=False)
    assert tight == rgba.tobytes(), "RGBA8, tight, top-down is the texture itself (alpha kept)"


@pytest.mark.parametrize(
    ("array", "fmt", "stride", "message"),
    [
        (np.zeros((2, 3, 3), np.uint8), PixelFormat.RGB8, 9, "RGBA array"),
        (np.zeros((2, 3, 4), np.float32), PixelFormat.RGB8, 9, "RGBA array"),
        (np.zeros((2, 3, 4), np.uint8), PixelFormat.RGB8, 8, "row stride 8 is shorter"),
        (np.zeros((0, 3, 4), np.uint8), PixelFormat.RGBA8, 12, "is invalid"),
        (np.zeros((2, 3, 4), np.uint8), 7, 12, "unknown pixel format"),
    ],
)
def test_pack_texture_rejects_bad_input(
    array: np.ndarray, fmt: PixelFormat | int, stride: int, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        pack_texture(array, fmt, stride)
