"""What the catalog report says about each variant, derived from the manifest alone.

Latency is compared at one (backend, resolution) for every variant, chosen by
``choose_latency_key`` unless the caller names one: the pair measured for the most
variants. From it follow the speed-up over the teacher and the Pareto front of
latency (lower is better) against SSIM to the teacher (higher is better).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from stylebridge.catalog import (
    BarracudaSupport,
    Latency,
    Manifest,
    SpeedUp,
    Variant,
    barracuda_support,
)
from stylebridge.errors import InvalidInputError


@dataclass(frozen=True, order=True)
class LatencyKey:
    """One backend at one resolution: where every variant's latency is compared."""

    backend: str
    width: int
    height: int

    @property
    def label(self) -> str:
        return f"{self.backend} at {self.width}x{self.height}"

    def matches(self, latency: Latency) -> bool:
        return (latency.backend, latency.width, latency.height) == (
            self.backend,
            self.width,
            self.height,
        )


@dataclass(frozen=True)
class VariantRow:
    """One variant with what the report derives for it."""

    variant: Variant
    is_teacher: bool
    # Latency at the report's LatencyKey; None when not measured there.
    latency: Latency | None
    # SSIM mean to the teacher; 1.0 for the teacher itself when it has no fidelity entry.
    ssim_mean: float | None
    speedup: float | None
    size_ratio: float | None
    barracuda: BarracudaSupport
    pareto: bool
    # The interleaved speed-up with its interval, when measured at this row's latency key.
    speedup_interval: SpeedUp | None = None

    @property
    def measurably_faster(self) -> bool:
        """Whether the interval supports "faster than the teacher" (never without one)."""
        return self.speedup_interval is not None and self.speedup_interval.verdict == "faster"

    def speedup_text(self) -> str | None:
        """The speed-up as the report may state it: with its interval, or flagged."""
        if self.speedup_interval is not None:
            return self.speedup_interval.describe()
        if self.speedup is None:
            return None
        return f"{self.speedup:.2f}x (no interval: not timed interleaved)"

    @property
    def id(self) -> str:
        return self.variant.id

    @property
    def plotted(self) -> bool:
        """Whether the latency-vs-fidelity plot can show this variant."""
        return self.latency is not None and self.ssim_mean is not None


@dataclass(frozen=True)
class CatalogSummary:
    """Every variant's row (teacher first), and where latency was compared."""

    rows: tuple[VariantRow, ...]
    teacher: str | None
    latency_key: LatencyKey | None

    @property
    def pareto_ids(self) -> tuple[str, ...]:
        """Ids on the Pareto front, fastest first."""
        front = [r for r in self.rows if r.pareto]
        front.sort(key=lambda r: (r.latency.median_ms if r.latency else math.inf, r.id))
        return tuple(r.id for r in front)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats, fastest first.

    A point is (latency, fidelity): lower latency and higher fidelity are better. A
    point is dominated when another is at least as good in both and better in one,
    so exact ties are all on the front, while of two points with the same latency
    only the higher fidelity is. Raises InvalidInputError for NaN or infinite values.
    """
    for index, (x, y) in enumerate(points):
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InvalidInputError(
                f"point {index} is ({x}, {y}); latency and fidelity must be finite numbers"
            )
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1], i))
    front: list[int] = []
    best_y = -math.inf
    best_x = math.nan
    for i in order:
        x, y = points[i]
        # Sorted by latency, then fidelity descending: a point is on the front when it
        # beats every faster one's fidelity, or exactly ties the last front point.
        if y > best_y or (y == best_y and x == best_x):
            front.append(i)
            if y > best_y:
                best_y, best_x = y, x
    return front


def choose_latency_key(
    manifest: Manifest, backend: str | None = None, size: tuple[int, int] | None = None
) -> LatencyKey | None:
    """The (backend, resolution) the report compares at; None when nothing was timed.

    Without a choice: the pair measured for the most variants; ties go to one the
    teacher has, then to the larger resolution, then by name. A named backend or size
    narrows the choice; InvalidInputError when no variant was measured there.
    """
    counts: Counter[LatencyKey] = Counter()
    teacher_keys: set[LatencyKey] = set()
    for variant in manifest.variants:
        keys = {LatencyKey(t.backend, t.width, t.height) for t in variant.latency}
        counts.update(keys)
        if variant.id == manifest.teacher:
            teacher_keys = keys
    candidates = [
        key
        for key in counts
        if (backend is None or key.backend == backend)
        and (size is None or (key.width, key.height) == tuple(size))
    ]
    if not candidates:
        if backend is None and size is None:
            return None
        known = ", ".join(sorted(k.label for k in counts)) or "none"
        raise InvalidInputError(
            f"no variant has a latency for backend {backend or 'any'} at "
            f"{'x'.join(map(str, size)) if size else 'any size'}; measured: {known}"
        )
    return max(
        candidates,
        key=lambda k: (counts[k], k in teacher_keys, k.width * k.height, k.backend),
    )


def summarize(
    manifest: Manifest, backend: str | None = None, size: tuple[int, int] | None = None
) -> CatalogSummary:
    """Rows for every variant of ``manifest`` (teacher first) at one latency key."""
    key = choose_latency_key(manifest, backend, size)
    variants = sorted(manifest.variants, key=lambda v: v.id != manifest.teacher)
    teacher = next((v for v in variants if v.id == manifest.teacher), None)
    teacher_latency = _latency_at(teacher, key) if teacher is not None else None
    partial: list[VariantRow] = []
    for variant in variants:
        is_teacher = teacher is not None and variant.id == teacher.id
        latency = _latency_at(variant, key)
        ssim_mean = variant.fidelity.ssim_mean if variant.fidelity is not None else None
        if ssim_mean is None and is_teacher:
            ssim_mean = 1.0  # fidelity is measured against the teacher
        speedup = None
        if latency is not None and teacher_latency is not None and latency.median_ms > 0:
            speedup = teacher_latency.median_ms / latency.median_ms
        interval = variant.speedup
        if interval is not None and (key is None or (interval.backend, interval.width,
                                                     interval.height) != (key.backend,
                                                                          key.width,
                                                                          key.height)):
            interval = None
        size_ratio = None
        if teacher is not None and teacher.size_bytes > 0:
            size_ratio = variant.size_bytes / teacher.size_bytes
        partial.append(
            VariantRow(
                variant=variant,
                is_teacher=is_teacher,
                latency=latency,
                ssim_mean=ssim_mean,
                speedup=speedup,
                size_ratio=size_ratio,
                barracuda=barracuda_support(variant.engines),
                pareto=False,
                speedup_interval=interval,
            )
        )
    plotted = [i for i, row in enumerate(partial) if row.plotted]
    on_front = {plotted[j] for j in pareto_front([_point(partial[i]) for i in plotted])}
    rows = tuple(
        replace(row, pareto=True) if i in on_front else row for i, row in enumerate(partial)
    )
    return CatalogSummary(rows=rows, teacher=teacher.id if teacher else None, latency_key=key)


def _point(row: VariantRow) -> tuple[float, float]:
    assert row.latency is not None and row.ssim_mean is not None
    return row.latency.median_ms, row.ssim_mean


def _latency_at(variant: Variant, key: LatencyKey | None) -> Latency | None:
    if key is None:
        return None
    return next((t for t in variant.latency if key.matches(t)), None)
