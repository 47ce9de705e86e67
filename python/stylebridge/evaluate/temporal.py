"""Temporal error (flicker): does the stylised picture move with the camera?

Sequences with exactly known motion are made from still frames: a camera pan (the view
slides by ``pan_px`` pixels per step over a wider strip of the frame) and a zoom (each
view is the centre of the previous one, enlarged by ``zoom`` per step). For each step
t -> t+1 the model's output at t+1 is compared with its output at t moved by the same
motion, on the region both cover (pan: all but the ``pan_px`` columns that entered the
view; zoom: the whole view). A model that commutes with the motion scores 0; a model
whose output shimmers between frames scores its mean absolute change.

The figure is the mean absolute difference on the 0..255 output scale (clamped and
rounded like a player sees it), averaged over every step of every sequence. The
teacher's own figure is the reference: it is not 0 either (its reflection padding and
InstanceNorm see a different border and a different image each step).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from stylebridge.errors import InvalidInputError

Model = Callable[[np.ndarray], np.ndarray]  # H x W x 3 uint8 -> H x W x 3 (0..255)


@dataclass(frozen=True)
class MotionSpec:
    """The test sequences: view size, steps per sequence, pan speed and zoom rate."""

    width: int = 320
    height: int = 180
    steps: int = 3
    pan_px: int = 8
    zoom: float = 1.05

    def __post_init__(self) -> None:
        if self.steps < 1 or self.pan_px < 1 or self.zoom <= 1.0:
            raise InvalidInputError("motion needs steps >= 1, pan_px >= 1 and zoom > 1")
        if self.pan_px * self.steps >= self.width:
            raise InvalidInputError(f"a pan of {self.pan_px} px x {self.steps} steps leaves no "
                                    f"overlap in a {self.width}-px view")


@dataclass(frozen=True)
class TemporalError:
    """Mean absolute change (0..255) against the moved previous output, per motion."""

    pan: float
    zoom: float
    pairs: int

    @property
    def mean(self) -> float:
        return (self.pan + self.zoom) / 2.0


def pan_views(image: np.ndarray, spec: MotionSpec) -> list[np.ndarray]:
    """``steps + 1`` views sliding right by ``pan_px`` over a strip of the frame."""
    strip_w = spec.width + spec.pan_px * spec.steps
    strip = cv2.resize(image, (strip_w, spec.height), interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(strip[:, t * spec.pan_px : t * spec.pan_px + spec.width])
            for t in range(spec.steps + 1)]


def zoom_warp(image: np.ndarray, zoom: float) -> np.ndarray:
    """The centre 1/zoom of ``image`` enlarged back to its size (the camera zooms in)."""
    height, width = image.shape[:2]
    matrix = np.array([[zoom, 0.0, (1 - zoom) * (width - 1) / 2],
                       [0.0, zoom, (1 - zoom) * (height - 1) / 2]], dtype=np.float64)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def zoom_views(image: np.ndarray, spec: MotionSpec) -> list[np.ndarray]:
    """``steps + 1`` views, each the previous one zoomed by ``zoom`` (motion exact)."""
    view = cv2.resize(image, (spec.width, spec.height), interpolation=cv2.INTER_AREA)
    views = [view]
    for _ in range(spec.steps):
        views.append(zoom_warp(views[-1], spec.zoom))
    return views


def temporal_error(model: Model, frames: Sequence[np.ndarray],
                   spec: MotionSpec | None = None) -> TemporalError:
    """The model's temporal error over pans and zooms of ``frames`` (H x W x 3 uint8)."""
    spec = spec or MotionSpec()
    if not frames:
        raise InvalidInputError("the temporal error needs at least one frame")
    pans: list[float] = []
    zooms: list[float] = []
    d = spec.pan_px
    for image in frames:
        outs = [_display(model(v)) for v in pan_views(image, spec)]
        for before, after in pairwise(outs):
            pans.append(_mad(after[:, :-d], before[:, d:]))
        outs = [_display(model(v)) for v in zoom_views(image, spec)]
        for before, after in pairwise(outs):
            moved = zoom_warp(before, spec.zoom)
            zooms.append(_mad(after, moved))
    return TemporalError(pan=float(np.mean(pans)), zoom=float(np.mean(zooms)),
                         pairs=len(pans) + len(zooms))


def onnx_model(path: Path) -> Model:
    """An ONNX style model as a :data:`Model`, through the uint8 ONNX Runtime backend."""
    from stylebridge.inference.base import BackendKind
    from stylebridge.inference.factory import create_backend

    backend = create_backend(Path(path), BackendKind.ONNXRUNTIME)
    return backend.run


def _display(output: np.ndarray) -> np.ndarray:
    """What a player sees: rounded, clamped uint8 (warped exactly like an input view)."""
    return np.clip(np.rint(np.asarray(output, dtype=np.float32)), 0, 255).astype(np.uint8)


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())
