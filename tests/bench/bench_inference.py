"""Python inference per backend on the mosaic model at 640x360 and 1280x720, against
this CPU's fp32 GEMM peak measured in the same run.

Each backend's median milliseconds become GFLOP/s (the model's FLOPs from
``evaluate.flops``) and a fraction of the GEMM peak (a 2048^2 float32 matrix product,
the best of numpy and torch; a bf16 product in torch is reported beside it). Backends
and GEMMs are timed in rounds, each once per round, so that the noise of a shared
machine hits all of them alike. Fidelity is the PSNR
to the float reference (ONNX Runtime, float32). ``auto`` is run as ``serve`` runs it
and its pick reported. Frames are real game frames from ../shared/frames.

Kept short on purpose (warm-up 1, 5 timed rounds at 640x360 and 3 at 1280x720): the
machines are shared, so the ratios within one run are the figures that count.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Stats, write_results

from stylebridge.evaluate.fidelity import psnr
from stylebridge.evaluate.flops import count_flops
from stylebridge.frames import load_image, resize
from stylebridge.inference import BackendKind, InferenceBackend
from stylebridge.inference.auto import PARITY_MIN_PSNR_DB, AutoBackend
from stylebridge.inference.factory import create_backend
from stylebridge.inference.openvino_backend import openvino_available
from stylebridge.inference.ort import OrtBackend
from stylebridge.inference.torch_backend import TorchBackend
from stylebridge.inference.tuning import cpu_has_bf16, physical_cores
from stylebridge.models import load_checkpoint
from stylebridge.paths import shared_dir

SIZES = ((640, 360), (1280, 720))
WARMUP = 1
REPEATS = {(640, 360): 5, (1280, 720): 3}
GEMM_N = 2048
GOAL = 0.8


def gemm_jobs() -> dict[str, tuple[Callable[[], object], float]]:
    """GEMM_N^2 matrix products as (job, FLOPs): float32 in numpy and torch, and bf16 in
    torch (the peak a bf16 backend is held to)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    b = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    ha, hb = ta.bfloat16(), tb.bfloat16()
    flops = 2.0 * GEMM_N**3
    return {
        "gemm-f32-numpy": (lambda: a @ b, flops),
        "gemm-f32-torch": (lambda: ta @ tb, flops),
        "gemm-bf16-torch": (lambda: ha @ hb, flops),
    }


def timed_rounds(jobs: dict[str, Callable[[], object]], rounds: int) -> dict[str, Stats]:
    """Each job once per round, round after round: machine noise hits every job alike."""
    samples: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            samples[name].append((time.perf_counter() - start) * 1000.0)
    return {name: Stats.of(values) for name, values in samples.items()}


def build_backends(models: Path) -> dict[str, Callable[[], InferenceBackend]]:
    """Every backend variant to measure, as factories (built one at a time)."""
    proto = onnx.load(str(models / "mosaic.onnx"))
    checkpoint = models / "mosaic.pth"
    variants: dict[str, Callable[[], InferenceBackend]] = {
        "onnxruntime": lambda: OrtBackend(proto, "mosaic", providers=["CPUExecutionProvider"]),
        "onnxruntime-no-nchwc": lambda: OrtBackend(
            proto,
            "mosaic",
            providers=["CPUExecutionProvider"],
            optimization_level=ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        ),
        "torch": lambda: TorchBackend(load_checkpoint(checkpoint).model, "mosaic", device="cpu"),
        "torch-nhwc": lambda: TorchBackend(
            load_checkpoint(checkpoint).model, "mosaic", device="cpu", channels_last=True
        ),
    }
    if cpu_has_bf16():
        variants["torch-bf16"] = lambda: TorchBackend(
            load_checkpoint(checkpoint).model, "mosaic", device="cpu", precision="bf16"
        )
    if openvino_available() is None:
        onnx_path = models / "mosaic.onnx"
        variants["openvino"] = lambda: create_backend(onnx_path, BackendKind.OPENVINO)
        if cpu_has_bf16():
            variants["openvino-bf16"] = lambda: create_backend(
                onnx_path, BackendKind.OPENVINO, precision="bf16"
            )
    else:
        print(f"openvino skipped: {openvino_available()}")
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="inference", help="results file stem in out/bench")
    args = parser.parse_args()
    shared = shared_dir()
    if shared is None:
        sys.exit("bench_inference needs ../shared/models and ../shared/frames")
    models = shared / "models"
    frame_full = load_image(sorted((shared / "frames").glob("*.png"))[5])
    proto = onnx.load(str(models / "mosaic.onnx"))
    variants = build_backends(models)
    results: dict[str, dict[str, object]] = {}
    names: dict[str, str] = {}
    gemm = gemm_jobs()
    for width, height in SIZES:
        key = f"{width}x{height}"
        frame = np.ascontiguousarray(resize(frame_full, (width, height)))
        gflop = count_flops(proto, width, height) / 1e9
        backends = {name: make() for name, make in variants.items()}
        try:
            outputs = {}
            for name, backend in backends.items():
                names[name] = backend.name
                for _ in range(WARMUP):
                    outputs[name] = backend.run(frame)
            jobs: dict[str, Callable[[], object]] = {name: job for name, (job, _) in gemm.items()}
            jobs.update({name: (lambda b=b, f=frame: b.run(f)) for name, b in backends.items()})
            for job, _ in gemm.values():  # warm up the GEMMs too
                job()
            stats = timed_rounds(jobs, REPEATS[(width, height)])
        finally:
            for backend in backends.values():
                backend.close()
        peaks = {name: gemm[name][1] / (stats[name].median_ms / 1000.0) / 1e9 for name in gemm}
        peak_f32 = max(peaks["gemm-f32-numpy"], peaks["gemm-f32-torch"])
        peak_bf16 = max(peak_f32, peaks["gemm-bf16-torch"])
        print(f"{key}: {gflop:.1f} GFLOP per frame; GEMM GFLOP/s {peaks}", flush=True)
        reference = outputs["onnxruntime"]
        rows: dict[str, dict[str, object]] = {}
        for name in backends:
            rate = gflop / (stats[name].median_ms / 1000.0)
            own_peak = peak_bf16 if "bf16" in name else peak_f32
            rows[name] = {
                "stats": stats[name],
                "gflops": rate,
                "fraction_of_peak": rate / peak_f32,
                "fraction_of_own_precision_peak": rate / own_peak,
                "psnr_db": min(psnr(reference, outputs[name]), 100.0),
            }
            print(
                f"{key} {name:22s} {names[name]:34s} median {stats[name].median_ms:8.1f} ms "
                f"{rate:6.1f} GFLOP/s ({rate / peak_f32:.2f} of f32 peak) "
                f"{rows[name]['psnr_db']:.1f} dB",
                flush=True,
            )
        f32_rows = {n: r for n, r in rows.items() if "bf16" not in n}
        best = max(rows, key=lambda n: float(rows[n]["gflops"]))  # type: ignore[arg-type]
        best_f32 = max(f32_rows, key=lambda n: float(f32_rows[n]["gflops"]))  # type: ignore[arg-type]
        results[key] = {
            "gflop_per_frame": gflop,
            "gemm_gflops": peaks,
            "gemm_peak_gflops": peak_f32,
            "gemm_bf16_peak_gflops": peak_bf16,
            "backends": rows,
            "best": best,
            "best_fraction_of_peak": rows[best]["fraction_of_peak"],
            "best_f32": best_f32,
            "best_f32_fraction_of_peak": rows[best_f32]["fraction_of_peak"],
        }
        results[key]["auto"] = run_auto(models / "mosaic.onnx", (width, height), frame, reference)

    md = markdown(results, names)
    payload = {
        "results": results,
        "backends": names,
        "threads": physical_cores(),
        "parity_min_psnr_db": PARITY_MIN_PSNR_DB,
        "goal_fraction_of_peak": GOAL,
    }
    path = write_results(args.name, payload, md)
    print(md)
    print(f"written: {path}")


