"""The recipe of the built-in style: filter -> teacher network -> small student -> ONNX.

1. A teacher TransformerNet learns the "ink" filter (:mod:`stylebridge.style.filter`)
   on pictures that packages ship (:mod:`stylebridge.style.images`), with the same
   distillation loop as everything else: the filter plays the teacher.
2. A small student is distilled from that teacher.
3. The student is exported to ONNX at opset 9, checked for Barracuda 3, and measured
   against the filter on held-out pictures (PSNR/SSIM; the input's own PSNR to the
   filter output is the do-nothing baseline).

``stylebridge train-builtin-style --out DIR`` runs it; the two files it writes
(``builtin-style.onnx`` and ``builtin-style.json``) are what ships in
``stylebridge/style/builtin/``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from stylebridge.errors import EngineIncompatibleError
from stylebridge.models.checkpoint import save_checkpoint
from stylebridge.models.transformer_net import TransformerNet, untrained_model
from stylebridge.optimize.distill import DistillConfig, distill
from stylebridge.optimize.losses import ssim
from stylebridge.optimize.students import start_at_mean, student_config

log = logging.getLogger(__name__)

ONNX_NAME = "builtin-style.onnx"
RECIPE_NAME = "builtin-style.json"


class BuiltinStyleConfig(BaseModel):
    """How the built-in style is trained (defaults: the shipped model's recipe).

    The budget is wall time and the learning rate anneals to it, so the number of
    steps (and the exact weights) depend on the machine; the recipe JSON records
    the steps each stage really ran.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    teacher_widths: tuple[int, int, int] = (24, 48, 96)
    teacher_blocks: Annotated[int, Field(ge=0)] = 3
    student_widths: tuple[int, int, int] = (16, 32, 64)
    student_blocks: Annotated[int, Field(ge=0)] = 2
    teacher_steps: Annotated[int, Field(ge=1)] = 3000
    student_steps: Annotated[int, Field(ge=1)] = 3000
    batch_size: Annotated[int, Field(ge=1)] = 2
    crop: Annotated[int, Field(ge=16, multiple_of=4)] = 96
    lr: Annotated[float, Field(gt=0)] = 5e-3
    ssim_weight: Annotated[float, Field(ge=0)] = 0.5
    seed: int = 0
    budget_s: Annotated[float, Field(gt=0)] | None = 1200.0  # wall time, both stages
    teacher_share: Annotated[float, Field(gt=0, lt=1)] = 0.6  # of the budget
    opset: Annotated[int, Field(ge=9)] = 9


@dataclass(frozen=True)
class BuiltinStyleResult:
    """What the recipe wrote and measured."""

    onnx_path: Path
    recipe_path: Path
    preview_path: Path
    recipe: dict[str, Any]


def train_builtin_style(
    out: Path, config: BuiltinStyleConfig | None = None, *, progress: bool = True
) -> BuiltinStyleResult:
    """Run the whole recipe into ``out`` (pictures, checkpoints, ONNX, JSON, preview).

    Raises EngineIncompatibleError when the exported student fails the Barracuda 3
    check (it must not ship then).
    """
    from stylebridge.style.filter import FilterTeacher

    config = config if config is not None else BuiltinStyleConfig()
    out = Path(out)
    started = time.perf_counter()
    train_paths = _write_pictures(out / "pictures")
    budget = config.budget_s
    torch.manual_seed(config.seed)
    teacher = untrained_model(
        student_config(config.teacher_widths, config.teacher_blocks), seed=config.seed
    )
    mean_rgb = _filter_mean(train_paths)
    start_at_mean(teacher, mean_rgb)
    stage1 = distill(
        FilterTeacher(),
        teacher,
        train_paths,
        _stage_config(
            config,
            config.teacher_steps,
            budget and budget * config.teacher_share,
            out / "teacher-checkpoints",
        ),
        progress=progress,
    )
    save_checkpoint(teacher, out / "teacher.pth")
    student = untrained_model(
        student_config(config.student_widths, config.student_blocks), seed=config.seed + 1
    )
    start_at_mean(student, mean_rgb)
    remaining = None if budget is None else max(budget - (time.perf_counter() - started), 30.0)
    stage2 = distill(
        teacher,
        student,
        train_paths,
        _stage_config(config, config.student_steps, remaining, out / "student-checkpoints"),
        progress=progress,
    )
    save_checkpoint(student, out / "student.pth")
    onnx_path, verdict, size = _export_and_check(student, out / ONNX_NAME, config.opset)
    fidelity, teacher_fidelity, preview = _measure(student, teacher, out / "preview.png")
    recipe = {
        "name": "sunset-ink",
        "description": "imitates stylebridge.style.filter.ink_filter (edge-preserving "
        "smoothed luminance mapped onto a fixed five-colour palette, DoG ink lines)",
        "command": "stylebridge train-builtin-style --out DIR",
        "config": json.loads(config.model_dump_json()),
        "teacher": {
            "widths": list(config.teacher_widths),
            "blocks": config.teacher_blocks,
            "steps": stage1.steps,
            "seconds": round(stage1.seconds, 1),
            "stopped_by_budget": stage1.stopped_by_budget,
            "first_loss": _mean(stage1.losses[:20]),
            "last_loss": _mean(stage1.losses[-20:]),
            "fidelity_to_filter": teacher_fidelity,
        },
        "student": {
            "widths": list(config.student_widths),
            "blocks": config.student_blocks,
            "steps": stage2.steps,
            "seconds": round(stage2.seconds, 1),
            "stopped_by_budget": stage2.stopped_by_budget,
            "first_loss": _mean(stage2.losses[:20]),
            "last_loss": _mean(stage2.losses[-20:]),
            "parameters": sum(p.numel() for p in student.parameters()),
        },
        "onnx": {
            "file": ONNX_NAME,
            "opset": config.opset,
            "size_bytes": size,
            "barracuda-3": verdict,
        },
        "fidelity_to_filter": fidelity,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    recipe_path = out / RECIPE_NAME
    recipe_path.write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
    return BuiltinStyleResult(onnx_path, recipe_path, preview, recipe)


def _stage_config(
    config: BuiltinStyleConfig, steps: int, budget: float | None, checkpoints: Path
) -> DistillConfig:
    return DistillConfig(
        steps=steps,
        batch_size=config.batch_size,
        crop=config.crop,
        lr=config.lr,
        seed=config.seed,
        ssim_weight=config.ssim_weight,
        time_budget_s=budget,
        anneal_to_budget=budget is not None,
        checkpoint_every=200,
        checkpoint_dir=checkpoints,
    )


def _filter_mean(paths: list[Path]) -> torch.Tensor:
    """Mean RGB (0..255) of the filter's output over the training pictures."""
    from stylebridge.frames import load_image
    from stylebridge.style.filter import ink_filter

    means = [ink_filter(load_image(p)).reshape(-1, 3).mean(axis=0) for p in paths]
    return torch.tensor(np.mean(means, axis=0), dtype=torch.float32)


def _write_pictures(folder: Path) -> list[Path]:
    import cv2

    from stylebridge.style.images import training_images

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rgb in training_images():
        path = folder / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def _export_and_check(student: TransformerNet, path: Path, opset: int) -> tuple[Path, str, int]:
    from stylebridge.engines.checker import check_model
    from stylebridge.engines.targets import Engine
    from stylebridge.models.export import ExportConfig, export_onnx

    report = export_onnx(student, path, ExportConfig(engine=Engine.BARRACUDA_3, opset=opset))
    check = check_model(path, Engine.BARRACUDA_3)
    if not check.runs:
        raise EngineIncompatibleError(
            f"{path} does not pass the Barracuda 3 check ({check.verdict.value}); "
            "it must not ship. Export at opset 9 and keep the FAST_NEURAL_STYLE wiring."
        )
    return path, check.verdict.value, report.size_bytes


def fidelity_to_filter(model: torch.nn.Module) -> dict[str, Any]:
    """PSNR/SSIM of ``model``'s output to the filter's on each held-out picture.

    Also the input's own PSNR/SSIM to the filter output: a model that beats it has
    learned the style rather than passing the picture through.
    """
    from stylebridge.evaluate.fidelity import psnr
    from stylebridge.style.filter import ink_filter
    from stylebridge.style.images import heldout_images

    rows = {}
    for name, rgb in heldout_images():
        rgb = rgb[: rgb.shape[0] // 4 * 4, : rgb.shape[1] // 4 * 4]
        target = ink_filter(rgb)
        output = stylize(model, rgb)
        rows[name] = {
            "psnr_db": round(psnr(output, target), 2),
            "ssim": round(_ssim(output, target), 4),
            "identity_psnr_db": round(psnr(rgb, target), 2),
            "identity_ssim": round(_ssim(rgb, target), 4),
        }
    summary = {
        key: round(float(np.mean([r[key] for r in rows.values()])), 3)
        for key in ("psnr_db", "ssim", "identity_psnr_db", "identity_ssim")
    }
    return {"mean": summary, "pictures": rows}


def stylize(model: torch.nn.Module, rgb: np.ndarray) -> np.ndarray:
    """``model`` on one H x W x 3 uint8 picture (sides multiples of 4), uint8 out."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        y = model.eval()(x)[0].clamp(0, 255).round().to(torch.uint8)
    return y.permute(1, 2, 0).numpy()


def _measure(
    student: torch.nn.Module, teacher: torch.nn.Module, preview: Path
) -> tuple[dict[str, Any], dict[str, Any], Path]:
    import cv2

    from stylebridge.style.filter import ink_filter
    from stylebridge.style.images import heldout_images

    rows = []
    for _, rgb in heldout_images():
        rgb = cv2.resize(rgb[: rgb.shape[0] // 4 * 4, : rgb.shape[1] // 4 * 4], (320, 240))
        rows.append(
            np.concatenate(
                [rgb, ink_filter(rgb), stylize(teacher, rgb), stylize(student, rgb)], axis=1
            )
        )
    cv2.imwrite(str(preview), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    return fidelity_to_filter(student), fidelity_to_filter(teacher)["mean"], preview


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    ta = torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255.0
    tb = torch.from_numpy(b).permute(2, 0, 1)[None].float() / 255.0
    return float(ssim(ta, tb))


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 5) if values else None
