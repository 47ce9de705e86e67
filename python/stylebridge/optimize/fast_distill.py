"""Distillation from a teacher-output cache, with hint, SSIM and temporal terms.

Per step, on a batch of cached views (``teacher_cache``), with s = student(x) / 255::

    loss = L1(s, t) + ssim_weight * (1 - SSIM(clamp(s), t))
         + hint_weight * sum_i MSE(adapter_i(student_i), teacher_i)
         + temporal_weight * L1(student(pan(x)), pan(student(x)))

The adapters are 1x1 convolutions from the student's two 1/4-resolution activations to
the teacher's (after the encoder, after the residual blocks); they live in the
trainer, not in the student, so the exported network has none. The temporal term pans
the view by ``temporal_shift`` pixels and asks the output to move with it.

Optimiser: AdamW, linear warm-up then a cosine to ``final_lr_fraction``, over whichever
of ``steps`` or the time budget runs out first; an exponential moving average of the
weights (``torch.optim.swa_utils``) is the model that is kept. :meth:`Trainer.run` can
be called again to continue (successive halving): each call is one more warm-up and
cosine cycle, at ``lr * restart_lr_fraction ** calls``. CUDA is used when present;
channels_last and bf16 autocast are options (measured slower on this CPU; see the
closing note of issue 12).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from stylebridge.errors import InvalidInputError
from stylebridge.optimize.losses import PixelLoss, distill_loss
from stylebridge.optimize.student_nets import StudentNet
from stylebridge.optimize.teacher_cache import TeacherCache

_log = logging.getLogger(__name__)


class TrainConfig(BaseModel):
    """Everything that decides a cached distillation run (with the seed, its batches)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: Annotated[int, Field(ge=1)] = 100_000  # per run() call; usually the budget stops
    time_budget_s: Annotated[float, Field(gt=0)] | None = None
    batch_size: Annotated[int, Field(ge=1)] = 2
    lr: Annotated[float, Field(gt=0)] = 3e-3
    weight_decay: Annotated[float, Field(ge=0)] = 1e-4
    warmup_steps: Annotated[int, Field(ge=0)] = 30
    final_lr_fraction: Annotated[float, Field(gt=0, le=1)] = 0.05
    restart_lr_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    ema_decay: Annotated[float, Field(ge=0, lt=1)] = 0.99  # 0: no EMA
    ssim_weight: Annotated[float, Field(ge=0)] = 0.5
    pixel: PixelLoss = PixelLoss.L1
    hint_weight: Annotated[float, Field(ge=0)] = 0.0  # measured no gain at short budgets
    temporal_weight: Annotated[float, Field(ge=0)] = 0.0
    temporal_shift: Annotated[int, Field(ge=8, multiple_of=8)] = 8
    channels_last: bool = False
    bf16: bool = False
    seed: int = 0


@dataclass
class RunStats:
    """How one :meth:`Trainer.run` call went."""

    steps: int
    seconds: float
    losses: list[float]
    terms: dict[str, list[float]] = field(default_factory=dict)  # per-term loss per step

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


