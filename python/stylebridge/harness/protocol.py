"""The perf side channel's wire facts, shared by the harness and the stand-in player.

ML-Agents frames side-channel traffic as ``UUID (16 bytes, .NET Guid order = Python
``uuid.bytes_le``) | int32 LE length | payload`` repeated; see protos/stylebridge/v1/perf.proto
for the message order. This module needs no mlagents_envs import, so the player side
(which only speaks bytes) stays independent of it.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum

from stylebridge.errors import InvalidInputError

# The StyleBridge perf channel (perf.proto). Never change it: players match on it.
PERF_CHANNEL_ID = uuid.UUID("6f3b0c8e-2d4a-4c55-9a61-5b7e1f0c9d27")
# ML-Agents' EngineConfigurationChannel.
ENGINE_CONFIG_CHANNEL_ID = uuid.UUID("e951342c-4f7e-11ea-b238-784f4387d1f7")
PERF_PROTOCOL_VERSION = 1
STANDIN_ENGINE = "engine: reference-onnxruntime (stand-in player)"

_HEADER = struct.Struct("<16si")


def split_side_channel(data: bytes) -> list[tuple[uuid.UUID, bytes]]:
    """The (channel id, payload) pairs of one side-channel blob, in order.

    Raises InvalidInputError for a truncated blob (a peer with another framing).
    """
    messages: list[tuple[uuid.UUID, bytes]] = []
    offset = 0
    view = memoryview(data)
    while offset < len(view):
        if len(view) - offset < _HEADER.size:
            raise InvalidInputError(
                f"side-channel data ends inside a message header at byte {offset}; "
                f"the peer does not frame messages as ML-Agents does"
            )
        raw_id, length = _HEADER.unpack_from(view, offset)
        offset += _HEADER.size
        if length < 0 or offset + length > len(view):
            raise InvalidInputError(
                f"side-channel message of {length} bytes at byte {offset} runs past the "
                f"end of the data ({len(view)} bytes)"
            )
        messages.append((uuid.UUID(bytes_le=raw_id), bytes(view[offset : offset + length])))
        offset += length
    return messages


def pack_side_channel(messages: list[tuple[uuid.UUID, bytes]]) -> bytes:
    """The inverse of :func:`split_side_channel`."""
    out = bytearray()
    for channel_id, payload in messages:
        out += _HEADER.pack(channel_id.bytes_le, len(payload))
        out += payload
    return bytes(out)


class EngineConfigKind(IntEnum):
    """ML-Agents' EngineConfigurationChannel.ConfigurationType."""

    SCREEN_RESOLUTION = 0
    QUALITY_LEVEL = 1
    TIME_SCALE = 2
    TARGET_FRAME_RATE = 3
    CAPTURE_FRAME_RATE = 4


@dataclass(frozen=True)
class EngineConfigUpdate:
    """One EngineConfigurationChannel message; fields other than its kind's are None."""

    kind: EngineConfigKind
    width: int | None = None
    height: int | None = None
    int_value: int | None = None
    float_value: float | None = None


def decode_engine_config(payload: bytes) -> EngineConfigUpdate:
    """Parse one EngineConfigurationChannel payload (int32 kind, then its values).

    Raises InvalidInputError for an unknown kind or a short payload.
    """
    try:
        (raw_kind,) = struct.unpack_from("<i", payload, 0)
        kind = EngineConfigKind(raw_kind)
        if kind is EngineConfigKind.SCREEN_RESOLUTION:
            width, height = struct.unpack_from("<ii", payload, 4)
            return EngineConfigUpdate(kind, width=width, height=height)
        if kind is EngineConfigKind.TIME_SCALE:
            (value,) = struct.unpack_from("<f", payload, 4)
            return EngineConfigUpdate(kind, float_value=float(value))
        (number,) = struct.unpack_from("<i", payload, 4)
        return EngineConfigUpdate(kind, int_value=number)
    except (struct.error, ValueError) as exc:
        raise InvalidInputError(
            f"engine configuration message {payload.hex()} does not parse: {exc}"
        ) from exc
