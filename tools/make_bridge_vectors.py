"""Write tests/vectors/bridge_rules.json from the Python implementations of the bridge's rules.

Why: the Unity package's Runtime/Core re-implements, in C#, rules that the Python server and
reference client also apply: the reconnect back-off, which gRPC status codes are retried, the
protocol-version rule, the largest message a client must accept, the enum numbers the two sides
exchange and the engine/version strings a Unity client sends. Both suites run this file (NUnit
BridgeRulesTests under `make unity-check`, tests/test_bridge_vectors.py under pytest), so a change
on either side that the other does not follow fails a test. Expected values come from running the
Python code below; the inputs are fixed, so `--check` is meaningful.

Usage:
    python tools/make_bridge_vectors.py            # writes the file
    python tools/make_bridge_vectors.py --check    # exit 1 when the committed file differs
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import Any

import grpc

import stylebridge
from stylebridge.bridge.serving.server import grpc_server_options
from stylebridge.client.reconnect import RETRYABLE_CODES, BackoffPolicy, attempt_after_failure
from stylebridge.config import Limits, ServerConfig
from stylebridge.engines.targets import engine_for_client
from stylebridge.errors import ProtocolVersionError
from stylebridge.harness import protocol as perf_protocol
from stylebridge.harness.standin_engine import Slowdown
from stylebridge.harness.standin_player import StandinPlayer
from stylebridge.paths import shared_dir
from stylebridge.protocol import check_protocol_version
from stylebridge.v1 import bridge_pb2, common_pb2, perf_pb2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vector_files import write_or_check

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors"
FILE = "bridge_rules.json"
RANDOM_VALUES = (0.0, 0.25, 0.5, 0.75, 0.999)
# The versions the Unity package can report in Hello (Runtime/Unity/Inference/InstalledPackages.cs).
UNITY_ENGINE_VERSIONS = {"barracuda": ("3.0.0", "3.0.1", "3.0.1+"), "sentis": ("1.5", "1.6")}
# The package.json version; the client name is the package name and this version.
PACKAGE_JSON = Path(__file__).resolve().parent.parent / "unity/Assets/StyleTransfer/package.json"


def _backoff() -> dict[str, Any]:
    policy = BackoffPolicy()
    return {
        "initial_s": policy.initial_s,
        "max_s": policy.max_s,
        "multiplier": policy.multiplier,
        "jitter": policy.jitter,
        "stable_s": policy.stable_s,
        "cases": [
            {
                "attempt": attempt,
                "random": r,
                "base_delay_s": policy.base_delay_s(attempt),
                "delay_s": policy.delay_s(attempt, r),
            }
            for attempt in (1, 2, 3, 4, 6, 7, 8, 12, 40)
            for r in RANDOM_VALUES
        ],
    }


# Failures in a row, each before a session opened (streamed_s None: a refused or failed Hello) or
# after a session streamed for streamed_s seconds; a non-retryable one ends the run.
SESSION_SCENARIOS = {
    "refusals back off": [(None, True), (None, True), (None, True), (None, True)],
    "a short session keeps counting": [(None, True), (None, True), (2.0, True), (None, True)],
    "a stable session starts over": [(None, True), (None, True), (None, True), (10.0, True)],
    "long then short": [(60.0, True), (9.99, True), (None, True)],
    "a refusal that cannot pass closes": [(None, True), (None, False)],
}
SESSION_RANDOM = 0.5


def _session() -> dict[str, Any]:
    policy = BackoffPolicy()
    scenarios = []
    for name, failures in SESSION_SCENARIOS.items():
        attempt, steps = 0, []
        for streamed_s, retryable in failures:
            if not retryable:
                steps.append({"streamed_s": streamed_s, "retryable": False, "closed": True})
                break
            attempt = attempt_after_failure(attempt, streamed_s, policy)
            steps.append(
                {
                    "streamed_s": streamed_s,
                    "retryable": True,
                    "closed": False,
                    "attempt": attempt,
                    "delay_s": policy.delay_s(attempt, SESSION_RANDOM),
                }
            )
        scenarios.append({"name": name, "steps": steps})
    return {"random": SESSION_RANDOM, "scenarios": scenarios}


# (warm-up, measured, parity) cases the stand-in player runs for the perf message sequence.
PERF_CASES = ((0, 1, False), (1, 3, False), (2, 2, True))
PERF_MODEL = "ingame-small.onnx"  # the smallest shared model; 32x32 frames keep it fast
PERF_SIZE = 32


def _player_step(player: StandinPlayer, messages: list[Any], reset: bool = False) -> list[str]:
    """One academy step of the stand-in player: the kinds of perf messages it sends back."""
    out = player.handle(perf_protocol.pack_side_channel(messages), reset)
    return [
        perf_pb2.PerfFromPlayer.FromString(payload).WhichOneof("body") or ""
        for channel, payload in perf_protocol.split_side_channel(out)
        if channel == perf_protocol.PERF_CHANNEL_ID
    ]


def _perf_sequence() -> dict[str, Any]:
    """What the player sends in each academy step: the stand-in player (the Python side of the
    contract that PerfRunner implements) driven by the harness's messages."""
    root = shared_dir()
    if root is None:
        raise SystemExit("../shared/models is needed for the perf sequence (STYLEBRIDGE_SHARED)")
    model = root / "models" / PERF_MODEL
    cases = []
    for warmup, measured, parity in PERF_CASES:
        player = StandinPlayer(Slowdown(), "builtin")
        steps: list[list[str]] = []

        resolution = struct.pack("<iii", 0, PERF_SIZE, PERF_SIZE)  # SCREEN_RESOLUTION
        steps.append(
            _player_step(player, [(perf_protocol.ENGINE_CONFIG_CHANNEL_ID, resolution)], True)
        )
        run = perf_pb2.PerfToPlayer(
            protocol_version=perf_protocol.PERF_PROTOCOL_VERSION,
            run_case=perf_pb2.PerfRunCase(
                case_id="case",
                model=common_pb2.ModelRef(model_id="ingame-small"),
                model_path=str(model),
                width=PERF_SIZE,
                height=PERF_SIZE,
                warmup_frames=warmup,
                measured_frames=measured,
                send_parity=parity,
            ),
        )
        steps.append(
            _player_step(player, [(perf_protocol.PERF_CHANNEL_ID, run.SerializeToString())])
        )
        while len(steps) < 1 + warmup + measured + 2:
            steps.append(_player_step(player, []))
        cases.append({"warmup": warmup, "measured": measured, "parity": parity, "steps": steps})
    return {
        "protocol_version": perf_protocol.PERF_PROTOCOL_VERSION,
        "channel_id": str(perf_protocol.PERF_CHANNEL_ID),
        "cases": cases,
    }


