"""Python inference for every stream of the server, in one bounded thread pool.

``inference_workers`` threads serve all sessions, so eight sessions on two cores
queue for the CPU instead of oversubscribing it. A backend instance is never run by
two threads at once (the InferenceBackend contract): the pool holds one backend per
worker when it can build them, and threads borrow one for each frame.

The whole per-frame job runs in the worker thread: the model, the parity PSNR and
the packing of the output into wire bytes, so the event loop only moves messages.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from stylebridge.bridge.core.domain import InboundFrame, PackedImage
from stylebridge.bridge.swaps.following import ModelBackends, ModelChoice
from stylebridge.errors import BackendError, InvalidInputError, StyleBridgeError
from stylebridge.evaluate.fidelity import psnr
from stylebridge.frames import PixelFormat
from stylebridge.inference.base import InferenceBackend

_log = logging.getLogger(__name__)

# Identical outputs have an infinite PSNR; report this instead so that means, JSON and
# plots stay finite. 100 dB is far above any real engine/Python difference (~40-60 dB).
PARITY_CAP_DB = 100.0

BackendFactory = Callable[[], InferenceBackend]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one frame's Python inference produced (``error`` set when it failed)."""

    stylized: PackedImage | None
    python_ms: float
    queue_ms: float
    parity_psnr_db: float | None
    error: str = ""
    # The model Python ran, and why it is not the one the frame named (when it is not).
    model_id: str = ""
    note: str = ""


class InferenceRunner:
    """Runs backends on frames in a thread pool shared by all streams."""

    def __init__(self, backends: Sequence[InferenceBackend], workers: int) -> None:
        if not backends:
            raise InvalidInputError("InferenceRunner needs at least one backend")
        self._backends = list(backends)
        self._free: queue.SimpleQueue[InferenceBackend] = queue.SimpleQueue()
        for backend in self._backends:
            self._free.put(backend)
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="stylebridge-inference"
        )
        self._closed = False
        # Backends that cost microseconds (identity) run on the event loop: a hop to a
        # worker thread and back costs more than the work (see ``run``).
        self._inline = all(getattr(b, "runs_inline", False) for b in self._backends)
        # One permit per worker. A stream takes a frame out of its newest-frame-wins slot
        # only once it holds one, so frames never wait in the executor's queue where a
        # newer frame could no longer replace them (with 8 streams they went stale by
        # seconds there).
        self._turns = asyncio.Semaphore(max(1, workers))
        # Backends of registry models, when the server follows model swaps.
        self.models: ModelBackends | None = None

    @property
    def primary_backend(self) -> InferenceBackend:
        """The server's own model's first backend (what ``auto`` chose, say)."""
        return self._backends[0]

    @property
    def backend_name(self) -> str:
        return self._backends[0].name

    @property
    def model_id(self) -> str:
        return self._backends[0].model_id

    def choose(self, model_id: str) -> ModelChoice:
        """The model to run for a frame naming ``model_id`` (the server's own without swaps)."""
        if self.models is None:
            return ModelChoice(None)
        return self.models.choose(model_id)

    def turn(self) -> asyncio.Semaphore:
        """Hold while taking a frame and running it: a worker is free for it at once."""
        return self._turns

    async def run(
        self, frame: InboundFrame, *, want_pixels: bool, choice: ModelChoice | None = None
    ) -> RunResult:
        """Stylize ``frame`` in a worker thread; failures come back as ``RunResult.error``.

        An inline backend (identity) runs here, on the event loop, unless the frame needs
        the parity PSNR (milliseconds of numpy at 720p) or another model than the server's.
        """
        choice = choice or ModelChoice(None)
        if self._inline and choice.model is None and frame.engine_output is None:
            return self._job(frame, want_pixels, choice)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self._job, frame, want_pixels, choice
        )

    def _job(self, frame: InboundFrame, want_pixels: bool, choice: ModelChoice) -> RunResult:
        queue_ms = (time.perf_counter() - frame.received_at) * 1000.0
        note = choice.note
        if choice.model is not None and self.models is not None:
            try:
                lease = self.models.lease(choice.model)
            except BackendError as exc:
                note = f"{exc}; Python ran {self.model_id!r} instead"
            else:
                with lease as backend:
                    return self._run_on(backend, frame, want_pixels, queue_ms, note)
        backend = self._free.get()
        try:
            return self._run_on(backend, frame, want_pixels, queue_ms, note)
        finally:
            self._free.put(backend)

    def _run_on(
        self,
        backend: InferenceBackend,
        frame: InboundFrame,
        want_pixels: bool,
        queue_ms: float,
        note: str,
    ) -> RunResult:
        model_id = backend.model_id
        start = time.perf_counter()
        try:
            out = backend.run(frame.rgb)
        except StyleBridgeError as exc:
            return RunResult(None, 0.0, queue_ms, None, str(exc), model_id, note)
        except Exception as exc:  # a backend bug must fail the frame, not the stream
            _log.debug(
                "backend %s raised on frame %d", backend.name, frame.sequence, exc_info=True
            )
            error = f"{type(exc).__name__}: {exc}"
            return RunResult(None, 0.0, queue_ms, None, error, model_id, note)
        python_ms = (time.perf_counter() - start) * 1000.0
        if out.shape != frame.rgb.shape or out.dtype != np.uint8:
            return RunResult(
                None,
                python_ms,
                queue_ms,
                None,
                error=f"backend {backend.name} returned {out.dtype} {out.shape} for a "
                f"{frame.rgb.shape} frame; it must return the frame's size as uint8",
                model_id=model_id,
                note=note,
            )
        parity = None
        if frame.engine_output is not None:
            parity = min(psnr(frame.engine_output, out), PARITY_CAP_DB)
            if math.isnan(parity):
                parity = None
        stylized = None
        if want_pixels:
            # A flat view when the output is contiguous (an identity backend's output is
            # the received bytes themselves): the outgoing message makes the one copy.
            pixels = memoryview(np.ascontiguousarray(out)).cast("B")
            height, width = out.shape[:2]
            stylized = PackedImage(width, height, PixelFormat.RGB8, width * 3, pixels)
        return RunResult(stylized, python_ms, queue_ms, parity, model_id=model_id, note=note)

    def close(self) -> None:
        """Wait for running jobs, then release the backends; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self.models is not None:
            self.models.close()
        for backend in self._backends:
            try:
                backend.close()
            except Exception:  # closing must go on for the other backends
                _log.warning("closing backend %s failed", backend.name, exc_info=True)
