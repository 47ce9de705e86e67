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
from stylebridge.optimize import recipes as rc

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TorchVariant:
    notes: str
    checkpoint: Path | None  # the .pth beside the ONNX file, when one could be written


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
    return (f"trained {steps} steps in {seconds:.0f} s{budget}; loss {first} -> {last}")


def _prune_unstructured(spec: rc.PruneUnstructuredSpec, teacher: nn.Module,
                        frames: Sequence[Path], work_dir: Path,
                        progress: bool) -> tuple[nn.Module, str]:
    from stylebridge.optimize.prune import prune_unstructured

    model = prune_unstructured(copy.deepcopy(teacher), spec.amount)
    return model, (f"prune-unstructured: {spec.amount:.0%} of the conv weights set to zero by "
                   "magnitude; the tensors stay dense, so FLOPs and latency do not change")


def _prune_structured(spec: rc.PruneStructuredSpec, teacher: nn.Module,
                      frames: Sequence[Path], work_dir: Path,
                      progress: bool) -> tuple[nn.Module, str]:
    from stylebridge.optimize.prune import prune_structured

    work_dir.mkdir(parents=True, exist_ok=True)
    model = prune_structured(copy.deepcopy(teacher), spec.ratio, list(frames),
                             _distill_config(spec, work_dir))  # type: ignore[arg-type]
    return model, (f"prune-structured: {spec.ratio:.0%} of the channels removed with "
                   f"torch-pruning, then fine-tuned by distillation from the teacher (up to "
                   f"{spec.steps} steps, budget {spec.time_budget_s or 'none'} s)")


def _distill(spec: rc.DistillSpec, teacher: nn.Module, frames: Sequence[Path], work_dir: Path,
             progress: bool) -> tuple[nn.Module, str]:
    from stylebridge.models.transformer_net import TransformerNet
    from stylebridge.optimize.distill import distill
    from stylebridge.optimize.students import start_at_mean, student_config, teacher_mean_rgb

    torch.manual_seed(spec.seed)
    student = TransformerNet(student_config(spec.widths, spec.residual_blocks))
    start_at_mean(student, teacher_mean_rgb(teacher, frames))
    work_dir.mkdir(parents=True, exist_ok=True)
    result = distill(teacher, student, list(frames), _distill_config(spec, work_dir),  # type: ignore[arg-type]
                     progress=progress)
    return result.student, f"distill {student.config.describe()}: {_training_note(result)}"


Builder = Callable[..., tuple[nn.Module, str]]
# One builder per torch recipe kind (the spec's ``kind`` picks it).
BUILDERS: Mapping[str, Builder] = MappingProxyType({
    "prune-unstructured": _prune_unstructured,
    "prune-structured": _prune_structured,
    "distill": _distill,
})


def build_torch_variant(spec: rc.RecipeSpec, teacher: nn.Module, frames: Sequence[Path],
                        dst: Path, work_dir: Path, progress: bool) -> TorchVariant:
    """Build ``spec`` from ``teacher`` (left unchanged) and export it to ``dst``.

    Raises InvalidInputError for a kind with no torch builder.
    """
    from stylebridge.models.export import export_onnx

    builder = BUILDERS.get(spec.kind)
    if builder is None:
        raise InvalidInputError(f"{spec.kind} is not a torch recipe")
    model, notes = builder(spec, teacher, frames, work_dir, progress)
    model = model.eval()
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
