"""One variant build as a self-contained job: what it needs in, what it gives back.

The same :func:`execute` runs in this process (a local run) and inside a Ray task
(``optimize --ray``). A job carries no open handles: files travel as a
:class:`FileRef`, a path on this machine or the bytes themselves (through Ray's object
store), and a Ray worker writes them into its own temporary folder. The result carries
the built files the same way, plus everything measured, so the driver alone writes the
catalog. Checkpoints of training runs go to ``work_dir`` (a path every worker sees),
which is what lets a retried task continue where the dead one stopped.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from stylebridge import catalog as cat
from stylebridge.errors import StyleBridgeError
from stylebridge.optimize import recipes as rc
from stylebridge.optimize.measure import Measurement, measure

_log = logging.getLogger(__name__)

# (text, steps done, steps in all): live progress of a job, shown on the driver.
ProgressFn = Callable[[str, int | None, int | None], None]


@dataclass(frozen=True)
class FileRef:
    """A file by path (this machine) or by content (shipped to another one)."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def shipped(cls, path: Path) -> FileRef:
        path = Path(path)
        return cls(name=path.name, data=path.read_bytes())

    @classmethod
    def of(cls, path: Path, shipped: bool) -> FileRef:
        """The file's content for another machine (``shipped``), else its absolute path."""
        return cls.shipped(path) if shipped else cls(Path(path).name, path=Path(path).resolve())

    def at(self, folder: Path) -> Path:
        """A path to the file: its own, or a copy written into ``folder``."""
        if self.data is None:
            if self.path is None:
                raise StyleBridgeError(f"file {self.name!r} has neither a path nor content")
            return self.path
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.name
        target.write_bytes(self.data)
        return target


@dataclass(frozen=True)
class Payload:
    """What every job of a run shares: the teacher and the frames."""

    teacher_source: FileRef  # the .pth (or .onnx) the run was given
    teacher_onnx: FileRef  # the catalog's teacher file: the students search times it
    train_frames: tuple[FileRef, ...]
    evaluation: tuple[np.ndarray, ...]
    eval_reference: tuple[np.ndarray, ...]
    latency_frame: np.ndarray
    teacher_module: object | None = None  # in-process runs only: the loaded torch teacher


@dataclass(frozen=True)
class BuildJob:
    """One recipe to build from its parent, and where its checkpoints go."""

    spec: rc.RecipeSpec  # type: ignore[valid-type]
    variant_id: str
    key: str
    parent_id: str
    parent_onnx: FileRef | None  # ONNX recipes: the file they transform
    recipes: rc.RecipeSet
    work_dir: Path
    training_progress: bool = False  # in-process: the trainers' own rich bars
    index: int = 0  # position in the recipe set (progress lines)


@dataclass(frozen=True)
class BuildResult:
    """A built and measured variant, or why it could not be built."""

    variant_id: str
    onnx_name: str = ""
    checkpoint_name: str | None = None
    notes: str = ""
    frontier: tuple[cat.FrontierPoint, ...] = ()
    measurement: Measurement | None = None
    seconds: float = 0.0
    built_on: str = "local"
    files: dict[str, bytes] = field(default_factory=dict)  # empty: written in place
    error: str | None = None  # the recipe failed: why (the run goes on)
    bad_input: bool = False  # error is a StyleBridgeError (the model or recipe), not a bug

    def with_files(self, folder: Path) -> BuildResult:
        """The same result carrying its files' bytes (to leave a worker's disk)."""
        names = [self.onnx_name, *([self.checkpoint_name] if self.checkpoint_name else [])]
        return replace(self, files={n: (folder / n).read_bytes() for n in names})


class Executor(Protocol):
    """Runs build jobs: in this process, one at a time, or as Ray tasks (ray_runner)."""

    def has_room(self) -> bool: ...
    def busy(self) -> bool: ...
    def submit(self, job: BuildJob) -> None: ...
    def next_done(self) -> tuple[BuildJob, BuildResult]: ...


class LocalExecutor:
    """One job at a time, in list order, writing straight into the catalog."""

    def __init__(self, catalog: Path, payload: Payload) -> None:
        self._catalog = catalog
        self._payload = payload
        self._queue: list[BuildJob] = []

    def has_room(self) -> bool:
        return not self._queue

    def busy(self) -> bool:
        return bool(self._queue)

    def submit(self, job: BuildJob) -> None:
        self._queue.append(job)

    def next_done(self) -> tuple[BuildJob, BuildResult]:
        job = self._queue.pop(0)
        with tempfile.TemporaryDirectory(prefix="stylebridge-build-") as scratch:
            return job, execute(job, self._payload, self._catalog, Path(scratch))


