"""Fidelity of a variant to its teacher on an evaluation frame set: PSNR and SSIM.

Both models run in ONNX Runtime through the same uint8 backend a client uses, so the
comparison is of what a player would see (clamped, rounded 0..255 RGB). The worst
frame is reported beside the mean because a style model that fails tends to fail on
one kind of scene (dark corridors, a HUD) rather than everywhere a little.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stylebridge.catalog import Fidelity
from stylebridge.errors import InvalidInputError
from stylebridge.evaluate.fidelity import psnr
from stylebridge.evaluate.ssim import ssim
from stylebridge.inference.base import BackendKind

# PSNR of identical outputs is infinite; JSON has no inf, so it is stored capped.
PSNR_CAP_DB = 100.0


def teacher_outputs(teacher: Path, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The teacher's uint8 outputs on ``frames`` (computed once, reused per variant)."""
    return _run_all(teacher, frames)


def evaluate_fidelity(variant: Path, frames: Sequence[np.ndarray],
                      reference: Sequence[np.ndarray]) -> Fidelity:
    """PSNR/SSIM of ``variant``'s outputs on ``frames`` against ``reference`` outputs."""
    if not frames or len(frames) != len(reference):
        raise InvalidInputError("evaluate_fidelity needs frames and one reference per frame")
    height, width = frames[0].shape[:2]
    if any(f.shape[:2] != (height, width) for f in frames):
        raise InvalidInputError("evaluation frames must all have one size; resize them first")
    outputs = _run_all(variant, frames)
    psnrs = [min(psnr(out, ref), PSNR_CAP_DB) for out, ref in zip(outputs, reference,
                                                                   strict=True)]
    ssims = [ssim(out, ref) for out, ref in zip(outputs, reference, strict=True)]
    return Fidelity(psnr_mean_db=float(np.mean(psnrs)), psnr_min_db=float(min(psnrs)),
                    ssim_mean=float(np.mean(ssims)), ssim_min=float(min(ssims)),
                    frames=len(frames), width=width, height=height)


def _run_all(model: Path, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    from stylebridge.inference.factory import create_backend

    backend = create_backend(Path(model), BackendKind.ONNXRUNTIME)
    try:
        return [backend.run(frame) for frame in frames]
    finally:
        backend.close()
