"""Bridge overhead per 720p frame round trip, as a ratio to a bare grpcio echo.

Both servers run in their own process (as the bridge does beside Unity); the same
client process drives both with one frame in flight, in alternating blocks so that
machine noise hits both alike. The bridge runs the identity backend (no model) and
returns the pixels, so the difference is the bridge itself: protocol, validation,
session bookkeeping, the newest-frame-wins pipeline and the store.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import echo_server
from _common import Stats, write_results

WIDTH, HEIGHT = 1280, 720
BLOCKS, PER_BLOCK, WARMUP = 6, 40, 15
PIPELINED_FRAMES, PIPELINE_WINDOW = 200, 4
GOAL = 1.15


def _bridge_main(port_queue: object, store: str) -> None:
    from stylebridge.bridge import BridgeServer
    from stylebridge.config import ServerConfig
    from stylebridge.inference.base import BackendKind

    async def serve() -> None:
        config = ServerConfig(port=0, backend=BackendKind.IDENTITY, store=Path(store))
        async with BridgeServer(config) as server:
            port_queue.put(server.port)  # type: ignore[attr-defined]
            await asyncio.Event().wait()

    asyncio.run(serve())


def _start(target: object, *args: object) -> tuple[mp.Process, int]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(queue, *args), daemon=True)
    process.start()
    return process, int(queue.get(timeout=60))


def _frame() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)


async def _echo_round_trips(port: int, count: int, payload: bytes) -> list[float]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=echo_server.OPTIONS) as ch:
        call = ch.stream_stream(echo_server.METHOD)()
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            await call.write(payload)
            reply = await call.read()
            samples.append((time.perf_counter() - start) * 1000.0)
            assert len(reply) == len(payload)
        await call.done_writing()
        return samples


async def _bridge_round_trips(
    port: int, count: int, frame: np.ndarray, window: int
) -> tuple[list[float], float]:
    from stylebridge.client import ReferenceClient
    from stylebridge.config import ClientConfig

    def frames() -> Iterator[np.ndarray]:
        while True:
            yield frame

    config = ClientConfig(
        server=f"127.0.0.1:{port}",
        fps=0.0,
        size=(WIDTH, HEIGHT),
        window=window,
        parity_every=0,
        want_stylized=True,
    )
    async with ReferenceClient(config, frames=frames()) as client:
        result = await client.run(count)
    assert result.answered == count, f"{result.answered} of {count} answered"
    if window == 1:  # nothing can be superseded with one frame in flight
        assert result.processed == count, f"{result.processed} of {count} processed"
    return [f.round_trip_ms for f in result.frames], result.processed / result.elapsed_s


async def _echo_pipelined(port: int, count: int, payload: bytes, window: int) -> float:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=echo_server.OPTIONS) as ch:
        call = ch.stream_stream(echo_server.METHOD)()
        # Writer and reader run at once (as the bridge's client does): writing the whole
        # window before reading can stall both ends on HTTP/2 flow control (2.7 MB frames).
        in_flight = asyncio.Semaphore(window)

        async def write_all() -> None:
            for _ in range(count):
                await in_flight.acquire()
                await call.write(payload)
            await call.done_writing()

        start = time.perf_counter()
        writer = asyncio.create_task(write_all())
        for _ in range(count):
            await call.read()
            in_flight.release()
        elapsed = time.perf_counter() - start
        await writer
        return count / elapsed


async def _measure(echo_port: int, bridge_port: int) -> dict[str, object]:
    frame = _frame()
    payload = frame.tobytes()
    await _echo_round_trips(echo_port, WARMUP, payload)
    await _bridge_round_trips(bridge_port, WARMUP, frame, 1)
    echo: list[float] = []
    bridge: list[float] = []
    for block in range(BLOCKS):
        echo += await _echo_round_trips(echo_port, PER_BLOCK, payload)
        bridge += (await _bridge_round_trips(bridge_port, PER_BLOCK, frame, 1))[0]
        print(
            f"block {block + 1}/{BLOCKS}: echo {statistics.median(echo):.2f} ms, "
            f"bridge {statistics.median(bridge):.2f} ms",
            flush=True,
        )
    echo_fps = await _echo_pipelined(echo_port, PIPELINED_FRAMES, payload, PIPELINE_WINDOW)
    pipelined = await _bridge_round_trips(bridge_port, PIPELINED_FRAMES, frame, PIPELINE_WINDOW)
    bridge_fps = pipelined[1]
    return {
        "echo": Stats.of(echo),
        "bridge": Stats.of(bridge),
        "echo_fps_pipelined": echo_fps,
        "bridge_fps_pipelined": bridge_fps,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        echo_proc, echo_port = _start(echo_server.main)
        bridge_proc, bridge_port = _start(_bridge_main, str(Path(tmp) / "bench.sqlite"))
        try:
            results = asyncio.run(_measure(echo_port, bridge_port))
        finally:
            for process in (echo_proc, bridge_proc):
                process.terminate()
                process.join(10)
    echo, bridge = results["echo"], results["bridge"]
    assert isinstance(echo, Stats) and isinstance(bridge, Stats)
    ratio = bridge.median_ms / echo.median_ms
    ratio_p90 = bridge.p90_ms / echo.p90_ms
    verdict = "meets" if ratio <= GOAL else "misses"
    md = "\n".join(
        [
            f"# Bridge overhead, {WIDTH}x{HEIGHT} RGB frame round trip on loopback",
            "",
            f"One frame in flight, {BLOCKS} alternating blocks of {PER_BLOCK} (warm-up {WARMUP}); "
            "bridge = identity backend, pixels returned; echo = raw bytes, no protobuf.",
            "",
            "| | median ms | p90 ms | min ms |",
            "|---|---:|---:|---:|",
            f"| bare grpcio echo | {echo.median_ms:.2f} | {echo.p90_ms:.2f} | {echo.min_ms:.2f} |",
            f"| StyleBridge | {bridge.median_ms:.2f} | {bridge.p90_ms:.2f} | {bridge.min_ms:.2f} |",
            f"| **ratio** | **{ratio:.2f}x** | {ratio_p90:.2f}x | |",
            "",
            f"Goal <= {GOAL}x: {verdict}.",
            "",
            f"Pipelined ({PIPELINE_WINDOW} frames in flight): "
            f"echo {results['echo_fps_pipelined']:.0f} "
            f"frames/s, bridge {results['bridge_fps_pipelined']:.0f} frames/s processed "
            "(queue depth 1: frames superseded while one is in the pipeline are dropped).",
            "",
        ]
    )
    path = write_results("bridge", {**results, "ratio_median": ratio, "ratio_p90": ratio_p90}, md)
    print(md)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
