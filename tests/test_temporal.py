"""Temporal error: 0 for models that move with the camera, clearly above 0 for flicker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stylebridge.errors import InvalidInputError
from stylebridge.evaluate.temporal import (
    MotionSpec,
    onnx_model,
    pan_views,
    temporal_error,
    zoom_views,
)

SPEC = MotionSpec(width=96, height=56, steps=2, pan_px=8, zoom=1.05)


@pytest.fixture(scope="module")
def frames(small_frames: list[np.ndarray]) -> list[np.ndarray]:
    return small_frames[:2]


def test_pan_views_move_by_exactly_the_pan(frames: list[np.ndarray]) -> None:
    views = pan_views(frames[0], SPEC)
    assert len(views) == SPEC.steps + 1 and views[0].shape == (56, 96, 3)
    np.testing.assert_array_equal(views[1][:, :-8], views[0][:, 8:])
    assert len(zoom_views(frames[0], SPEC)) == SPEC.steps + 1


def test_models_that_commute_with_the_motion_score_zero(frames: list[np.ndarray]) -> None:
    identity = temporal_error(lambda v: v.astype(np.float32), frames, SPEC)
    assert identity.pan == 0.0 and identity.zoom == 0.0
    assert identity.pairs == 2 * 2 * SPEC.steps
    # A per-pixel colour map also commutes with the motion (zoom: up to resampling rounding).
    graded = temporal_error(lambda v: (255 - v).astype(np.float32), frames, SPEC)
    assert graded.pan == 0.0 and graded.zoom < 0.1


def test_noise_per_frame_is_flicker(frames: list[np.ndarray]) -> None:
    rng = np.random.default_rng(0)

    def flicker(view: np.ndarray) -> np.ndarray:
        return view.astype(np.float32) + rng.normal(0, 8, view.shape)

    error = temporal_error(flicker, frames, SPEC)
    assert error.pan > 4.0 and error.zoom > 4.0  # ~ 8 * 2 / sqrt(pi) before clamping


def test_the_teacher_is_measured_and_flickers_less_than_noise(
        models_dir: Path, frames: list[np.ndarray]) -> None:
    teacher = temporal_error(onnx_model(models_dir / "mosaic.onnx"), frames[:1], SPEC)
    assert 0.0 < teacher.mean < 60.0


def test_bad_motion_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="overlap"):
        MotionSpec(width=32, pan_px=16, steps=2)
    with pytest.raises(InvalidInputError):
        temporal_error(lambda v: v, [], SPEC)
