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
from collections.abc import Sequence
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
    min_ms: float = 0.0


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
            samples = list(self._samples)
            total = self._total
        return replace(summarize_ms(samples), total_count=total)


def summarize_ms(samples: Sequence[float]) -> TimingSummary:
    """The one timing summary of the project: count, mean, percentiles, last, min.

    Percentiles are numpy's linear interpolation (the same everywhere: live tables, the
    perf-test harness, the demo report, latency in the catalog, the benchmarks). All
    zeros for no samples.
    """
    values = np.asarray(samples, dtype=np.float64)
    if values.size == 0:
        return _EMPTY
    p50, p90, p99 = np.percentile(values, [50.0, 90.0, 99.0])
    return TimingSummary(
        count=int(values.size),
        mean_ms=float(values.mean()),
        p50_ms=float(p50),
        p90_ms=float(p90),
        p99_ms=float(p99),
        last_ms=float(values[-1]),
        total_count=int(values.size),
        min_ms=float(values.min()),
    )


def median_ratio_ci(
    numerator: Sequence[float],
    denominator: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap percentile interval of median(numerator) / median(denominator).

    Each side is resampled with replacement, independently; a ratio whose interval
    excludes 1 is a difference the samples support. Raises InvalidInputError for an
    empty side or a confidence outside (0, 1).
    """
    top = np.asarray(numerator, dtype=np.float64)
    bottom = np.asarray(denominator, dtype=np.float64)
    if top.size == 0 or bottom.size == 0:
        raise InvalidInputError("a ratio interval needs samples on both sides")
    if not 0.0 < confidence < 1.0:
        raise InvalidInputError(f"confidence {confidence} must be between 0 and 1")
    rng = np.random.default_rng(seed)
    tops = np.median(rng.choice(top, size=(resamples, top.size), replace=True), axis=1)
    bottoms = np.median(rng.choice(bottom, size=(resamples, bottom.size), replace=True), axis=1)
    ratios = tops / np.maximum(bottoms, 1e-12)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    return float(low), float(high)


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
