"""Run a plan on a player: configure, measure in the engine, measure in Python, compare.

Order: repetitions outermost, then models, then resolutions, so slow drift of the
machine spreads over every case instead of landing on the last ones. Engine and
Python never measure at the same time (the Python timing runs after the player's
result arrived), so they do not compete for the CPU or GPU.

A player that fails mid-plan does not lose the run: the cases measured so far are
kept, the rest are marked as errors, and ``run.error`` says what happened.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from stylebridge.errors import StyleBridgeError
from stylebridge.harness.errors import PlayerError
from stylebridge.harness.plan import Plan, ResolvedModel
from stylebridge.harness.protocol import PERF_CHANNEL_ID, PERF_PROTOCOL_VERSION
from stylebridge.harness.results import CaseResult, CaseStatus, RunResult, RunStatus

if TYPE_CHECKING:
    from stylebridge.harness.launch import LaunchConfig, PlayerSession
    from stylebridge.inference.base import InferenceBackend
    from stylebridge.v1 import common_pb2, perf_pb2

_log = logging.getLogger(__name__)

# Steps to wait for the player's PerfPlayerInfo after RESET.
_INFO_STEPS = 5
# Steps beyond warm-up + measured frames before a case counts as unanswered.
_SLACK_STEPS = 20
_TIMING_METHODS = {
    0: "unspecified",
    1: "schedule-only",
    2: "blocking-readback",
    3: "async-readback",
    4: "synchronous",
}

Progress = Callable[[str], None]


@dataclass
class _Pooled:
    """Repetitions of one case, pooled."""

    model: ResolvedModel
    size: tuple[int, int]
    engine_ms: list[float] = field(default_factory=list)
    python_ms: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)
    last: perf_pb2.PerfCaseResult | None = None
    python_backend: str = ""
    repetitions: int = 0
    error: str = ""


def _now_us() -> int:
    return time.time_ns() // 1000


def _image(image: common_pb2.Image) -> np.ndarray:
    from stylebridge.frames import unpack_pixels

    return np.array(
        unpack_pixels(image.pixels, image.width, image.height, image.pixel_format, image.row_stride)
    )


class PythonTimer:
    """Python's side of the comparison: the same model and frames, in-process."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._backends: dict[str, InferenceBackend] = {}

    def backend(self, model: ResolvedModel) -> InferenceBackend:
        from stylebridge.inference.factory import create_backend

        if model.model_id not in self._backends:
            self._backends[model.model_id] = create_backend(
                model.path, self._plan.python_backend, model_id=model.model_id
            )
        return self._backends[model.model_id]

    def measure(self, model: ResolvedModel, size: tuple[int, int]) -> list[float]:
        from stylebridge.harness.standin_engine import frame_provider

        backend = self.backend(model)
        frame = frame_provider(self._plan.frames, size)
        samples: list[float] = []
        for index in range(self._plan.warmup_frames + self._plan.measured_frames):
            image = frame(index)
            started = time.perf_counter()
            backend.run(image)
            if index >= self._plan.warmup_frames:
                samples.append((time.perf_counter() - started) * 1000.0)
        return samples

    def parity(self, model: ResolvedModel, engine_in: np.ndarray, engine_out: np.ndarray) -> float:
        from stylebridge.evaluate.fidelity import psnr

        return psnr(self.backend(model).run(engine_in), engine_out)

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()


def _run_case(
    session: PlayerSession, plan: Plan, model: ResolvedModel, size: tuple[int, int], case_id: str
) -> perf_pb2.PerfCaseResult:
    """Send one case and step until its result arrives; returns the PerfCaseResult."""
    from stylebridge.v1 import common_pb2, perf_pb2

    width, height = size
    session.engine_channel.set_configuration_parameters(
        width=width,
        height=height,
        quality_level=plan.engine.quality_level,
        time_scale=plan.engine.time_scale,
        target_frame_rate=plan.engine.target_frame_rate,
    )
    request = perf_pb2.PerfToPlayer(
        protocol_version=PERF_PROTOCOL_VERSION,
        run_case=perf_pb2.PerfRunCase(
            case_id=case_id,
            model=common_pb2.ModelRef(model_id=model.model_id, sha256=model.sha256),
            model_path=str(model.path),
            width=width,
            height=height,
            warmup_frames=plan.warmup_frames,
            measured_frames=plan.measured_frames,
            worker_type=plan.worker_type,
            frames=plan.frames,
            send_parity=plan.parity,
            input_range=model.input_range,
        ),
    )
    session.perf_channel.send(request)
    budget = plan.warmup_frames + plan.measured_frames + _SLACK_STEPS
    for _ in range(budget):
        for message in session.step():
            if (
                message.WhichOneof("body") == "case_result"
                and message.case_result.case_id == case_id
            ):
                return message.case_result
    raise PlayerError(
        f"the player sent no result for case {case_id} within {budget} steps; does it "
        f"implement the StyleBridge perf side channel {PERF_CHANNEL_ID}, and run one inference "
        "per academy step (Academy.AgentPreStep), not per rendered frame?"
    )


