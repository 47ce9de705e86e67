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
from stylebridge.engines.checker import check_engines
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine
from stylebridge.errors import NotFoundError, StyleBridgeError
from stylebridge.evaluate.flops import count_flops
from stylebridge.evaluate.latency import LatencySpec, measure_interleaved, speedups
from stylebridge.evaluate.variant_eval import evaluate_fidelity, teacher_outputs
from stylebridge.file_kinds import CHECKPOINT_SUFFIXES
from stylebridge.frames import load_image, resize
from stylebridge.optimize import recipes as rc
from stylebridge.optimize.quantize import quantize

_log = logging.getLogger(__name__)

WORK_DIR = ".work"  # inside the catalog: checkpoints of training runs in progress
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp"})


class EventKind(StrEnum):
    START = "start"
    BUILT = "built"
    REUSED = "reused"
    SKIPPED = "skipped"
    FAILED = "failed"


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
             training_progress: bool = False) -> cat.Manifest:
    """Build and measure every variant of ``recipes`` from ``model_path`` into ``out_catalog``.

    ``model_path`` is a ``.pth`` checkpoint (every recipe) or an ``.onnx`` file (the ONNX
    recipes only; torch recipes are skipped with a note). Returns the final manifest.
    A recipe that fails is reported through ``progress`` and logged, the others go on.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise NotFoundError(f"model {model_path} does not exist")
    if not isinstance(recipes, rc.RecipeSet):
        recipes = rc.load_recipes(recipes)  # "quick", "default" or a TOML path
    recipes = recipes.check()
    run = _Run(model_path, out_catalog, recipes, rebuild, progress, training_progress)
    frames = _load_frames(frames_dir, recipes)
    run.manifest = run.manifest.model_copy(update={"frames": str(Path(frames_dir).resolve())})
    teacher = _teacher(run, frames)
    reference = tuple(teacher_outputs(run.out / teacher.file, frames.evaluation))
    frames = _Frames(frames.train, frames.evaluation, reference, frames.latency_frame)
    if teacher.fidelity is None or _stale(teacher, recipes):
        run.save(_measure(run, teacher, frames, teacher.build_seconds, teacher.notes))
    for index, spec in enumerate(recipes.recipes, start=1):
        _one(run, spec, index, frames)
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
    run.emit(EventKind.BUILT, vid, 0)
    return variant


def _one(run: _Run, spec: rc.RecipeSpec, index: int, frames: _Frames) -> None:
    vid = spec.variant_id()
    parent_id = getattr(spec, "parent", None) or run.manifest.teacher or ""
    recipe = spec.to_recipe()
    try:
        parent = run.manifest.get(parent_id)
    except NotFoundError:
        run.emit(EventKind.SKIPPED, vid, index, f"parent {parent_id!r} was not built")
        return
    key = recipe.key(f"{parent_id}@{parent.sha256}")
    run.emit(EventKind.START, vid, index, recipe.kind.value)
    found = run.reusable(key)
    if found is not None:
        if _stale(found, run.recipes):
            run.save(_measure(run, found, frames, found.build_seconds, found.notes))
        run.emit(EventKind.REUSED, vid, index)
        return
    if spec.needs_torch and run.teacher_module is None:
        run.emit(EventKind.SKIPPED, vid, index, "torch recipes need a .pth teacher")
        return
    start = time.perf_counter()
    dst = run.out / f"{vid}.onnx"
    work_dir = run.out / WORK_DIR / key  # training checkpoints: an interrupted run resumes
    try:
        if spec.needs_torch:
            from stylebridge.optimize.torch_variants import build_torch_variant

            built = build_torch_variant(spec, run.teacher_module, frames.train, dst,  # type: ignore[arg-type]
                                        work_dir, run.training_progress)
            notes, checkpoint = built.notes, built.checkpoint
        else:
            notes = _build_onnx(spec, run.out / parent.file, dst, frames)  # type: ignore[arg-type]
            checkpoint = None
        variant = _describe(run, vid, parent_id, recipe, key, dst, checkpoint,
                            time.perf_counter() - start, notes)
        run.save(_measure(run, variant, frames, variant.build_seconds, variant.notes))
    except StyleBridgeError as exc:  # the recipe cannot be made from this model: why
        run.emit(EventKind.FAILED, vid, index, str(exc))
        return
    # Anything else is a bug or a library failure, never a skip: the recipe fails by
    # name (the command exits non-zero), the traceback goes to the log, the others run.
    except Exception as exc:
        _log.error("recipe %s failed", vid, exc_info=True)
        run.emit(EventKind.FAILED, vid, index, f"{type(exc).__name__}: {exc}")
        return
    shutil.rmtree(work_dir, ignore_errors=True)
    run.emit(EventKind.BUILT, vid, index)


def _stale(variant: cat.Variant, recipes: rc.RecipeSet) -> bool:
    ev = recipes.evaluation
    fid = variant.fidelity
    # Latency is not part of it: every run times all variants again (_time_all).
    return fid is None or (fid.width, fid.height, fid.frames) != (ev.width, ev.height, ev.frames)


def _build_onnx(spec: rc.OnnxRecipeSpec, parent: Path, dst: Path, frames: _Frames) -> str:
    config = spec.quantize_config()
    mode = config.mode
    if mode.needs_frames:
        check_frames = [resize(load_image(p), config.calibration_size)
                        for p in frames.train[: config.calibration_frames]]
    else:
        check_frames = list(frames.evaluation)
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


def _describe(run: _Run, vid: str, parent: str | None, recipe: cat.Recipe, key: str,
              path: Path, checkpoint: Path | None, seconds: float, notes: str) -> cat.Variant:
    from stylebridge.evaluate.params import parameter_counts

    proto = onnx.load(str(path), load_external_data=False)
    params, nonzero = parameter_counts(proto)
    variant = cat.Variant(id=vid, parent=parent, recipe=recipe, recipe_key=key, file=path.name,
                          checkpoint=checkpoint.name if checkpoint else None,
                          sha256=cat.sha256_file(path), size_bytes=path.stat().st_size,
                          params=params, nonzero_params=nonzero, build_seconds=seconds,
                          notes=notes)
    if parent is None:
        run.manifest = run.manifest.model_copy(update={"teacher": vid,
                                                       "source": str(run.model_path)})
    run.save(variant)
    return variant


def _measure(run: _Run, variant: cat.Variant, frames: _Frames, seconds: float,
             notes: str) -> cat.Variant:
    path = run.out / variant.file
    proto = onnx.load(str(path), load_external_data=False)
    settings = run.recipes
    sizes = {(settings.evaluation.width, settings.evaluation.height), *settings.latency.sizes()}
    flops = {f"{w}x{h}": count_flops(proto, w, h) for w, h in sorted(sizes)}
    fidelity = evaluate_fidelity(path, frames.evaluation, frames.eval_reference)
    engines = engine_verdicts(proto)
    return variant.model_copy(update={
        "flops": flops, "fidelity": fidelity, "engines": engines,
        "build_seconds": seconds, "notes": _with_engine_note(notes, engines)})


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


def engine_verdicts(model: onnx.ModelProto) -> tuple[cat.EngineVerdict, ...]:
    """The checker's verdict for every engine, with the first blocking reason and fix."""
    found: list[cat.EngineVerdict] = []
    for engine, report in check_engines(model, tuple(Engine)).items():
        worst = report.verdict
        items = [(v.verdict, v.reason, v.fix) for v in report.verdicts] + \
                [(f.verdict, f.reason, f.fix) for f in report.findings]
        reason, fix = next(((r, f) for v, r, f in items if v is worst and worst is not
                            Verdict.RUNS), ("", ""))
        found.append(cat.EngineVerdict(engine=engine.value, verdict=worst.value,
                                       reason=reason, fix=fix))
    return tuple(found)


def _with_engine_note(notes: str, engines: Sequence[cat.EngineVerdict]) -> str:
    base = notes.split(" | engines:")[0]
    runs = [e.engine for e in engines if e.verdict != Verdict.CANNOT_RUN.value]
    blocked = [e.engine for e in engines if e.verdict == Verdict.CANNOT_RUN.value]
    summary = f"runs on {', '.join(runs) or 'none'}"
    if blocked:
        summary += f"; cannot run on {', '.join(blocked)}"
    return f"{base} | engines: {summary}"
