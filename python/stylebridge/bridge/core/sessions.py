"""Sessions: who said Hello, what their stream has done, and the registry of them.

A session lives from Hello until its frame stream ends (closed) or breaks off
(interrupted). A stream the server ended for the client's own bad message leaves the
session open (CONNECTED) so that the client may open another one. A session with no
open stream (Frames or Models) for ``idle_timeout_s`` is abandoned: ``reap_idle`` ends
it as interrupted. Counters and timing windows are updated once per frame on the event
loop (O(1) each); summaries are computed only when the Control service asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator

from stylebridge.bridge.core.domain import InboundFrame, now_us
from stylebridge.errors import LimitExceededError, NotFoundError, StateError, StyleBridgeError
from stylebridge.protocol import (
    ClientCapabilities,
    ClientInfo,
    FrameStatus,
    ModelRef,
    ModelTimings,
    SessionState,
    SessionStats,
    SessionSummary,
    SwapOutcome,
    TimingMethod,
)
from stylebridge.timing import RateMeter, TimingWindow

_log = logging.getLogger(__name__)

# Models whose timings a session keeps side by side (the oldest are forgotten first).
MAX_TIMED_MODELS = 16
# Seconds a session may stay without any open stream before it counts as abandoned.
DEFAULT_IDLE_TIMEOUT_S = 60.0
# Longest pause between two looks for abandoned sessions, seconds.
MAX_REAP_PERIOD_S = 5.0
# Sessions open at once at most: a client saying Hello in a loop cannot fill memory.
DEFAULT_MAX_OPEN_SESSIONS = 1024


class Session:
    """One client's session: identity, state, counters and timing windows."""

    def __init__(
        self,
        session_id: str,
        client: ClientInfo,
        capabilities: ClientCapabilities,
        *,
        peer: str,
        python_backend: str,
        python_model_id: str,
        engine_model_id: str = "",
    ) -> None:
        self.session_id = session_id
        self.client = client
        self.capabilities = capabilities
        self.peer = peer
        self.python_backend = python_backend
        self.python_model_id = python_model_id
        self.engine_model_id = engine_model_id
        self.started_at_us = now_us()
        self.ended_at_us: int | None = None
        self.state = SessionState.CONNECTED
        self.frames_received = 0
        self.frames_processed = 0
        self.frames_dropped = 0
        self.frames_failed = 0
        self.frames_recorded = 0
        self.frames_rejected = 0
        self.engine_times = TimingWindow()
        self.python_times = TimingWindow()
        self.queue_times = TimingWindow()
        self.engine_timing_method: TimingMethod | None = None
        self.receive_rate = RateMeter()
        self.parity_count = 0
        self.parity_sum_db = 0.0
        self.parity_last_db = 0.0
        self._ended = asyncio.Event()
        # Model swaps: what the client runs (Hello, then each ACTIVE ack), its last swap,
        # whether it opted out of automatic pushes and has its Models stream open.
        self.active_model = ModelRef(model_id=engine_model_id)
        self.last_swap: SwapOutcome | None = None
        self.pinned = False
        self.models_open = False
        # model id -> (engine times, python times), frames grouped by the model they named.
        self.model_times: OrderedDict[str, tuple[TimingWindow, TimingWindow]] = OrderedDict()
        # Called with every accepted frame (recordings); must not block.
        self.frame_listeners: list[Callable[[InboundFrame], None]] = []
        # Highest frame sequence seen (accepted or rejected and stored) in any stream of
        # the session: numbers strictly increase, so no stored frame is ever overwritten.
        self.last_sequence: int | None = None
        # Open Frames and Models streams, and since when (time.monotonic) there were none.
        self.open_streams = 0
        self.idle_since = time.monotonic()

    # --- life cycle -------------------------------------------------------------

    def open_stream(self) -> None:
        """Mark the frame stream open; one stream per session, and none after it ended.

        Raises StateError (FAILED_PRECONDITION) otherwise.
        """
        if self.state.ended:
            raise StateError(
                f"session {self.session_id} has ended ({self.state.label}); "
                "say Hello again to start a new session"
            )
        if self.state is SessionState.STREAMING:
            raise StateError(
                f"session {self.session_id} already has an open Frames stream; "
                "close it before opening another, or say Hello for a second session"
            )
        self.state = SessionState.STREAMING
        self.open_streams += 1

    def close_stream(self, *, keep_open: bool) -> None:
        """A Frames stream ended; with ``keep_open`` the session goes back to CONNECTED
        (the client may open another stream), otherwise the caller ends it."""
        self.stream_closed()
        if keep_open and self.state is SessionState.STREAMING:
            self.state = SessionState.CONNECTED

    def stream_opened(self) -> None:
        """Another stream (Models) is open: the session is not idle."""
        self.open_streams += 1

    def stream_closed(self) -> None:
        self.open_streams = max(0, self.open_streams - 1)
        if not self.open_streams:
            self.idle_since = time.monotonic()

    def idle_for(self, now: float) -> float:
        """Seconds without any open stream (0 while one is open or after the end)."""
        if self.open_streams or self.state is not SessionState.CONNECTED:
            return 0.0
        return max(0.0, now - self.idle_since)

    def end(self, state: SessionState) -> bool:
        """Move to an end state; False (and no change) when the session had already ended."""
        if self.state.ended:
            return False
        self.state = state
        self.ended_at_us = now_us()
        self._ended.set()
        return True

    async def wait_ended(self) -> None:
        await self._ended.wait()

    # --- per-frame accounting ---------------------------------------------------

    def on_received(
        self, engine_ms: float | None, method: TimingMethod | None, model_id: str
    ) -> None:
        self.frames_received += 1
        self.receive_rate.tick()
        if engine_ms is not None:
            self.engine_times.add(engine_ms)
            self.engine_timing_method = method
            if model_id:
                self._times_of(model_id)[0].add(engine_ms)
        if model_id:
            self.engine_model_id = model_id

    def on_rejected(self) -> None:
        self.frames_rejected += 1

    def on_outcome(
        self,
        status: FrameStatus,
        python_ms: float,
        queue_ms: float,
        parity_psnr_db: float | None,
        model_id: str = "",
    ) -> None:
        if status is FrameStatus.PROCESSED:
            self.frames_processed += 1
            self.python_times.add(python_ms)
            self.queue_times.add(queue_ms)
            if model_id:
                self._times_of(model_id)[1].add(python_ms)
        elif status is FrameStatus.DROPPED:
            self.frames_dropped += 1
        elif status is FrameStatus.FAILED:
            self.frames_failed += 1
        else:
            self.frames_recorded += 1
        if parity_psnr_db is not None:
            self.parity_count += 1
            self.parity_sum_db += parity_psnr_db
            self.parity_last_db = parity_psnr_db

    def _times_of(self, model_id: str) -> tuple[TimingWindow, TimingWindow]:
        times = self.model_times.get(model_id)
        if times is None:
            times = self.model_times[model_id] = (TimingWindow(), TimingWindow())
            while len(self.model_times) > MAX_TIMED_MODELS:
                self.model_times.popitem(last=False)
        return times

    # --- views ------------------------------------------------------------------

    def summary(self) -> SessionSummary:
        return SessionSummary(
            session_id=self.session_id,
            state=self.state,
            engine=self.client.engine,
            engine_version=self.client.engine_version,
            worker_type=self.client.worker_type,
            client_name=self.client.client_name,
            engine_model_id=self.engine_model_id,
            python_model_id=self.python_model_id,
            started_at_us=self.started_at_us,
            peer=self.peer,
            active_model=self.active_model,
            last_swap=self.last_swap,
            pinned=self.pinned,
            models_open=self.models_open,
        )

    def stats(self) -> SessionStats:
        """Counters and timing distributions now."""
        parity_mean = self.parity_sum_db / self.parity_count if self.parity_count else 0.0
        return SessionStats(
            session=self.summary(),
            frames_received=self.frames_received,
            frames_processed=self.frames_processed,
            frames_dropped=self.frames_dropped,
            frames_failed=self.frames_failed,
            frames_rejected=self.frames_rejected,
            engine=self.engine_times.summary(),
            engine_timing_method=self.engine_timing_method,
            python=self.python_times.summary(),
            queue=self.queue_times.summary(),
            receive_fps=self.receive_rate.rate(),
            parity_count=self.parity_count,
            parity_psnr_mean_db=parity_mean,
            parity_psnr_last_db=self.parity_last_db,
            python_backend=self.python_backend,
            per_model=tuple(
                ModelTimings(model_id, engine.summary(), python.summary())
                for model_id, (engine, python) in self.model_times.items()
            ),
        )