def _wait_player_info(session: PlayerSession) -> dict[str, str]:
    for _ in range(_INFO_STEPS):
        for message in session.step():
            if message.WhichOneof("body") == "player_info":
                info = message.player_info
                return {
                    "engine": info.engine,
                    "engine_version": info.engine_version,
                    "unity_version": info.unity_version,
                    "gpu": info.gpu,
                    "platform": info.platform,
                    "worker_types": ", ".join(info.worker_types),
                    "player_name": info.player_name,
                }
    raise PlayerError(
        f"the player connected but sent no PerfPlayerInfo on side channel {PERF_CHANNEL_ID}; "
        f"add the StyleBridge perf side channel (com.stylebridge.styletransfer with "
        f"ML-Agents) to the player"
    )


def _collect(
    pooled: _Pooled, result: perf_pb2.PerfCaseResult, timer: PythonTimer | None, plan: Plan
) -> None:
    pooled.last = result
    pooled.repetitions += 1
    if result.error:
        pooled.error = result.error
        return
    pooled.engine_ms.extend(result.engine_ms)
    if timer is None:
        return
    try:
        if plan.python_timing:
            pooled.python_ms.extend(timer.measure(pooled.model, pooled.size))
            pooled.python_backend = str(timer.backend(pooled.model).name)
        if result.HasField("parity_output") and result.HasField("parity_input"):
            pooled.psnr.append(
                timer.parity(
                    pooled.model, _image(result.parity_input), _image(result.parity_output)
                )
            )
    except StyleBridgeError as exc:
        _log.warning("Python side of %s failed: %s", pooled.model.model_id, exc)
        pooled.error = f"Python timing failed: {exc}"


def _case_result(pooled: _Pooled, run_error: str) -> CaseResult:
    width, height = pooled.size
    base = CaseResult(
        model_id=pooled.model.model_id,
        width=width,
        height=height,
        status=CaseStatus.ERROR,
        repetitions=pooled.repetitions,
    )
    result = pooled.last
    if result is None:
        return replace(base, error=run_error or "not run")
    base = replace(
        base,
        engine=result.engine,
        worker_type=result.worker_type,
        timing_method=_TIMING_METHODS.get(result.timing_method, str(result.timing_method)),
        engine_ms=tuple(pooled.engine_ms),
        python_ms=tuple(pooled.python_ms),
        python_backend=pooled.python_backend,
        parity_psnr_db=min(pooled.psnr) if pooled.psnr else None,
        memory_bytes=int(result.memory_bytes),
        memory_kind=result.memory_kind,
        load_ms=float(result.load_ms),
        quality_level=int(result.config.quality_level),
        target_frame_rate=int(result.config.target_frame_rate),
        time_scale=float(result.config.time_scale),
    )
    if pooled.error:
        return replace(base, error=pooled.error)
    if not pooled.engine_ms:
        return replace(base, error="the player returned no timings")
    return replace(base, status=CaseStatus.OK)


def run_plan(
    plan: Plan,
    models: tuple[ResolvedModel, ...],
    launch: LaunchConfig,
    *,
    label: str,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``plan`` on the player ``launch`` (a LaunchConfig) describes.

    Never raises for player failures: they end up in ``run.error`` with the cases
    measured so far. Raises StyleBridgeError only for bad input found before launching.
    """
    from stylebridge.harness.launch import PlayerSession

    say = progress or (lambda _text: None)
    pooled = {(m.model_id, size): _Pooled(m, size) for m in models for size in plan.sizes}
    run = RunResult(
        run_id=uuid.uuid4().hex,
        label=label,
        started_at_us=_now_us(),
        status=RunStatus.RUNNING,
        player=str(launch.player) if launch.player else f"editor:{launch.port or 5004}",
        plan=plan.model_dump(mode="json") | {"models_resolved": [str(m.path) for m in models]},
    )
    error = ""
    info: dict[str, str] = {}
    timer = PythonTimer(plan)
    session = None
    try:
        say("waiting for the player to connect")
        session = PlayerSession(launch)
        info = _wait_player_info(session)
        say(f"connected: {info.get('engine', '?')}")
        for rep in range(plan.repetitions):
            for model in models:
                for size in plan.sizes:
                    case_id = f"{model.model_id}@{size[0]}x{size[1]}#{rep}"
                    say(f"measuring {case_id}")
                    result = _run_case(session, plan, model, size, case_id)
                    _collect(pooled[(model.model_id, size)], result, timer, plan)
        from stylebridge.v1 import perf_pb2

        session.perf_channel.send(
            perf_pb2.PerfToPlayer(
                protocol_version=PERF_PROTOCOL_VERSION, finish=perf_pb2.PerfFinish()
            )
        )
        session.step()
    except PlayerError as exc:
        error = str(exc)
        _log.warning("perf run stopped: %s", exc)
    finally:
        timer.close()
        if session is not None:
            session.close(grace_s=2.0 if error else 10.0)
    cases = tuple(_case_result(p, error) for p in pooled.values())
    status = (
        RunStatus.ERROR
        if error or any(c.status is CaseStatus.ERROR for c in cases)
        else RunStatus.OK
    )
    return replace(
        run,
        cases=cases,
        status=status,
        error=error,
        finished_at_us=_now_us(),
        engine=info.get("engine", ""),
        player_info=info,
    )
