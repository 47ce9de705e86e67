"""`stylebridge perf-test` as one library call: plan -> player -> gate -> outputs -> store.

Exit codes (``PerfExit``): 0 every case measured and none regressed; 1 a case
regressed against the baseline; 2 bad input (plan, models, baseline, store), raised
before any player is launched; 3 the player failed (never connected, crashed, hung) —
the outputs and the store still get what was measured, missing cases as errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from pathlib import Path

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.harness.gate import GateConfig, apply_gate, regression_message
from stylebridge.harness.launch import LaunchConfig
from stylebridge.harness.outputs import OutputPaths, write_all
from stylebridge.harness.plan import load_plan, resolve_models
from stylebridge.harness.results import CaseStatus, RunResult, RunStatus, run_from_dict
from stylebridge.harness.runner import run_plan
from stylebridge.store.location import StoreLocation

_log = logging.getLogger(__name__)

Baseline = dict[tuple[str, int, int], tuple[float, ...]]


class PerfExit(IntEnum):
    OK = 0
    REGRESSED = 1
    BAD_INPUT = 2
    PLAYER_ERROR = 3


@dataclass(frozen=True)
class PerfTestConfig:
    """Everything one perf-test run needs; the CLI builds it from its options."""

    label: str
    out: Path
    launch: LaunchConfig = field(default_factory=LaunchConfig)
    plan: Path | None = None
    catalog: Path | None = None
    store: Path | str | StoreLocation | None = None
    baseline_label: str | None = None
    baseline_file: Path | None = None
    gate: GateConfig = field(default_factory=GateConfig)

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise InvalidInputError("--label must not be empty (e.g. a build number or commit)")
        if self.baseline_label and self.baseline_file:
            raise InvalidInputError("pass --baseline LABEL or --baseline-file JSON, not both")
        if self.baseline_label and self.store is None:
            raise InvalidInputError("--baseline LABEL reads the store: pass --store FILE")


@dataclass(frozen=True)
class PerfTestOutcome:
    run: RunResult
    outputs: OutputPaths
    exit_code: PerfExit
    message: str


def _baseline_from_file(path: Path) -> tuple[str, Baseline]:
    if not path.is_file():
        raise NotFoundError(f"baseline file {path} does not exist; pass a previous perf.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"baseline file {path} is not JSON: {exc}") from exc
    run = run_from_dict(data, str(path))
    return f"{path.name} ({run.label})", {c.key: c.engine_ms for c in run.cases if c.engine_ms}


def _load_baseline(config: PerfTestConfig) -> tuple[str, Baseline] | None:
    if config.baseline_file is not None:
        return _baseline_from_file(Path(config.baseline_file))
    if config.baseline_label:
        from stylebridge.harness.history import PerfHistory

        with PerfHistory(config.store) as history:
            run = history.latest_run(config.baseline_label)
        where = f"baseline {config.baseline_label!r}"
        return where, {c.key: c.engine_ms for c in run.cases if c.engine_ms}
    return None


def _verdict(run: RunResult) -> tuple[PerfExit, str]:
    if run.error:
        measured = sum(c.status is not CaseStatus.ERROR for c in run.cases)
        return PerfExit.PLAYER_ERROR, (
            f"{run.error}\n{measured} of {len(run.cases)} cases measured; partial results written"
        )
    errors = [c for c in run.cases if c.status is CaseStatus.ERROR]
    regressions = run.regressions
    lines = [f"regressed: {regression_message(c)}" for c in regressions]
    lines += [f"error: {c.name}: {c.error}" for c in errors]
    if errors:
        return PerfExit.PLAYER_ERROR, "\n".join(lines)
    if regressions:
        return PerfExit.REGRESSED, "\n".join(lines)
    gated = sum(c.gate is not None for c in run.cases)
    against = f", {gated} compared with {run.baseline}" if run.baseline else ""
    return PerfExit.OK, f"{len(run.cases)} cases measured{against}; no regression"


def _check_player(player: Path | None) -> None:
    """NotFoundError for a player path that ML-Agents could not launch either.

    ML-Agents accepts a build's name without its suffix (``Game`` for ``Game.x86_64``).
    """
    if player is None:
        return
    path = Path(player)
    if path.is_file() or any(path.parent.glob(f"{path.name}.*")):
        return
    raise NotFoundError(
        f"player {path} does not exist; pass the build's executable (or "
        f"tools/standin-player), or leave --player out to use the editor"
    )


def run_perf_test(
    config: PerfTestConfig, progress: Callable[[str], None] | None = None
) -> PerfTestOutcome:
    """Run the plan on the player, gate it, write the outputs and store the run.

    Raises StyleBridgeError subclasses for bad input (exit code 2) before launching;
    player failures come back as PLAYER_ERROR outcomes with partial results.
    """
    plan = load_plan(config.plan)
    plan_dir = Path(config.plan).resolve().parent if config.plan else None
    models = resolve_models(plan, config.catalog, plan_dir)
    baseline = _load_baseline(config)
    if config.store is not None:
        from stylebridge.harness.history import PerfHistory

        PerfHistory(config.store).close()  # fail on a bad store before the long run
    launch = config.launch
    _check_player(launch.player)
    if launch.log_folder is None:
        launch = replace(launch, log_folder=Path(config.out))
    run = run_plan(plan, models, launch, label=config.label, progress=progress)
    if baseline is not None:
        where, samples = baseline
        cases = apply_gate(run.cases, samples, where, config.gate)
        run = replace(run, cases=cases, baseline=where)
        if run.regressions and run.status is RunStatus.OK:
            run = replace(run, status=RunStatus.REGRESSED)
    outputs = write_all(run, Path(config.out))
    if config.store is not None:
        from stylebridge.harness.history import PerfHistory

        with PerfHistory(config.store) as history:
            history.save_run(run)
    exit_code, message = _verdict(run)
    return PerfTestOutcome(run=run, outputs=outputs, exit_code=exit_code, message=message)
