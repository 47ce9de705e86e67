"""The load bench's client process: N bridge clients on one asyncio loop, one channel each.

Each client speaks the protocol as the reference client does (Hello, a Models stream
taking pushes, one Frames stream at a fixed rate with at most ``window`` frames in
flight) but spends no CPU on frames: the Image field of the FrameUp is encoded once and
each frame only prepends its few header bytes. A pushed model is verified (sha256) and
taken at the next frame, which names it, then acked ACTIVE; it is not imported (no local
engine), so the client's CPU goes to the wire, not to a model.

Every answer is checked as it arrives, per stream: it answers a frame that awaits one
(none lost, none answered twice, none invented); a DROPPED frame had a newer frame of the
same stream sent before its answer came (newest frame wins); each answer's
``dropped_total`` equals the DROPPED answers seen so far (answers come in the order the
server decides them); no FAILED answer. Anything else is a *violation*, with a message.

Run by ``bench_load.py``: ``python load_clients.py --server HOST:PORT --out FILE ...``;
writes one JSON document (see ``ClientsReport``) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc
import grpc.aio
import numpy as np

from stylebridge import PROTOCOL_VERSION
from stylebridge.client import convert
from stylebridge.protocol import FrameStatus
from stylebridge.v1 import bridge_pb2, bridge_pb2_grpc, common_pb2
from stylebridge.wire import Blob, join_blobs

MAX_VIOLATIONS_KEPT = 20
# Timeline series besides "sent" and "answered": one per answer status.
STATUSES = tuple(status.name.lower() for status in FrameStatus)


@dataclass(frozen=True)
class LoadConfig:
    """What the client process runs: how many streams, how fast, how big, how long."""

    server: str
    clients: int = 8
    fps: float = 30.0
    size: tuple[int, int] = (640, 360)
    duration_s: float = 300.0
    # Frames sent but not answered, at most (the reference client's default).
    window: int = 4
    want_pixels: bool = True
    accept_pushes: bool = True
    # The model the clients say they run before any push (the server's own model).
    model_id: str = ""
    model_sha256: str = ""
    drain_timeout_s: float = 30.0


@dataclass
class ClientReport:
    """One client's counts, checks and timings."""

    index: int
    session_id: str = ""
    sent: int = 0
    answered: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    # Send slots skipped because the client was late (window full or CPU-bound).
    late_slots: int = 0
    pushes_received: int = 0
    pushes_acked_active: int = 0
    pushes_rolled_back: int = 0
    ack_errors: int = 0
    violations: int = 0
    violation_examples: list[str] = field(default_factory=list)
    stream_error: str = ""
    streamed_s: float = 0.0


@dataclass
class ClientsReport:
    """What the process writes: per client, plus every frame's latency and a timeline."""

    config: dict[str, object]
    started_at: float
    # Wall clock when the clients stopped sending (the memory window ends here).
    sending_ended_at: float
    ended_at: float
    clients: list[ClientReport]
    # Milliseconds, answered frames that were not DROPPED: round trip, and round trip
    # minus the server's python_inference_ms and queue_ms (the bridge's own part).
    round_trip_ms: list[float]
    added_ms: list[float]
    # The server's python_inference_ms and queue_ms of the PROCESSED answers.
    python_ms: list[float]
    queue_ms: list[float]
    # Unix second -> counts over all clients.
    timeline: dict[str, dict[int, int]]


