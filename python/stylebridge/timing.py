"""Rolling timing statistics and frame rates for live tables and reports.

A window of the most recent samples (percentiles of the last few hundred frames say
more about a live stream than an all-time mean) plus the all-time count. One writer
thread adds while another reads summaries: a lock keeps both consistent.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from stylebridge.errors import InvalidInputError


@dataclass(frozen=True)
class TimingSummary:
    """Statistics of the samples in a window, in milliseconds; all zeros when empty."""

    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    last_ms: float
    # Samples ever added, including those that have left the window.
    total_count: int = 0


_EMPTY = TimingSummary(count=0, mean_ms=0.0, p50_ms=0.0, p90_ms=0.0, p99_ms=0.0, last_ms=0.0)


class TimingWindow:
    """The last ``maxlen`` durations, summarized on demand."""

    def __init__(self, maxlen: int = 512) -> None:
        if maxlen <= 0:
            raise InvalidInputError(f"timing window length {maxlen} must be > 0")
        self._samples: deque[float] = deque(maxlen=maxlen)
        self._total = 0
        self._lock = threading.Lock()

    def add(self, ms: float) -> None:
        """Record one duration; NaN and infinities are ignored (they would poison means)."""
        value = float(ms)
        if not math.isfinite(value):
            return
        with self._lock:
            self._samples.append(value)
            self._total += 1

    @property
    def total_count(self) -> int:
        return self._total

    def summary(self) -> TimingSummary:
        with self._lock:
            samples = np.fromiter(self._samples, dtype=np.float64, count=len(self._samples))
            total = self._total
        if samples.size == 0:
            return replace(_EMPTY, total_count=total)
        p50, p90, p99 = np.percentile(samples, [50.0, 90.0, 99.0])
        return TimingSummary(
            count=int(samples.size),
            mean_ms=float(samples.mean()),
            p50_ms=float(p50),
            p90_ms=float(p90),
            p99_ms=float(p99),
            last_ms=float(samples[-1]),
            total_count=total,
        )


class RateMeter:
    """Events per second over the last ``window_s`` seconds (e.g. frames per second).

    ``now`` is a ``time.monotonic()`` reading; omitted, the meter reads the clock.
    The rate falls to zero when events stop, rather than freezing at its last value.
    """

    def __init__(self, window_s: float = 5.0) -> None:
        if window_s <= 0:
            raise InvalidInputError(f"rate window {window_s} s must be > 0")
        self._window_s = float(window_s)
        self._ticks: deque[float] = deque()
        self._total = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """Events ever ticked."""
        return self._total

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._ticks.append(now)
            self._total += 1
            self._trim(now)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim(now)
            if len(self._ticks) < 2:
                return 0.0
            # n events span n-1 intervals; measuring to `now` makes a stalled stream decay.
            span = max(now, self._ticks[-1]) - self._ticks[0]
            return (len(self._ticks) - 1) / span if span > 0 else 0.0

    def _trim(self, now: float) -> None:
        horizon = now - self._window_s
        while self._ticks and self._ticks[0] < horizon:
            self._ticks.popleft()
