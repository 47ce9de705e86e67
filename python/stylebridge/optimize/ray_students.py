"""The student search on Ray Tune: one trial per shape, ASHA stops the weak ones early.

Same inputs and result as :func:`~stylebridge.optimize.student_search.successive_halving`,
which halves synchronously: every live shape finishes budget *k* before any is cut, so
on a cluster the workers of fast shapes wait for the slowest, and a cut shape's worker
idles until the rung ends. ASHA (Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020) promotes asynchronously instead: when a trial
finishes a rung it is compared only with the trials that reached that rung before it,
and goes on when it is in their top ``1 / reduction_factor`` (``reduction_factor`` is
``1 / keep``). So the first arrival at a rung always goes on, a trial is stopped only
when it is below those before it, and ASHA never keeps fewer than the top ``keep``
share the local halving would keep; it may keep more (a weak shape that arrived early).
Nobody waits on a rung, and a stopped trial frees its CPUs or GPU at once.

Rungs: ASHA puts its milestones at ``grace_period * reduction_factor ** k`` of its
time attribute. With ``training_iteration`` as the clock and a factor of 2 that is
iterations 1, 2, 4, so a search of 4 budgets would not cut after the third. Each report
carries ``milestone = reduction_factor ** rung`` as the clock instead: every budget is
a rung, as locally. ``keep = 1`` (no halving) runs every shape through every budget.

Faults: every rung ends with a checkpoint of the whole Trainer (student, EMA,
optimiser, step and time counters, learning-rate cycle). A trial whose worker dies is
restarted by Tune (``FailureConfig.max_failures``) from its last finished rung: no rung
is trained or reported twice. Batches follow the step count, so the restored trial
draws the batches the uninterrupted one would have. A re-run of the same search (same
teacher cache, settings and evaluation frames, fingerprinted in ``tune/students.sha256``)
restores the Tune experiment: finished trials are not run again, interrupted or errored
ones go on from their last checkpoint.

The teacher cache is built once, in a Ray task holding the trials' resources, in
``work_dir/cache`` (a path every worker sees); trials only open it (two writers would
race). Speed-ups are timed in the calling process before any trial starts, every shape
interleaved with the teacher, so training load never skews them. After the fit, the
frontier is read back from the trials' checkpoints (``tune_results``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray
import torch
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler
from torch import nn

from stylebridge.atomic import write_bytes_atomically
from stylebridge.errors import InvalidInputError, StateError
from stylebridge.models.export import export_onnx
from stylebridge.models.transformer_net import TransformerNet, TransformerNetConfig
from stylebridge.optimize.fast_distill import Trainer
from stylebridge.optimize.student_nets import StudentNet, build_student
from stylebridge.optimize.student_search import (
    SearchInputs,
    SearchResult,
    SearchSettings,
    initial_student,
    parse_shape,
    rank_score,
    shape_speedups,
    train_and_measure,
)
from stylebridge.optimize.teacher_cache import META, build_cache, open_cache
from stylebridge.optimize.tune_results import (
    STATE_FILE,
    describe_failure,
    frontier_of,
    read_checkpoint,
    rung_history,
)

_log = logging.getLogger(__name__)
METRICS = ("score", "ssim_mean", "ssim_min", "steps", "train_seconds", "speedup", "rung",
           "milestone", "restored_from_rung")


class RayNotStartedError(StateError):
    """The Ray search was called before ``ray.init``."""


@dataclass(frozen=True)
class TrialResources:
    """What one trial (and the teacher-cache task) holds on the cluster."""

    cpus: float = 1.0
    gpus: float = 0.0
    memory_bytes: int | None = None

    def as_tune(self) -> dict[str, float]:
        """The resource dict ``tune.with_resources`` takes."""
        out = {"cpu": self.cpus, "gpu": self.gpus}
        if self.memory_bytes is not None:
            out["memory"] = float(self.memory_bytes)
        return out


@dataclass(frozen=True)
class _Teacher:
    """The teacher as it travels through the object store: config and weights."""

    config: TransformerNetConfig
    state: dict[str, torch.Tensor]

    @classmethod
    def of(cls, teacher: nn.Module) -> _Teacher:
        if not isinstance(teacher, TransformerNet):
            raise InvalidInputError(f"the Ray student search needs a TransformerNet teacher, "
                                    f"got {type(teacher).__name__}")
        state = {k: v.detach().cpu() for k, v in teacher.state_dict().items()}
        return cls(teacher.config, state)

    def build(self, device: torch.device | None = None) -> TransformerNet:
        model = TransformerNet(self.config)
        model.load_state_dict(self.state)
        return model.to(device or torch.device("cpu")).eval()


@dataclass(frozen=True)
class _Job:
    """What every trial needs besides its shape (shipped once through the object store)."""

    inputs: SearchInputs
    settings: SearchSettings
    work_dir: Path
    speedups: dict[str, float]
    threads: int
    gpu: bool


def tune_students(teacher: nn.Module, inputs: SearchInputs, settings: SearchSettings,
                  work_dir: Path, resources: TrialResources, max_failures: int = 2,
                  on_result: Callable[[str, dict[str, float]], None] | None = None
                  ) -> SearchResult:
    """Run the student search as Ray Tune trials under ASHA; the result matches
    :func:`~stylebridge.optimize.student_search.successive_halving`'s.

    Needs ``ray.init`` first (RayNotStartedError otherwise); may run on the driver or in
    a Ray task. ``on_result(shape, metrics)`` is called here for every reported rung.
    Raises InvalidInputError for resources the cluster does not have, StateError naming
    every trial that failed beyond ``max_failures`` retries.
    """
    if not ray.is_initialized():
        raise RayNotStartedError("the Ray student search needs a running Ray: call ray.init "
                                 "(or pass --ray local / --ray ADDRESS) first")
    _check_fits(resources, ray.cluster_resources())
    work_dir = Path(work_dir).resolve()  # trials run with the trial folder as cwd
    work_dir.mkdir(parents=True, exist_ok=True)
    inputs = _absolute(inputs)
    shipped = _Teacher.of(teacher)
    started = time.perf_counter()
    cache_seconds, runs = ray.get(_cache_task(resources).remote(
        shipped, inputs.train_frames, settings.views, work_dir / "cache", resources.gpus > 0))
    _log.info("teacher cache: %.1f s in its task, %.1f s with Ray's start-up, %d teacher runs",
              cache_seconds, time.perf_counter() - started, runs)
    names = [s.name for s in settings.shapes]
    for shape in settings.shapes:
        export_onnx(build_student(shape, seed=settings.train.seed).eval(),
                    work_dir / f"{shape.name}.onnx")
    speedups = shape_speedups(work_dir, names, inputs)
    job = _Job(inputs, settings, work_dir, speedups, threads=max(1, int(resources.cpus)),
               gpu=resources.gpus > 0)
    started = time.perf_counter()
    key = str(work_dir / "tune" / "students")
    if on_result is not None:
        _LISTENERS[key] = on_result
    try:
        grid = _tuner(shipped, job, resources, max_failures, key).fit()
    finally:
        _LISTENERS.pop(key, None)
    _log.info("Tune: %d trials in %.1f s", len(grid), time.perf_counter() - started)
    failed = [describe_failure(r) for r in grid if r.error is not None]
    if failed:
        raise StateError(f"{len(failed)} student trial(s) failed after {max_failures} "
                         f"retries: " + "; ".join(failed))
    histories = {r.config["shape"]: rung_history(r) for r in grid}
    frontier, winner = frontier_of(histories, names)
    best = next(r for r in grid if r.config["shape"] == winner)
    student = _load_student(best.checkpoint, winner, teacher, job)
    rates = {n: h[-1]["steps"] / h[-1]["train_seconds"] for n, h in histories.items()
             if h and h[-1]["train_seconds"] > 0}
    return SearchResult(student=student, frontier=frontier, steps_per_s=rates,
                        cache_seconds=cache_seconds)


def _check_fits(resources: TrialResources, cluster: dict[str, float]) -> None:
    """Fail now, not hang: a trial asking for more than the cluster has never starts."""
    wanted = {"CPU": resources.cpus, "GPU": resources.gpus,
              "memory": float(resources.memory_bytes or 0)}
    short = [f"{k} {v:g} (the cluster has {cluster.get(k, 0.0):g})"
             for k, v in wanted.items() if v > cluster.get(k, 0.0)]
    if resources.cpus <= 0 and resources.gpus <= 0:
        short.append("no CPU and no GPU")
    if short:
        raise InvalidInputError("a student trial cannot be placed on this Ray cluster: it asks "
                                "for " + ", ".join(short))


def _absolute(inputs: SearchInputs) -> SearchInputs:
    from dataclasses import replace

    return replace(inputs, teacher_onnx=Path(inputs.teacher_onnx).resolve(),
                   train_frames=tuple(Path(p).resolve() for p in inputs.train_frames))


def _cache_task(resources: TrialResources) -> Any:
    """The teacher-cache build as a Ray task with the trials' resources."""
    options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus}
    if resources.memory_bytes is not None:
        options["memory"] = resources.memory_bytes
    return ray.remote(_build_cache).options(**options)


