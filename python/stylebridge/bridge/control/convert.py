"""Protobuf <-> domain for the Control service: recording requests and frames, session
listings and statistics (the swap and model-listing messages are ``convert_swaps``').
"""

from __future__ import annotations

from stylebridge.bridge.control.recorder import SelectionPolicy
from stylebridge.bridge.core.convert_common import model_ref_to_proto, session_id_of
from stylebridge.bridge.core.domain import InboundFrame
from stylebridge.bridge.swaps.convert import swap_outcome_to_proto
from stylebridge.frames import PixelFormat, pack_pixels
from stylebridge.protocol import (
    SessionStats,
    SessionSummary,
)
from stylebridge.store import StoreHealth
from stylebridge.timing import TimingSummary
from stylebridge.v1 import common_pb2, control_pb2

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
