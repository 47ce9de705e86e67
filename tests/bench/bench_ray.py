"""Benchmark of `optimize --ray` (issue 17): the same recipes locally and on a local Ray.

For each recipe set (``quick``, and ``students`` with its budgets scaled by
``--students-budgets``) on ../shared/models/mosaic.pth and ../shared/frames:
1. wall time of a local run and of a ``--ray local`` run (Ray's start included), each
   into a fresh catalog under out/bench/ray/, one after the other on the same machine;
2. both catalogs compared: the same variant ids and recipes, and each variant's SSIM to
   the teacher (difference), build seconds side by side;
3. Ray's own cost per task, measured in this run: start-up, a no-op task's round trip,
   and a task that carries this run's real payload (teacher and frames in, a
   teacher-sized ONNX file back), each against the same call made in-process;
4. on paper: the students sweep's wall time on 1, 4 and 16 GPU workers, from the
   per-rung times this run measured (see ``_scaling``).

Writes out/bench/ray.json and .md and prints the table.
Usage: python tests/bench/bench_ray.py [--sets quick,students] [--students-budgets 30,60,120]
                                       [--ray-cpus 2 --name ray-cpus2]
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT_DIR, measure, write_results

from stylebridge.catalog import Manifest
from stylebridge.optimize.pipeline import image_paths, optimize, split_frames
from stylebridge.optimize.recipes import RecipeSet, StudentsSpec, load_recipes
from stylebridge.paths import shared_dir


def _recipes(name: str, budgets: tuple[float, ...], cpus: float | None) -> RecipeSet:
    recipes = load_recipes(name)
    if cpus is not None:  # per Ray task and per trial; the local run uses every core anyway
        recipes = recipes.model_copy(update={"ray": recipes.ray.model_copy(
            update={"cpus": cpus})})
    if name != "students":
        return recipes
    specs = tuple(s.model_copy(update={"budgets": budgets}) if isinstance(s, StudentsSpec)
                  else s for s in recipes.recipes)
    return recipes.model_copy(update={"recipes": specs})


def _run(recipes: RecipeSet, out: Path, ray: str | None, shared: Path) -> tuple[Manifest, float]:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    manifest = optimize(shared / "models" / "mosaic.pth", shared / "frames", out, recipes,
                        progress=lambda e: print(f"  [{e.index}/{e.total - 1}] {e.kind.value} "
                                                 f"{e.variant_id} {e.detail}", flush=True),
                        ray=ray)
    return manifest, time.perf_counter() - start


def _compare(local: Manifest, on_ray: Manifest) -> list[dict[str, object]]:
    rows = []
    for variant in local.variants:
        twin = on_ray.get(variant.id)
        same = (twin.recipe.kind, twin.recipe.params) == (variant.recipe.kind,
                                                          variant.recipe.params)
        a = variant.fidelity.ssim_mean if variant.fidelity else float("nan")
        b = twin.fidelity.ssim_mean if twin.fidelity else float("nan")
        rows.append({"id": variant.id, "same_recipe": same, "ssim_local": a, "ssim_ray": b,
                     "ssim_diff": b - a, "build_s_local": variant.build_seconds,
                     "build_s_ray": twin.build_seconds, "built_on": twin.built_on})
    extra = {v.id for v in on_ray.variants} - {v.id for v in local.variants}
    if extra:
        raise SystemExit(f"the Ray catalog has variants the local one has not: {extra}")
    return rows


def _echo(payload: object, size: int) -> bytes:
    """What a variant task moves without building anything: its inputs in, a file out."""
    return bytes(size) if payload is not None else b""


def _task_overhead(shared: Path) -> dict[str, object]:
    """Ray's cost per task, against the same call in this process."""
    import ray

    from stylebridge.frames import load_image
    from stylebridge.optimize.build_job import FileRef, Payload

    paths = image_paths(shared / "frames")
    train, held = split_frames(paths, 4)
    teacher = shared / "models" / "mosaic.onnx"
    payload = Payload(teacher_source=FileRef.shipped(shared / "models" / "mosaic.pth"),
                      teacher_onnx=FileRef.shipped(teacher),
                      train_frames=tuple(FileRef.shipped(p) for p in train),
                      evaluation=(), eval_reference=(), latency_frame=load_image(held[0]))
    size = teacher.stat().st_size
    start = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    started = time.perf_counter() - start
    try:
        ref = ray.put(payload)
        echo = ray.remote(num_cpus=1)(_echo)
        noop = measure(lambda: ray.get(echo.remote(None, 0)), warmup=3, repeats=30)
        carried = measure(lambda: ray.get(echo.remote(ref, size)), warmup=2, repeats=15)
        local = measure(lambda: _echo(payload, size), warmup=2, repeats=15)
    finally:
        ray.shutdown()
    shipped = sum(len(f.data or b"") for f in (payload.teacher_source, payload.teacher_onnx,
                                                 *payload.train_frames))
    return {"start_s": started, "noop": noop, "payload": carried, "in_process": local,
            "payload_mb": shipped / 1e6, "result_mb": size / 1e6,
            "overhead_ms": carried.median_ms - local.median_ms}


