"""Protobuf <-> domain for models and swaps: pushed chunks, acks, swap requests and
outcomes, model listings. What the Models/AckModel RPCs and Control's Swap and
ListModels send and receive.
"""

from __future__ import annotations

import math

from stylebridge.bridge.core.convert_common import model_ref_from_proto, model_ref_to_proto
from stylebridge.bridge.swaps.swap_domain import OutgoingChunk, ReceivedAck
from stylebridge.bridge.swaps.validation import ModelListing
from stylebridge.errors import InvalidInputError
from stylebridge.protocol import ModelRef, SwapOutcome
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2

# Longest a Swap waits for each client's ack, milliseconds (a Swap call must end).
MAX_ACK_TIMEOUT_MS = 600_000


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
    if request.ack_timeout_ms > MAX_ACK_TIMEOUT_MS:
        raise InvalidInputError(
            f"SwapRequest.ack_timeout_ms is {request.ack_timeout_ms}; send at most "
            f"{MAX_ACK_TIMEOUT_MS} (10 minutes), or 0 for the server's default"
        )
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
    removed = {r.model.file for r in listing.removed}
    for refused in listing.refused:
        infos.append(
            control_pb2.ModelInfo(
                model=common_pb2.ModelRef(model_id=refused.model_id, sha256=refused.sha256),
                file=refused.file,
                size_bytes=refused.size_bytes,
                valid=False,
                error=refused.error,
                registered_at_us=refused.seen_at_us,
                removed=refused.file in removed,
            )
        )
    return control_pb2.ListModelsResponse(
        models=infos,
        catalog=listing.catalog,
        current_model_id=listing.current_model_id,
        catalog_missing=listing.catalog_missing,
    )


def swap_outcome_to_proto(outcome: SwapOutcome) -> control_pb2.SwapOutcome:
    return control_pb2.SwapOutcome(
        session_id=outcome.session_id,
        push_id=outcome.push_id,
        result=int(outcome.result),
        reason=outcome.reason,
        from_model=model_ref_to_proto(outcome.from_model),
        to_model=model_ref_to_proto(outcome.to_model),
        push_ms=outcome.push_ms,
        import_ms=outcome.import_ms,
        warmup_ms=outcome.warmup_ms,
        first_inference_ms=outcome.first_inference_ms,
        first_sequence=outcome.first_sequence,
        requested_at_us=outcome.requested_at_us,
        completed_at_us=outcome.completed_at_us,
        trigger=outcome.trigger,
    )
