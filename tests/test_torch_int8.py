"""PyTorch-native int8 (FX graph mode, x86): it builds, runs, and every engine gets a verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from stylebridge.engines.targets import Engine
from stylebridge.models import load_checkpoint
from stylebridge.optimize.torch_int8 import torch_int8


def test_the_torch_int8_recipe_builds_and_the_engines_give_verdicts(
        models_dir: Path, small_frames: list[np.ndarray]) -> None:
    torch.set_num_threads(1)
    teacher = load_checkpoint(models_dir / "mosaic.pth").model
    calibration = [f[:56, :96].copy() for f in small_frames[:2]]
    result = torch_int8(teacher, calibration, calibration[0], runs=1)
    ops = {type(m).__module__ for m in result.model.modules()}
    assert any("quantized" in name for name in ops)  # real int8 kernels, not a float copy
    assert result.float_ms > 0 and result.int8_ms > 0
    assert result.mean_abs_error < 40.0  # int8 keeps the picture (0..255 scale)
    assert 9 in result.export_errors  # opset 9 has no QuantizeLinear
    assert "quantize_per_tensor" in result.export_errors[9]
    by_engine = {note.engine: note for note in result.engines}
    assert set(by_engine) == {e.value for e in Engine}
    barracuda = by_engine[Engine.BARRACUDA_3.value]
    assert barracuda.verdict == "cannot-run" and "quantized" in barracuda.reason
    assert barracuda.fix