def _scaling(manifest: Manifest, workers: tuple[int, ...]) -> dict[str, object]:
    """The students sweep's wall time on W workers, from this run's per-rung times.

    Budgets are seconds, so a rung takes as long on a GPU as it did here (a GPU buys more
    steps in it, not less time). Per shape and rung: the measured training time plus the
    mean time the search spent per rung on everything else (export, fidelity); the cache
    and the winner's measurement run once. Rung r of a sweep with n_r shapes alive takes
    ceil(n_r / W) waves, so wall(W) = fixed + sum_r ceil(n_r / W) * d_r.
    """
    students = next(v for v in manifest.variants if v.recipe.kind.value == "students")
    points = students.frontier
    rungs = sorted({p.rung for p in points})
    train = {r: [p for p in points if p.rung == r] for r in rungs}
    previous = {p.shape: 0.0 for p in points}
    durations: dict[int, float] = {}
    trained = 0.0
    for r in rungs:
        spent = []
        for p in train[r]:
            spent.append(p.train_seconds - previous[p.shape])
            previous[p.shape] = p.train_seconds
        durations[r] = sum(spent) / len(spent)
        trained += sum(spent)
    cache = float(re.search(r"teacher cache (\d+) s", students.notes).group(1))  # type: ignore[union-attr]
    evaluations = len(points)
    other = max(0.0, students.build_seconds - cache - trained) / max(evaluations, 1)
    alive = {r: len(train[r]) for r in rungs}
    result: dict[str, object] = {"rung_seconds": durations, "per_rung_overhead_s": other,
                                 "cache_s": cache, "alive": alive}
    for label, counts in (("measured_shapes", alive),
                          ("sixteen_shapes", {r: max(1, 16 // 2**r) for r in rungs})):
        result[label] = {w: cache + sum(math.ceil(counts[r] / w) * (durations[r] + other)
                                        for r in rungs) for w in workers}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default="quick,students")
    parser.add_argument("--students-budgets", default="30,60,120")
    parser.add_argument("--ray-cpus", type=float, default=None,
                        help="CPUs per Ray task and student trial (default: the recipe's, 1); "
                        "2 on this machine gives each trial what a local run gives it")
    parser.add_argument("--name", default="ray", help="results file: out/bench/NAME.md")
    args = parser.parse_args()
    shared = shared_dir()
    budgets = tuple(float(b) for b in args.students_budgets.split(","))
    results: dict[str, object] = {"overhead": _task_overhead(shared), "sets": {}}
    lines = [f"# optimize --ray local vs local (mosaic), Ray CPUs per task/trial: "
             f"{args.ray_cpus or 'the recipe default (1)'}", ""]
    for name in args.sets.split(","):
        recipes = _recipes(name, budgets, args.ray_cpus)
        folder = OUT_DIR / args.name / Path(name).stem  # a built-in set's name or a TOML file
        local, wall_local = _run(recipes, folder / "local", None, shared)
        on_ray, wall_ray = _run(recipes, folder / "ray", "local", shared)
        rows = _compare(local, on_ray)
        entry: dict[str, object] = {"wall_local_s": wall_local, "wall_ray_s": wall_ray,
                                    "ratio": wall_ray / wall_local, "variants": rows}
        if name == "students":
            entry["scaling_ray"] = _scaling(on_ray, (1, 4, 16))
            entry["scaling_local"] = _scaling(local, (1, 4, 16))
        results["sets"][name] = entry  # type: ignore[index]
        lines += [f"## {name}: local {wall_local:.0f} s, --ray local {wall_ray:.0f} s "
                  f"({wall_ray / wall_local:.2f}x)", "",
                  "| variant | same recipe | SSIM local | SSIM ray | diff | build s local | "
                  "build s ray |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['id']} | {r['same_recipe']} | {r['ssim_local']:.4f} | "
                  f"{r['ssim_ray']:.4f} | {r['ssim_diff']:+.4f} | {r['build_s_local']:.1f} | "
                  f"{r['build_s_ray']:.1f} |" for r in rows]
        lines.append("")
        if name == "students":
            for which in ("scaling_ray", "scaling_local"):
                s = entry[which]
                lines.append(f"{which}: rung s {s['rung_seconds']}, overhead/rung "  # type: ignore[index]
                             f"{s['per_rung_overhead_s']:.1f} s, cache {s['cache_s']:.0f} s; "  # type: ignore[index]
                             f"measured shapes {s['measured_shapes']}; 16 shapes "  # type: ignore[index]
                             f"{s['sixteen_shapes']}")  # type: ignore[index]
            lines.append("")
    o = results["overhead"]
    lines += [f"Ray start {o['start_s']:.1f} s; no-op task {o['noop'].median_ms:.1f} ms; task "  # type: ignore[index]
              f"carrying {o['payload_mb']:.1f} MB in / {o['result_mb']:.1f} MB out "  # type: ignore[index]
              f"{o['payload'].median_ms:.1f} ms vs {o['in_process'].median_ms:.2f} ms in "  # type: ignore[index]
              f"process: {o['overhead_ms']:.1f} ms per task"]  # type: ignore[index]
    results["ray_cpus"] = args.ray_cpus
    md = write_results(args.name, results, "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written: {md}")


if __name__ == "__main__":
    main()
