"""Protobuf <-> domain for the server: model pushes, swaps, the registry, recording and
the Control service's session statistics.

The companion of ``convert`` (sessions, frames, statistics): together the only server
modules that touch messages. What leaves here is plain data the server can trust.
"""

from __future__ import annotations

import math

from stylebridge.bridge.convert import (
    model_ref_from_proto,
    model_ref_to_proto,
    session_id_of,
)
from stylebridge.bridge.domain import InboundFrame
from stylebridge.bridge.recorder import SelectionPolicy
from stylebridge.bridge.swap_domain import OutgoingChunk, ReceivedAck
from stylebridge.bridge.validation import ModelListing
from stylebridge.errors import InvalidInputError
from stylebridge.frames import PixelFormat, pack_pixels
from stylebridge.protocol import (
    ModelRef,
    SessionStats,
    SessionSummary,
    SwapOutcome,
)
from stylebridge.store import StoreHealth
from stylebridge.timing import TimingSummary
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2

# --- Recording --------------------------------------------------------------------


def record_request_from_proto(request: control_pb2.RecordRequest) -> tuple[str, SelectionPolicy]:
    """The session to record and what to keep; InvalidInputError for a bad policy."""
    policy = SelectionPolicy(
        every_n=int(request.every_n),
        min_change=float(request.min_change),
        max_frames=int(request.max_frames),
    )
    return session_id_of(request), policy


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


# Longest a Swap waits for each client's ack, milliseconds (a Swap call must end).
MAX_ACK_TIMEOUT_MS = 600_000


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


# --- Control: sessions and statistics ---------------------------------------------


def summary_to_proto(summary: SessionSummary) -> control_pb2.SessionSummary:
    return control_pb2.SessionSummary(
        session_id=summary.session_id,
        state=int(summary.state),
        engine=int(summary.engine),
        engine_version=summary.engine_version,
        worker_type=summary.worker_type,
        client_name=summary.client_name,
        engine_model_id=summary.engine_model_id,
        python_model_id=summary.python_model_id,
        started_at_us=summary.started_at_us,
        peer=summary.peer,
        active_model=model_ref_to_proto(summary.active_model),
        last_swap=swap_outcome_to_proto(summary.last_swap) if summary.last_swap else None,
        pinned=summary.pinned,
        models_open=summary.models_open,
    )


def sessions_to_proto(
    summaries: list[SessionSummary], store: StoreHealth | None = None
) -> control_pb2.ListSessionsResponse:
    response = control_pb2.ListSessionsResponse(sessions=[summary_to_proto(s) for s in summaries])
    if store is not None:
        response.store.CopyFrom(
            control_pb2.StoreHealth(
                path=store.path,
                ok=store.ok,
                error=store.error,
                failing_since_us=store.failing_since_us or 0,
                lost_writes=store.lost_writes,
            )
        )
    return response


def _timing_to_proto(summary: TimingSummary) -> control_pb2.TimingSummary:
    return control_pb2.TimingSummary(
        count=summary.count,
        mean_ms=summary.mean_ms,
        p50_ms=summary.p50_ms,
        p90_ms=summary.p90_ms,
        p99_ms=summary.p99_ms,
        last_ms=summary.last_ms,
    )


def stats_to_proto(stats: SessionStats) -> control_pb2.SessionStats:
    return control_pb2.SessionStats(
        session=summary_to_proto(stats.session),
        frames_received=stats.frames_received,
        frames_processed=stats.frames_processed,
        frames_dropped=stats.frames_dropped,
        frames_failed=stats.frames_failed,
        frames_rejected=stats.frames_rejected,
        engine=_timing_to_proto(stats.engine),
        engine_timing_method=int(stats.engine_timing_method or 0),
        python=_timing_to_proto(stats.python),
        queue=_timing_to_proto(stats.queue),
        receive_fps=stats.receive_fps,
        parity_count=stats.parity_count,
        parity_psnr_mean_db=stats.parity_psnr_mean_db,
        parity_psnr_last_db=stats.parity_psnr_last_db,
        python_backend=stats.python_backend,
        per_model=[
            control_pb2.ModelTimings(
                model_id=m.model_id,
                engine=_timing_to_proto(m.engine),
                python=_timing_to_proto(m.python),
            )
            for m in stats.per_model
        ],
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