class SessionRegistry:
    """Sessions of this server process: all open ones and the most recent ended ones."""

    def __init__(
        self,
        keep_ended: int = 256,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
        max_open: int = DEFAULT_MAX_OPEN_SESSIONS,
    ) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._keep_ended = keep_ended
        # Public, like idle_timeout_s.
        self.max_open = max_open
        # Public so that a server (or a test) may change it while running.
        self.idle_timeout_s = idle_timeout_s

    def create(
        self,
        client: ClientInfo,
        capabilities: ClientCapabilities,
        *,
        peer: str,
        python_backend: str,
        python_model_id: str,
        engine_model_id: str = "",
    ) -> Session:
        """A new session; LimitExceededError when ``max_open`` sessions are open."""
        open_now = len(self._sessions) - sum(1 for s in self._sessions.values() if s.state.ended)
        if open_now >= self.max_open:
            raise LimitExceededError(
                f"this server has {open_now} open sessions, its limit; end the sessions you "
                f"no longer use (close their Frames streams), or wait: sessions without a "
                f"stream end after {self.idle_timeout_s:.0f} s"
            )
        session = Session(
            uuid.uuid4().hex,
            client,
            capabilities,
            peer=peer,
            python_backend=python_backend,
            python_model_id=python_model_id,
            engine_model_id=engine_model_id,
        )
        self._sessions[session.session_id] = session
        self._forget_old()
        return session

    def get(self, session_id: str) -> Session:
        """The session named ``session_id``; NotFoundError when there is none."""
        session = self._sessions.get(session_id)
        if session is None:
            raise NotFoundError(
                f"no session {session_id!r} on this server; call Hello first and use the "
                "session_id it returns (sessions do not survive a server restart)"
            )
        return session

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    def open_sessions(self) -> list[Session]:
        return [s for s in self._sessions.values() if not s.state.ended]

    def idle_sessions(self, now: float | None = None) -> list[Session]:
        """CONNECTED sessions without an open stream for ``idle_timeout_s`` or longer."""
        now = time.monotonic() if now is None else now
        return [s for s in self._sessions.values() if s.idle_for(now) >= self.idle_timeout_s]

    def _forget_old(self) -> None:
        ended = [sid for sid, s in self._sessions.items() if s.state.ended]
        for sid in ended[: max(0, len(ended) - self._keep_ended)]:
            del self._sessions[sid]


async def reap_idle(
    registry: SessionRegistry,
    end: Callable[[Session], None],
    stopping: asyncio.Event,
) -> None:
    """Until ``stopping`` is set: call ``end`` on every abandoned session (said Hello, or
    had a stream ended by its own bad message, and opened nothing since)."""
    while not stopping.is_set():
        period = min(MAX_REAP_PERIOD_S, max(0.01, registry.idle_timeout_s / 4))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), period)
        if stopping.is_set():
            return
        for session in registry.idle_sessions():
            try:
                end(session)
            except StyleBridgeError as exc:  # e.g. the store is behind: try again later
                _log.warning("session %s: could not end it: %s", session.session_id, exc)