def _frame_bytes(width: int, height: int, seed: int) -> np.ndarray:
    """A deterministic picture-like frame (gradients plus noise): content does not change
    the cost of any step, so no image library is loaded."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    shape = (height, width)
    base = np.stack(
        [np.broadcast_to(x, shape), np.broadcast_to(y, shape), np.broadcast_to((x + y) / 2, shape)],
        axis=-1,
    )
    noise = rng.normal(0, 12, (height, width, 3)).astype(np.float32)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def encoded_image_fields(size: tuple[int, int], count: int = 4) -> list[bytes]:
    """FrameUp field 4 (``image``), encoded once per distinct frame."""
    width, height = size
    fields = []
    for seed in range(count):
        pixels = memoryview(_frame_bytes(width, height, seed)).cast("B")
        head = common_pb2.Image(
            width=width,
            height=height,
            pixel_format=common_pb2.PIXEL_FORMAT_RGB8,
            row_stride=width * 3,
        ).SerializeToString()
        blob = Blob(
            outer=bridge_pb2.FrameUp.IMAGE_FIELD_NUMBER,
            head=head,
            inner=common_pb2.Image.PIXELS_FIELD_NUMBER,
            data=pixels,
        )
        fields.append(join_blobs(b"", [blob]))
    return fields


class _Client:
    """One session: Hello, Models, Frames; checks every answer (see module docstring)."""

    def __init__(self, index: int, config: LoadConfig, images: list[bytes]) -> None:
        self.index = index
        self.config = config
        self.images = images
        self.report = ClientReport(index=index)
        self.model_id = config.model_id
        self.round_trip_ms: list[float] = []
        self.added_ms: list[float] = []
        self.python_ms: list[float] = []
        self.queue_ms: list[float] = []
        self.timeline: dict[str, Counter[int]] = {
            name: Counter() for name in ("sent", "answered", *STATUSES)
        }
        self._statuses: Counter[str] = Counter()
        self._pending: dict[int, float] = {}
        self._last_sent = 0
        self._dropped_seen = 0
        self._ready_push: bridge_pb2.ModelChunk | None = None
        self._window = asyncio.Semaphore(config.window)
        self._tasks: set[asyncio.Task[object]] = set()
        self._stub: bridge_pb2_grpc.BridgeStub | None = None

    def _violation(self, message: str) -> None:
        self.report.violations += 1
        if len(self.report.violation_examples) < MAX_VIOLATIONS_KEPT:
            self.report.violation_examples.append(message)

    async def run(self, channel: grpc.aio.Channel, start_at: float, stop_at: float) -> None:
        config = self.config
        self._stub = bridge_pb2_grpc.BridgeStub(channel)
        reply = await self._stub.Hello(self._hello(), timeout=30.0, wait_for_ready=True)
        self.report.session_id = reply.session_id
        models = None
        if config.accept_pushes and reply.capabilities.model_push:
            models = self._stub.Models(bridge_pb2.ModelsRequest(session_id=reply.session_id))
            self._spawn(self._read_models(models))
        call = channel.stream_stream(convert.FRAMES_METHOD)()
        receiver = asyncio.create_task(self._receive(call))
        began = time.perf_counter()
        try:
            await self._send(call, start_at, stop_at)
            await asyncio.wait_for(asyncio.shield(receiver), config.drain_timeout_s)
        except TimeoutError:
            self._violation(
                f"{len(self._pending)} frames got no answer within "
                f"{config.drain_timeout_s:.0f} s after the stream ended"
            )
        except grpc.aio.AioRpcError as exc:
            self.report.stream_error = f"{exc.code().name}: {exc.details()}"
            self._violation(f"the Frames stream failed: {self.report.stream_error}")
        finally:
            self.report.streamed_s = time.perf_counter() - began
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
            if receiver.done() and not receiver.cancelled() and receiver.exception():
                exc = receiver.exception()
                self._violation(f"the Frames stream failed: {type(exc).__name__}: {exc}")
            if models is not None:
                models.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pending:
            self._violation(f"{len(self._pending)} frames were never answered")
        self.report.statuses = dict(self._statuses)

    def _hello(self) -> bridge_pb2.HelloRequest:
        return bridge_pb2.HelloRequest(
            protocol_version=PROTOCOL_VERSION,
            client=bridge_pb2.ClientInfo(
                engine=common_pb2.ENGINE_KIND_REFERENCE,
                engine_version="none (load bench)",
                gpu="cpu",
                platform="linux",
                client_name=f"stylebridge-load-bench/{self.index}",
            ),
            capabilities=bridge_pb2.ClientCapabilities(
                pixel_formats=[common_pb2.PIXEL_FORMAT_RGB8],
                accepts_model_push=self.config.accept_pushes,
                wants_stylized_pixels=self.config.want_pixels,
            ),
            active_model=common_pb2.ModelRef(
                model_id=self.config.model_id, sha256=self.config.model_sha256
            ),
        )

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- pushes --------------------------------------------------------------------

    async def _read_models(self, call: grpc.aio.UnaryStreamCall) -> None:
        parts: list[bytes] = []
        first: bridge_pb2.ModelChunk | None = None
        try:
            async for chunk in call:
                if chunk.offset == 0:
                    parts, first = [], chunk
                parts.append(chunk.data)
                if not chunk.last or first is None:
                    continue
                self.report.pushes_received += 1
                if hashlib.sha256(b"".join(parts)).hexdigest() == first.model.sha256:
                    self._ready_push = first  # taken at the next frame
                else:
                    self.report.pushes_rolled_back += 1
                    self._violation(f"push {first.push_id}: bytes do not match their sha256")
                    self._spawn(self._ack(first, 0, active=False))
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                self._violation(f"the Models stream failed: {exc.code().name}: {exc.details()}")

    async def _ack(self, push: bridge_pb2.ModelChunk, sequence: int, *, active: bool) -> None:
        assert self._stub is not None
        ack = bridge_pb2.ModelAck(
            session_id=self.report.session_id,
            push_id=push.push_id,
            model=push.model,
            status=bridge_pb2.ACK_STATUS_ACTIVE if active else bridge_pb2.ACK_STATUS_ROLLED_BACK,
            first_sequence=sequence,
            error="" if active else "sha256 mismatch",
        )
        try:
            await self._stub.AckModel(ack, timeout=30.0)
        except grpc.aio.AioRpcError as exc:
            self.report.ack_errors += 1
            self._violation(f"AckModel failed: {exc.code().name}: {exc.details()}")
            return
        if active:
            self.report.pushes_acked_active += 1

    # --- frames --------------------------------------------------------------------

    async def _send(self, call: grpc.aio.StreamStreamCall, start_at: float, stop_at: float) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.config.fps
        # Spread the clients over one frame interval so their frames do not come in bursts.
        due = start_at + interval * self.index / max(1, self.config.clients)
        window = self._window
        sequence = 0
        while True:
            try:  # a server that stops answering must not keep the client past the end
                await asyncio.wait_for(window.acquire(), max(0.001, stop_at - loop.time()))
            except TimeoutError:
                break
            now = loop.time()
            if due > now:
                await asyncio.sleep(due - now)
            elif now - due > interval:  # late by more than a frame: skip the missed slots
                missed = math.floor((now - due) / interval)
                self.report.late_slots += missed
                due += missed * interval
            if loop.time() >= stop_at:
                window.release()
                break
            sequence += 1
            push = self._ready_push
            if push is not None:  # the pushed model takes over at this frame
                self._ready_push = None
                self.model_id = push.model.model_id
            header = bridge_pb2.FrameUp(
                session_id=self.report.session_id if sequence == 1 else "",
                sequence=sequence,
                capture_time_us=time.time_ns() // 1000,
                model_id=self.model_id,
            ).SerializeToString()
            message = header + self.images[sequence % len(self.images)]
            self._last_sent = sequence
            self._pending[sequence] = time.perf_counter()
            await call.write(message)
            self.report.sent += 1
            self.timeline["sent"][int(time.time())] += 1
            if push is not None:
                self._spawn(self._ack(push, sequence, active=True))
            due += interval
        await call.done_writing()

    async def _receive(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            message = await call.read()
            if message is grpc.aio.EOF:
                return
            arrived = time.perf_counter()
            self._check(convert.frame_answer_from_wire(message), arrived)

    def _check(self, answer: convert.FrameAnswer, arrived: float) -> None:
        sequence = answer.sequence
        sent_at = self._pending.pop(sequence, None)
        if sent_at is None:
            self._violation(
                f"frame {sequence} answered but not awaiting an answer (never sent, or "
                "answered twice)"
            )
            return
        self._window.release()
        self.report.answered += 1
        status = answer.status.name.lower()
        self._statuses[status] += 1
        second = int(time.time())
        self.timeline["answered"][second] += 1
        self.timeline[status][second] += 1
        if status == "dropped":
            self._dropped_seen += 1
            if self._last_sent <= sequence:
                self._violation(
                    f"frame {sequence} answered DROPPED but no newer frame had been sent "
                    f"(last sent {self._last_sent}): not explained by newest-frame-wins"
                )
        elif answer.status not in (FrameStatus.PROCESSED, FrameStatus.RECORDED):
            self._violation(f"frame {sequence} answered {answer.status.name}: {answer.error}")
        else:
            round_trip = (arrived - sent_at) * 1000.0
            self.round_trip_ms.append(round_trip)
            self.added_ms.append(round_trip - answer.python_ms - answer.queue_ms)
            if answer.status is FrameStatus.PROCESSED:
                self.python_ms.append(answer.python_ms)
                self.queue_ms.append(answer.queue_ms)
        if answer.dropped_total != self._dropped_seen:
            self._violation(
                f"frame {sequence}: dropped_total {answer.dropped_total} but "
                f"{self._dropped_seen} DROPPED answers so far"
            )


async def run_clients(config: LoadConfig) -> ClientsReport:
    """Run ``config.clients`` clients for ``config.duration_s``; every answer checked."""
    images = encoded_image_fields(config.size)
    width, height = config.size
    limit = max(2 * width * height * 4, 16 * 2**20) + 2**20
    options = [
        ("grpc.max_send_message_length", limit),
        ("grpc.max_receive_message_length", limit),
    ]
    clients = [_Client(i, config, images) for i in range(config.clients)]
    channels = [grpc.aio.insecure_channel(config.server, options=options) for _ in clients]
    loop = asyncio.get_running_loop()
    started_at = time.time()
    lead_s = 0.5  # every Hello is done by then on an idle machine
    start = loop.time() + lead_s
    stop = start + config.duration_s
    try:
        results = await asyncio.gather(
            *(c.run(ch, start, stop) for c, ch in zip(clients, channels, strict=True)),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(*(ch.close() for ch in channels), return_exceptions=True)
    for client, result in zip(clients, results, strict=True):
        if isinstance(result, BaseException):
            client._violation(f"client failed: {type(result).__name__}: {result}")
    sending_ended_at = started_at + lead_s + config.duration_s
    timeline: dict[str, dict[int, int]] = {}
    for client in clients:
        for name, counts in client.timeline.items():
            merged = timeline.setdefault(name, {})
            for second, count in counts.items():
                merged[second] = merged.get(second, 0) + count
    return ClientsReport(
        config={**asdict(config), "size": list(config.size)},
        started_at=started_at,
        sending_ended_at=sending_ended_at,
        ended_at=time.time(),
        clients=[c.report for c in clients],
        round_trip_ms=[v for c in clients for v in c.round_trip_ms],
        added_ms=[v for c in clients for v in c.added_ms],
        python_ms=[v for c in clients for v in c.python_ms],
        queue_ms=[v for c in clients for v in c.queue_ms],
        timeline=timeline,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load-bench clients (run by bench_load.py).")
    parser.add_argument("--server", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--timings-only", action="store_true")
    parser.add_argument("--no-pushes", action="store_true")
    parser.add_argument("--model-id", default="")
    parser.add_argument("--model-sha256", default="")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    config = LoadConfig(
        server=args.server,
        clients=args.clients,
        fps=args.fps,
        size=(width, height),
        duration_s=args.duration,
        window=args.window,
        want_pixels=not args.timings_only,
        accept_pushes=not args.no_pushes,
        model_id=args.model_id,
        model_sha256=args.model_sha256,
    )
    report = asyncio.run(run_clients(config))
    args.out.write_text(json.dumps(asdict(report)))


if __name__ == "__main__":
    main()
