"""Where the bridge's own time goes per 720p frame: cProfile of the server's event loop.

The server (identity backend, pixels returned, as in bench_bridge.py) runs in its own
process under cProfile; the reference client streams FRAMES frames with one in flight.
The server's Python functions are then grouped by what they do (decode, validation and
sessions, pipeline and tasks, encoding the answer, store, gRPC's own Python layer) and
reported in microseconds per frame, with the top functions by own time. cProfile adds
its own overhead per call, so the shares matter more than the absolute microseconds.

    .venv/bin/python tests/bench/profile_bridge.py   # -> out/bench/bridge_profile.md
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing as mp
import pstats
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_results

WIDTH, HEIGHT = 1280, 720
FRAMES = 300
TOP = 25
# (group, substrings of "file:function") in the order they are tried.
GROUPS = (
    # grpc aio's Cython core runs inside asyncio callbacks: its time shows up there.
    ("grpc aio core (Cython, in loop callbacks)", ("_contextvars.Context",)),
    ("encode answer", ("<method 'join' of 'bytes' objects>",)),
    ("decode frame (wire split, protobuf, checks)", ("wire.py", "convert.py:decode_frame",
     "convert.py:_frame_of", "convert.py:_unpack", "frames.py:unpack_pixels")),
    ("encode answer", ("convert.py:frame_down_wire", "wire.py:join_blobs")),
    ("store (frame rows)", ("store",)),
    ("sessions and counters", ("sessions.py", "domain.py")),
    ("pipeline tasks and queues", ("pipeline.py", "runner.py", "asyncio/queues",
     "asyncio/locks")),
    # _inbound's own time is mostly awaiting grpc's read of the next request (Cython,
    # which copies the message into a bytes object).
    ("servicer generators (incl. grpc request reads)", ("servicer.py", "interceptors.py")),
    ("grpc aio (Python/Cython layer)", ("grpc", "cygrpc")),
    ("asyncio event loop", ("asyncio/",)),
)  # fmt: skip


def _server_main(
    queue: object, stop: object, store: str, profile_path: str, record_only: bool = False
) -> None:
    from stylebridge.bridge import BridgeServer
    from stylebridge.config import ServerConfig
    from stylebridge.inference.base import BackendKind

    async def serve() -> None:
        # Record only: no model, frames answered RECORDED (bench-load's "off" phase).
        backend = BackendKind.AUTO if record_only else BackendKind.IDENTITY
        config = ServerConfig(port=0, backend=backend, store=Path(store))
        async with BridgeServer(config) as server:
            queue.put(server.port)  # type: ignore[attr-defined]
            await asyncio.to_thread(stop.wait)  # type: ignore[attr-defined]

    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(serve())
    profiler.disable()
    profiler.dump_stats(profile_path)


async def _stream(port: int, frames: int, size: tuple[int, int], pixels: bool) -> int:
    import numpy as np

    from stylebridge.client import ReferenceClient
    from stylebridge.config import ClientConfig

    width, height = size
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)

    def source() -> Iterator[np.ndarray]:
        while True:
            yield frame

    config = ClientConfig(
        server=f"127.0.0.1:{port}",
        fps=0.0,
        size=size,
        window=1,
        parity_every=0,
        want_stylized=pixels,
        engine_backend="identity",
    )
    async with ReferenceClient(config, frames=source()) as client:
        result = await client.run(frames)
    return int(result.answered)


def _group(key: str) -> str:
    for name, needles in GROUPS:
        if any(n in key for n in needles):
            return name
    return "other Python"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=FRAMES)
    parser.add_argument(
        "--record", action="store_true", help="no model: RECORDED answers at 640x360, no pixels"
    )
    args = parser.parse_args()
    size = (640, 360) if args.record else (WIDTH, HEIGHT)
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        profile_path = str(Path(tmp) / "server.prof")
        queue, stop = ctx.Queue(), ctx.Event()
        process = ctx.Process(
            target=_server_main,
            args=(queue, stop, str(Path(tmp) / "store.sqlite"), profile_path, args.record),
            daemon=True,
        )
        process.start()
        port = int(queue.get(timeout=120))
        processed = asyncio.run(_stream(port, args.frames, size, not args.record))
        stop.set()
        process.join(60)
        stats = pstats.Stats(profile_path)
    assert processed == args.frames, f"{processed} of {args.frames} answered"
    rows = []
    groups: dict[str, float] = {}
    for (file, line, func), (_cc, calls, tottime, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = f"{file}:{func}"
        short = f"{Path(file).parent.name}/{Path(file).name}:{line}:{func}"
        if (
            "select" in func
            or "epoll" in func
            or func == "<method 'poll' of 'select.epoll' objects>"
        ):
            group = "waiting (epoll)"
        else:
            group = _group(key)
        groups[group] = groups.get(group, 0.0) + tottime
        rows.append((tottime, calls, short, group))
    rows.sort(reverse=True)
    mode = (
        "record only (no model, RECORDED answers, no pixels back)"
        if args.record
        else "identity backend, pixels returned"
    )
    per_frame = {g: t / processed * 1e6 for g, t in groups.items()}
    busy = sum(v for g, v in per_frame.items() if g != "waiting (epoll)")
    buf = io.StringIO()
    buf.write(
        f"# Server profile per {size[0]}x{size[1]} frame (cProfile, event loop thread)\n\n"
        f"{processed} frames, one in flight, {mode}. "
        "Microseconds of own time per frame, by group (cProfile's overhead included).\n\n"
        "| group | us per frame | share of busy |\n|---|---:|---:|\n"
    )
    for group, us in sorted(per_frame.items(), key=lambda kv: -kv[1]):
        share = "" if group == "waiting (epoll)" else f"{100 * us / busy:.0f} %"
        buf.write(f"| {group} | {us:.0f} | {share} |\n")
    buf.write(f"| **busy total** | **{busy:.0f}** | |\n\n")
    buf.write(
        f"Top {TOP} functions by own time:\n\n| us/frame | calls/frame | function | group |\n"
    )
    buf.write("|---:|---:|---|---|\n")
    for tottime, calls, short, group in rows[:TOP]:
        buf.write(
            f"| {tottime / processed * 1e6:.0f} | {calls / processed:.1f} | `{short}` | {group} |\n"
        )
    md = buf.getvalue()
    write_results(
        "bridge_profile_record" if args.record else "bridge_profile",
        {"frames": processed, "us_per_frame_by_group": per_frame, "busy_us_per_frame": busy},
        md,
    )
    print(md)


if __name__ == "__main__":
    main()
