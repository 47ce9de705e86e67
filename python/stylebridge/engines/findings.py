"""The three verdicts and the finding a rule returns.

Kept apart from the checker so that the operator rules and tables can use them
without importing the checker (which imports the tables).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What an engine does with a node or a model, worst last."""

    RUNS = "runs"
    RUNS_WITH_DIFFERENCE = "runs-with-difference"
    CANNOT_RUN = "cannot-run"

    @property
    def severity(self) -> int:
        """0 for RUNS, 1 for a difference, 2 for cannot run: for taking the worst."""
        return _SEVERITY[self]

    @classmethod
    def worst(cls, verdicts: Iterable[Verdict]) -> Verdict:
        """The most severe verdict, RUNS for none."""
        return max(verdicts, key=lambda v: v.severity, default=cls.RUNS)


_SEVERITY = {
    Verdict.RUNS: 0,
    Verdict.RUNS_WITH_DIFFERENCE: 1,
    Verdict.CANNOT_RUN: 2,
}


@dataclass(frozen=True)
class Finding:
    """One rule's judgement: which verdict, why (concretely), and what to do."""

    verdict: Verdict
    reason: str
    fix: str = ""


def combine(findings: Iterable[Finding]) -> Finding | None:
    """Merge several findings into one: the worst verdict, every reason, the first fix
    among the worst findings (the one that matters most)."""
    items = [f for f in findings if f is not None]
    if not items:
        return None
    worst = Verdict.worst(f.verdict for f in items)
    reasons = "; ".join(dict.fromkeys(f.reason for f in items if f.reason))
    fixes = [f.fix for f in items if f.verdict is worst and f.fix]
    return Finding(worst, reasons, fixes[0] if fixes else "")
