"""Distillation: train a small TransformerNet to reproduce a teacher's output.

No VGG, no style image, nothing downloaded: the teacher (a trained style network, or
any module mapping RGB 0..255 to RGB 0..255) labels random crops of the user's own
frames on the fly, and the student learns those pictures.

Loss, on images scaled from 0..255 to 0..1 (see ``stylebridge.optimize.losses``)::

    s = student(x) / 255          t = clamp(teacher(x), 0, 255) / 255
    loss = pixel(s, t) + ssim_weight * (1 - SSIM(clamp(s, 0, 1), t))

``pixel`` is L1 (default) or L2. The teacher's output is clamped because only
0..255 is ever shown (trained models overshoot to -120..460). The student's is
clamped inside SSIM only: SSIM's luminance term is flat (or inverted) for
out-of-range values and can push a channel to black, while the pixel term on the
raw output always pulls an out-of-range student back. SSIM is the Gaussian-windowed
SSIM (11 x 11, sigma 1.5) averaged over channels and pixels.

Optimiser: Adam, learning rate ``lr`` decayed by a cosine to ``lr * final_lr_fraction``
at ``steps`` (resuming with more ``steps`` stretches the rest of that schedule).
Batches come from :class:`~stylebridge.optimize.crops.CropSampler`, seeded per step,
so the same seed gives the same losses, and a run resumed from a checkpoint gives
exactly the losses and weights of an uninterrupted one (on the same
machine and thread count: float sums are not associative).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from stylebridge.atomic import atomic_writer
from stylebridge.errors import InvalidInputError, ModelLoadError
from stylebridge.optimize.crops import CropSampler
from stylebridge.optimize.losses import PixelLoss, distill_loss

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "distill-checkpoint.pt"
_CHECKPOINT_FORMAT = 1


class DistillConfig(BaseModel):
    """Everything that decides a distillation run (and, with the seed, its result)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1)] = 4
    crop: Annotated[int, Field(ge=16, multiple_of=4)] = 256  # square crop side, pixels
    lr: Annotated[float, Field(gt=0)] = 1e-3
    final_lr_fraction: Annotated[float, Field(gt=0, le=1)] = 0.1
    seed: int = 0
    time_budget_s: Annotated[float, Field(gt=0)] | None = None  # None: no limit
    # Stop (with a checkpoint) after this many steps in this call, to split a long run
    # over several sessions; None: run to ``steps``.
    stop_after: Annotated[int, Field(ge=1)] | None = None
    # With a time budget: decay the learning rate over whichever of steps or time runs
    # out first, so a run the budget stops has still annealed. Not reproducible (the
    # schedule then follows the clock); off by default.
    anneal_to_budget: bool = False
    checkpoint_every: Annotated[int, Field(ge=0)] = 500  # 0: only at the end / on budget stop
    checkpoint_dir: Path | None = None  # None: no checkpoints
    resume: bool = False  # continue from checkpoint_dir's checkpoint when there is one
    ssim_weight: Annotated[float, Field(ge=0)] = 0.5
    pixel: PixelLoss = PixelLoss.L1
    min_scale: Annotated[float, Field(gt=0, le=1)] = 0.5  # random resize before the crop

    def fingerprint(self) -> dict[str, Any]:
        """The fields a resumed run must share with the run it continues."""
        return {
            "batch_size": self.batch_size,
            "crop": self.crop,
            "lr": self.lr,
            "final_lr_fraction": self.final_lr_fraction,
            "seed": self.seed,
            "ssim_weight": self.ssim_weight,
            "pixel": self.pixel.value,
            "min_scale": self.min_scale,
        }


@dataclass(frozen=True)
class DistillResult:
    """The trained student (eval mode) and how the run went."""

    student: nn.Module
    losses: list[float]  # one per step, from step 1 (resumed runs include earlier steps)
    steps: int  # steps done in total, including those before a resume
    seconds: float  # wall time of this call
    stopped_by_budget: bool
    resumed_at: int = 0  # the checkpoint's step this call continued from (0: a fresh run)


