"""Python inference per backend on the mosaic model at 640x360 and 1280x720.

The baseline is torch eager on the same frame in the same run; ONNX Runtime is
reported as a ratio to it. Frames are real game frames from ../shared/frames.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Stats, measure, write_results

from stylebridge.frames import load_image, resize
from stylebridge.inference import BackendKind
from stylebridge.inference.factory import create_backend
from stylebridge.paths import shared_dir

SIZES = ((640, 360), (1280, 720))
WARMUP, REPEATS = 2, 5


def main() -> None:
    shared = shared_dir()
    if shared is None:
        sys.exit("bench_inference needs ../shared/models and ../shared/frames")
    frame_full = load_image(sorted((shared / "frames").glob("*.png"))[5])
    backends = {
        "torch": create_backend(shared / "models" / "mosaic.pth", BackendKind.TORCH),
        "onnxruntime": create_backend(shared / "models" / "mosaic.onnx", BackendKind.ONNXRUNTIME),
    }
    results: dict[str, dict[str, Stats]] = {}
    try:
        for width, height in SIZES:
            frame = np.ascontiguousarray(resize(frame_full, (width, height)))
            key = f"{width}x{height}"
            results[key] = {}
            for name, backend in backends.items():
                results[key][name] = measure(
                    lambda b=backend, f=frame: b.run(f), warmup=WARMUP, repeats=REPEATS
                )
                print(
                    f"{key} {backend.name:40s} median {results[key][name].median_ms:8.1f} ms",
                    flush=True,
                )
    finally:
        for backend in backends.values():
            backend.close()

    names = {k: b.name for k, b in backends.items()}
    lines = [
        "# Python inference, mosaic (TransformerNet 32/64/128 x5)",
        "",
        f"Warm-up {WARMUP}, {REPEATS} timed runs each; uint8 RGB in and out (conversion included).",
        "",
        "| resolution | backend | median ms | p90 ms | ratio to torch (lower is faster) |",
        "|---|---|---:|---:|---:|",
    ]
    ratios: dict[str, float] = {}
    for key, per_backend in results.items():
        base = per_backend["torch"].median_ms
        for name, stats in per_backend.items():
            ratio = stats.median_ms / base
            ratios[f"{key}/{name}"] = ratio
            row = f"| {key} | {names[name]} | {stats.median_ms:.1f} | {stats.p90_ms:.1f}"
            lines.append(f"{row} | {ratio:.2f}x |")
    md = "\n".join(lines) + "\n"
    path = write_results(
        "inference", {"results": results, "ratios_to_torch": ratios, "backends": names}, md
    )
    print(md)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
