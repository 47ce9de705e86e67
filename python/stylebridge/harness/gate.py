"""The regression gate: is a case slower than the same case of a baseline run, beyond noise?

Timings of one case are a distribution, not a number: a single slow frame must not
fail a build, nor a lucky baseline. A case regresses when both hold:

* the median got slower by more than the threshold (default 10 %), and
* a one-sided Mann-Whitney U test says the current frames are slower than the
  baseline's with p < alpha (default 0.01) — the shift is not noise.

A bootstrap confidence interval of the median ratio is reported alongside, so a
reader sees how sure the verdict is. The U test is written with numpy (scipy is not
a dependency): exact distribution for small samples without ties, the normal
approximation with tie and continuity corrections otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from stylebridge import timing
from stylebridge.errors import InvalidInputError
from stylebridge.harness.results import CaseResult, CaseStatus, GateResult

# Above this many samples per side, or with ties, the normal approximation is used.
_EXACT_LIMIT = 25


@dataclass(frozen=True)
class GateConfig:
    threshold: float = 0.10
    alpha: float = 0.01
    bootstrap_samples: int = 2000
    confidence: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 10.0:
            raise InvalidInputError(f"threshold {self.threshold} must be in 0..10 (0.10 = 10 %)")
        if not 0.0 < self.alpha < 1.0:
            raise InvalidInputError(f"alpha {self.alpha} must be in (0, 1)")


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.arange(1, values.size + 1, dtype=np.float64)
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    if unique.size != values.size:
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def _exact_upper_tail(u: float, n1: int, n2: int) -> float:
    """P(U >= u) under H0, no ties: counts of rank arrangements by U (dynamic programming)."""
    # counts[i][j] = polynomial (array over U) for i items of x and j of y.
    max_u = n1 * n2
    table: list[list[np.ndarray]] = [[np.zeros(1)] * (n2 + 1) for _ in range(n1 + 1)]
    for i in range(n1 + 1):
        for j in range(n2 + 1):
            if i == 0 or j == 0:
                table[i][j] = np.ones(1)
                continue
            # Largest element from x: it beats all j y's (adds j to U); or from y: adds 0.
            from_x = np.concatenate([np.zeros(j), table[i - 1][j]])
            from_y = table[i][j - 1]
            size = max(from_x.size, from_y.size)
            table[i][j] = np.pad(from_x, (0, size - from_x.size)) + np.pad(
                from_y, (0, size - from_y.size)
            )
    counts = np.pad(table[n1][n2], (0, max_u + 1 - table[n1][n2].size))
    k = math.ceil(u - 1e-9)
    return float(counts[k:].sum() / counts.sum())


def mann_whitney_greater(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(U of x, one-sided p) for H1: x tends to be larger than y."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n1, n2 = x.size, y.size
    if n1 == 0 or n2 == 0:
        raise InvalidInputError("the Mann-Whitney U test needs samples on both sides")
    joined = np.concatenate([x, y])
    ranks = _ranks(joined)
    u = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    has_ties = np.unique(joined).size != joined.size
    if not has_ties and max(n1, n2) <= _EXACT_LIMIT:
        return u, _exact_upper_tail(u, n1, n2)
    _, counts = np.unique(joined, return_counts=True)
    n = n1 + n2
    tie_term = float(((counts**3) - counts).sum()) / (n * (n - 1))
    sigma = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie_term))
    if sigma == 0.0:
        return u, 1.0
    z = (u - n1 * n2 / 2.0 - 0.5) / sigma
    return u, 0.5 * math.erfc(z / math.sqrt(2.0))


def median_ratio_ci(
    current: np.ndarray, baseline: np.ndarray, config: GateConfig
) -> tuple[float, float]:
    """Bootstrap percentile interval of median(current) / median(baseline)."""
    return timing.median_ratio_ci(current, baseline, confidence=config.confidence,
                                  resamples=config.bootstrap_samples, seed=config.seed)


def compare(
    current: tuple[float, ...], baseline: tuple[float, ...], where: str, config: GateConfig
) -> GateResult:
    """One case's engine timings against the baseline's."""
    cur = np.asarray(current, dtype=np.float64)
    base = np.asarray(baseline, dtype=np.float64)
    base_median = float(np.median(base))
    ratio = float(np.median(cur)) / max(base_median, 1e-12)
    low, high = median_ratio_ci(cur, base, config)
    _, p_value = mann_whitney_greater(cur, base)
    slower = ratio > 1.0 + config.threshold
    significant = p_value < config.alpha
    note = ""
    smallest_p = 1.0 / math.comb(cur.size + base.size, cur.size)
    if slower and not significant and smallest_p >= config.alpha:
        note = (
            f"{cur.size} vs {base.size} frames cannot reach p < {config.alpha}; measure more frames"
        )
    return GateResult(
        baseline=where,
        baseline_median_ms=base_median,
        median_ratio=ratio,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        regressed=slower and significant,
        note=note,
    )


def apply_gate(
    cases: tuple[CaseResult, ...],
    baseline: dict[tuple[str, int, int], tuple[float, ...]],
    where: str,
    config: GateConfig,
) -> tuple[CaseResult, ...]:
    """Cases with their gate result set; measured cases that regressed become REGRESSED.

    Cases without a baseline counterpart (new models or resolutions) pass ungated.
    """
    gated: list[CaseResult] = []
    for case in cases:
        samples = baseline.get(case.key)
        if case.status is CaseStatus.ERROR or not case.engine_ms or not samples:
            gated.append(case)
            continue
        result = compare(case.engine_ms, samples, where, config)
        status = CaseStatus.REGRESSED if result.regressed else case.status
        gated.append(replace(case, gate=result, status=status))
    return tuple(gated)


def regression_message(case: CaseResult) -> str:
    """One line naming a regressed case and by how much."""
    gate = case.gate
    if gate is None:
        return f"{case.name}: not gated"
    return (
        f"{case.name}: engine median {case.engine_stats.median_ms:.2f} ms vs "
        f"{gate.baseline_median_ms:.2f} ms in {gate.baseline} "
        f"({gate.change_percent:+.1f} %, ratio 95% CI {gate.ci_low:.2f}-{gate.ci_high:.2f}, "
        f"Mann-Whitney p={gate.p_value:.2g})"
    )
