"""``stylebridge train-builtin-style``, ``stylebridge distill`` and ``stylebridge prune``.

Training steps of the optimize flow as single commands. Each only turns arguments
into configs and calls ``stylebridge.optimize`` / ``stylebridge.style``; torch is
imported inside the commands so that ``stylebridge --help`` stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from stylebridge.errors import InvalidInputError

console = Console()


class PruneMode(StrEnum):
    STRUCTURED = "structured"
    UNSTRUCTURED = "unstructured"


def register(app: typer.Typer) -> None:
    """Add ``train-builtin-style``, ``distill`` and ``prune`` to ``stylebridge``."""
    app.command("train-builtin-style")(train_builtin_style)
    app.command("distill")(distill_command)
    app.command("prune")(prune_command)


def _threads(threads: int | None) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


ThreadsOption = Annotated[
    int | None,
    typer.Option(min=1, help="Torch CPU threads (default: torch's; 1 is best on a busy machine)."),
]


def train_builtin_style(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for everything it makes.")],
    budget_s: Annotated[
        float | None, typer.Option("--budget-s", min=1, help="Wall-time budget, both stages.")
    ] = 1200.0,
    seed: Annotated[int, typer.Option(help="Seed of weights and crops.")] = 0,
    threads: ThreadsOption = None,
) -> None:
    """Train the built-in "sunset ink" style: filter -> teacher -> small student -> ONNX (opset 9).

    Copy DIR/builtin-style.onnx and DIR/builtin-style.json to stylebridge/style/builtin/
    to ship it.
    """
    from stylebridge.style.train import BuiltinStyleConfig
    from stylebridge.style.train import train_builtin_style as run

    _threads(threads)
    result = run(out, BuiltinStyleConfig(budget_s=budget_s, seed=seed))
    recipe = result.recipe
    mean = recipe["fidelity_to_filter"]["mean"]
    console.print(
        f"[bold]{result.onnx_path}[/] ({recipe['onnx']['size_bytes']} bytes, "
        f"barracuda-3: {recipe['onnx']['barracuda-3']})\n"
        f"held-out fidelity to the filter: PSNR {mean['psnr_db']:.2f} dB, SSIM "
        f"{mean['ssim']:.3f} (input itself: {mean['identity_psnr_db']:.2f} dB, "
        f"{mean['identity_ssim']:.3f})\npreview: {result.preview_path}"
    )


def distill_command(
    teacher: Annotated[Path, typer.Argument(help="Teacher .pth checkpoint.")],
    frames: Annotated[Path, typer.Option(help="Folder of training frames (png/jpg).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Student .pth to write.")],
    widths: Annotated[str, typer.Option(help="Student widths, e.g. 16,32,64.")] = "16,32,64",
    blocks: Annotated[int, typer.Option(min=0, help="Student residual blocks.")] = 2,
    steps: Annotated[int, typer.Option(min=1)] = 1000,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
    crop: Annotated[int, typer.Option(min=16, help="Square crop side (multiple of 4).")] = 256,
    lr: Annotated[float, typer.Option(min=0)] = 1e-3,
    ssim_weight: Annotated[float, typer.Option(min=0)] = 0.5,
    seed: int = 0,
    time_budget: Annotated[
        float | None, typer.Option("--time-budget", min=1, help="Stop after S seconds.")
    ] = None,
    checkpoint_every: Annotated[int, typer.Option(min=0)] = 500,
    resume: Annotated[bool, typer.Option(help="Continue from OUT's checkpoint folder.")] = False,
    onnx: Annotated[Path | None, typer.Option(help="Also export the student here.")] = None,
    threads: ThreadsOption = None,
) -> None:
    """Distill a teacher checkpoint into a smaller TransformerNet on your frames."""
    from stylebridge.models import load_checkpoint, save_checkpoint, untrained_model
    from stylebridge.optimize.crops import list_frames
    from stylebridge.optimize.distill import DistillConfig, distill
    from stylebridge.optimize.students import parse_widths, student_config

    _threads(threads)
    config = DistillConfig(
        steps=steps,
        batch_size=batch_size,
        crop=crop,
        lr=lr,
        ssim_weight=ssim_weight,
        seed=seed,
        time_budget_s=time_budget,
        checkpoint_every=checkpoint_every,
        checkpoint_dir=out.with_name(out.stem + "-checkpoints"),
        resume=resume,
    )
    loaded = load_checkpoint(teacher)
    student = untrained_model(student_config(parse_widths(widths), blocks), seed=seed)
    result = distill(loaded.model, student, list_frames(frames), config)
    save_checkpoint(result.student, out)
    first, last = _mean(result.losses[:20]), _mean(result.losses[-20:])
    note = " (stopped by the time budget)" if result.stopped_by_budget else ""
    console.print(
        f"{out}: {result.steps} steps in {result.seconds:.1f} s{note}; "
        f"loss {first:.4f} -> {last:.4f}"
    )
    if onnx is not None:
        _export(result.student, onnx)


def prune_command(
    model: Annotated[Path, typer.Argument(help="Model .pth checkpoint.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Pruned .pth to write.")],
    mode: Annotated[PruneMode, typer.Option(help="structured or unstructured.")],
    ratio: Annotated[float, typer.Option(help="Fraction of channels / weights to remove.")],
    frames: Annotated[
        Path | None, typer.Option(help="Frames for the fine-tuning (structured only).")
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Fine-tuning steps.")] = 500,
    crop: Annotated[int, typer.Option(min=16)] = 256,
    time_budget: Annotated[float | None, typer.Option("--time-budget", min=1)] = None,
    onnx: Annotated[Path | None, typer.Option(help="Also export the result here.")] = None,
    threads: ThreadsOption = None,
) -> None:
    """Prune a checkpoint: structured (fewer channels, then distilled) or unstructured."""
    from stylebridge.models import count_parameters, load_checkpoint, save_checkpoint
    from stylebridge.optimize.crops import list_frames
    from stylebridge.optimize.distill import DistillConfig
    from stylebridge.optimize.prune import (
        conv_macs,
        prune_structured,
        prune_unstructured,
        sparsity,
    )

    _threads(threads)
    teacher = load_checkpoint(model).model
    if mode is PruneMode.STRUCTURED:
        if frames is None:
            raise InvalidInputError("structured pruning fine-tunes on frames: pass --frames DIR")
        config = DistillConfig(
            steps=steps,
            crop=crop,
            time_budget_s=time_budget,
            checkpoint_dir=out.with_name(out.stem + "-checkpoints"),
        )
        with console.status(f"Pruning {ratio:.0%} of channels and fine-tuning …"):
            pruned = prune_structured(teacher, ratio, list_frames(frames), config)
    else:
        pruned = prune_unstructured(teacher, ratio)
    save_checkpoint(pruned, out)  # type: ignore[arg-type]
    table = Table(title=str(out), title_justify="left")
    for column in ("", "parameters", "MACs @640x360", "sparsity"):
        table.add_column(column)
    for label, net in (("before", teacher), ("after", pruned)):
        table.add_row(
            label,
            f"{count_parameters(net):,}",
            f"{conv_macs(net, 640, 360):,}",
            f"{sparsity(net):.1%}",
        )
    console.print(table)
    if onnx is not None:
        _export(pruned, onnx)


def _export(module: object, path: Path) -> None:
    from stylebridge.optimize.prune import export_module

    report = export_module(module, path)  # type: ignore[arg-type]
    console.print(f"{path}: {report.size_bytes} bytes, opset {report.opset}")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