def _build_cache(teacher: _Teacher, frames: tuple[Path, ...], views: Any, folder: Path,
                 gpu: bool) -> tuple[float, int]:
    started = time.perf_counter()
    cache = build_cache(teacher.build(_device(gpu)), frames, views, folder)
    return time.perf_counter() - started, cache.teacher_runs


def _tuner(teacher: _Teacher, job: _Job, resources: TrialResources, max_failures: int,
           key: str) -> Any:
    """A new Tuner, or the interrupted one of the same search (same teacher cache, settings
    and evaluation frames) restored: finished trials stay, the rest go on from their last
    checkpoint, errored ones too."""
    settings = job.settings
    cluster = ray.cluster_resources()
    per = (cluster.get("GPU", 0.0) / resources.gpus if resources.gpus > 0
           else cluster.get("CPU", 0.0) / resources.cpus)
    trainable = tune.with_resources(tune.with_parameters(student_trial, teacher=teacher, job=job),
                                    resources.as_tune())
    space = {"shape": tune.grid_search([s.name for s in settings.shapes])}
    stamp = job.work_dir / "tune" / "students.sha256"
    fingerprint = _fingerprint(job)
    if (stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint
            and tune.Tuner.can_restore(key)):
        _log.info("resuming the student search in %s", key)
        return tune.Tuner.restore(key, trainable, resume_errored=True, param_space=space)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(stamp, fingerprint.encode())
    return tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune.TuneConfig(scheduler=scheduler(settings), metric="score", mode="max",
                                    max_concurrent_trials=max(1, math.floor(per))),
        run_config=tune.RunConfig(
            storage_path=str(job.work_dir / "tune"), name="students", verbose=0,
            failure_config=tune.FailureConfig(max_failures=max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            callbacks=[_Progress(key)]))


