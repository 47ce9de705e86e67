"""Reconnection for the reference client, with the Unity package's policy.

When the server goes away (killed, restarted, the network drops) a client that can
retry does: it waits a capped, jittered exponential back-off (``BackoffPolicy``, the
same numbers and formula as ``Runtime/Core/Backoff.cs``), says Hello again (a new
session: sessions do not survive a server) and goes on streaming the same frame source,
counting frames across sessions. A refusal that retrying cannot fix (bad token,
protocol mismatch, invalid input) ends the run with that error, like
``SessionStateMachine.OnHelloRefused(retryable: false)``. A session that streamed for
``stable_s`` starts the back-off over.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

import grpc
import numpy as np

from stylebridge.client.engine import ReferenceEngine
from stylebridge.client.reference import ReferenceClient
from stylebridge.client.results import FrameResult
from stylebridge.config import ClientConfig
from stylebridge.errors import InvalidInputError, ProtocolVersionError, StyleBridgeError
from stylebridge.frame_sources import FrameSource, builtin_frames

_log = logging.getLogger(__name__)

# Statuses that may pass: the server is down, busy or restarting (BridgeConnection.IsRetryable).
RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)


def is_retryable(error: BaseException) -> bool:
    """Whether trying again may help: a lost or busy server yes; a version mismatch,
    a bad token or an invalid request no."""
    if isinstance(error, ProtocolVersionError):
        return False
    return isinstance(error, StyleBridgeError) and error.code in RETRYABLE_CODES


@dataclass(frozen=True)
class BackoffPolicy:
    """Delays between attempts: ``initial_s * multiplier**(attempt - 1)`` capped at
    ``max_s``, spread by ±``jitter`` so that the clients of a restarted server do not all
    come back in the same instant. ``max_attempts`` consecutive failures end the run
    (0: never give up). Raises InvalidInputError for values out of range."""

    initial_s: float = 0.5
    max_s: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2
    stable_s: float = 10.0
    max_attempts: int = 0

    def __post_init__(self) -> None:
        if not self.initial_s > 0:
            raise InvalidInputError(f"initial back-off must be > 0 s, got {self.initial_s}")
        if not self.max_s >= self.initial_s:
            raise InvalidInputError(
                f"maximum back-off {self.max_s} s is below the initial {self.initial_s} s"
            )
        if not self.multiplier >= 1:
            raise InvalidInputError(f"back-off multiplier must be >= 1, got {self.multiplier}")
        if not 0 <= self.jitter <= 1:
            raise InvalidInputError(f"back-off jitter must be within 0..1, got {self.jitter}")
        if not self.stable_s >= 0 or self.max_attempts < 0:
            raise InvalidInputError("stable time and max attempts must be >= 0")

    def base_delay_s(self, attempt: int) -> float:
        """Delay after ``attempt`` failures (1-based), before jitter."""
        if attempt < 1:
            raise InvalidInputError(f"attempts count from 1, got {attempt}")
        try:
            delay = self.initial_s * self.multiplier ** (attempt - 1)
        except OverflowError:
            return self.max_s
        return min(delay, self.max_s)

    def delay_s(self, attempt: int, random_value: float) -> float:
        """The jittered delay for ``random_value`` in [0, 1), capped at ``max_s``."""
        delay = self.base_delay_s(attempt) * (1 + self.jitter * (2 * random_value - 1))
        return min(self.max_s, max(0.0, delay))


def attempt_after_failure(attempt: int, streamed_s: float | None, policy: BackoffPolicy) -> int:
    """The attempt number after a retryable failure (``attempt`` failures so far).

    A session that streamed for ``policy.stable_s`` or longer starts the back-off over;
    ``streamed_s`` is None when the failure came before a session opened. The same rule as
    ``SessionStateMachine.OnConnectionLost`` in the Unity package (tests/vectors/bridge_rules.json).
    """
    if streamed_s is not None and streamed_s >= policy.stable_s:
        attempt = 0
    return attempt + 1


class GaveUpError(StyleBridgeError):
    """The server stayed unreachable for ``max_attempts`` attempts in a row."""

    code = grpc.StatusCode.UNAVAILABLE


@dataclass(frozen=True)
class SessionRun:
    """One session of a reconnecting run: what it sent, what came back, how it ended."""

    session_id: str
    sent: int
    answered: int
    # Why the session broke off ("" when it finished its frames).
    error: str = ""


@dataclass(frozen=True)
class Reconnect:
    """One recovery: the session lost, why, and how long until a new Hello was accepted."""

    lost_session_id: str
    error: str
    attempts: int
    down_s: float
    new_session_id: str


@dataclass(frozen=True)
class ReconnectingRunResult:
    """A run across sessions; ``frames`` are every answer in order of arrival."""

    sessions: tuple[SessionRun, ...]
    frames: tuple[FrameResult, ...]
    reconnects: tuple[Reconnect, ...]
    elapsed_s: float

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.sessions)

    @property
    def answered(self) -> int:
        return len(self.frames)

    @property
    def unanswered(self) -> int:
        """Frames in flight when a server went away: sent, never answered."""
        return self.sent - self.answered


class ReconnectingClient:
    """Streams ``frames`` frames through as many sessions as it takes.

    ``frames`` and the engine are shared by every session (the source goes on where the
    lost session stopped); ``sleep`` and ``random`` are injectable for tests.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        policy: BackoffPolicy | None = None,
        frames: Iterable[np.ndarray] | None = None,
        on_result: Callable[[FrameResult], None] | None = None,
        on_reconnect: Callable[[Reconnect], None] | None = None,
        random_value: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._policy = policy or BackoffPolicy()
        self._frames = frames
        self._on_result = on_result
        self._on_reconnect = on_reconnect
        self._random = random_value
        self._sleep = sleep
        self._results: list[FrameResult] = []

    async def run(self, frames: int) -> ReconnectingRunResult:
        """Stream until ``frames`` frames are answered; raises the first error that
        retrying cannot fix, or GaveUpError after ``max_attempts`` failures in a row."""
        config = self._config
        engine = await asyncio.to_thread(_make_engine, config)
        source = iter(self._frames if self._frames is not None else _default_frames(config))
        try:
            return await self._run(frames, engine, source)
        finally:
            engine.close()

    async def _run(
        self, frames: int, engine: ReferenceEngine, source: Iterator[np.ndarray]
    ) -> ReconnectingRunResult:
        policy = self._policy
        sessions: list[SessionRun] = []
        reconnects: list[Reconnect] = []
        start = time.perf_counter()
        attempt = 0
        lost: tuple[str, str, float] | None = None  # session id, error, when
        while len(self._results) < frames:
            config = self._config
            client = ReferenceClient(config, frames=source, engine=engine, on_result=self._record)
            answered_before = len(self._results)
            delay = 0.0
            session_id = ""
            connected_at = time.perf_counter()
            try:
                try:
                    hello = await client.connect()
                    session_id = hello.session_id
                    connected_at = time.perf_counter()
                    if lost is not None:
                        reconnect = Reconnect(
                            lost[0], lost[1], attempt, connected_at - lost[2], session_id
                        )
                        reconnects.append(reconnect)
                        _log.info(
                            "reconnected to %s after %.2f s (%d attempts): session %s",
                            config.server,
                            reconnect.down_s,
                            attempt,
                            session_id,
                        )
                        if self._on_reconnect is not None:
                            self._on_reconnect(reconnect)
                        lost = None
                    await client.run(frames - answered_before)
                    sessions.append(
                        SessionRun(session_id, client.sent, len(self._results) - answered_before)
                    )
                    break
                except StyleBridgeError as exc:
                    if session_id:
                        sessions.append(
                            SessionRun(
                                session_id,
                                client.sent,
                                len(self._results) - answered_before,
                                str(exc),
                            )
                        )
                    if not is_retryable(exc):
                        raise
                    now = time.perf_counter()
                    streamed_s = now - connected_at if session_id else None
                    attempt = attempt_after_failure(attempt, streamed_s, policy)
                    if lost is None:
                        lost = (session_id, str(exc), now)
                    if policy.max_attempts and attempt > policy.max_attempts:
                        raise GaveUpError(
                            f"gave up on {config.server} after {policy.max_attempts} attempts; "
                            f"last error: {exc}"
                        ) from exc
                    delay = policy.delay_s(attempt, self._random())
                    _log.warning(
                        "lost %s (%s); attempt %d in %.2f s", config.server, exc, attempt, delay
                    )
            finally:
                await client.close()
            await self._sleep(delay)
        return ReconnectingRunResult(
            sessions=tuple(sessions),
            frames=tuple(self._results),
            reconnects=tuple(reconnects),
            elapsed_s=time.perf_counter() - start,
        )

    def _record(self, result: FrameResult) -> None:
        self._results.append(result)
        if self._on_result is not None:
            self._on_result(result)


def _make_engine(config: ClientConfig) -> ReferenceEngine:
    if config.engine_model is None:
        return ReferenceEngine.none()
    return ReferenceEngine.from_model(config.engine_model, config.engine_backend)


def _default_frames(config: ClientConfig) -> Iterable[np.ndarray]:
    if config.frames is not None:
        return FrameSource(config.frames, config.size)
    return builtin_frames(config.size)
