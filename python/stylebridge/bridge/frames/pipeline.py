"""One Frames stream: receive, keep the newest frame, run Python, answer every frame.

Three parts run concurrently per stream:

* the **receiver** task reads FrameUp messages as fast as they come and never waits
  for inference. Each valid frame goes into a bounded *slot* of ``frame_queue_depth``
  frames; when the slot is full the oldest waiting frame is answered DROPPED and the
  new one takes its place (newest frame wins). Without Python inference every frame
  is answered RECORDED at once.
* the **inference** task waits for a free worker of the server-wide thread pool
  (``InferenceRunner.turn``), then takes the oldest frame from the slot and runs it:
  PROCESSED, or FAILED with the error. Waiting *before* taking the frame matters with
  many streams: a frame taken early would wait in the pool's queue, out of reach of
  newer frames, and go stale.
* the **answer** generator (``run``) yields outcomes in the order they were decided.

Invariants: every received frame gets exactly one outcome (dropped ones as soon as
they are displaced; the rest when processed, also after the client half-closes);
outcomes are counted in the session and written to the store when decided; at most
``max_unanswered_frames`` frames of a stream are inside the server, so a client that
stops reading answers is stopped by flow control instead of filling memory.

Bad input: a frame whose content breaks a rule (sizes, format, timings, a sequence
that does not increase) is answered REJECTED with the reason, counted, stored as
"rejected" when its sequence number is new, and the stream goes on. Messages that make
the stream meaningless (undecodable bytes, another session's id) and
``max_consecutive_rejected`` rejected frames in a row end the stream with their error
(the caller maps it to a status code), after the frames already queued were answered.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from stylebridge.bridge.core.domain import (
    MAX_SEQUENCE,
    FrameOutcome,
    FrameRejection,
    InboundFrame,
    RejectionOutcome,
)
from stylebridge.bridge.core.sessions import Session
from stylebridge.bridge.frames.frame_rows import FrameRows
from stylebridge.bridge.frames.runner import InferenceRunner
from stylebridge.errors import InvalidInputError, StyleBridgeError
from stylebridge.protocol import FrameStatus
from stylebridge.store import FrameRecord

# Rejected frames in a row after which a stream ends (a client sending only garbage
# must not keep the server busy forever).
MAX_CONSECUTIVE_REJECTED = 100

Answer = FrameOutcome | RejectionOutcome


@dataclass(frozen=True)
class _End:
    """Marks the end of the outcomes: normal (error None) or an invalid frame."""

    error: BaseException | None = None


class FramePipeline:
    """The frame pipeline of one Frames stream of one session."""

    def __init__(
        self,
        session: Session,
        runner: InferenceRunner | None,
        store: FrameRows,
        *,
        queue_depth: int,
        max_unanswered: int,
        max_consecutive_rejected: int = MAX_CONSECUTIVE_REJECTED,
    ) -> None:
        self._session = session
        self._runner = runner
        self._store = store
        self._want_pixels = session.capabilities.wants_stylized_pixels
        self._depth = queue_depth
        self._slot: deque[InboundFrame] = deque()
        self._wake = asyncio.Event()
        self._receiving = True
        self._out: asyncio.Queue[Answer | _End] = asyncio.Queue()
        self._unanswered = asyncio.Semaphore(max_unanswered)
        self._dropped = 0
        self._max_rejected = max_consecutive_rejected
        self._rejected_in_a_row = 0
        # The error that ended the receiver (the stream ends with it once queued frames
        # were answered).
        self._error: BaseException | None = None

    async def run(
        self, frames: AsyncIterator[InboundFrame | FrameRejection]
    ) -> AsyncIterator[Answer]:
        """Answers to ``frames``, one per frame; raises the error that ended the stream.

        Cancelling the consumer (client gone) cancels both tasks; nothing is left running.
        """
        tasks = [asyncio.create_task(self._receive(frames), name="frames-receive")]
        if self._runner is not None:
            tasks.append(asyncio.create_task(self._infer(self._runner), name="frames-infer"))
        try:
            while True:
                item = await self._out.get()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
                self._unanswered.release()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)

    # --- receiver ---------------------------------------------------------------

    async def _receive(self, frames: AsyncIterator[InboundFrame | FrameRejection]) -> None:
        try:
            while True:
                await self._unanswered.acquire()
                try:
                    frame = await anext(frames)
                except StopAsyncIteration:
                    break
                except StyleBridgeError:
                    self._session.on_rejected()  # undecodable bytes: counted, not stored
                    raise
                self._check_session(frame)
                if isinstance(frame, InboundFrame):
                    rejection = self._check_sequence(frame)
                    if rejection is None:
                        self._rejected_in_a_row = 0
                        self._accept(frame)
                        continue
                    frame = rejection
                self._reject(frame)
        except Exception as exc:  # ends the stream with this error (see run)
            self._error = exc
        self._receiving = False
        self._wake.set()
        if self._runner is None:
            self._out.put_nowait(_End(self._error))

    def _check_session(self, frame: InboundFrame | FrameRejection) -> None:
        """A stream belongs to one session: another id ends it (INVALID_ARGUMENT)."""
        session_id = self._session.session_id
        if frame.session_id and frame.session_id != session_id:
            self._session.on_rejected()
            raise InvalidInputError(
                f"frame {frame.sequence} names session {frame.session_id!r} but this stream "
                f"belongs to {session_id!r}; leave session_id empty after the first frame "
                "(open a new Frames stream for another session)"
            )

    def _check_sequence(self, frame: InboundFrame) -> FrameRejection | None:
        """Sequence numbers strictly increase within the session (also across streams)."""
        last = self._session.last_sequence
        if last is not None and frame.sequence <= last:
            return FrameRejection(
                sequence=frame.sequence,
                error=InvalidInputError(
                    f"frame sequence {frame.sequence} does not increase (the session's "
                    f"previous frame was {last}); number frames strictly increasing within "
                    "a session"
                ),
                capture_time_us=frame.capture_time_us,
                width=frame.width,
                height=frame.height,
                pixel_format=frame.pixel_format.name,
                model_id=frame.model_id,
                received_at_us=frame.received_at_us,
            )
        self._session.last_sequence = frame.sequence
        return None

    def _reject(self, rejection: FrameRejection) -> None:
        """Count, store (when its number is new) and answer a rejected frame.

        Raises InvalidInputError when too many frames in a row were rejected.
        """
        session = self._session
        session.on_rejected()
        last = session.last_sequence
        sequence = rejection.sequence
        if sequence <= MAX_SEQUENCE and (last is None or sequence > last):
            # A new number: kept as a "rejected" row (numbers that repeat one already
            # stored are never written, so no earlier row is touched).
            session.last_sequence = sequence
            self._store.record_frame(
                FrameRecord(
                    session_id=session.session_id,
                    sequence=rejection.sequence,
                    received_at_us=rejection.received_at_us,
                    capture_time_us=rejection.capture_time_us,
                    width=rejection.width,
                    height=rejection.height,
                    pixel_format=rejection.pixel_format,
                    engine_model_id=rejection.model_id,
                    status=FrameStatus.REJECTED.label,
                    python_model_id="",
                    python_backend=session.python_backend,
                )
            )
        self._out.put_nowait(RejectionOutcome(rejection, dropped_total=self._dropped))
        self._rejected_in_a_row += 1
        if self._rejected_in_a_row >= self._max_rejected:
            raise InvalidInputError(
                f"{self._rejected_in_a_row} frames in a row were rejected (the last: "
                f"{rejection.error}); the stream is closed: fix what the client sends, then "
                "open a new Frames stream for the session"
            )

    def _accept(self, frame: InboundFrame) -> None:
        """Count a valid frame and queue it (or, without Python inference, answer it)."""
        self._session.on_received(frame.engine_ms, frame.engine_timing_method, frame.model_id)
        for listener in self._session.frame_listeners:
            listener(frame)
        if self._runner is None:
            self._emit(FrameOutcome(frame, FrameStatus.RECORDED, dropped_total=self._dropped))
            return
        if len(self._slot) >= self._depth:
            old = self._slot.popleft()
            self._dropped += 1
            queue_ms = (frame.received_at - old.received_at) * 1000.0
            self._emit(
                FrameOutcome(
                    old, FrameStatus.DROPPED, queue_ms=queue_ms, dropped_total=self._dropped
                )
            )
        self._slot.append(frame)
        self._wake.set()

    # --- inference --------------------------------------------------------------

    async def _infer(self, runner: InferenceRunner) -> None:
        try:
            while True:
                while not self._slot:
                    if not self._receiving:
                        self._out.put_nowait(_End(self._error))
                        return
                    self._wake.clear()
                    await self._wake.wait()
                async with runner.turn():
                    # The newest frame when a worker is free, not when this stream asked.
                    frame = self._slot.popleft()
                    choice = runner.choose(frame.model_id)
                    result = await runner.run(
                        frame, want_pixels=self._want_pixels, choice=choice
                    )
                status = FrameStatus.FAILED if result.error else FrameStatus.PROCESSED
                self._emit(
                    FrameOutcome(
                        frame,
                        status,
                        stylized=result.stylized,
                        python_ms=result.python_ms,
                        queue_ms=result.queue_ms,
                        parity_psnr_db=result.parity_psnr_db,
                        dropped_total=self._dropped,
                        error=result.error,
                        python_model_id=result.model_id,
                        model_note=result.note,
                    )
                )
        except Exception as exc:  # a server fault: end the stream with it (INTERNAL)
            self._out.put_nowait(_End(exc))

    # --- outcomes ---------------------------------------------------------------

    def _emit(self, outcome: FrameOutcome) -> None:
        """Count, store and queue one outcome (the one place every answer passes)."""
        session = self._session
        frame = outcome.frame
        processed = outcome.status is FrameStatus.PROCESSED
        if processed and outcome.python_model_id:
            session.python_model_id = outcome.python_model_id
        session.on_outcome(
            outcome.status,
            outcome.python_ms,
            outcome.queue_ms,
            outcome.parity_psnr_db,
            model_id=outcome.python_model_id,
        )
        self._store.record_frame(
            FrameRecord(
                session_id=session.session_id,
                sequence=frame.sequence,
                received_at_us=frame.received_at_us,
                capture_time_us=frame.capture_time_us,
                width=frame.width,
                height=frame.height,
                pixel_format=frame.pixel_format.name,
                engine_model_id=frame.model_id,
                engine_ms=frame.engine_ms,
                engine_timing_method=(
                    frame.engine_timing_method.label if frame.engine_timing_method else None
                ),
                status=outcome.status.label,
                python_ms=outcome.python_ms if processed else None,
                python_model_id=outcome.python_model_id or session.python_model_id,
                python_backend=session.python_backend,
                queue_ms=outcome.queue_ms,
                parity_psnr_db=outcome.parity_psnr_db,
            )
        )
        self._out.put_nowait(outcome)
