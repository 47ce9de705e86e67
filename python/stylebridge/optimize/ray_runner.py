"""Variant builds as Ray tasks: declared resources, retries, live progress on the driver.

Each job becomes one task with the CPUs, GPU and memory its recipe needs
(:func:`task_options`); a task whose worker dies is run again by Ray (``max_retries``),
and a training job then continues from the checkpoint its first attempt left in the
shared ``work_dir``. The student search is a coordinator task holding no CPU: its
trials (Ray Tune) hold them. Results come back through the object store as they
finish; the caller (the driver) is the only writer of the catalog.

Workers report progress to a :class:`ProgressBoard` actor; the driver polls it while
it waits and draws one rich bar per variant.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from stylebridge.optimize import recipes as rc
from stylebridge.optimize.build_job import BuildJob, BuildResult, Payload, execute
from stylebridge.optimize.ray_settings import RaySettings

PID_FILE = "worker.pid"  # in a job's work_dir: which process is building it now
TRAINING_KINDS = frozenset({"distill", "prune-structured", "students"})


class ProgressBoard:
    """Latest (text, step, steps) per variant, written by workers, read by the driver."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[str, int | None, int | None]] = {}

    def update(self, variant_id: str, text: str, done: int | None, total: int | None) -> None:
        self._state[variant_id] = (text, done, total)

    def snapshot(self) -> dict[str, tuple[str, int | None, int | None]]:
        return dict(self._state)


def task_options(spec: object, settings: RaySettings) -> dict[str, Any]:
    """Ray resources and retries of one recipe's task."""
    kind = getattr(spec, "kind", "")
    options: dict[str, Any] = {"max_retries": settings.max_retries, "retry_exceptions": False}
    if kind == "students":  # a coordinator: its trials declare the CPUs and GPUs
        options.update(num_cpus=0)
        return options
    options["num_cpus"] = settings.cpus
    if kind in TRAINING_KINDS and settings.gpus:
        options["num_gpus"] = settings.gpus
    memory = settings.memory_bytes()
    if memory is not None:
        options["memory"] = memory
    return options


def build_task(job: BuildJob, payload: Payload, board: Any) -> BuildResult:
    """The body of one Ray task: build in a temporary folder, return files and measures."""
    import ray

    job.work_dir.mkdir(parents=True, exist_ok=True)
    (job.work_dir / PID_FILE).write_text(str(os.getpid()))

    def report(text: str, done: int | None, total: int | None) -> None:
        board.update.remote(job.variant_id, text, done, total)

    report("running", None, None)
    with tempfile.TemporaryDirectory(prefix="stylebridge-task-") as tmp:
        out = Path(tmp) / "out"
        result = execute(job, payload, out, Path(tmp) / "in", report, on_ray=True)
        if result.error is None:
            result = result.with_files(out)
    node = ray.get_runtime_context().get_node_id()[:8]
    where = (f"ray: node {ray.util.get_node_ip_address()} ({socket.gethostname()}, "
             f"id {node}), pid {os.getpid()}")
    return replace(result, built_on=where)


class RayExecutor:
    """Submits jobs as tasks and hands back results in the order they finish."""

    def __init__(self, recipes: rc.RecipeSet, payload: Payload, bars: bool) -> None:
        import ray

        self._settings = recipes.ray
        self._payload = ray.put(replace(payload, teacher_module=None))
        self._board = ray.remote(num_cpus=0)(ProgressBoard).remote()
        self._task = ray.remote(build_task)
        self._pending: dict[Any, tuple[BuildJob, float]] = {}
        self._bars = _Bars() if bars else None

    def has_room(self) -> bool:
        return True  # Ray queues what the cluster cannot place yet

    def busy(self) -> bool:
        return bool(self._pending)

    def submit(self, job: BuildJob) -> None:
        options = task_options(job.spec, self._settings)
        ref = self._task.options(**options).remote(job, self._payload, self._board)
        self._pending[ref] = (job, time.perf_counter())
        if self._bars is not None:
            self._bars.add(job.variant_id)

    def next_done(self) -> tuple[BuildJob, BuildResult]:
        import ray
        from ray.exceptions import RayError

        while True:
            ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=0.5)
            if self._bars is not None:
                self._bars.show(ray.get(self._board.snapshot.remote()))
            if ready:
                break
        ref = ready[0]
        job, submitted = self._pending.pop(ref)
        try:
            result: BuildResult = ray.get(ref)
        except RayError as exc:  # the worker died more often than max_retries allows
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            result = BuildResult(job.variant_id, error=(
                f"Ray lost the task {self._settings.max_retries + 1} time(s) "
                f"({type(exc).__name__}: {first})"))
        if self._bars is not None:
            self._bars.finish(job.variant_id, result, time.perf_counter() - submitted)
        return job, result

    def close(self) -> None:
        if self._bars is not None:
            self._bars.close()


class _Bars:
    """One rich bar per variant on the driver: queued, running, training steps, done."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("{task.fields[text]}"),
                                  TimeElapsedColumn())
        self._progress.start()
        self._tasks: dict[str, Any] = {}
        self._done: set[str] = set()

    def add(self, variant_id: str) -> None:
        self._tasks[variant_id] = self._progress.add_task(variant_id, total=None, text="queued")

    def show(self, state: dict[str, tuple[str, int | None, int | None]]) -> None:
        for variant_id, (text, done, total) in state.items():
            task = self._tasks.get(variant_id)
            if task is not None and variant_id not in self._done:
                self._progress.update(task, text=text, completed=done or 0, total=total)

    def finish(self, variant_id: str, result: BuildResult, seconds: float) -> None:
        task = self._tasks[variant_id]
        self._done.add(variant_id)
        text = f"failed: {result.error}"[:80] if result.error else f"built in {seconds:.0f} s"
        self._progress.update(task, text=text, total=1, completed=1)

    def close(self) -> None:
        self._progress.stop()