def pick_device() -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Trainer:
    """Trains one student from one cache; keeps optimiser and EMA state between runs."""

    def __init__(self, student: StudentNet, cache: TeacherCache, config: TrainConfig,
                 device: torch.device | None = None) -> None:
        self.device = device or pick_device()
        self.config = config
        self.cache = cache
        self.student = student.to(self.device)
        if config.channels_last:
            self.student = self.student.to(memory_format=torch.channels_last)
        self.adapters = nn.ModuleList()
        if config.hint_weight > 0:
            if not cache.hints:
                raise InvalidInputError("hint losses need a cache built with hints=True")
            for ours, theirs in zip(student.hint_channels(), cache.hints, strict=True):
                self.adapters.append(nn.Conv2d(ours, int(theirs.shape[1]), 1))
            self.adapters.to(self.device)
        params = [*self.student.parameters(), *self.adapters.parameters()]
        self.optimizer = torch.optim.AdamW(params, lr=config.lr,
                                           weight_decay=config.weight_decay)
        self.ema = (AveragedModel(self.student, multi_avg_fn=get_ema_multi_avg_fn(
            config.ema_decay), use_buffers=True) if config.ema_decay > 0 else None)
        self.total_steps = 0
        self.total_seconds = 0.0
        self.cycles = 0

    def model(self) -> StudentNet:
        """The model to keep: the EMA of the weights (or the weights), on the CPU, eval."""
        source = self.ema.module if self.ema is not None else self.student
        out = StudentNet(self.student.shape)
        out.load_state_dict({k: v.detach().float().cpu() for k, v in source.state_dict().items()})
        return out.eval()

    def state_dict(self) -> dict[str, object]:
        """Everything a later :meth:`run` depends on (weights, adapters, optimiser, EMA,
        counters), as tensors and numbers only: saved with ``torch.save``, it loads back with
        ``weights_only=True``. Batches follow ``total_steps``, so a restored trainer draws
        the batches the uninterrupted one would have."""
        return {
            "student": self.student.state_dict(),
            "adapters": self.adapters.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "total_steps": self.total_steps,
            "total_seconds": self.total_seconds,
            "cycles": self.cycles,
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Continue from :meth:`state_dict` of a trainer with the same shape and config.

        Raises InvalidInputError when the state does not fit (another shape, or EMA on in
        one and off in the other)."""
        try:
            self.student.load_state_dict(state["student"])  # type: ignore[arg-type]
            self.adapters.load_state_dict(state["adapters"])  # type: ignore[arg-type]
            self.optimizer.load_state_dict(state["optimizer"])  # type: ignore[arg-type]
            if (state["ema"] is None) != (self.ema is None):
                raise ValueError("EMA on in one trainer and off in the other")
            if self.ema is not None:
                self.ema.load_state_dict(state["ema"])  # type: ignore[arg-type]
            self.total_steps = int(state["total_steps"])  # type: ignore[call-overload]
            self.total_seconds = float(state["total_seconds"])  # type: ignore[arg-type]
            self.cycles = int(state["cycles"])  # type: ignore[call-overload]
        except (KeyError, RuntimeError, ValueError) as exc:
            raise InvalidInputError(f"trainer state does not fit this trainer "
                                    f"({self.student.shape.name}): {exc}") from exc

    def run(self, time_budget_s: float | None = None, steps: int | None = None) -> RunStats:
        """Train one more warm-up + cosine cycle; stops at ``steps`` or the time budget."""
        cfg = self.config
        budget = time_budget_s if time_budget_s is not None else cfg.time_budget_s
        limit = steps if steps is not None else cfg.steps
        peak = cfg.lr * cfg.restart_lr_fraction ** self.cycles
        self.cycles += 1
        self.student.train()
        stats = RunStats(steps=0, seconds=0.0, losses=[], terms={})
        started = time.perf_counter()
        while stats.steps < limit:
            elapsed = time.perf_counter() - started
            if budget is not None and elapsed >= budget:
                break
            progress = stats.steps / limit
            if budget is not None:
                progress = max(progress, elapsed / budget)
            lr = _lr(peak, cfg, stats.steps, min(progress, 1.0))
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            loss, terms = self._step(self.total_steps + stats.steps)
            stats.losses.append(loss)
            for key, value in terms.items():
                stats.terms.setdefault(key, []).append(value)
            stats.steps += 1
        stats.seconds = time.perf_counter() - started
        self.total_steps += stats.steps
        self.total_seconds += stats.seconds
        self.student.eval()
        return stats

    def _step(self, step: int) -> tuple[float, dict[str, float]]:
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, step])
        indices = rng.choice(len(self.cache), size=min(cfg.batch_size, len(self.cache)),
                             replace=False)
        x, target, hints = self.cache.batch(sorted(indices.tolist()), self.device)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.bf16)
        with autocast:
            raw, feats = self.student.forward_with_hints(x)
        prediction = raw.float() / 255.0
        terms: dict[str, torch.Tensor] = {}
        terms["image"] = distill_loss(prediction, target, pixel=cfg.pixel,
                                      ssim_weight=cfg.ssim_weight)
        if cfg.hint_weight > 0:
            terms["hint"] = sum((F.mse_loss(adapter(f.float()), h) for adapter, f, h in
                                 zip(self.adapters, feats, hints, strict=True)),
                                torch.zeros((), device=self.device))
        if cfg.temporal_weight > 0:
            terms["temporal"] = temporal_loss(self.student, x, prediction, cfg.temporal_shift)
        loss = terms["image"]
        if "hint" in terms:
            loss = loss + cfg.hint_weight * terms["hint"]
        if "temporal" in terms:
            loss = loss + cfg.temporal_weight * terms["temporal"]
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.ema is not None:
            self.ema.update_parameters(self.student)
        return float(loss.detach()), {k: float(v.detach()) for k, v in terms.items()}


def temporal_loss(student: nn.Module, x: torch.Tensor, prediction: torch.Tensor,
                  shift: int) -> torch.Tensor:
    """L1 between the output of the view panned by ``shift`` px and the panned output."""
    moved = student(x[..., shift:]) / 255.0
    return F.l1_loss(moved.float(), prediction[..., shift:])


def _lr(peak: float, cfg: TrainConfig, step: int, progress: float) -> float:
    if step < cfg.warmup_steps:
        return peak * (step + 1) / (cfg.warmup_steps + 1)
    low = peak * cfg.final_lr_fraction
    return low + (peak - low) * 0.5 * (1.0 + math.cos(math.pi * progress))
