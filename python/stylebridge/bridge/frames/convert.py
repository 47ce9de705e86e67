"""Protobuf <-> domain for the Bridge service: Hello and frames in and out.

With ``core.convert_common``, ``swaps.convert`` (pushes, swaps, model listings) and
``control.convert`` (recording, Control statistics) the only server modules that
touch messages.

Incoming messages are validated here, field by field, against the proto contract and
the server's limits; what leaves this module is plain data (``protocol``,
``bridge.core.domain``) that the rest of the server can trust.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import numpy as np
from google.protobuf.message import DecodeError

from stylebridge.bridge.core.convert_common import (
    check_text,
    model_ref_from_proto,
    model_ref_to_proto,
)
from stylebridge.bridge.core.domain import (
    MAX_SEQUENCE,
    FrameOutcome,
    FrameRejection,
    InboundFrame,
    RejectionOutcome,
    now_us,
)
from stylebridge.config import Limits
from stylebridge.errors import InvalidInputError, LimitExceededError, StyleBridgeError
from stylebridge.frames import PixelFormat, unpack_pixels
from stylebridge.protocol import (
    ClientCapabilities,
    ClientEngine,
    ClientInfo,
    FrameStatus,
    HelloReply,
    HelloRequestInfo,
    TimingMethod,
    parse_wire_enum,
)
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2
from stylebridge.wire import Blob, join_blobs, split_blobs

# --- any request -------------------------------------------------------------------




# --- Hello ------------------------------------------------------------------------


def protocol_version_of(request: bridge_pb2.HelloRequest) -> int:
    """Read first: a peer of another version may mean other things by the other fields."""
    return int(request.protocol_version)


# Most entries in HelloRequest.capabilities.pixel_formats.
MAX_PIXEL_FORMATS = 16




def hello_from_proto(request: bridge_pb2.HelloRequest) -> HelloRequestInfo:
    """A validated Hello; InvalidInputError when the client's engine is not set or a
    text field is over MAX_TEXT characters."""
    client = request.client
    caps = request.capabilities
    for name in (
        "engine_version",
        "unity_version",
        "worker_type",
        "gpu",
        "platform",
        "client_name",
    ):
        check_text(getattr(client, name), f"HelloRequest.client.{name}")
    check_text(request.active_model.model_id, "HelloRequest.active_model.model_id")
    check_text(request.active_model.sha256, "HelloRequest.active_model.sha256")
    if len(caps.pixel_formats) > MAX_PIXEL_FORMATS:
        raise InvalidInputError(
            f"HelloRequest.capabilities.pixel_formats lists {len(caps.pixel_formats)} formats; "
            f"list each format the client may send once (at most {MAX_PIXEL_FORMATS})"
        )
    formats = [_pixel_format(v, "capabilities.pixel_formats") for v in caps.pixel_formats]
    return HelloRequestInfo(
        protocol_version=int(request.protocol_version),
        client=ClientInfo(
            engine=parse_wire_enum(ClientEngine, client.engine, "client.engine"),
            engine_version=client.engine_version,
            unity_version=client.unity_version,
            worker_type=client.worker_type,
            gpu=client.gpu,
            platform=client.platform,
            client_name=client.client_name,
        ),
        capabilities=ClientCapabilities(
            pixel_formats=tuple(formats),
            accepts_model_push=caps.accepts_model_push,
            sends_engine_output=caps.sends_engine_output,
            wants_stylized_pixels=caps.wants_stylized_pixels,
            max_model_bytes=int(caps.max_model_bytes),
        ),
        active_model=model_ref_from_proto(request.active_model),
    )


def hello_to_proto(reply: HelloReply) -> bridge_pb2.HelloResponse:
    limits = reply.limits
    caps = reply.capabilities
    return bridge_pb2.HelloResponse(
        protocol_version=reply.protocol_version,
        session_id=reply.session_id,
        limits=bridge_pb2.ServerLimits(
            max_frame_bytes=limits.max_frame_bytes,
            max_model_bytes=limits.max_model_bytes,
            max_width=limits.max_width,
            max_height=limits.max_height,
            model_chunk_bytes=limits.model_chunk_bytes,
            frame_queue_depth=limits.frame_queue_depth,
        ),
        capabilities=bridge_pb2.ServerCapabilities(
            python_inference=caps.python_inference,
            python_backend=caps.python_backend,
            model_push=caps.model_push,
            parity=caps.parity,
        ),
        python_model=model_ref_to_proto(reply.python_model),
        server_version=reply.server_version,
    )






# --- Frames -----------------------------------------------------------------------






def watch_interval_ms(request: control_pb2.WatchSessionStatsRequest) -> int:
    return int(request.interval_ms)


# Frames travel as raw bytes (see ``stylebridge.wire``): pixels are cut out of a
# FrameUp as views and joined into a FrameDown with one copy.
_IMAGE_PIXELS = common_pb2.Image.PIXELS_FIELD_NUMBER
_UP_BLOBS = {
    bridge_pb2.FrameUp.IMAGE_FIELD_NUMBER: _IMAGE_PIXELS,
    bridge_pb2.FrameUp.ENGINE_OUTPUT_FIELD_NUMBER: _IMAGE_PIXELS,
}
_UP_IMAGE = (bridge_pb2.FrameUp.IMAGE_FIELD_NUMBER, _IMAGE_PIXELS)
_UP_ENGINE_OUTPUT = (bridge_pb2.FrameUp.ENGINE_OUTPUT_FIELD_NUMBER, _IMAGE_PIXELS)
_EMPTY = memoryview(b"")


def frame_from_wire(data: bytes, limits: Limits) -> InboundFrame:
    """A validated frame from an encoded FrameUp; its pixels are views on ``data``.

    Raises InvalidInputError for malformed bytes, a missing image, sizes that disagree
    with the bytes or with each other, and bad timings; LimitExceededError for frames
    over a limit (``decode_frame`` returns the last two instead of raising them).
    """
    frame = decode_frame(data, limits)
    if isinstance(frame, FrameRejection):
        raise frame.error
    return frame


def decode_frame(data: bytes, limits: Limits) -> InboundFrame | FrameRejection:
    """A validated frame, or the rejection of a FrameUp whose content breaks a rule.

    Raises InvalidInputError only for bytes that are not a FrameUp at all (nothing
    in them can be answered); everything else wrong with a frame is a FrameRejection,
    which the stream answers FRAME_STATUS_REJECTED and goes on.
    """
    received_at = time.perf_counter()
    split = split_blobs(data, _UP_BLOBS)
    try:
        message = bridge_pb2.FrameUp.FromString(split.rest)
    except DecodeError as exc:
        raise InvalidInputError(
            f"malformed FrameUp message ({exc}); send FrameUp messages encoded as protobuf"
        ) from exc
    try:
        return _frame_of(message, split.blobs, limits, received_at)
    except (InvalidInputError, LimitExceededError) as exc:
        return _rejection_of(message, exc)


def _rejection_of(message: bridge_pb2.FrameUp, error: StyleBridgeError) -> FrameRejection:
    image = message.image
    try:
        fmt = PixelFormat(image.pixel_format).name
    except ValueError:
        fmt = f"unknown({image.pixel_format})"
    return FrameRejection(
        sequence=int(message.sequence),
        error=error,
        session_id=message.session_id,
        capture_time_us=max(0, int(message.capture_time_us)),
        width=int(image.width),
        height=int(image.height),
        pixel_format=fmt,
        model_id=message.model_id,
        received_at_us=now_us(),
    )


def _frame_of(
    message: bridge_pb2.FrameUp,
    blobs: Mapping[tuple[int, int], memoryview],
    limits: Limits,
    received_at: float,
) -> InboundFrame:
    sequence = int(message.sequence)
    if sequence > MAX_SEQUENCE:
        raise InvalidInputError(
            f"frame sequence {sequence} is over 2^63 - 1; number frames from a smaller value"
        )
    capture_time_us = int(message.capture_time_us)
    if capture_time_us < 0:
        raise InvalidInputError(
            f"frame {sequence} capture_time_us is {capture_time_us}; send microseconds since "
            "the Unix epoch (>= 0; 0 when not known)"
        )
    check_text(message.model_id, f"frame {sequence} model_id")
    if not message.HasField("image"):
        raise InvalidInputError(f"frame {sequence} has no image; set FrameUp.image")
    image = message.image
    fmt = _pixel_format(image.pixel_format, f"frame {sequence} image.pixel_format")
    pixels = blobs.get(_UP_IMAGE, _EMPTY)
    rgb = _unpack(image, pixels, fmt, limits, f"frame {sequence} image")
    engine_output = None
    if message.HasField("engine_output"):
        out = message.engine_output
        if (out.width, out.height) != (image.width, image.height):
            raise InvalidInputError(
                f"frame {sequence} engine_output is {out.width}x{out.height} but the image is "
                f"{image.width}x{image.height}; send the engine output at the frame's resolution"
            )
        out_fmt = _pixel_format(out.pixel_format, f"frame {sequence} engine_output.pixel_format")
        out_pixels = blobs.get(_UP_ENGINE_OUTPUT, _EMPTY)
        engine_output = _unpack(out, out_pixels, out_fmt, limits, f"frame {sequence} engine_output")
    engine_ms = None
    method = None
    if message.HasField("engine_timing"):
        timing = message.engine_timing
        engine_ms = float(timing.inference_ms)
        if not math.isfinite(engine_ms) or engine_ms < 0.0:
            raise InvalidInputError(
                f"frame {sequence} engine_timing.inference_ms is {engine_ms}; it must be a "
                "finite number >= 0 (leave engine_timing unset when not measured)"
            )
        method = parse_wire_enum(
            TimingMethod, timing.method, f"frame {sequence} engine_timing.method"
        )
    return InboundFrame(
        session_id=message.session_id,
        sequence=sequence,
        capture_time_us=capture_time_us,
        width=int(image.width),
        height=int(image.height),
        pixel_format=fmt,
        rgb=rgb,
        engine_ms=engine_ms,
        engine_timing_method=method,
        model_id=message.model_id,
        engine_output=engine_output,
        received_at_us=now_us(),
        received_at=received_at,
    )


def _pixel_format(value: int, what: str) -> PixelFormat:
    try:
        return PixelFormat(value)
    except ValueError:
        known = ", ".join(f"{f.value} ({f.name})" for f in PixelFormat)
        state = "not set" if value == 0 else f"unknown ({value})"
        raise InvalidInputError(f"{what} is {state}; send one of {known}") from None


def _unpack(
    image: common_pb2.Image, pixels: memoryview, fmt: PixelFormat, limits: Limits, what: str
) -> np.ndarray:
    if image.width > limits.max_width or image.height > limits.max_height:
        raise LimitExceededError(
            f"{what} is {image.width}x{image.height}, over this server's limit of "
            f"{limits.max_width}x{limits.max_height}; send a smaller resolution"
        )
    if len(pixels) > limits.max_frame_bytes:
        raise LimitExceededError(
            f"{what} has {len(pixels)} bytes, over max_frame_bytes={limits.max_frame_bytes}; "
            "send a smaller resolution or RGB8 instead of RGBA8"
        )
    try:
        return unpack_pixels(pixels, image.width, image.height, fmt, image.row_stride)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{what}: {exc}") from exc


def _answered_model(outcome: FrameOutcome, server_model_id: str) -> str:
    """The model Python ran; for a frame it did not run, the model the frame named."""
    if outcome.python_model_id:
        return outcome.python_model_id
    ran = outcome.status in (FrameStatus.PROCESSED, FrameStatus.FAILED)
    return server_model_id if ran else (outcome.frame.model_id or server_model_id)


def frame_down_wire(outcome: FrameOutcome, *, backend: str, model_id: str) -> bytes:
    """The encoded FrameDown answering one frame (pixels copied once, into it)."""
    message = bridge_pb2.FrameDown(
        sequence=outcome.frame.sequence,
        status=int(outcome.status),
        python_inference_ms=outcome.python_ms,
        queue_ms=outcome.queue_ms,
        backend=backend,
        model_id=_answered_model(outcome, model_id),
        dropped_total=outcome.dropped_total,
        error=outcome.error,
        model_note=outcome.model_note,
    )
    if outcome.parity_psnr_db is not None:
        message.parity_psnr_db = outcome.parity_psnr_db
        message.has_parity = True
    head = message.SerializeToString()
    stylized = outcome.stylized
    if stylized is None:
        return head
    image_head = common_pb2.Image(
        width=stylized.width,
        height=stylized.height,
        pixel_format=int(stylized.pixel_format),
        row_stride=stylized.row_stride,
    ).SerializeToString()
    blob = Blob(
        bridge_pb2.FrameDown.STYLIZED_FIELD_NUMBER, image_head, _IMAGE_PIXELS, stylized.pixels
    )
    return join_blobs(head, [blob])


def rejection_wire(outcome: RejectionOutcome, *, backend: str) -> bytes:
    """The encoded FrameDown answering a rejected frame: REJECTED, its code and message."""
    rejection = outcome.rejection
    return bridge_pb2.FrameDown(
        sequence=rejection.sequence,
        status=int(FrameStatus.REJECTED),
        backend=backend,
        model_id=rejection.model_id,
        dropped_total=outcome.dropped_total,
        error=str(rejection.error),
        error_code=rejection.error.code.value[0],
    ).SerializeToString()


def ack_receipt() -> bridge_pb2.ModelAckReceipt:
    return bridge_pb2.ModelAckReceipt()
