"""Python inference per backend on the mosaic model at 640x360 and 1280x720, against
this CPU's fp32 GEMM peak measured in the same run.

Each backend's median milliseconds become GFLOP/s (the model's FLOPs from
``evaluate.flops``) and a fraction of the GEMM peak (a 2048^2 float32 matrix product,
the best of numpy and torch, measured before each resolution). Fidelity is the PSNR
to the float reference (ONNX Runtime, float32). ``auto`` is run as ``serve`` runs it
and its pick reported. Frames are real game frames from ../shared/frames.

Kept short on purpose (warm-up 1, 4 timed runs at 640x360 and 3 at 1280x720): the
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

from _common import Stats, measure, write_results

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
REPEATS = {(640, 360): 4, (1280, 720): 3}
GEMM_N, GEMM_REPEATS = 2048, 7
GOAL = 0.8


def gemm_peak_gflops() -> dict[str, float]:
    """GFLOP/s of a GEMM_N^2 float32 matrix product (median of repeats) in numpy and torch."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    b = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    flops = 2.0 * GEMM_N**3
    out = {}
    for name, fn in (("numpy", lambda: a @ b), ("torch", lambda: ta @ tb)):
        stats = measure(fn, warmup=2, repeats=GEMM_REPEATS)
        out[name] = flops / (stats.median_ms / 1000.0) / 1e9
    return out


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
        "torch-nchw": lambda: TorchBackend(
            load_checkpoint(checkpoint).model, "mosaic", device="cpu", channels_last=False
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
    for width, height in SIZES:
        key = f"{width}x{height}"
        frame = np.ascontiguousarray(resize(frame_full, (width, height)))
        gflop = count_flops(proto, width, height) / 1e9
        peak = gemm_peak_gflops()
        peak_best = max(peak.values())
        print(f"{key}: {gflop:.1f} GFLOP per frame; GEMM peak {peak}", flush=True)
        rows: dict[str, dict[str, object]] = {}
        reference: np.ndarray | None = None
        for name, make in variants.items():
            backend = make()
            try:
                names[name] = backend.name
                out = backend.run(frame)
                stats = measure(
                    lambda b=backend, f=frame: b.run(f),
                    warmup=WARMUP,
                    repeats=REPEATS[(width, height)],
                )
            finally:
                backend.close()
            if reference is None:
                reference = out  # onnxruntime float32 comes first
            rate = gflop / (stats.median_ms / 1000.0)
            rows[name] = {
                "stats": stats,
                "gflops": rate,
                "fraction_of_peak": rate / peak_best,
                "psnr_db": min(psnr(reference, out), 100.0),
            }
            print(
                f"{key} {backend.name:36s} median {stats.median_ms:8.1f} ms "
                f"{rate:6.1f} GFLOP/s ({rate / peak_best:.2f} of peak) "
                f"{rows[name]['psnr_db']:.1f} dB",
                flush=True,
            )
        best = max(rows, key=lambda n: float(rows[n]["gflops"]))  # type: ignore[arg-type]
        results[key] = {
            "gflop_per_frame": gflop,
            "gemm_gflops": peak,
            "gemm_peak_gflops": peak_best,
            "backends": rows,
            "best": best,
            "best_fraction_of_peak": rows[best]["fraction_of_peak"],
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
        lines.append(f"| {key} | GEMM peak | | {block['gemm_peak_gflops']:.1f} | 1.00 | |")
        lines.append(
            f"| {key} | **auto** picks {auto['chosen']} | | | | "
            f"{auto['psnr_db_to_float_reference']:.1f} dB |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
