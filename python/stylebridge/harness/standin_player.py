"""A stand-in for a Unity player build: the Unity side of ML-Agents, with ONNX Runtime as engine.

``UnityEnvironment`` launches it exactly like a build (``tools/standin-player``, or
``python -m stylebridge.harness.standin_cli``) with ``--mlagents-port N`` and
optionally ``-logFile PATH`` / ``-nographics -batchmode``. It then speaks what a
player's ML-Agents Academy speaks (see protos/stylebridge/v1/perf.proto):

1. ``Exchange`` with its initialization output (name, communication version 1.5.0,
   RL capabilities), answered by Python's initialization input;
2. an empty ``Exchange`` whose answer is Python's first input (RESET);
3. one ``Exchange`` per academy step: it applies the side-channel messages of the
   input it got (EngineConfigurationChannel, the perf channel), runs one frame of the
   current case, and returns its side-channel messages, until Python answers with
   header status 400 (close) or the command QUIT.

Options that make it misbehave on purpose, for the harness's tests:
``--slowdown-ms X`` / ``--slowdown-factor F`` (with ``--slow-model ID``),
``--crash-after-steps N`` (hard exit), ``--hang-after-steps N`` (stops answering),
``--never-connect``.

``--steps-per-frame K`` makes K academy steps pass per rendered frame, as in a Unity player
whose frame takes longer than the fixed timestep or that runs at a time scale above 1
(ML-Agents steps the academy in FixedUpdate). ``--inference-on frame`` then runs a case's
inference once per rendered frame, as a player that does it in ``Update`` would: the harness,
which budgets one frame per step, sees that bug class as a case that never finishes. The
default, ``--inference-on step``, is the contract (PerfRunner runs from ``Academy.AgentPreStep``).
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stylebridge.errors import StyleBridgeError
from stylebridge.harness import protocol
from stylebridge.harness.standin_engine import OrtEngine, Slowdown, frame_provider

if TYPE_CHECKING:
    from stylebridge.v1 import common_pb2, perf_pb2

# Named like the executable (it ran as __main__ before standin_cli): short log lines.
_log = logging.getLogger("standin-player")

COMMUNICATION_VERSION = "1.5.0"
PACKAGE_VERSION = "2.0.0"  # the com.unity.ml-agents release that speaks 1.5.0
PLAYER_NAME = "StyleBridge stand-in player"
CRASH_EXIT_CODE = 17
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass
class _Case:
    """The case being measured, advanced one frame per academy step."""

    request: perf_pb2.PerfRunCase
    engine: OrtEngine
    frame: Callable[[int], np.ndarray]
    index: int = 0
    engine_ms: list[float] = field(default_factory=list)
    parity: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class Misbehaviour:
    """Failures on purpose, counted in academy steps (exchanges after the handshake)."""

    crash_after: int | None = None  # then exit hard with CRASH_EXIT_CODE
    hang_after: int | None = None  # then stop answering, alive


@dataclass
class _EngineConfig:
    width: int = 640
    height: int = 360
    quality_level: int = 5
    time_scale: float = 1.0
    target_frame_rate: int = -1


class StandinPlayer:
    """The player's state between exchanges: engine configuration, current case, outbox."""

    def __init__(
        self,
        slowdown: Slowdown,
        default_frames: str,
        steps_per_frame: int = 1,
        inference_on: str = "step",
    ) -> None:
        from stylebridge.v1 import perf_pb2

        if steps_per_frame < 1 or inference_on not in ("step", "frame"):
            raise ValueError(
                f"steps_per_frame must be >= 1 (got {steps_per_frame}) and inference_on "
                f"'step' or 'frame' (got {inference_on!r})"
            )
        self._steps_per_frame = steps_per_frame
        self._inference_on = inference_on
        self._steps = 0

        self._pb = perf_pb2
        self._slowdown = slowdown
        self._default_frames = default_frames
        self._config = _EngineConfig()
        self._case: _Case | None = None
        self._engines: dict[tuple[str, str], OrtEngine] = {}
        self._outbox: list[bytes] = []

    def handle(self, side_channel: bytes, reset: bool) -> bytes:
        """Apply one input's side-channel data, do one frame of work, return the reply data."""
        for channel_id, payload in protocol.split_side_channel(side_channel):
            if channel_id == protocol.ENGINE_CONFIG_CHANNEL_ID:
                self._apply_config(protocol.decode_engine_config(payload))
            elif channel_id == protocol.PERF_CHANNEL_ID:
                self._on_perf_message(payload)
            else:
                _log.debug("ignoring side channel %s (%d bytes)", channel_id, len(payload))
        if reset:
            self._send(player_info=self._player_info())
        self._steps += 1
        frame_ends = self._steps % self._steps_per_frame == 0  # this step ends a rendered frame
        if self._case is not None and (self._inference_on == "step" or frame_ends):
            self._step_case(self._case)
        out = [(protocol.PERF_CHANNEL_ID, payload) for payload in self._outbox]
        self._outbox.clear()
        return protocol.pack_side_channel(out)

    def _send(self, **body: object) -> None:
        message = self._pb.PerfFromPlayer(protocol_version=protocol.PERF_PROTOCOL_VERSION, **body)
        self._outbox.append(message.SerializeToString())

    def _apply_config(self, update: protocol.EngineConfigUpdate) -> None:
        kind = protocol.EngineConfigKind
        if update.kind is kind.SCREEN_RESOLUTION:
            self._config.width, self._config.height = int(update.width), int(update.height)
        elif update.kind is kind.QUALITY_LEVEL:
            self._config.quality_level = int(update.int_value)
        elif update.kind is kind.TIME_SCALE:
            self._config.time_scale = float(update.float_value)
        elif update.kind is kind.TARGET_FRAME_RATE:
            self._config.target_frame_rate = int(update.int_value)
        _log.info("engine configuration: %s", self._config)

    def _player_info(self) -> perf_pb2.PerfPlayerInfo:
        import onnxruntime as ort

        return self._pb.PerfPlayerInfo(
            engine_kind=3,  # ENGINE_KIND_REFERENCE
            engine=protocol.STANDIN_ENGINE,
            engine_version=f"onnxruntime {ort.__version__}",
            gpu="none (CPU)",
            platform=platform.platform(),
            worker_types=list(ort.get_available_providers()),
            player_name=PLAYER_NAME,
        )

    def _on_perf_message(self, payload: bytes) -> None:
        message = self._pb.PerfToPlayer.FromString(payload)
        body = message.WhichOneof("body")
        if body == "finish":
            _log.info("finish: releasing %d models", len(self._engines))
            self._engines.clear()
            self._case = None
        elif body == "run_case" and message.protocol_version != protocol.PERF_PROTOCOL_VERSION:
            error = (
                f"perf protocol {message.protocol_version} is not this player's "
                f"{protocol.PERF_PROTOCOL_VERSION}; update the player or StyleBridge"
            )
            self._send(case_result=self._result(message.run_case, None, error=error))
        elif body == "run_case":
            self._start_case(message.run_case)

    def _start_case(self, request: perf_pb2.PerfRunCase) -> None:
        _log.info(
            "case %s: %s at %dx%d",
            request.case_id,
            request.model.model_id,
            request.width,
            request.height,
        )
        try:
            if (self._config.width, self._config.height) != (request.width, request.height):
                raise StyleBridgeError(
                    f"screen is {self._config.width}x{self._config.height} but the case asks "
                    f"for {request.width}x{request.height}; send the resolution on the "
                    f"EngineConfigurationChannel first"
                )
            engine = self._engine(request)
            frames = request.frames or self._default_frames
            source = frame_provider(frames, (request.width, request.height))
        except StyleBridgeError as exc:
            self._send(case_result=self._result(request, None, error=str(exc)))
            return
        self._case = _Case(request=request, engine=engine, frame=source)

    def _engine(self, request: perf_pb2.PerfRunCase) -> OrtEngine:
        model_id = request.model.model_id
        if not request.model_path:
            raise StyleBridgeError(
                f"model {model_id!r} has no path and this player bundles no models"
            )
        key = (model_id, request.model_path)
        if key not in self._engines:
            engine = OrtEngine(Path(request.model_path), model_id, self._slowdown)
            want = request.model.sha256
            if want and engine.sha256 != want:
                raise StyleBridgeError(
                    f"model {model_id}: file sha256 {engine.sha256[:12]} differs from the "
                    f"plan's {want[:12]}; the file changed while the test ran"
                )
            self._engines[key] = engine
        return self._engines[key]

    def _step_case(self, case: _Case) -> None:
        request = case.request
        frame = case.frame(case.index)
        try:
            output, ms = case.engine.run(frame)
        except StyleBridgeError as exc:
            self._case = None
            self._send(case_result=self._result(request, case, error=str(exc)))
            return
        if case.index >= request.warmup_frames:
            case.engine_ms.append(ms)
            if request.send_parity and case.parity is None:
                case.parity = (frame, output)
        case.index += 1
        if case.index >= request.warmup_frames + request.measured_frames:
            self._case = None
            self._send(case_result=self._result(request, case))

    def _result(
        self, request: perf_pb2.PerfRunCase, case: _Case | None, error: str = ""
    ) -> perf_pb2.PerfCaseResult:
        import psutil

        pb = self._pb
        result = pb.PerfCaseResult(
            case_id=request.case_id,
            width=request.width,
            height=request.height,
            engine=protocol.STANDIN_ENGINE,
            timing_method=4,  # TIMING_METHOD_SYNCHRONOUS
            warmup_frames=request.warmup_frames,
            memory_bytes=psutil.Process().memory_info().rss,
            memory_kind="process RSS",
            frames_source=request.frames or self._default_frames,
            error=error,
            config=pb.PerfEngineConfig(
                width=self._config.width,
                height=self._config.height,
                quality_level=self._config.quality_level,
                time_scale=self._config.time_scale,
                target_frame_rate=self._config.target_frame_rate,
            ),
        )
        result.model.CopyFrom(request.model)
        if case is not None:
            result.worker_type = case.engine.worker_type
            result.load_ms = case.engine.load_ms
            result.engine_ms.extend(case.engine_ms)
            if case.parity is not None:
                result.parity_input.CopyFrom(_image(case.parity[0]))
                result.parity_output.CopyFrom(_image(case.parity[1]))
        return result


