"""``optimize``: from one teacher model to a measured catalog of variants.

For each recipe of a ``RecipeSet``: build the variant (ONNX transforms from
``optimize.quantize``; torch ones from ``optimize.prune`` / ``optimize.distill``, then
exported at the teacher's opset with ``models.export``), then measure it (size,
parameters, FLOPs, fidelity to the teacher on held-out frames, the engine checker's
verdict for every engine) and write the manifest at once, so a crash loses only the
variant in progress. A variant whose recipe key (recipe, parent id and parent's sha256)
is already in the manifest, with its file intact, is reused unless ``rebuild``; it is
re-measured only when the evaluation settings changed. Latency comes last: every run
times all variants together, interleaved, with speed-up intervals (``_time_all``).

A recipe that fails is reported by name (``EventKind.FAILED``; the CLI exits 1) and the
others go on; nothing is turned into "skipped" except torch recipes on an ONNX teacher,
which cannot be built from it.

Frames: ``evaluation.frames`` images spread over the folder are held out for fidelity;
training (distillation, structured pruning's fine-tuning) and calibration use the rest.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import onnx

from stylebridge import catalog as cat
from stylebridge.atomic import write_bytes_atomically
from stylebridge.errors import NotFoundError
from stylebridge.evaluate.latency import LatencySpec, measure_interleaved, speedups
from stylebridge.evaluate.variant_eval import teacher_outputs
from stylebridge.file_kinds import CHECKPOINT_SUFFIXES
from stylebridge.frames import load_image, resize
from stylebridge.optimize import recipes as rc
from stylebridge.optimize.build_job import (
    BuildJob,
    BuildResult,
    Executor,
    FileRef,
    LocalExecutor,
    Payload,
)
from stylebridge.optimize.measure import engine_verdicts, measure

__all__ = ["EventKind", "OptimizeEvent", "engine_verdicts", "image_paths", "optimize",
           "split_frames", "variant_id_for"]

_log = logging.getLogger(__name__)

WORK_DIR = ".work"  # inside the catalog: checkpoints of training runs in progress
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp"})


class EventKind(StrEnum):
    START = "start"
    BUILT = "built"
    REUSED = "reused"
    SKIPPED = "skipped"
    FAILED = "failed"
    CLUSTER = "cluster"  # optimize --ray: the cluster joined (detail: size, dashboard link)


@dataclass(frozen=True)
class OptimizeEvent:
    """One step of a run, for progress display: variant ``index`` of ``total``."""

    kind: EventKind
    variant_id: str
    index: int
    total: int
    detail: str = ""


ProgressCallback = Callable[[OptimizeEvent], None]


@dataclass(frozen=True)
class _Frames:
    train: tuple[Path, ...]
    evaluation: tuple[np.ndarray, ...]  # at the evaluation size
    eval_reference: tuple[np.ndarray, ...]  # the teacher's outputs on them (filled later)
    latency_frame: np.ndarray


def image_paths(folder: Path) -> list[Path]:
    """The image files of ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFoundError(f"frames folder {folder} does not exist; pass --frames DIR")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise NotFoundError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
    return paths


def split_frames(paths: Sequence[Path], holdout: int) -> tuple[list[Path], list[Path]]:
    """(train, evaluation): ``holdout`` paths spread evenly over the list are held out."""
    count = min(holdout, len(paths))
    picks = sorted({round(i * (len(paths) - 1) / max(count - 1, 1)) for i in range(count)})
    evaluation = [paths[i] for i in picks]
    train = [p for i, p in enumerate(paths) if i not in picks]
    if not train:
        _log.warning("only %d frames: training uses the evaluation frames too", len(paths))
        train = list(paths)
    return train, evaluation


