"""Benchmark of `stylebridge optimize` on mosaic (issue 3).

1. Builds (or reuses) the catalog of the default recipe set from ../shared/models/mosaic.pth
   and ../shared/frames into out/bench/optimize-catalog, fidelity measured at 640x360.
2. Times the teacher and every variant at 640x360 in ONNX Runtime (CPU) in this run,
   interleaved round-robin (20 runs each after 1 warm-up), and reports the speed-up of the
   fastest Barracuda-compatible one whose SSIM to the teacher is >= 0.90 (goal >= 6x),
   claimed only when its 95 % bootstrap interval lies above 1.
3. File-size ratios of the fp16 and int8 weight-only variants (goals <= 0.55x, <= 0.3x).
4. Distillation time per 1 000 steps at 256x256 crops, extrapolated from a short run.

Writes out/bench/optimize.json and .md and prints the table.
Usage: python tests/bench/bench_optimize.py [--recipe default|quick|FILE.toml] [--rebuild]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT_DIR, write_results

from stylebridge.catalog import Manifest, RecipeKind, is_barracuda_compatible
from stylebridge.evaluate.latency import LatencySpec, measure_interleaved, speedups
from stylebridge.frames import load_image
from stylebridge.optimize.pipeline import (
    image_paths,
    optimize,
)
from stylebridge.optimize.recipes import EvaluationSpec, LatencySettings, load_recipes
from stylebridge.paths import shared_dir

RESOLUTION = (640, 360)
SSIM_FLOOR = 0.90
RUNS = 20  # interleaved runs per variant: enough for a bootstrap interval of the median
DISTILL_STEPS = 12  # timed steps at 256x256 (after 2 untimed warm-up steps)


def _catalog(recipe: str, rebuild: bool, shared: Path) -> tuple[Path, Manifest, float]:
    recipes = load_recipes(recipe).model_copy(update={
        "evaluation": EvaluationSpec(width=RESOLUTION[0], height=RESOLUTION[1], frames=4),
        "latency": LatencySettings(resolutions=(f"{RESOLUTION[0]}x{RESOLUTION[1]}",),
                                   runs=3, warmup=1)})
    out = OUT_DIR / "optimize-catalog"
    start = time.perf_counter()
    manifest = optimize(shared / "models" / "mosaic.pth", shared / "frames", out, recipes,
                        rebuild, lambda e: print(f"  [{e.index}/{e.total - 1}] {e.kind.value} "
                                                 f"{e.variant_id} {e.detail}", flush=True),
                        training_progress=True)
    return out, manifest, time.perf_counter() - start


def _timings(out: Path, manifest: Manifest, frame_path: Path) -> dict[str, dict[str, object]]:
    """Every variant timed in this run, interleaved round-robin (load drifts hit all
    alike), 20 runs each; speed-ups with a 95 % bootstrap interval."""
    frame = load_image(frame_path)
    spec = LatencySpec(resolutions=(RESOLUTION,), runs=RUNS, warmup=1)
    timing = measure_interleaved({v.id: out / v.file for v in manifest.variants}, frame, spec)
    teacher = manifest.teacher or "mosaic"
    ups = speedups(timing, teacher)
    found: dict[str, dict[str, object]] = {}
    for variant in manifest.variants:
        (lat,) = timing.latency(variant.id)
        up = ups.get(variant.id)
        found[variant.id] = {"median_ms": lat.median_ms, "p90_ms": lat.p90_ms,
                             "speedup": up.model_dump() if up else None,
                             "measurably_faster": bool(up and up.verdict == "faster"),
                             "speedup_text": up.describe() if up else "1.00x (teacher)"}
    return found


def _distill_rate(shared: Path) -> dict[str, float]:
    from stylebridge.models import TransformerNet, load_checkpoint
    from stylebridge.optimize.distill import DistillConfig, distill
    from stylebridge.optimize.students import student_config

    teacher = load_checkpoint(shared / "models" / "mosaic.pth").model
    frames = image_paths(shared / "frames")
    student = TransformerNet(student_config((16, 32, 64), 3))
    warm = DistillConfig(steps=2, crop=256)
    distill(teacher, student, frames, warm, progress=False)
    config = DistillConfig(steps=DISTILL_STEPS, crop=256)
    result = distill(teacher, student, frames, config, progress=False)
    per_step = result.seconds / max(result.steps, 1)
    return {"steps_timed": result.steps, "batch_size": config.batch_size, "crop": config.crop,
            "seconds_per_1000_steps": per_step * 1000.0, "student": "16/32/64 x3"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="default")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-distill-rate", action="store_true")
    args = parser.parse_args()
    shared = shared_dir()
    if shared is None:
        sys.exit("../shared (or STYLEBRIDGE_SHARED) with models/ and frames/ is required")
    out, manifest, build_s = _catalog(args.recipe, args.rebuild, shared)
    teacher = manifest.get(manifest.teacher or "mosaic")
    timings = _timings(out, manifest, image_paths(shared / "frames")[0])
    base = timings[teacher.id]["median_ms"]
    rows = []
    for variant in manifest.variants:
        fid = variant.fidelity
        t = timings.get(variant.id)
        rows.append({
            "id": variant.id, "kind": variant.recipe.kind.value,
            "size_ratio": variant.size_bytes / teacher.size_bytes,
            "flops_ratio": variant.flops.get("640x360", 0) / teacher.flops["640x360"],
            "ssim": fid.ssim_mean if fid else None, "ssim_min": fid.ssim_min if fid else None,
            "psnr_db": fid.psnr_mean_db if fid else None,
            "barracuda_compatible": is_barracuda_compatible(variant),
            "median_ms": t["median_ms"] if t else None,
            "speedup": (t["speedup"] or {}).get("ratio") if t else None,
            "speedup_interval": t["speedup"] if t else None,
            "measurably_faster": bool(t and t["measurably_faster"]),
            "speedup_text": t["speedup_text"] if t else "-",
            "engines": {e.engine: e.verdict for e in variant.engines},
        })
    eligible = [r for r in rows if r["barracuda_compatible"] and r["id"] != teacher.id
                and r["ssim"] is not None and r["ssim"] >= SSIM_FLOOR and r["measurably_faster"]]
    best = max(eligible, key=lambda r: r["speedup"], default=None)
    sizes = {r["kind"]: r["size_ratio"] for r in rows
             if r["kind"] in (RecipeKind.FP16_WEIGHTS.value, RecipeKind.INT8_WEIGHTS.value)
             and "." not in r["id"]}
    rate = None if args.skip_distill_rate else _distill_rate(shared)
    results = {"resolution": f"{RESOLUTION[0]}x{RESOLUTION[1]}", "backend": "onnxruntime/CPU",
               "recipe": args.recipe, "catalog_build_seconds": build_s,
               "teacher_median_ms": base, "ssim_floor": SSIM_FLOOR,
               "best_barracuda_variant": best, "weight_only_size_ratio": sizes,
               "distill": rate, "variants": rows}
    lines = ["# bench-optimize (mosaic, 640x360, ONNX Runtime CPU)", "",
             "| variant | size | FLOPs | SSIM (min) | PSNR dB | ms | speed-up | Barracuda 2/3 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ssim = f"{r['ssim']:.3f} ({r['ssim_min']:.3f})" if r["ssim"] is not None else "-"
        psnr = f"{r['psnr_db']:.1f}" if r["psnr_db"] is not None else "-"
        ms = f"{r['median_ms']:.0f}" if r["median_ms"] else "-"
        speed = r["speedup_text"]
        lines.append(f"| {r['id']} | {r['size_ratio']:.3f}x | {r['flops_ratio']:.3f}x | {ssim} "
                     f"| {psnr} | {ms} | {speed} | "
                     f"{'yes' if r['barracuda_compatible'] else 'no'} |")
    lines += ["", f"Teacher: {base:.0f} ms median at 640x360 (measured in this run)."]
    if best:
        lines.append(f"Best Barracuda-compatible variant with SSIM >= {SSIM_FLOOR}: "
                     f"**{best['id']}**, {best['speedup_text']} faster (goal >= 6x).")
    else:
        lines.append(f"No Barracuda-compatible variant with SSIM >= {SSIM_FLOOR} is "
                     "measurably faster than the teacher (95 % bootstrap interval above 1).")
    lines.append("Weight-only size ratios: " + ", ".join(f"{k} {v:.3f}x" for k, v in
                                                         sizes.items()))
    if rate:
        lines.append(f"Distillation: {rate['seconds_per_1000_steps']:.0f} s per 1000 steps "
                     f"(256x256 crops, batch {rate['batch_size']}, student {rate['student']}, "
                     f"from {rate['steps_timed']} timed steps).")
    markdown = "\n".join(lines) + "\n"
    write_results("optimize", results, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