def _image(rgb: np.ndarray) -> common_pb2.Image:
    from stylebridge.v1 import common_pb2

    height, width = rgb.shape[:2]
    return common_pb2.Image(
        width=width,
        height=height,
        pixel_format=common_pb2.PIXEL_FORMAT_RGB8,
        row_stride=width * 3,
        pixels=np.ascontiguousarray(rgb).tobytes(),
    )


def connect_and_run(port: int, player: StandinPlayer, misbehave: Misbehaviour) -> int:
    import grpc

    from stylebridge.harness.mlagents_compat import ensure_mlagents_importable

    ensure_mlagents_importable()
    from mlagents_envs.communicator_objects import command_pb2
    from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
    from mlagents_envs.communicator_objects.unity_to_external_pb2_grpc import (
        UnityToExternalProtoStub,
    )

    options = [
        ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
    ]
    with grpc.insecure_channel(f"localhost:{port}", options=options) as channel:
        stub = UnityToExternalProtoStub(channel)
        hello = UnityMessageProto()
        hello.header.status = 200
        init = hello.unity_output.rl_initialization_output
        init.name = PLAYER_NAME
        init.communication_version = COMMUNICATION_VERSION
        init.package_version = PACKAGE_VERSION
        init.capabilities.baseRLCapabilities = True
        init.capabilities.concatenatedPngObservations = True
        init.capabilities.compressedChannelMapping = True
        init.capabilities.hybridActions = True
        init.capabilities.trainingAnalytics = True
        init.capabilities.variableLengthObservation = True
        init.capabilities.multiAgentGroups = True
        steps = 0
        try:
            answer = stub.Exchange(hello, wait_for_ready=True, timeout=60.0)
            python_version = answer.unity_input.rl_initialization_input.communication_version
            _log.info("connected on port %d; Python speaks %s", port, python_version)
            if python_version.split(".")[0] != COMMUNICATION_VERSION.split(".")[0]:
                _log.error("incompatible communication version %s", python_version)
                return 2
            empty = UnityMessageProto()
            empty.header.status = 200
            answer = stub.Exchange(empty)
            while answer.header.status == 200:
                rl_input = answer.unity_input.rl_input
                if rl_input.command == command_pb2.QUIT:
                    break
                steps += 1
                if misbehave.crash_after is not None and steps > misbehave.crash_after:
                    _log.error("simulated crash after %d steps", misbehave.crash_after)
                    logging.shutdown()
                    os._exit(CRASH_EXIT_CODE)
                if misbehave.hang_after is not None and steps > misbehave.hang_after:
                    _log.error("simulated hang after %d steps", misbehave.hang_after)
                    while True:
                        time.sleep(3600)
                reply = UnityMessageProto()
                reply.header.status = 200
                reply.unity_output.rl_output.side_channel = player.handle(
                    rl_input.side_channel, reset=rl_input.command == command_pb2.RESET
                )
                answer = stub.Exchange(reply)
        except grpc.RpcError as exc:
            # UnityEnvironment.close() answers the pending Exchange with status 400 and
            # then stops its server at once, which can cancel that answer in flight. A
            # Unity player's communicator takes this as Python leaving and quits cleanly.
            if steps and exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                _log.info(
                    "Python closed the environment after %d steps (last answer cut off: %s)",
                    steps,
                    exc.code().name,
                )
                return 0
            _log.error("the ML-Agents connection failed: %s", exc)
            return 1
    _log.info("Python closed the environment after %d steps; quitting", steps)
    return 0
