"""The torch recipes of the pipeline: prune or distill the teacher, then export to ONNX.

The operations themselves live in ``optimize.prune`` and ``optimize.distill``; this
module maps a recipe spec onto their calls and exports the result with the same
``ExportConfig`` as the teacher (Barracuda 3's opset), so every variant is compared on
the same footing. Imports of prune/distill happen inside the functions, so the ONNX-only
path never imports them; any failure there fails the recipe by name (see pipeline).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import torch
from torch import nn

from stylebridge.errors import InvalidInputError
from stylebridge.models.export import export_onnx
from stylebridge.optimize import recipes as rc
from stylebridge.optimize.ray_settings import RaySettings

_log = logging.getLogger(__name__)

# True: the trainers' own rich bars; a function: (text, step, steps) reports instead.
Progress = bool | Callable[[str, int | None, int | None], None]


@dataclass(frozen=True)
class TorchVariant:
    notes: str
    checkpoint: Path | None  # the .pth beside the ONNX file, when one could be written
    frontier: tuple[object, ...] = ()  # catalog.FrontierPoint, students recipe only
    exported: bool = False  # the builder wrote the ONNX file itself


def _distill_config(spec: rc.TrainingSpec, work_dir: Path) -> object:
    from stylebridge.optimize.distill import DistillConfig

    every = max(1, spec.steps // 4)
    return DistillConfig(**spec.distill_fields(), checkpoint_every=every,
                         checkpoint_dir=work_dir, resume=True)


def _training_note(result: object) -> str:
    losses = list(getattr(result, "losses", []))
    steps = getattr(result, "steps", len(losses))
    seconds = float(getattr(result, "seconds", 0.0))
    budget = " (stopped by its time budget)" if getattr(result, "stopped_by_budget", False) \
        else ""
    first = f"{losses[0]:.4f}" if losses else "n/a"
    last = f"{losses[-1]:.4f}" if losses else "n/a"
    resumed = getattr(result, "resumed_at", 0)
    again = f" (resumed from the checkpoint at step {resumed})" if resumed else ""
    return (f"trained {steps} steps in {seconds:.0f} s{budget}{again}; loss {first} -> {last}")


def _on_device(teacher: nn.Module, device: torch.device) -> nn.Module:
    """A copy of the teacher on the device training runs on."""
    return copy.deepcopy(teacher).to(device)


def training_device(ray_settings: RaySettings | None) -> torch.device:
    """Locally: CUDA when present. In a Ray task: CUDA only when the task holds a GPU (a
    task holding none still sees every GPU of its node, which other tasks hold)."""
    from stylebridge.optimize.fast_distill import pick_device

    if ray_settings is None:
        return pick_device()
    if ray_settings.gpus and not torch.cuda.is_available():
        raise InvalidInputError("this task holds a GPU but PyTorch sees no CUDA device "
                                "here: install a CUDA build of torch on the workers")
    return torch.device("cuda" if ray_settings.gpus else "cpu")


def _prune_unstructured(spec: rc.PruneUnstructuredSpec, teacher: nn.Module,
                        frames: Sequence[Path], work_dir: Path, progress: Progress,
                        device: torch.device) -> tuple[nn.Module, str]:
    from stylebridge.optimize.prune import prune_unstructured

    model = prune_unstructured(copy.deepcopy(teacher), spec.amount)
    return model, (f"prune-unstructured: {spec.amount:.0%} of the conv weights set to zero by "
                   "magnitude; the tensors stay dense, so FLOPs and latency do not change")


def _prune_structured(spec: rc.PruneStructuredSpec, teacher: nn.Module,
                      frames: Sequence[Path], work_dir: Path, progress: Progress,
                      device: torch.device) -> tuple[nn.Module, str]:
    from stylebridge.optimize.prune import prune_structured

    work_dir.mkdir(parents=True, exist_ok=True)
    model = prune_structured(_on_device(teacher, device), spec.ratio, list(frames),
                             _distill_config(spec, work_dir))  # type: ignore[arg-type]
    return model, (f"prune-structured: {spec.ratio:.0%} of the channels removed with "
                   f"torch-pruning, then fine-tuned by distillation from the teacher (up to "
                   f"{spec.steps} steps, budget {spec.time_budget_s or 'none'} s)")


def _distill(spec: rc.DistillSpec, teacher: nn.Module, frames: Sequence[Path], work_dir: Path,
             progress: Progress, device: torch.device) -> tuple[nn.Module, str]:
    from stylebridge.models.transformer_net import TransformerNet
    from stylebridge.optimize.distill import distill
    from stylebridge.optimize.students import start_at_mean, student_config, teacher_mean_rgb

    torch.manual_seed(spec.seed)
    student = TransformerNet(student_config(spec.widths, spec.residual_blocks))
    start_at_mean(student, teacher_mean_rgb(teacher, frames))
    work_dir.mkdir(parents=True, exist_ok=True)
    teacher = _on_device(teacher, device)
    student.to(device)
    result = distill(teacher, student, list(frames), _distill_config(spec, work_dir),  # type: ignore[arg-type]
                     progress=progress)
    return result.student, f"distill {student.config.describe()}: {_training_note(result)}"


def _students(spec: rc.StudentsSpec, teacher: nn.Module, work_dir: Path,
              inputs: object, dst: Path, ray_settings: RaySettings | None,
              progress: Progress) -> TorchVariant:
    from stylebridge.optimize.fast_distill import TrainConfig
    from stylebridge.optimize.student_search import (
        SearchSettings,
        describe,
        parse_shape,
        successive_halving,
    )
    from stylebridge.optimize.teacher_cache import ViewSpec

    settings = SearchSettings(
        shapes=tuple(parse_shape(s) for s in spec.shapes), budgets=spec.budgets,
        keep=spec.keep, min_speedup=spec.min_speedup,
        speed_tolerance=spec.speed_tolerance, teacher_init=spec.teacher_init,
        views=ViewSpec(width=spec.view_width, height=spec.view_height,
                       views_per_frame=spec.views_per_frame, seed=spec.seed),
        train=TrainConfig(batch_size=spec.batch_size, lr=spec.lr, seed=spec.seed,
                          hint_weight=spec.hint_weight, temporal_weight=spec.temporal_weight))
    if ray_settings is None:
        result = successive_halving(teacher, inputs, settings, work_dir)  # type: ignore[arg-type]
    else:
        result = _tune(teacher, inputs, settings, work_dir, ray_settings, progress)
    model = result.student.eval()
    export_onnx(model, dst)
    rates = ", ".join(f"{k} {v:.2f}" for k, v in result.steps_per_s.items())
    winner = result.winner
    how = "Ray Tune ASHA" if ray_settings is not None else "successive halving"
    notes = (f"students: {how} over {len(spec.shapes)} shapes, budgets "
             f"{'/'.join(f'{b:g}' for b in spec.budgets)} s; winner {winner.shape} "
             f"({winner.steps} steps, {winner.train_seconds:.0f} s); teacher cache "
             f"{result.cache_seconds:.0f} s; steps/s {rates}; {describe(result.frontier)}")
    torch.save(model.state_dict(), dst.with_suffix(".pth"))
    return TorchVariant(notes=notes, checkpoint=dst.with_suffix(".pth"),
                        frontier=tuple(result.frontier), exported=True)


def _tune(teacher: nn.Module, inputs: object, settings: object, work_dir: Path,
          ray: RaySettings, progress: Progress) -> object:
    """The same search on Ray Tune: every shape a trial, ASHA stops the weak ones."""
    from stylebridge.optimize.ray_students import TrialResources, tune_students

    def on_result(shape: str, metrics: dict[str, float]) -> None:
        if callable(progress):
            progress(f"trial {shape}: rung {int(metrics.get('rung', 0)) + 1}, SSIM "
                     f"{metrics.get('ssim_mean', float('nan')):.3f}", None, None)

    resources = TrialResources(cpus=ray.cpus, gpus=ray.gpus, memory_bytes=ray.memory_bytes())
    return tune_students(teacher, inputs, settings, work_dir, resources,  # type: ignore[arg-type]
                         max_failures=ray.max_retries, on_result=on_result)


def _torch_int8(spec: rc.TorchInt8Spec, teacher: nn.Module, frames: Sequence[Path],
                dst: Path) -> TorchVariant:
    from stylebridge.atomic import write_bytes_atomically
    from stylebridge.frames import load_image, resize
    from stylebridge.optimize.torch_int8 import torch_int8

    size = (spec.calibration_width, spec.calibration_height)
    calibration = [resize(load_image(p), size) for p in list(frames)[: spec.calibration_frames]]
    result = torch_int8(teacher, calibration, calibration[0])
    failed = "; ".join(f"opset {k}: {v}" for k, v in result.export_errors.items())
    if result.onnx_bytes is None:
        raise InvalidInputError(f"torch-int8: the FX int8 model exports to no opset ({failed})")
    write_bytes_atomically(dst, result.onnx_bytes)
    blocked = ", ".join(n.engine for n in result.engines if n.verdict == "cannot-run")
    notes = (f"torch-int8 (FX graph mode, x86): Python {result.speedup:.2f}x the float model "
             f"at {size[0]}x{size[1]} ({result.float_ms:.0f} -> {result.int8_ms:.0f} ms, "
             f"same run); output vs float: mean abs {result.mean_abs_error:.2f}, max "
             f"{result.max_abs_error:.0f}; ONNX export: {failed or 'ok'}; exported file "
             f"cannot run on: {blocked or 'none'}")
    return TorchVariant(notes=notes, checkpoint=None, exported=True)


Builder = Callable[..., tuple[nn.Module, str]]
# One builder per torch recipe kind (the spec's ``kind`` picks it).
BUILDERS: Mapping[str, Builder] = MappingProxyType({
    "prune-unstructured": _prune_unstructured,
    "prune-structured": _prune_structured,
    "distill": _distill,
})


def build_torch_variant(spec: rc.RecipeSpec, teacher: nn.Module, frames: Sequence[Path],
                        dst: Path, work_dir: Path, progress: Progress,
                        inputs: object | None = None, *,
                        ray_settings: RaySettings | None = None) -> TorchVariant:
    """Build ``spec`` from ``teacher`` (left unchanged) and export it to ``dst``.

    ``inputs`` (a ``student_search.SearchInputs``) is what the students recipe measures
    against. ``progress``: the trainers' rich bars (True) or a report function.
    ``ray_settings``: this runs in a Ray task, and the student search runs on Ray Tune.
    Raises InvalidInputError for a kind with no torch builder.
    """
    if isinstance(spec, rc.StudentsSpec):
        if inputs is None:
            raise InvalidInputError("the students recipe needs evaluation inputs")
        return _students(spec, teacher, work_dir, inputs, dst, ray_settings, progress)
    if isinstance(spec, rc.TorchInt8Spec):
        return _torch_int8(spec, teacher, frames, dst)
    builder = BUILDERS.get(spec.kind)
    if builder is None:
        raise InvalidInputError(f"{spec.kind} is not a torch recipe")
    model, notes = builder(spec, teacher, frames, work_dir, progress,
                           training_device(ray_settings))
    model = model.eval().cpu()
    export_onnx(model, dst)
    return TorchVariant(notes=notes, checkpoint=_save_checkpoint(model, dst.with_suffix(".pth")))


def _save_checkpoint(model: nn.Module, path: Path) -> Path | None:
    """The .pth of a TransformerNet whose config still describes it (not channel-pruned)."""
    from stylebridge.models import TransformerNet, save_checkpoint

    if not isinstance(model, TransformerNet):
        return None
    expected = TransformerNet(model.config)
    shapes = {k: v.shape for k, v in expected.state_dict().items()}
    if any(shapes.get(k) != v.shape for k, v in model.state_dict().items()):
        _log.info("%s: channel-pruned, no reloadable checkpoint (the ONNX file is the variant)",
                  path.stem)
        return None
    return save_checkpoint(model, path)
