"""The built-in style that ships: small, Barracuda-ready, and really imitating its filter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from stylebridge.engines.checker import check_model
from stylebridge.engines.targets import Engine
from stylebridge.evaluate.fidelity import psnr
from stylebridge.models import load_onnx
from stylebridge.optimize.losses import ssim
from stylebridge.style import builtin_style_onnx, builtin_style_recipe
from stylebridge.style.filter import FilterTeacher, ink_filter
from stylebridge.style.images import heldout_images, procedural_scene, training_images

MAX_BYTES = 1_000_000


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    ta = torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255.0
    tb = torch.from_numpy(b).permute(2, 0, 1)[None].float() / 255.0
    return float(ssim(ta, tb))


def _run_onnx(rgb: np.ndarray) -> np.ndarray:
    loaded = load_onnx(builtin_style_onnx())
    session = ort.InferenceSession(loaded.to_bytes(), providers=["CPUExecutionProvider"])
    x = rgb.astype(np.float32).transpose(2, 0, 1)[None]
    (y,) = session.run(None, {loaded.input_name: x})
    return np.clip(y[0].transpose(1, 2, 0) + 0.5, 0, 255).astype(np.uint8)


def test_builtin_model_is_small_and_passes_barracuda_3() -> None:
    path = builtin_style_onnx()
    assert path.stat().st_size < MAX_BYTES
    report = check_model(path, Engine.BARRACUDA_3)
    assert report.runs, report.verdict
    assert load_onnx(path).opset == 9


def test_builtin_output_is_closer_to_the_filter_than_the_input() -> None:
    """On held-out pictures: higher SSIM to the filter on each, higher PSNR on average.

    The PSNR of single very dark pictures can lose to the input (the InstanceNorms
    discard absolute brightness, so a black suit comes out purple instead of navy);
    SSIM, which compares structure, must win on every one.
    """
    gains = []
    for name, rgb in heldout_images():
        rgb = np.ascontiguousarray(rgb[: rgb.shape[0] // 4 * 4, : rgb.shape[1] // 4 * 4])
        target = ink_filter(rgb)
        styled = _run_onnx(rgb)
        assert styled.shape == rgb.shape
        assert _ssim(styled, target) > _ssim(rgb, target) + 0.03, name
        gains.append(psnr(styled, target) - psnr(rgb, target))
    assert float(np.mean(gains)) > 1.0, gains


def test_recipe_records_how_it_was_made_and_what_it_measured() -> None:
    recipe = builtin_style_recipe()
    assert recipe["command"].startswith("stylebridge train-builtin-style")
    assert recipe["onnx"]["barracuda-3"] != "cannot-run"
    mean = recipe["fidelity_to_filter"]["mean"]
    assert mean["psnr_db"] > mean["identity_psnr_db"]
    json.dumps(recipe)  # plain JSON all the way down


def test_filter_is_deterministic_and_the_teacher_module_matches_it() -> None:
    rgb = procedural_scene(5, (96, 64))
    out = ink_filter(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.array_equal(out, ink_filter(rgb))
    assert psnr(out, rgb) < 30  # it changes the picture visibly
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float()
    y = FilterTeacher()(x)[0].permute(1, 2, 0).numpy().astype(np.uint8)
    assert np.array_equal(y, out)


def test_training_and_heldout_pictures_are_disjoint() -> None:
    train = dict(training_images())
    held = dict(heldout_images())
    assert not set(train) & set(held)
    for rgb in (*train.values(), *held.values()):
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3


def test_the_recipe_runs_end_to_end_on_a_tiny_budget(tmp_path: Path) -> None:
    from stylebridge.style.train import BuiltinStyleConfig, train_builtin_style

    config = BuiltinStyleConfig(
        teacher_widths=(8, 8, 8),
        teacher_blocks=0,
        student_widths=(8, 8, 8),
        student_blocks=0,
        teacher_steps=2,
        student_steps=2,
        batch_size=1,
        crop=32,
        budget_s=None,
    )
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train_builtin_style(tmp_path, config, progress=False)
    finally:
        torch.set_num_threads(before)
    assert result.onnx_path.is_file() and result.preview_path.is_file()
    recipe = json.loads(result.recipe_path.read_text())
    assert recipe["teacher"]["steps"] == 2 and recipe["student"]["steps"] == 2
    assert recipe["onnx"]["barracuda-3"] != "cannot-run"
    assert set(recipe["fidelity_to_filter"]["pictures"]) == {n for n, _ in heldout_images()}