def run_auto(
    path: Path, size: tuple[int, int], frame: np.ndarray, reference: np.ndarray | None
) -> dict[str, object]:
    """``--backend auto`` on ``path`` probing at ``size``: its pick, load time and parity."""
    start = time.perf_counter()
    backend = create_backend(path, BackendKind.AUTO, probe_size=size)
    load_s = time.perf_counter() - start
    try:
        assert isinstance(backend, AutoBackend)
        out = backend.run(frame)
        choice = backend.choice
    finally:
        backend.close()
    score = min(psnr(reference, out), 100.0) if reference is not None else None
    print(f"auto ({load_s:.1f} s at load): {choice.reason}", flush=True)
    return {
        "chosen": choice.chosen.label,
        "name": backend.name,
        "load_s": load_s,
        "psnr_db_to_float_reference": score,
        "reason": choice.reason,
        "trials": [
            {"candidate": t.candidate.label, "ms": t.ms, "psnr_db": t.psnr_db, "note": t.note}
            for t in choice.trials
        ],
    }


def markdown(results: dict[str, dict[str, object]], names: dict[str, str]) -> str:
    lines = [
        "# Python inference, mosaic (TransformerNet 32/64/128 x5)",
        "",
        f"Warm-up {WARMUP}; 640x360 {REPEATS[(640, 360)]} and 1280x720 "
        f"{REPEATS[(1280, 720)]} timed runs per backend (short: shared machine). uint8 RGB in "
        f"and out, conversion included; {physical_cores()} inference threads. Peak: "
        f"{GEMM_N}^2 float32 GEMM, best of numpy/torch, in the same run. "
        f"Goal: best backend >= {GOAL} of peak.",
        "",
        "| resolution | backend | median ms | GFLOP/s | of GEMM peak | PSNR to float ref |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for key, block in results.items():
        rows = block["backends"]
        assert isinstance(rows, dict)
        for name, row in rows.items():
            stats = row["stats"]
            assert isinstance(stats, Stats)
            lines.append(
                f"| {key} | {name} (`{names[name]}`) | {stats.median_ms:.1f} | {row['gflops']:.1f} "
                f"| {row['fraction_of_peak']:.2f} | {row['psnr_db']:.1f} dB |"
            )
        auto = block["auto"]
        assert isinstance(auto, dict)
        lines.append(f"| {key} | GEMM peak f32 | | {block['gemm_peak_gflops']:.1f} | 1.00 | |")
        lines.append(
            f"| {key} | GEMM bf16 (torch) | | {block['gemm_bf16_peak_gflops']:.1f} | "
            f"{block['gemm_bf16_peak_gflops'] / block['gemm_peak_gflops']:.2f} | |"
        )
        lines.append(
            f"| {key} | **auto** picks {auto['chosen']} | | | | "
            f"{auto['psnr_db_to_float_reference']:.1f} dB |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