def variant_id_for(model_path: Path) -> str:
    """A catalog id from a file stem (characters outside [A-Za-z0-9._-] become '-')."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", Path(model_path).stem).strip("-._") or "teacher"
    return stem[:64]


class _Run:
    """One optimize run: the catalog folder, its manifest, and the teacher."""

    def __init__(self, model_path: Path, out: Path, recipes: rc.RecipeSet, rebuild: bool,
                 progress: ProgressCallback | None, training_progress: bool) -> None:
        self.model_path = Path(model_path)
        self.out = Path(out)
        self.recipes = recipes
        self.rebuild = rebuild
        self.progress = progress
        self.training_progress = training_progress
        self.manifest = cat.load_manifest(self.out)
        self.teacher_module: object | None = None  # torch TransformerNet for .pth sources
        self.frames: _Frames | None = None  # with the teacher's outputs, once computed
        # Checkpoints of training runs in progress: a retried task or a re-run resumes
        # from them. On a cluster, [ray] storage names a path every node mounts.
        storage = recipes.ray.storage if recipes.ray.enabled else None
        self.storage = (Path(storage) if storage else self.out / WORK_DIR).resolve()

    def emit(self, kind: EventKind, vid: str, index: int, detail: str = "") -> None:
        total = len(self.recipes.recipes) + 1
        if kind in (EventKind.SKIPPED, EventKind.FAILED):
            _log.warning("%s %s: %s", kind.value, vid, detail)
        if self.progress is not None:
            self.progress(OptimizeEvent(kind, vid, index, total, detail))

    def save(self, variant: cat.Variant) -> None:
        self.manifest = self.manifest.upsert(variant)
        cat.save_manifest(self.out, self.manifest)

    def reusable(self, key: str) -> cat.Variant | None:
        found = self.manifest.find_recipe(key)
        if found is None or self.rebuild:
            return None
        path = self.out / found.file
        if not path.is_file() or cat.sha256_file(path) != found.sha256:
            _log.info("variant %s: file missing or changed, rebuilding", found.id)
            return None
        return found


def optimize(model_path: Path, frames_dir: Path, out_catalog: Path,
             recipes: rc.RecipeSet | str | Path, rebuild: bool = False,
             progress: ProgressCallback | None = None, *,
             training_progress: bool = False, ray: str | None = None) -> cat.Manifest:
    """Build and measure every variant of ``recipes`` from ``model_path`` into ``out_catalog``.

    ``model_path`` is a ``.pth`` checkpoint (every recipe) or an ``.onnx`` file (the ONNX
    recipes only; torch recipes are skipped with a note). Returns the final manifest.
    A recipe that fails is reported through ``progress`` and logged, the others go on.
    ``ray`` (or the recipe set's ``[ray] address``): build the variants as Ray tasks on
    that cluster (``local``, ``auto``, ``ray://host:port``); the catalog is the same.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise NotFoundError(f"model {model_path} does not exist")
    if not isinstance(recipes, rc.RecipeSet):
        recipes = rc.load_recipes(recipes)  # "quick", "default" or a TOML path
    if ray is not None:
        recipes = recipes.model_copy(update={"ray": rc.ray_address(recipes.ray, ray)})
    recipes = recipes.check()
    run = _Run(model_path, out_catalog, recipes, rebuild, progress, training_progress)
    with contextlib.ExitStack() as stack:
        cluster = None
        if recipes.ray.enabled:  # first, so an unreachable cluster fails before any work
            from stylebridge.optimize.ray_cluster import connected

            cluster = stack.enter_context(connected(recipes.ray))
            link = f"; dashboard: {cluster.dashboard_url}" if cluster.dashboard_url else ""
            run.emit(EventKind.CLUSTER, cluster.address, 0, cluster.describe() + link)
        frames = _load_frames(frames_dir, recipes)
        run.manifest = run.manifest.model_copy(
            update={"frames": str(Path(frames_dir).resolve())})
        teacher = _teacher(run, frames)
        reference = tuple(teacher_outputs(run.out / teacher.file, frames.evaluation))
        frames = _Frames(frames.train, frames.evaluation, reference, frames.latency_frame)
        run.frames = frames
        if teacher.fidelity is None or _stale(teacher, recipes):
            run.save(_remeasure(run, teacher, frames))
        if cluster is not None:
            from stylebridge.optimize.ray_cluster import ClusterUnreachableError
            from stylebridge.optimize.ray_runner import RayExecutor

            try:
                executor = RayExecutor(recipes, _payload(run, teacher, frames, shipped=True),
                                       bars=training_progress)
                stack.callback(executor.close)
                _build_all(run, executor, shipped=True)
            except ConnectionError as exc:  # Ray Client lost its channel: say so, keep what's built
                raise ClusterUnreachableError(
                    f"lost the connection to Ray at {cluster.address} ({str(exc).strip()}); "
                    "the variants built so far are in the catalog, run again to go on") from exc
        else:
            payload = _payload(run, teacher, frames, shipped=False)
            _build_all(run, LocalExecutor(run.out, payload), shipped=False)
    _time_all(run, frames, teacher.id)
    # Teacher first, then this run's recipes in order, then variants of earlier runs.
    order = {vid: i for i, vid in enumerate(
        [teacher.id, *(spec.variant_id() for spec in recipes.recipes)])}
    ordered = tuple(sorted(run.manifest.variants, key=lambda v: order.get(v.id, len(order))))
    run.manifest = run.manifest.model_copy(update={"variants": ordered})
    cat.save_manifest(run.out, run.manifest)
    return run.manifest


def _load_frames(frames_dir: Path, recipes: rc.RecipeSet) -> _Frames:
    paths = image_paths(frames_dir)
    train, held_out = split_frames(paths, recipes.evaluation.frames)
    size = (recipes.evaluation.width, recipes.evaluation.height)
    evaluation = tuple(resize(load_image(p), size) for p in held_out)
    return _Frames(tuple(train), evaluation, (), load_image(held_out[0]))


def _teacher(run: _Run, frames: _Frames) -> cat.Variant:
    vid = variant_id_for(run.model_path)
    source_sha = cat.sha256_file(run.model_path)
    recipe = cat.Recipe(kind=cat.RecipeKind.TEACHER, params={"source_sha256": source_sha})
    key = recipe.key(None)
    is_checkpoint = run.model_path.suffix.lower() in CHECKPOINT_SUFFIXES
    if is_checkpoint:
        from stylebridge.models import load_checkpoint

        run.teacher_module = load_checkpoint(run.model_path).model
    run.emit(EventKind.START, vid, 0, "teacher")
    found = run.reusable(key)
    if found is not None:
        run.emit(EventKind.REUSED, vid, 0)
        return found
    start = time.perf_counter()
    dst = run.out / f"{vid}.onnx"
    if is_checkpoint:
        from stylebridge.models.export import export_onnx

        export_onnx(run.teacher_module, dst, source=run.model_path)  # type: ignore[arg-type]
        notes = "teacher: exported for Barracuda 3 (opset 9) from " + run.model_path.name
    else:
        from stylebridge.models import load_onnx
        from stylebridge.optimize.weights import save_atomically

        loaded = load_onnx(run.model_path)  # validates, refuses external data outside
        save_atomically(loaded.proto, dst)
        notes = "teacher: the ONNX file as given; torch recipes need the .pth"
    variant = _describe(run, vid, None, recipe, key, dst, None, time.perf_counter() - start,
                        notes)
    run.manifest = run.manifest.model_copy(update={"teacher": vid,
                                                   "source": str(run.model_path)})
    run.save(variant)
    run.emit(EventKind.BUILT, vid, 0)
    return variant


def _payload(run: _Run, teacher: cat.Variant, frames: _Frames, shipped: bool) -> Payload:
    """The teacher and frames every job needs: paths here, contents for Ray workers."""
    source = run.model_path if run.teacher_module is not None else run.out / teacher.file
    return Payload(teacher_source=FileRef.of(source, shipped),
                   teacher_onnx=FileRef.of(run.out / teacher.file, shipped),
                   train_frames=tuple(FileRef.of(p, shipped) for p in frames.train),
                   evaluation=frames.evaluation, eval_reference=frames.eval_reference,
                   latency_frame=frames.latency_frame, teacher_module=run.teacher_module)


def _build_all(run: _Run, executor: Executor, shipped: bool) -> None:
    """Submit every recipe once its parent is done; record results as they arrive.

    Only this (driver) process writes the manifest: one atomic write per finished
    variant, so an interrupted run keeps every variant that finished.
    """
    in_run = {spec.variant_id() for spec in run.recipes.recipes}
    finished: set[str] = set()
    waiting = list(enumerate(run.recipes.recipes, start=1))
    while waiting or executor.busy():
        blocked: list[tuple[int, rc.RecipeSpec]] = []
        for index, spec in waiting:
            parent = getattr(spec, "parent", None)
            if (parent in in_run and parent not in finished) or not executor.has_room():
                blocked.append((index, spec))
                continue
            job = _prepare(run, spec, index, shipped)
            if job is None:
                finished.add(spec.variant_id())
            else:
                executor.submit(job)
        waiting = blocked
        if executor.busy():
            job, result = executor.next_done()
            _record(run, job, result)
            finished.add(job.variant_id)


def _prepare(run: _Run, spec: rc.RecipeSpec, index: int, shipped: bool) -> BuildJob | None:
    """The job that builds ``spec``, or None when it is reused or cannot be built here."""
    vid = spec.variant_id()
    parent_id = getattr(spec, "parent", None) or run.manifest.teacher or ""
    try:
        parent = run.manifest.get(parent_id)
    except NotFoundError:
        run.emit(EventKind.SKIPPED, vid, index, f"parent {parent_id!r} was not built")
        return None
    recipe = spec.to_recipe()
    key = recipe.key(f"{parent_id}@{parent.sha256}")
    run.emit(EventKind.START, vid, index, recipe.kind.value)
    found = run.reusable(key)
    if found is not None:
        if _stale(found, run.recipes):
            run.save(_remeasure(run, found, run.frames))  # type: ignore[arg-type]
        run.emit(EventKind.REUSED, vid, index)
        return None
    if spec.needs_torch and run.teacher_module is None:
        run.emit(EventKind.SKIPPED, vid, index, "torch recipes need a .pth teacher")
        return None
    parent_onnx = None if spec.needs_torch else FileRef.of(run.out / parent.file, shipped)
    return BuildJob(spec=spec, variant_id=vid, key=key, parent_id=parent_id,
                    parent_onnx=parent_onnx, recipes=run.recipes,
                    work_dir=run.storage / key,  # checkpoints: a retry or re-run resumes
                    training_progress=run.training_progress, index=index)


def _record(run: _Run, job: BuildJob, result: BuildResult) -> None:
    """Write a finished job's files and its manifest entry (the driver's job alone)."""
    if result.error is not None or result.measurement is None:
        run.emit(EventKind.FAILED, job.variant_id, job.index, result.error or "no measurement")
        return
    for name, data in result.files.items():
        write_bytes_atomically(run.out / name, data)
    checkpoint = run.out / result.checkpoint_name if result.checkpoint_name else None
    variant = _describe(run, job.variant_id, job.parent_id, job.spec.to_recipe(), job.key,
                        run.out / result.onnx_name, checkpoint, result.seconds, result.notes)
    variant = result.measurement.apply(variant)
    run.save(variant.model_copy(update={"frontier": result.frontier,
                                        "built_on": result.built_on}))
    shutil.rmtree(job.work_dir, ignore_errors=True)
    run.emit(EventKind.BUILT, job.variant_id, job.index)


def _stale(variant: cat.Variant, recipes: rc.RecipeSet) -> bool:
    if variant.temporal is None:
        return True
    ev = recipes.evaluation
    fid = variant.fidelity
    # Latency is not part of it: every run times all variants again (_time_all).
    return fid is None or (fid.width, fid.height, fid.frames) != (ev.width, ev.height, ev.frames)


def _describe(run: _Run, vid: str, parent: str | None, recipe: cat.Recipe, key: str,
              path: Path, checkpoint: Path | None, seconds: float, notes: str) -> cat.Variant:
    from stylebridge.evaluate.params import parameter_counts

    proto = onnx.load(str(path), load_external_data=False)
    params, nonzero = parameter_counts(proto)
    return cat.Variant(id=vid, parent=parent, recipe=recipe, recipe_key=key, file=path.name,
                       checkpoint=checkpoint.name if checkpoint else None,
                       sha256=cat.sha256_file(path), size_bytes=path.stat().st_size,
                       params=params, nonzero_params=nonzero, build_seconds=seconds,
                       notes=notes, built_on="local")


def _remeasure(run: _Run, variant: cat.Variant, frames: _Frames) -> cat.Variant:
    measured = measure(run.out / variant.file, frames.evaluation, frames.eval_reference,
                       run.recipes.measured_sizes())
    return measured.apply(variant)


def _time_all(run: _Run, frames: _Frames, teacher_id: str) -> None:
    """Time every variant of the catalog together, interleaved, in this run.

    Latencies measured in separate runs are not comparable on a shared machine (one
    report said 2.60x, the next 1.02x for the same files), so every run re-times all
    variants round-robin and records each one's speed-up over the teacher with a
    bootstrap interval (``catalog.SpeedUp``).
    """
    variants = [v for v in run.manifest.variants if (run.out / v.file).is_file()]
    settings = run.recipes.latency
    spec = LatencySpec(resolutions=settings.sizes(), runs=settings.runs,
                       warmup=settings.warmup)
    timing = measure_interleaved({v.id: run.out / v.file for v in variants},
                                 frames.latency_frame, spec)
    ups = speedups(timing, teacher_id) if any(v.id == teacher_id for v in variants) else {}
    for variant in variants:
        run.manifest = run.manifest.upsert(variant.model_copy(update={
            "latency": tuple(timing.latency(variant.id)), "speedup": ups.get(variant.id)}))
    cat.save_manifest(run.out, run.manifest)
