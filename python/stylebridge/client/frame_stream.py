"""One Frames stream of the reference client: send frames at the configured rate within
the window, receive every answer, pair each with its frame.

The sender captures and encodes each frame in a worker thread (the pixel copy stays
off the event loop); the receiver decodes answers as they come. ``ReferenceClient``
opens one per run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import grpc
import grpc.aio
import numpy as np

from stylebridge.client import convert
from stylebridge.client.pushes import FrameSlot, ModelPushes
from stylebridge.client.results import FrameResult
from stylebridge.config import ClientConfig
from stylebridge.errors import StateError
from stylebridge.frames import PixelFormat

_MESSAGE_MARGIN_BYTES = 1024 * 1024
_MIN_MESSAGE_BYTES = 16 * 1024 * 1024


def should_send_parity(index: int, parity_every: int) -> bool:
    """Whether frame ``index`` (0-based) carries the engine's output: 0, N, 2N, ..."""
    return parity_every > 0 and index % parity_every == 0


class FrameStream:
    """One Frames stream of a run: a sender task and a receiver task."""

    def __init__(
        self,
        call: grpc.aio.StreamStreamCall,
        config: ClientConfig,
        *,
        session_id: str,
        pushes: ModelPushes,
        source: Iterator[np.ndarray],
        count: int,
        on_result: Callable[[FrameResult], None] | None,
    ) -> None:
        self._call = call
        self._config = config
        self._session_id = session_id
        self._pushes = pushes
        self._source = source
        self._count = count
        self._on_result = on_result
        self._window = asyncio.Semaphore(config.window)
        # sequence -> (perf_counter when written, engine ms, model the engine ran)
        self._pending: dict[int, tuple[float, float | None, str]] = {}
        self.results: list[FrameResult] = []
        self.sent = 0
        self._half_closed = False

    async def run(self) -> None:
        sender = asyncio.create_task(self._send(), name="client-send")
        receiver = asyncio.create_task(self._receive(), name="client-receive")
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                receiver.result()  # the server's error, if it ended the stream with one
                # The server ends the stream once it reads the half-close, so its end can
                # reach the receiver before ``done_writing()`` returns to the sender.
                if not sender.done() and not self._half_closed:
                    raise StateError(
                        f"the server closed the stream after {len(self.results)} answers while "
                        f"frames were still being sent"
                    )
            await sender
            try:
                await asyncio.wait_for(asyncio.shield(receiver), self._config.drain_timeout_s)
            except TimeoutError:
                raise StateError(
                    f"{len(self._pending)} of {self.sent} frames got no answer within "
                    f"{self._config.drain_timeout_s:.0f} s after the stream ended"
                ) from None
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.wait({sender, receiver})

    async def _send(self) -> None:
        config = self._config
        interval = 1.0 / config.fps if config.fps > 0 else 0.0
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(self._count):
            await self._window.acquire()
            if interval:
                delay = start + index * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            # The slot holds the swap lock: the engine cannot change under this frame.
            async with self._pushes.frame(index + 1) as slot:
                captured = await asyncio.to_thread(self._capture, index, slot)
                slot.ran = captured is not None
            if captured is None:
                break  # the frame source ran out
            sequence, message, engine_ms = captured
            self._pending[sequence] = (time.perf_counter(), engine_ms, slot.model_id)
            await self._call.write(message)
            self.sent += 1
        self._half_closed = True
        await self._call.done_writing()

    def _capture(self, index: int, slot: FrameSlot) -> tuple[int, bytes, float | None] | None:
        """Next frame, the slot engine's run on it, and its encoded FrameUp (worker thread).

        Encoding here keeps the copy of the pixels off the event loop.
        """
        rgb = next(self._source, None)
        if rgb is None:
            return None
        capture_time_us = time.time_ns() // 1000
        engine = slot.engine
        run = engine.run(rgb)
        slot.ms = run.ms if run is not None else 0.0
        engine_output = None
        if run is not None and should_send_parity(index, self._config.parity_every):
            engine_output = wire_image(run.output)
        sequence = index + 1
        message = convert.frame_up_wire(
            session_id=self._session_id if index == 0 else "",
            sequence=sequence,
            capture_time_us=capture_time_us,
            image=wire_image(rgb),
            engine_ms=run.ms if run is not None else None,
            timing_method=engine.timing_method,
            model_id=slot.model_id,
            engine_output=engine_output,
        )
        return sequence, message, (run.ms if run is not None else None)

    async def _receive(self) -> None:
        while True:
            message = await self._call.read()
            if message is grpc.aio.EOF:
                return
            answer = convert.frame_answer_from_wire(message)
            pending = self._pending.pop(answer.sequence, None)
            if pending is None:
                raise StateError(
                    f"the server answered frame {answer.sequence}, which is not awaiting an "
                    "answer (never sent, or answered twice)"
                )
            written_at, engine_ms, model_id = pending
            result = FrameResult(
                sequence=answer.sequence,
                status=answer.status,
                engine_ms=engine_ms,
                python_ms=answer.python_ms,
                queue_ms=answer.queue_ms,
                round_trip_ms=(time.perf_counter() - written_at) * 1000.0,
                parity_psnr_db=answer.parity_psnr_db,
                dropped_total=answer.dropped_total,
                error=answer.error,
                model_id=model_id,
                python_model_id=answer.model_id,
            )
            self.results.append(result)
            self._window.release()
            if self._on_result is not None:
                self._on_result(result)


def wire_image(rgb: np.ndarray) -> convert.WireImage:
    """RGB8 wire pixels as a flat view (the FrameUp encoder makes the one copy)."""
    contiguous = np.ascontiguousarray(rgb)
    height, width = contiguous.shape[:2]
    return convert.WireImage(
        width, height, PixelFormat.RGB8, width * 3, memoryview(contiguous).cast("B")
    )