def _retryable() -> list[dict[str, Any]]:
    retried = {code.value[0] for code in RETRYABLE_CODES}
    return [
        {"code": code.value[0], "name": code.name, "retried": code.value[0] in retried}
        for code in grpc.StatusCode
    ]


def _protocol_version() -> dict[str, Any]:
    client = stylebridge.PROTOCOL_VERSION
    cases = []
    for server in (0, client, client + 1, client + 5):
        try:
            check_protocol_version(client, server)
        except ProtocolVersionError as error:
            # Which side the message says to update: the older one (a server that sent 0 is old).
            older = "server" if server < client else "client"
            assert f"update the {older}" in str(error) or server == 0, str(error)
            cases.append({"server": server, "compatible": False, "update": older})
        else:
            cases.append({"server": server, "compatible": True, "update": ""})
    return {"client": client, "cases": cases}


def _receive_limit() -> list[dict[str, Any]]:
    cases = []
    for frame, chunk in (
        (1920 * 1080 * 4, 1024 * 1024),
        (3840 * 2160 * 4, 1024 * 1024),
        (1024, 8 << 20),
    ):
        options = dict(
            grpc_server_options(
                ServerConfig(limits=Limits(max_frame_bytes=frame, model_chunk_bytes=chunk))
            )
        )
        cases.append(
            {
                "max_frame_bytes": frame,
                "model_chunk_bytes": chunk,
                "server_send_limit": options["grpc.max_send_message_length"],
            }
        )
    return cases


def _enums() -> dict[str, dict[str, int]]:
    wanted = {
        "EngineKind": common_pb2.EngineKind,
        "PixelFormat": common_pb2.PixelFormat,
        "TimingMethod": common_pb2.TimingMethod,
        "AckStatus": bridge_pb2.AckStatus,
    }
    return {name: dict(enum.items()) for name, enum in wanted.items()}


def _client() -> dict[str, Any]:
    package = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    return {
        "client_name": f"{package['name']}/{package['version']}",
        "engine_versions": [
            {"kind": kind, "version": v, "engine": str(engine_for_client(kind, v))}
            for kind, versions in UNITY_ENGINE_VERSIONS.items()
            for v in versions
        ],
    }


def render() -> dict[str, str]:
    data = {
        "version": 1,
        "generator": "tools/make_bridge_vectors.py (stylebridge.client.reconnect, .protocol, "
        ".bridge.serving.server, .engines.targets, the protos)",
        "backoff": _backoff(),
        "retryable": _retryable(),
        "session": _session(),
        "protocol_version": _protocol_version(),
        "receive_limit": _receive_limit(),
        "enums": _enums(),
        "client": _client(),
        "perf_sequence": _perf_sequence(),
    }
    return {FILE: json.dumps(data, indent=1, sort_keys=False) + "\n"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    parser.add_argument("--out", type=Path, default=VECTORS, help="folder of the vector files")
    args = parser.parse_args(argv)
    return write_or_check(render(), args.out, check=args.check, tool="make_bridge_vectors.py")


if __name__ == "__main__":
    sys.exit(main())
