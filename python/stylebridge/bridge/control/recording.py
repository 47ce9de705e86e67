"""RecordFrames: a session's frames, every Nth and no near-duplicates, to the caller.

The frame path pays nothing while nobody records: ``Session.frame_listeners`` is an
empty list. A recording adds one listener, ``FrameTap``, called on the event loop for
every accepted frame: it applies the O(1) every-N rule and puts the frame into a
bounded queue, dropping it (counted) when the recorder falls behind, so a slow
caller never slows the stream. The recorder task takes frames from the queue,
compares thumbnails (``recorder.FrameSelector.judge``, in a worker thread so that no
stream waits for it) and yields the kept ones. It ends
after ``max_frames`` frames, when the session ends (after what is queued), or when
the caller cancels. The server never writes files: the caller stores the frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from stylebridge.bridge.control.recorder import FrameSelector, SelectionPolicy
from stylebridge.bridge.core.domain import InboundFrame
from stylebridge.bridge.core.sessions import Session
from stylebridge.errors import StateError

_log = logging.getLogger(__name__)

# Frames waiting for the recorder at most; more are dropped, newest kept out.
DEFAULT_QUEUE_DEPTH = 8


@dataclass(frozen=True, slots=True)
class KeptFrame:
    """One frame a recording keeps, and how much it differs from the previous one."""

    frame: InboundFrame
    mean_change: float


class FrameTap:
    """The listener a recording adds to a session: never blocks, drops when full."""

    def __init__(self, selector: FrameSelector, depth: int = DEFAULT_QUEUE_DEPTH) -> None:
        self._selector = selector
        self.queue: asyncio.Queue[InboundFrame] = asyncio.Queue(maxsize=depth)
        self.dropped = 0

    def __call__(self, frame: InboundFrame) -> None:
        if not self._selector.due():
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped += 1


async def record_session(
    session: Session, policy: SelectionPolicy, *, depth: int = DEFAULT_QUEUE_DEPTH
) -> AsyncIterator[KeptFrame]:
    """The frames of ``session`` that ``policy`` keeps, as they arrive.

    Raises StateError (FAILED_PRECONDITION) when the session has already ended.
    """
    if session.state.ended:
        raise StateError(
            f"session {session.session_id} has ended ({session.state.label}); "
            "record a session that is connected or streaming"
        )
    selector = FrameSelector(policy)
    tap = FrameTap(selector, depth)
    session.frame_listeners.append(tap)
    ended = asyncio.ensure_future(session.wait_ended())
    try:
        while not selector.done:
            frame = await _next_frame(tap.queue, ended)
            if frame is None:
                break
            # Off the event loop: the frame streams of every session share it.
            selection = await asyncio.to_thread(selector.judge, frame.rgb)
            if selection.kept:
                yield KeptFrame(frame, selection.mean_change)
    finally:
        session.frame_listeners.remove(tap)
        ended.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ended
        _log.info(
            "session %s: recording kept %d frames (%d dropped while busy)",
            session.session_id,
            selector.kept,
            tap.dropped,
        )


async def _next_frame(
    queue: asyncio.Queue[InboundFrame], ended: asyncio.Future[None]
) -> InboundFrame | None:
    """The next queued frame; None once the session ended and the queue is empty."""
    if not queue.empty() or ended.done():
        return None if queue.empty() else queue.get_nowait()
    getter = asyncio.ensure_future(queue.get())
    try:
        await asyncio.wait((getter, ended), return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not getter.done():
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter
    if getter.done() and not getter.cancelled():
        return getter.result()
    return None if queue.empty() else queue.get_nowait()