def execute(job: BuildJob, payload: Payload, out_dir: Path, scratch: Path,
            progress: ProgressFn | None = None, *, on_ray: bool = False) -> BuildResult:
    """Build ``job`` into ``out_dir`` and measure it; a failed recipe is a result too."""
    started = time.perf_counter()
    try:
        onnx_name, checkpoint, notes, frontier = _build(job, payload, out_dir, scratch,
                                                        progress, on_ray)
        seconds = time.perf_counter() - started
        if progress is not None:
            progress("measuring", None, None)
        measured = measure(out_dir / onnx_name, payload.evaluation, payload.eval_reference,
                           job.recipes.measured_sizes())
    except StyleBridgeError as exc:  # the recipe cannot be made from this model: why
        return BuildResult(job.variant_id, error=str(exc), bad_input=True)
    # Anything else is a bug or a library failure, never a skip: it fails by name.
    except Exception as exc:
        _log.error("recipe %s failed", job.variant_id, exc_info=True)
        return BuildResult(job.variant_id, error=f"{type(exc).__name__}: {exc}")
    return BuildResult(job.variant_id, onnx_name=onnx_name, checkpoint_name=checkpoint,
                       notes=notes, frontier=tuple(frontier), measurement=measured,
                       seconds=seconds)


def _build(job: BuildJob, payload: Payload, out_dir: Path, scratch: Path,
           progress: ProgressFn | None,
           on_ray: bool) -> tuple[str, str | None, str, Sequence[cat.FrontierPoint]]:
    spec = job.spec
    dst = out_dir / f"{job.variant_id}.onnx"
    out_dir.mkdir(parents=True, exist_ok=True)
    if not spec.needs_torch:
        if job.parent_onnx is None:
            raise StyleBridgeError(f"{job.variant_id}: an ONNX recipe needs its parent's file")
        parent = job.parent_onnx.at(scratch / "parent")
        return dst.name, None, _build_onnx(spec, parent, dst, scratch, payload), ()
    from stylebridge.optimize.student_search import SearchInputs
    from stylebridge.optimize.torch_variants import build_torch_variant

    teacher = payload.teacher_module or _load_teacher(payload.teacher_source.at(scratch))
    train = tuple(f.at(scratch / "frames") for f in payload.train_frames)
    inputs = SearchInputs(teacher_onnx=payload.teacher_onnx.at(scratch / "teacher"),
                          train_frames=train, eval_frames=payload.evaluation,
                          eval_reference=payload.eval_reference,
                          latency_frame=payload.latency_frame,
                          latency_size=job.recipes.latency.sizes()[0],
                          latency_runs=job.recipes.latency.runs)
    shown: bool | ProgressFn = job.training_progress
    if progress is not None:
        shown = progress
    built = build_torch_variant(spec, teacher, train, dst, job.work_dir,  # type: ignore[arg-type]
                                shown, inputs,
                                ray_settings=job.recipes.ray if on_ray else None)
    checkpoint = built.checkpoint.name if built.checkpoint is not None else None
    return dst.name, checkpoint, built.notes, built.frontier  # type: ignore[return-value]


def _load_teacher(path: Path) -> object:
    from stylebridge.models import load_checkpoint

    return load_checkpoint(path).model


def _build_onnx(spec: rc.OnnxRecipeSpec, parent: Path, dst: Path, scratch: Path,
                payload: Payload) -> str:
    from stylebridge.frames import load_image, resize
    from stylebridge.optimize.quantize import quantize

    config = spec.quantize_config()
    mode = config.mode
    if mode.needs_frames:
        chosen = payload.train_frames[: config.calibration_frames]
        check_frames = [resize(load_image(f.at(scratch / "frames")), config.calibration_size)
                        for f in chosen]
    else:
        check_frames = list(payload.evaluation)
    result = quantize(parent, dst, config, check_frames)
    cmp = result.comparison
    if mode.python_only or cmp is None:
        return (f"{mode.value}: ONNX Runtime quantized operators, for Python inference only; "
                "no Unity engine imports them")
    verdict = "within" if cmp.passed else "OUTSIDE"
    return (f"{mode.value}: {result.size_ratio:.3f}x the parent's size; ORT vs float parent "
            f"on {len(check_frames)} frames: mean abs {cmp.mean_abs:.3f}, max abs "
            f"{cmp.max_abs:.2f} (0..255), {verdict} tolerance mean {cmp.tolerance.mean_abs}, "
            f"max {cmp.tolerance.max_abs}")
