"""mlagents-envs 0.28.0 on current protobuf, beside the project's own protos; side-channel bytes."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from stylebridge.harness import protocol
from stylebridge.harness.mlagents_compat import ensure_mlagents_importable

ensure_mlagents_importable()


_PROBE = """
import sys
try:
    import mlagents_envs.environment
except TypeError as exc:
    print("bare import failed:", str(exc).splitlines()[0])
else:
    print("bare import worked")
for name in [n for n in sys.modules if n.startswith("mlagents_envs")]:
    del sys.modules[name]
from stylebridge.harness.mlagents_compat import ensure_mlagents_importable
ensure_mlagents_importable()
import mlagents_envs.environment
print("hooked import worked")
"""


def test_mlagents_fails_without_the_hook_and_imports_with_it() -> None:
    # A fresh interpreter shows the real failure, so this test fails if it ever goes away
    # (and the hook could be dropped) or if the hook stops fixing it.
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    assert "bare import failed: Descriptors cannot be created directly" in probe.stdout
    assert "hooked import worked" in probe.stdout


def test_messages_round_trip_beside_stylebridge_protos() -> None:
    from mlagents_envs.communicator_objects import command_pb2, observation_pb2
    from mlagents_envs.communicator_objects.unity_message_pb2 import UnityMessageProto
    from mlagents_envs.environment import UnityEnvironment

    from stylebridge.v1 import common_pb2, perf_pb2

    assert UnityEnvironment.API_VERSION == "1.5.0"
    message = UnityMessageProto()
    message.header.status = 200
    message.unity_input.rl_input.command = command_pb2.RESET
    message.unity_input.rl_input.side_channel = b"\x01\x02"
    init = message.unity_output.rl_initialization_output
    init.communication_version = "1.5.0"
    init.capabilities.hybridActions = True
    agent = message.unity_output.rl_output.agentInfos["behavior"].value.add()
    obs = agent.observations.add()
    obs.compression_type = observation_pb2.PNG
    obs.float_data.data.extend([1.5, 2.5])
    parsed = UnityMessageProto.FromString(message.SerializeToString())
    assert parsed == message
    assert parsed.unity_input.rl_input.command == command_pb2.RESET == 1
    assert command_pb2.CommandProto.Name(command_pb2.QUIT) == "QUIT"
    assert list(
        parsed.unity_output.rl_output.agentInfos["behavior"]
        .value[0]
        .observations[0]
        .float_data.data
    ) == [1.5, 2.5]

    ours = perf_pb2.PerfFromPlayer(
        protocol_version=1,
        case_result=perf_pb2.PerfCaseResult(
            case_id="m@64x64#0",
            engine_ms=[1.0, 2.0],
            model=common_pb2.ModelRef(model_id="m"),
        ),
    )
    assert perf_pb2.PerfFromPlayer.FromString(ours.SerializeToString()) == ours
    # Both packages live in the same default descriptor pool without clashing.
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.Default()
    assert pool.FindMessageTypeByName("communicator_objects.UnityMessageProto")
    assert pool.FindMessageTypeByName("stylebridge.v1.PerfCaseResult")


def test_engine_configuration_bytes_from_mlagents_decode() -> None:
    from mlagents_envs.side_channel.engine_configuration_channel import (
        EngineConfigurationChannel,
    )
    from mlagents_envs.side_channel.side_channel_manager import SideChannelManager

    channel = EngineConfigurationChannel()
    channel.set_configuration_parameters(
        width=96, height=64, quality_level=3, time_scale=2.5, target_frame_rate=-1
    )
    blob = bytes(SideChannelManager([channel]).generate_side_channel_messages())
    messages = protocol.split_side_channel(blob)
    assert {cid for cid, _ in messages} == {protocol.ENGINE_CONFIG_CHANNEL_ID}
    updates = [protocol.decode_engine_config(payload) for _, payload in messages]
    kinds = protocol.EngineConfigKind
    assert updates[0] == protocol.EngineConfigUpdate(kinds.SCREEN_RESOLUTION, width=96, height=64)
    assert updates[1].int_value == 3
    assert updates[2].float_value == pytest.approx(2.5)
    assert updates[3].int_value == -1


def test_side_channel_framing_round_trips_and_rejects_truncation() -> None:
    other = uuid.uuid4()
    messages = [(protocol.PERF_CHANNEL_ID, b"abc"), (other, b""), (other, b"\x00" * 300)]
    blob = protocol.pack_side_channel(messages)
    assert protocol.split_side_channel(blob) == messages
    from stylebridge.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="runs past the end"):
        protocol.split_side_channel(blob[:-1])
    with pytest.raises(InvalidInputError, match="inside a message header"):
        protocol.split_side_channel(blob[:10])
    with pytest.raises(InvalidInputError, match="does not parse"):
        protocol.decode_engine_config(b"\x09\x00\x00\x00")
