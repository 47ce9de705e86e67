"""What a perf-test run produced: one case per model x resolution, plus the run around them.

Plain frozen dataclasses with no protobuf or SQLite in them; ``to_dict`` / ``from_dict``
are the JSON form (the ``--baseline-file`` input is a previous run's JSON output).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from stylebridge.errors import InvalidInputError
from stylebridge.timing import summarize_ms

RESULT_SCHEMA_VERSION = 1


class CaseStatus(StrEnum):
    OK = "ok"
    REGRESSED = "regressed"
    ERROR = "error"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    REGRESSED = "regressed"
    ERROR = "error"


@dataclass(frozen=True)
class TimingStats:
    """Order statistics of one sample of durations (ms); zeros when empty."""

    count: int
    median_ms: float
    p90_ms: float
    p99_ms: float
    min_ms: float
    mean_ms: float

    @property
    def fps(self) -> float:
        """Frames per second at the median time (0 when unmeasured)."""
        return 1000.0 / self.median_ms if self.median_ms > 0 else 0.0

    @classmethod
    def of(cls, samples: tuple[float, ...] | list[float]) -> TimingStats:
        summary = summarize_ms(samples)
        return cls(
            count=summary.count,
            median_ms=summary.p50_ms,
            p90_ms=summary.p90_ms,
            p99_ms=summary.p99_ms,
            min_ms=summary.min_ms,
            mean_ms=summary.mean_ms,
        )


@dataclass(frozen=True)
class GateResult:
    """This case against the same case of the baseline run."""

    baseline: str  # label or file the baseline came from
    baseline_median_ms: float
    median_ratio: float  # current median / baseline median
    ci_low: float  # bootstrap confidence interval of that ratio
    ci_high: float
    p_value: float  # one-sided Mann-Whitney U: current slower than baseline
    regressed: bool
    note: str = ""

    @property
    def change_percent(self) -> float:
        return (self.median_ratio - 1.0) * 100.0


@dataclass(frozen=True)
class CaseResult:
    """One model at one resolution (all repetitions pooled)."""

    model_id: str
    width: int
    height: int
    status: CaseStatus
    engine: str = ""
    worker_type: str = ""
    timing_method: str = ""
    engine_ms: tuple[float, ...] = ()
    python_ms: tuple[float, ...] = ()
    python_backend: str = ""
    parity_psnr_db: float | None = None
    memory_bytes: int = 0
    memory_kind: str = ""
    load_ms: float = 0.0
    quality_level: int | None = None
    target_frame_rate: int | None = None
    time_scale: float | None = None
    repetitions: int = 0
    error: str = ""
    gate: GateResult | None = None

    @property
    def name(self) -> str:
        return f"{self.model_id}@{self.width}x{self.height}"

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.model_id, self.width, self.height)

    @property
    def engine_stats(self) -> TimingStats:
        return TimingStats.of(self.engine_ms)

    @property
    def python_stats(self) -> TimingStats:
        return TimingStats.of(self.python_ms)


@dataclass(frozen=True)
class RunResult:
    """A whole perf-test run; ``cases`` in plan order, including those never run."""

    run_id: str
    label: str
    started_at_us: int
    status: RunStatus
    finished_at_us: int | None = None
    player: str = ""
    engine: str = ""
    player_info: dict[str, str] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    cases: tuple[CaseResult, ...] = ()
    error: str = ""
    baseline: str = ""

    @property
    def regressions(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if c.status is CaseStatus.REGRESSED)


def _finite(value: Any) -> Any:
    """JSON has no inf/NaN: identical images (PSNR inf) become the string "inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def run_to_dict(run: RunResult) -> dict[str, Any]:
    """The JSON form of a run, with summary statistics added to every case."""
    data = asdict(run)
    data["schema_version"] = RESULT_SCHEMA_VERSION
    for case, case_data in zip(run.cases, data["cases"], strict=True):
        case_data["name"] = case.name
        case_data["engine_stats"] = asdict(case.engine_stats) | {"fps": case.engine_stats.fps}
        case_data["python_stats"] = asdict(case.python_stats) | {"fps": case.python_stats.fps}
        case_data["parity_psnr_db"] = _finite(case.parity_psnr_db)
    return data


def _psnr(value: Any) -> float | None:
    return None if value is None else float(value)


def case_from_dict(data: dict[str, Any]) -> CaseResult:
    """A case from its JSON form (extra keys, e.g. the statistics, are ignored)."""
    gate = data.get("gate")
    return CaseResult(
        model_id=str(data["model_id"]),
        width=int(data["width"]),
        height=int(data["height"]),
        status=CaseStatus(data["status"]),
        engine=str(data.get("engine", "")),
        worker_type=str(data.get("worker_type", "")),
        timing_method=str(data.get("timing_method", "")),
        engine_ms=tuple(float(v) for v in data.get("engine_ms", ())),
        python_ms=tuple(float(v) for v in data.get("python_ms", ())),
        python_backend=str(data.get("python_backend", "")),
        parity_psnr_db=_psnr(data.get("parity_psnr_db")),
        memory_bytes=int(data.get("memory_bytes", 0)),
        memory_kind=str(data.get("memory_kind", "")),
        load_ms=float(data.get("load_ms", 0.0)),
        quality_level=data.get("quality_level"),
        target_frame_rate=data.get("target_frame_rate"),
        time_scale=data.get("time_scale"),
        repetitions=int(data.get("repetitions", 0)),
        error=str(data.get("error", "")),
        gate=GateResult(**gate) if gate else None,
    )


def run_from_dict(data: dict[str, Any], where: str) -> RunResult:
    """A run from its JSON form; InvalidInputError naming ``where`` when it is not one."""
    try:
        return RunResult(
            run_id=str(data["run_id"]),
            label=str(data["label"]),
            started_at_us=int(data["started_at_us"]),
            status=RunStatus(data["status"]),
            finished_at_us=data.get("finished_at_us"),
            player=str(data.get("player", "")),
            engine=str(data.get("engine", "")),
            player_info=dict(data.get("player_info", {})),
            plan=dict(data.get("plan", {})),
            cases=tuple(case_from_dict(c) for c in data.get("cases", ())),
            error=str(data.get("error", "")),
            baseline=str(data.get("baseline", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{where} is not a perf-test result (stylebridge perf-test's perf.json): {exc!r}"
        ) from exc
