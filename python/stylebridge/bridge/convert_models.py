"""Protobuf <-> domain for the server: model pushes, swaps, the registry and recording.

The companion of ``convert`` (sessions, frames, statistics): together the only server
modules that touch messages. What leaves here is plain data the server can trust.
"""

from __future__ import annotations

import math

from stylebridge.bridge.convert import (
    model_ref_from_proto,
    model_ref_to_proto,
    swap_outcome_to_proto,
)
from stylebridge.bridge.domain import InboundFrame
from stylebridge.bridge.recorder import SelectionPolicy
from stylebridge.bridge.swap_domain import OutgoingChunk, ReceivedAck
from stylebridge.bridge.validation import ModelListing
from stylebridge.errors import InvalidInputError
from stylebridge.frames import PixelFormat, pack_pixels
from stylebridge.protocol import (
    ModelRef,
    SwapOutcome,
)
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2

# --- Recording --------------------------------------------------------------------


def record_request_from_proto(request: control_pb2.RecordRequest) -> tuple[str, SelectionPolicy]:
    """The session to record and what to keep; InvalidInputError for a bad policy."""
    policy = SelectionPolicy(
        every_n=int(request.every_n),
        min_change=float(request.min_change),
        max_frames=int(request.max_frames),
    )
    return request.session_id, policy


def recorded_frame_to_proto(frame: InboundFrame, mean_change: float) -> control_pb2.RecordedFrame:
    """A kept frame as RGB8, rows top to bottom (one copy of the pixels)."""
    pixels, stride = pack_pixels(frame.rgb, PixelFormat.RGB8)
    return control_pb2.RecordedFrame(
        sequence=frame.sequence,
        capture_time_us=frame.capture_time_us,
        image=common_pb2.Image(
            width=frame.width,
            height=frame.height,
            pixel_format=int(PixelFormat.RGB8),
            row_stride=stride,
            pixels=pixels,
        ),
        mean_change=mean_change,
    )


# --- Model swaps ------------------------------------------------------------------


def models_pinned(request: bridge_pb2.ModelsRequest) -> bool:
    return bool(request.pinned)


def model_chunk_to_proto(chunk: OutgoingChunk) -> bridge_pb2.ModelChunk:
    """One ModelChunk (metadata on the first chunk of a push only)."""
    message = bridge_pb2.ModelChunk(
        model=model_ref_to_proto(chunk.model),
        total_bytes=chunk.total_bytes,
        offset=chunk.offset,
        data=bytes(chunk.data),
        last=chunk.last,
        push_id=chunk.push_id,
    )
    meta = chunk.metadata
    if meta is not None:
        width, height = meta.recommended_size
        message.metadata.CopyFrom(
            bridge_pb2.ModelMetadata(
                input_name=meta.input_name,
                output_name=meta.output_name,
                input_layout=meta.input_layout,
                input_range=meta.input_range,
                recommended_width=width,
                recommended_height=height,
                opset=meta.opset,
            )
        )
    return message


def ack_from_proto(request: bridge_pb2.ModelAck) -> ReceivedAck:
    """A validated ModelAck; InvalidInputError names the bad field."""
    if not request.push_id:
        raise InvalidInputError("ModelAck.push_id is empty; echo the push_id of the chunks")
    if request.status == bridge_pb2.ACK_STATUS_ACTIVE:
        active = True
    elif request.status == bridge_pb2.ACK_STATUS_ROLLED_BACK:
        active = False
    else:
        raise InvalidInputError(
            f"ModelAck.status is {request.status}; send 1 (ACTIVE) or 2 (ROLLED_BACK)"
        )
    times = {}
    for name in ("import_ms", "warmup_ms", "first_inference_ms"):
        value = float(getattr(request, name))
        if not math.isfinite(value) or value < 0.0:
            raise InvalidInputError(f"ModelAck.{name} is {value}; send a finite number >= 0")
        times[name] = value
    return ReceivedAck(
        session_id=request.session_id,
        push_id=request.push_id,
        model=model_ref_from_proto(request.model),
        active=active,
        first_sequence=int(request.first_sequence),
        error=request.error,
        **times,
    )


def swap_request_from_proto(
    request: control_pb2.SwapRequest,
) -> tuple[str, list[str], bool, float | None]:
    """(model id, session ids, all, ack timeout in seconds or None for the default)."""
    if not request.model_id:
        raise InvalidInputError("SwapRequest.model_id is empty; name a model (see ListModels)")
    timeout = request.ack_timeout_ms / 1000.0 if request.ack_timeout_ms else None
    return request.model_id, list(request.session_ids), bool(request.all), timeout


def swap_response_to_proto(
    model: ModelRef, outcomes: list[SwapOutcome]
) -> control_pb2.SwapResponse:
    return control_pb2.SwapResponse(
        model=model_ref_to_proto(model),
        outcomes=[swap_outcome_to_proto(o) for o in outcomes],
    )


def models_to_proto(listing: ModelListing) -> control_pb2.ListModelsResponse:
    """The registry as ListModels answers it."""
    infos = []
    for entry in listing.models:
        model = entry.model
        infos.append(
            control_pb2.ModelInfo(
                model=model_ref_to_proto(model.ref),
                file=model.file,
                size_bytes=model.size_bytes,
                valid=True,
                engines=[
                    control_pb2.EngineCheck(
                        engine=v.engine.value, verdict=v.verdict.value, reason=v.reason
                    )
                    for v in entry.verdicts
                ],
                opset=model.metadata.opset,
                input_range=model.metadata.input_range,
                registered_at_us=model.registered_at_us,
                recipe=model.recipe,
            )
        )
    for refused in listing.refused:
        infos.append(
            control_pb2.ModelInfo(
                model=common_pb2.ModelRef(model_id=refused.model_id, sha256=refused.sha256),
                file=refused.file,
                size_bytes=refused.size_bytes,
                valid=False,
                error=refused.error,
                registered_at_us=refused.seen_at_us,
            )
        )
    return control_pb2.ListModelsResponse(
        models=infos, catalog=listing.catalog, current_model_id=listing.current_model_id
    )
