"""Protobuf <-> domain pieces every flow of the server uses: parsing a request, model
references, the session a request names, the length of free text.

Below the flows (``bridge.core``): the frames, swaps and control conversions import it.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError, Message

from stylebridge.errors import InvalidInputError
from stylebridge.protocol import ModelRef
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2


def decode_request(data: bytes, message_type: type[Message]) -> Message:
    """``data`` parsed as ``message_type``; InvalidInputError (not grpc's UNKNOWN) when
    the bytes are not such a message."""
    try:
        return message_type.FromString(data)
    except DecodeError as exc:
        name = message_type.DESCRIPTOR.full_name
        raise InvalidInputError(
            f"malformed {name} message ({exc}); send a {name} encoded as protobuf"
        ) from exc


# Longest free-text field a client may send (names, versions, model ids), characters.
MAX_TEXT = 256


def check_text(value: str, what: str) -> str:
    """``value`` when it is short enough to log and store; InvalidInputError otherwise."""
    if len(value) > MAX_TEXT:
        raise InvalidInputError(f"{what} has {len(value)} characters; send at most {MAX_TEXT}")
    return value


def model_ref_from_proto(ref: common_pb2.ModelRef) -> ModelRef:
    return ModelRef(model_id=ref.model_id, version=int(ref.version), sha256=ref.sha256)


def model_ref_to_proto(ref: ModelRef) -> common_pb2.ModelRef:
    return common_pb2.ModelRef(model_id=ref.model_id, version=ref.version, sha256=ref.sha256)


SessionScoped = (
    bridge_pb2.ModelsRequest
    | bridge_pb2.ModelAck
    | control_pb2.GetSessionStatsRequest
    | control_pb2.WatchSessionStatsRequest
    | control_pb2.RecordRequest
)


def session_id_of(message: SessionScoped) -> str:
    """The session a request names; InvalidInputError when it names none."""
    if not message.session_id:
        name = type(message).DESCRIPTOR.name
        raise InvalidInputError(
            f"{name}.session_id is empty; send the session_id from HelloResponse"
        )
    return message.session_id
