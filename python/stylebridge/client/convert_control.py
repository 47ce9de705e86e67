"""Protobuf <-> domain for the Control client: sessions and their statistics, recording,
swaps and the model list. The Bridge service's messages (Hello, frames) and the
errors of calls are ``client.convert``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylebridge.client.convert import model_ref_of, pixel_format_of
from stylebridge.client.records import RecordedFrame, RecordOptions
from stylebridge.frames import unpack_pixels
from stylebridge.protocol import (
    ClientEngine,
    EngineCheck,
    ModelInfo,
    ModelList,
    ModelRef,
    ModelTimings,
    SessionState,
    SessionStats,
    SessionSummary,
    SwapOutcome,
    SwapResult,
    TimingMethod,
    parse_wire_enum,
)
from stylebridge.store_condition import describe_store
from stylebridge.timing import TimingSummary
from stylebridge.v1 import control_pb2

# --- Control ----------------------------------------------------------------------


def list_sessions_request() -> control_pb2.ListSessionsRequest:
    return control_pb2.ListSessionsRequest()


def stats_request(session_id: str) -> control_pb2.GetSessionStatsRequest:
    return control_pb2.GetSessionStatsRequest(session_id=session_id)


def watch_request(session_id: str, interval_ms: int) -> control_pb2.WatchSessionStatsRequest:
    return control_pb2.WatchSessionStatsRequest(session_id=session_id, interval_ms=interval_ms)


def session_summary(message: control_pb2.SessionSummary) -> SessionSummary:
    return SessionSummary(
        session_id=message.session_id,
        state=parse_wire_enum(SessionState, message.state, "SessionSummary.state"),
        engine=parse_wire_enum(ClientEngine, message.engine, "SessionSummary.engine"),
        engine_version=message.engine_version,
        worker_type=message.worker_type,
        client_name=message.client_name,
        engine_model_id=message.engine_model_id,
        python_model_id=message.python_model_id,
        started_at_us=int(message.started_at_us),
        peer=message.peer,
        active_model=model_ref_of(message.active_model),
        last_swap=swap_outcome(message.last_swap) if message.HasField("last_swap") else None,
        pinned=message.pinned,
        models_open=message.models_open,
    )


def session_summaries(message: control_pb2.ListSessionsResponse) -> list[SessionSummary]:
    return [session_summary(s) for s in message.sessions]


@dataclass(frozen=True)
class StoreStatus:
    """What the server says of its store: writing, or why not and what was lost."""

    path: str
    ok: bool
    error: str
    failing_since_us: int
    lost_writes: int

    def describe(self) -> str:
        return describe_store(self.path, self.ok, self.error, self.lost_writes)


def store_status(message: control_pb2.ListSessionsResponse) -> StoreStatus | None:
    """None from a server that does not report its store."""
    if not message.HasField("store"):
        return None
    store = message.store
    return StoreStatus(store.path, store.ok, store.error, store.failing_since_us, store.lost_writes)


def record_request(session_id: str, options: RecordOptions) -> control_pb2.RecordRequest:
    return control_pb2.RecordRequest(
        session_id=session_id,
        every_n=options.every_n,
        min_change=options.min_change,
        max_frames=options.max_frames,
    )


def recorded_frame(message: control_pb2.RecordedFrame) -> RecordedFrame:
    """A recorded frame; InvalidInputError when its image does not match its size."""
    image = message.image
    rgb = unpack_pixels(
        image.pixels,
        image.width,
        image.height,
        pixel_format_of(image.pixel_format),
        image.row_stride,
    )
    return RecordedFrame(
        sequence=int(message.sequence),
        capture_time_us=int(message.capture_time_us),
        rgb=rgb,
        mean_change=float(message.mean_change),
    )


def _timing(message: control_pb2.TimingSummary) -> TimingSummary:
    return TimingSummary(
        count=int(message.count),
        mean_ms=message.mean_ms,
        p50_ms=message.p50_ms,
        p90_ms=message.p90_ms,
        p99_ms=message.p99_ms,
        last_ms=message.last_ms,
    )


def session_stats(message: control_pb2.SessionStats) -> SessionStats:
    method = message.engine_timing_method
    return SessionStats(
        session=session_summary(message.session),
        frames_received=int(message.frames_received),
        frames_processed=int(message.frames_processed),
        frames_dropped=int(message.frames_dropped),
        frames_failed=int(message.frames_failed),
        frames_rejected=int(message.frames_rejected),
        engine=_timing(message.engine),
        engine_timing_method=(
            parse_wire_enum(TimingMethod, method, "SessionStats.engine_timing_method")
            if method
            else None
        ),
        python=_timing(message.python),
        queue=_timing(message.queue),
        receive_fps=message.receive_fps,
        parity_count=int(message.parity_count),
        parity_psnr_mean_db=message.parity_psnr_mean_db,
        parity_psnr_last_db=message.parity_psnr_last_db,
        python_backend=message.python_backend,
        per_model=tuple(
            ModelTimings(m.model_id, _timing(m.engine), _timing(m.python))
            for m in message.per_model
        ),
    )


# --- Model swaps (Control) ----------------------------------------------------------


def swap_request(
    model_id: str, session_ids: list[str], *, all_sessions: bool, ack_timeout_s: float
) -> control_pb2.SwapRequest:
    return control_pb2.SwapRequest(
        model_id=model_id,
        session_ids=session_ids,
        all=all_sessions,
        ack_timeout_ms=max(1, round(ack_timeout_s * 1000)),
    )


def swap_outcome(message: control_pb2.SwapOutcome) -> SwapOutcome:
    return SwapOutcome(
        session_id=message.session_id,
        result=parse_wire_enum(SwapResult, message.result, "SwapOutcome.result"),
        to_model=model_ref_of(message.to_model),
        from_model=model_ref_of(message.from_model),
        push_id=message.push_id,
        reason=message.reason,
        push_ms=message.push_ms,
        import_ms=message.import_ms,
        warmup_ms=message.warmup_ms,
        first_inference_ms=message.first_inference_ms,
        first_sequence=int(message.first_sequence),
        requested_at_us=int(message.requested_at_us),
        completed_at_us=int(message.completed_at_us),
        trigger=message.trigger,
    )


def swap_outcomes(message: control_pb2.SwapResponse) -> tuple[ModelRef, list[SwapOutcome]]:
    return model_ref_of(message.model), [swap_outcome(o) for o in message.outcomes]


def list_models_request() -> control_pb2.ListModelsRequest:
    return control_pb2.ListModelsRequest()


def model_list(message: control_pb2.ListModelsResponse) -> ModelList:
    return ModelList(
        models=tuple(
            ModelInfo(
                model=model_ref_of(m.model),
                file=m.file,
                size_bytes=int(m.size_bytes),
                valid=m.valid,
                error=m.error,
                engines=tuple(EngineCheck(e.engine, e.verdict, e.reason) for e in m.engines),
                opset=int(m.opset),
                input_range=float(m.input_range),
                registered_at_us=int(m.registered_at_us),
                recipe=m.recipe,
                removed=m.removed,
            )
            for m in message.models
        ),
        catalog=message.catalog,
        current_model_id=message.current_model_id,
        catalog_missing=message.catalog_missing,
    )