def _fingerprint(job: _Job) -> str:
    """What decides the trials' results: the cache (teacher, frames, views), the search
    settings and the evaluation frames."""
    s = job.settings
    described = {"cache": json.loads((job.work_dir / "cache" / META).read_text("utf-8")),
                 "shapes": [x.name for x in s.shapes], "budgets": list(s.budgets),
                 "keep": s.keep, "min_speedup": s.min_speedup,
                 "speed_tolerance": s.speed_tolerance, "teacher_init": s.teacher_init,
                 "train": s.train.model_dump(mode="json")}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode())
    for array in (*job.inputs.eval_frames, *job.inputs.eval_reference):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def scheduler(settings: SearchSettings) -> TrialScheduler:
    """ASHA with a rung at every budget (clock: ``milestone = (1 / keep) ** rung``); with
    ``keep = 1`` nothing is cut, so every shape runs every budget (FIFO)."""
    if settings.keep >= 1.0:
        return FIFOScheduler()
    return ASHAScheduler(time_attr="milestone", grace_period=1,
                         max_t=milestone(settings, len(settings.budgets) - 1),
                         reduction_factor=1.0 / settings.keep)


def milestone(settings: SearchSettings, rung: int) -> float:
    """ASHA's clock at the end of ``rung``: its k-th rung is at ``reduction_factor ** k``."""
    return (1.0 / settings.keep) ** rung


