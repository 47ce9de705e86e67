"""Protobuf <-> domain for the client: the only client module that touches messages.

Also turns a failed call (``grpc.aio.AioRpcError``) into the package's error of the
same meaning, so callers catch StyleBridgeError and print one readable line.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import grpc.aio
from google.protobuf.message import DecodeError

from stylebridge.errors import (
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    StateError,
    StyleBridgeError,
    UnauthenticatedError,
)
from stylebridge.frames import PixelFormat
from stylebridge.protocol import (
    FrameStatus,
    HelloReply,
    HelloRequestInfo,
    ModelRef,
    ServerCapabilities,
    ServerLimits,
    TimingMethod,
    parse_wire_enum,
)
from stylebridge.v1 import bridge_pb2, common_pb2
from stylebridge.wire import Blob, join_blobs, split_blobs


class RemoteError(StyleBridgeError):
    """The server failed a call with a status that has no more specific error here."""

    def __init__(self, message: str, code: grpc.StatusCode) -> None:
        super().__init__(message)
        self.code = code


_ERRORS: dict[grpc.StatusCode, type[StyleBridgeError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidInputError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: LimitExceededError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.FAILED_PRECONDITION: StateError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
}


def error_from_rpc(exc: grpc.aio.AioRpcError, server: str) -> StyleBridgeError:
    """The package error for a failed call (the server's message, plus where it came from)."""
    code = exc.code()
    details = exc.details() or code.name
    if code is grpc.StatusCode.UNAVAILABLE:
        return RemoteError(
            f"cannot reach the StyleBridge server at {server} ({details}); "
            "is `stylebridge serve` running there?",
            code,
        )
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return RemoteError(
            f"no answer from a StyleBridge server at {server} in time ({details}); "
            "is `stylebridge serve` running there, and is the address right?",
            code,
        )
    error_type = _ERRORS.get(code)
    if error_type is None:
        return RemoteError(f"server {server} failed the call: {code.name}: {details}", code)
    return error_type(details)


# --- Hello ------------------------------------------------------------------------


def hello_request(hello: HelloRequestInfo) -> bridge_pb2.HelloRequest:
    client = hello.client
    caps = hello.capabilities
    return bridge_pb2.HelloRequest(
        protocol_version=hello.protocol_version,
        client=bridge_pb2.ClientInfo(
            engine=int(client.engine),
            engine_version=client.engine_version,
            unity_version=client.unity_version,
            worker_type=client.worker_type,
            gpu=client.gpu,
            platform=client.platform,
            client_name=client.client_name,
        ),
        capabilities=bridge_pb2.ClientCapabilities(
            pixel_formats=[int(f) for f in caps.pixel_formats],
            accepts_model_push=caps.accepts_model_push,
            sends_engine_output=caps.sends_engine_output,
            wants_stylized_pixels=caps.wants_stylized_pixels,
            max_model_bytes=caps.max_model_bytes,
        ),
        active_model=model_ref_to_proto(hello.active_model),
    )


def hello_reply(response: bridge_pb2.HelloResponse) -> HelloReply:
    limits = response.limits
    caps = response.capabilities
    return HelloReply(
        protocol_version=int(response.protocol_version),
        session_id=response.session_id,
        limits=ServerLimits(
            max_frame_bytes=int(limits.max_frame_bytes),
            max_model_bytes=int(limits.max_model_bytes),
            max_width=int(limits.max_width),
            max_height=int(limits.max_height),
            model_chunk_bytes=int(limits.model_chunk_bytes),
            frame_queue_depth=int(limits.frame_queue_depth),
        ),
        capabilities=ServerCapabilities(
            python_inference=caps.python_inference,
            python_backend=caps.python_backend,
            model_push=caps.model_push,
            parity=caps.parity,
        ),
        python_model=model_ref_of(response.python_model),
        server_version=response.server_version,
    )


def model_ref_of(ref: common_pb2.ModelRef) -> ModelRef:
    return ModelRef(model_id=ref.model_id, version=int(ref.version), sha256=ref.sha256)


def model_ref_to_proto(ref: ModelRef) -> common_pb2.ModelRef:
    return common_pb2.ModelRef(model_id=ref.model_id, version=ref.version, sha256=ref.sha256)


# --- Frames -----------------------------------------------------------------------


# The Frames method path; its messages travel as raw bytes (see ``stylebridge.wire``).
_BRIDGE = bridge_pb2.DESCRIPTOR.services_by_name["Bridge"]
FRAMES_METHOD = f"/{_BRIDGE.full_name}/{_BRIDGE.methods_by_name['Frames'].name}"
_IMAGE_PIXELS = common_pb2.Image.PIXELS_FIELD_NUMBER
_DOWN_BLOBS = {bridge_pb2.FrameDown.STYLIZED_FIELD_NUMBER: _IMAGE_PIXELS}
_DOWN_STYLIZED = (bridge_pb2.FrameDown.STYLIZED_FIELD_NUMBER, _IMAGE_PIXELS)


@dataclass(frozen=True, slots=True)
class WireImage:
    """Pixels as they travel (rows top to bottom, ``row_stride`` bytes apart)."""

    width: int
    height: int
    pixel_format: PixelFormat
    row_stride: int
    pixels: bytes | memoryview


@dataclass(frozen=True, slots=True)
class FrameAnswer:
    """One FrameDown, as the client keeps it."""

    sequence: int
    status: FrameStatus
    python_ms: float
    queue_ms: float
    backend: str
    model_id: str
    parity_psnr_db: float | None
    dropped_total: int
    error: str
    # Python's stylized frame, when asked for and processed.
    stylized: WireImage | None


def frame_up_wire(
    *,
    session_id: str,
    sequence: int,
    capture_time_us: int,
    image: WireImage,
    engine_ms: float | None,
    timing_method: TimingMethod,
    model_id: str,
    engine_output: WireImage | None,
) -> bytes:
    """An encoded FrameUp; each image's pixels are copied once, into it."""
    message = bridge_pb2.FrameUp(
        session_id=session_id,
        sequence=sequence,
        capture_time_us=capture_time_us,
        model_id=model_id,
    )
    if engine_ms is not None:
        message.engine_timing.inference_ms = engine_ms
        message.engine_timing.method = int(timing_method)
    blobs = [_blob(bridge_pb2.FrameUp.IMAGE_FIELD_NUMBER, image)]
    if engine_output is not None:
        blobs.append(_blob(bridge_pb2.FrameUp.ENGINE_OUTPUT_FIELD_NUMBER, engine_output))
    return join_blobs(message.SerializeToString(), blobs)


def _blob(field: int, image: WireImage) -> Blob:
    head = common_pb2.Image(
        width=image.width,
        height=image.height,
        pixel_format=int(image.pixel_format),
        row_stride=image.row_stride,
    ).SerializeToString()
    return Blob(field, head, _IMAGE_PIXELS, image.pixels)


def frame_answer_from_wire(data: bytes) -> FrameAnswer:
    """An encoded FrameDown as plain data; stylized pixels are a view on ``data``."""
    split = split_blobs(data, _DOWN_BLOBS)
    try:
        message = bridge_pb2.FrameDown.FromString(split.rest)
    except DecodeError as exc:
        raise InvalidInputError(f"the server sent a malformed FrameDown: {exc}") from exc
    stylized = None
    if message.HasField("stylized"):
        image = message.stylized
        stylized = WireImage(
            width=int(image.width),
            height=int(image.height),
            pixel_format=pixel_format_of(image.pixel_format),
            row_stride=int(image.row_stride),
            pixels=split.blobs.get(_DOWN_STYLIZED, memoryview(b"")),
        )
    return FrameAnswer(
        sequence=int(message.sequence),
        status=parse_wire_enum(FrameStatus, message.status, "FrameDown.status"),
        python_ms=float(message.python_inference_ms),
        queue_ms=float(message.queue_ms),
        backend=message.backend,
        model_id=message.model_id,
        parity_psnr_db=float(message.parity_psnr_db) if message.has_parity else None,
        dropped_total=int(message.dropped_total),
        error=message.error,
        stylized=stylized,
    )


def pixel_format_of(value: int) -> PixelFormat:
    try:
        return PixelFormat(value)
    except ValueError:
        raise InvalidInputError(
            f"the server sent an image in unknown pixel format {value}"
        ) from None