def distill(
    teacher: nn.Module,
    student: nn.Module,
    frames: Sequence[Path],
    config: DistillConfig,
    progress: bool | Callable[[str, int | None, int | None], None] = True,
) -> DistillResult:
    """Train ``student`` (in place) to reproduce ``teacher`` on crops of ``frames``.

    The teacher is frozen and put in eval mode. With ``config.resume`` and a
    checkpoint in ``config.checkpoint_dir``, training continues at the saved step.
    ``progress``: a rich bar here, or a function told (text, step, steps) about twice a
    second (a Ray worker reports to the driver's bars that way).
    Raises NotFoundError (no frames), InvalidInputError (a checkpoint from another
    run or student) and ModelLoadError (an unreadable checkpoint).
    """
    if config.resume and config.checkpoint_dir is None:
        raise InvalidInputError("resume needs a checkpoint_dir to resume from")
    started = time.perf_counter()
    sampler = CropSampler(frames, config.crop, min_scale=config.min_scale)
    teacher.eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    device = _device_of(student)
    for parameter in student.parameters():
        # A student copied from a frozen teacher (pruning) would otherwise not learn.
        parameter.requires_grad_(True)
    student.train()
    optimizer = torch.optim.Adam(student.parameters(), lr=config.lr)
    losses: list[float] = []
    start_step = 0
    if config.resume and config.checkpoint_dir is not None:
        start_step, losses = _maybe_resume(config, student, optimizer)
    stopped = False
    step = start_step
    last = (
        config.steps
        if config.stop_after is None
        else min(config.steps, start_step + config.stop_after)
    )
    with _Progress(progress, config.steps, start_step) as bar:
        while step < last:
            elapsed = time.perf_counter() - started
            if config.time_budget_s is not None and elapsed >= config.time_budget_s:
                stopped = True
                log.info("time budget of %.1f s reached at step %d", config.time_budget_s, step)
                break
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(config, step, elapsed)
            x = sampler.batch(config.seed, step, config.batch_size).to(device)
            with torch.no_grad():
                target = teacher(x).clamp(0.0, 255.0) / 255.0
            prediction = student(x) / 255.0
            loss = distill_loss(
                prediction, target, pixel=config.pixel, ssim_weight=config.ssim_weight
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            step += 1
            bar.advance(losses[-1])
            if (
                config.checkpoint_dir is not None
                and config.checkpoint_every
                and (step % config.checkpoint_every == 0)
            ):
                save_distill_checkpoint(config, student, optimizer, step, losses)
    if (
        config.checkpoint_dir is not None
        and step > start_step
        and (not config.checkpoint_every or step % config.checkpoint_every)
    ):
        save_distill_checkpoint(config, student, optimizer, step, losses)
    student.eval()
    return DistillResult(
        student=student,
        losses=losses,
        steps=step,
        seconds=time.perf_counter() - started,
        stopped_by_budget=stopped,
        resumed_at=start_step,
    )


def checkpoint_path(config: DistillConfig) -> Path | None:
    """Where this config's checkpoint lives (None without a checkpoint_dir)."""
    return None if config.checkpoint_dir is None else Path(config.checkpoint_dir) / CHECKPOINT_NAME


def save_distill_checkpoint(
    config: DistillConfig,
    student: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    losses: Sequence[float],
) -> Path:
    """Write the run's state atomically: plain tensors and dicts (weights-only loadable)."""
    path = checkpoint_path(config)
    if path is None:
        raise InvalidInputError("cannot save a distillation checkpoint without checkpoint_dir")
    payload = {
        "format": _CHECKPOINT_FORMAT,
        "step": int(step),
        "student": {k: v.detach().cpu().clone() for k, v in student.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "losses": torch.tensor(list(losses), dtype=torch.float64),
        "torch_rng": torch.get_rng_state(),
        "fingerprint": config.fingerprint(),
    }
    with atomic_writer(path) as out:
        torch.save(payload, out)
    log.debug("distillation checkpoint at step %d: %s", step, path)
    return path


def _maybe_resume(
    config: DistillConfig, student: nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[int, list[float]]:
    path = checkpoint_path(config)
    if path is None or not path.is_file():
        log.info("no checkpoint to resume from in %s; starting at step 0", config.checkpoint_dir)
        return 0, []
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises pickle/zip/runtime errors alike
        raise ModelLoadError(f"{path} is not a readable distillation checkpoint: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != _CHECKPOINT_FORMAT:
        raise ModelLoadError(f"{path} is not a StyleBridge distillation checkpoint")
    saved = payload.get("fingerprint")
    if saved != config.fingerprint():
        raise InvalidInputError(
            f"{path} was written by a run with other settings ({saved}); resume with the "
            f"same batch_size, crop, lr, seed and loss, or use a new checkpoint_dir"
        )
    try:
        student.load_state_dict(payload["student"], strict=True)
    except RuntimeError as exc:
        raise InvalidInputError(
            f"{path} holds another student's weights; resume with the same widths and "
            f"depth, or use a new checkpoint_dir ({str(exc).splitlines()[0]})"
        ) from exc
    optimizer.load_state_dict(payload["optimizer"])
    torch.set_rng_state(payload["torch_rng"])
    step = int(payload["step"])
    losses = [float(v) for v in payload["losses"].tolist()]
    log.info("resuming distillation at step %d from %s", step, path)
    return step, losses


def _lr_at(config: DistillConfig, step: int, elapsed_s: float) -> float:
    """Cosine decay from lr at step 0 to lr * final_lr_fraction at ``steps``."""
    progress = step / config.steps
    if config.anneal_to_budget and config.time_budget_s is not None:
        progress = max(progress, elapsed_s / config.time_budget_s)
    progress = min(progress, 1.0)
    low = config.lr * config.final_lr_fraction
    return low + (config.lr - low) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _device_of(module: nn.Module) -> torch.device:
    parameter = next(module.parameters(), None)
    if parameter is None:
        raise InvalidInputError("the student has no parameters to train")
    return parameter.device


class _Progress:
    """A rich progress bar with the running loss and ETA; nothing when disabled."""

    def __init__(self, enabled: bool | Callable[[str, int | None, int | None], None],
                 total: int, done: int) -> None:
        self._report = enabled if callable(enabled) else None
        self._enabled = enabled is True
        self._reported_at = 0.0
        self._total = total
        self._done = done
        self._bar: Any = None
        self._task: Any = None
        self._smoothed: float | None = None

    def __enter__(self) -> _Progress:
        if self._enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("distill"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(
                "distill", total=self._total, completed=self._done, loss="-"
            )
        return self

    def advance(self, loss: float) -> None:
        self._smoothed = loss if self._smoothed is None else 0.9 * self._smoothed + 0.1 * loss
        self._done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, loss=f"{self._smoothed:.4f}")
        now = time.monotonic()
        if self._report is not None and (now - self._reported_at >= 0.5
                                         or self._done == self._total):
            self._reported_at = now
            self._report(f"distill, loss {self._smoothed:.4f}", self._done, self._total)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