def student_trial(config: dict[str, Any], teacher: _Teacher, job: _Job) -> None:
    """One shape through the budgets, from its last checkpoint when Tune restarts it
    (Tune's trainable; its name is the trials' name)."""
    torch.set_num_threads(job.threads)
    name = str(config["shape"])
    settings = job.settings
    device = _device(job.gpu)
    model = teacher.build(device)
    cache = open_cache(model, job.inputs.train_frames, settings.views, job.work_dir / "cache")
    student = initial_student(parse_shape(name), model, settings, job.inputs.train_frames)
    trainer = Trainer(student, cache, settings.train, device=device)
    restored, history = -1, []
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        state = read_checkpoint(checkpoint)
        trainer.load_state_dict(state["trainer"])
        restored, history = int(state["rung"]), list(state["history"])
    pids = job.work_dir / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    speedup = job.speedups[name]
    for rung in range(restored + 1, len(settings.budgets)):
        (pids / f"{name}.pid").write_text(str(os.getpid()), encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
            fid = train_and_measure(trainer, settings.budgets[rung], Path(tmp) / "s.onnx",
                                    job.inputs)
            metrics = {"score": rank_score(speedup, fid.ssim_mean, settings),
                       "ssim_mean": fid.ssim_mean, "ssim_min": fid.ssim_min,
                       "steps": trainer.total_steps, "train_seconds": trainer.total_seconds,
                       "speedup": speedup, "rung": rung,
                       "milestone": milestone(settings, rung),
                       "restored_from_rung": restored}
            history.append(metrics)
            saved = Path(tmp) / "checkpoint"
            saved.mkdir()
            torch.save({"trainer": trainer.state_dict(), "rung": rung, "history": history},
                        saved / STATE_FILE)
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(str(saved)))


def _load_student(checkpoint: Any, name: str, teacher: nn.Module, job: _Job) -> StudentNet:
    """The winner's EMA weights from its last checkpoint, on the CPU, in eval mode."""
    if checkpoint is None:
        raise StateError(f"the winning trial {name} left no checkpoint")
    settings = job.settings
    cache = open_cache(teacher, job.inputs.train_frames, settings.views, job.work_dir / "cache")
    trainer = Trainer(build_student(parse_shape(name), seed=settings.train.seed), cache,
                      settings.train, device=torch.device("cpu"))
    trainer.load_state_dict(read_checkpoint(checkpoint)["trainer"])
    return trainer.model()


def _device(gpu: bool) -> torch.device:
    """The GPU Ray gave this worker, or the CPU: a task holding no GPU still sees every GPU
    of its node (Ray leaves CUDA_VISIBLE_DEVICES alone), so it must not pick one itself."""
    if not gpu:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InvalidInputError("this student trial holds a GPU but PyTorch sees no CUDA "
                                "device here: install a CUDA build of torch on the workers")
    return torch.device("cuda")


# on_result of the search running in this process, by experiment folder.
_LISTENERS: dict[str, Callable[[str, dict[str, float]], None]] = {}


class _Progress(tune.Callback):
    """Tune callback: every reported rung to the ``on_result`` of its search, on the
    Tuner's process. It holds only the experiment's key: the Tuner pickles its run config
    into the experiment folder (a progress display with locks does not pickle), and a
    restored Tuner must reach the new run's ``on_result``, not the old one's."""

    def __init__(self, key: str) -> None:
        self._key = key

    def on_trial_result(self, iteration: int, trials: list[Any], trial: Any,
                        result: dict[str, Any], **info: Any) -> None:
        listener = _LISTENERS.get(self._key)
        if listener is not None:
            listener(str(trial.config["shape"]), {k: float(result[k]) for k in METRICS
                                                  if k in result})
