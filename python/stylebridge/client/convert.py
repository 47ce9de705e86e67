"""Protobuf <-> domain for the client: the only client module that touches messages.

Also turns a failed call (``grpc.aio.AioRpcError``) into the package's error of the
same meaning, so callers catch StyleBridgeError and print one readable line.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import grpc.aio
from google.protobuf.message import DecodeError

from stylebridge.client.records import RecordedFrame, RecordOptions
from stylebridge.errors import (
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    StateError,
    StyleBridgeError,
    UnauthenticatedError,
)
from stylebridge.frames import PixelFormat, unpack_pixels
from stylebridge.protocol import (
    ClientEngine,
    EngineCheck,
    FrameStatus,
    HelloReply,
    HelloRequestInfo,
    ModelInfo,
    ModelList,
    ModelRef,
    ModelTimings,
    ServerCapabilities,
    ServerLimits,
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
from stylebridge.v1 import bridge_pb2, common_pb2, control_pb2
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
        active_model=_model_ref_to_proto(hello.active_model),
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
        python_model=_model_ref(response.python_model),
        server_version=response.server_version,
    )


def _model_ref(ref: common_pb2.ModelRef) -> ModelRef:
    return ModelRef(model_id=ref.model_id, version=int(ref.version), sha256=ref.sha256)


def _model_ref_to_proto(ref: ModelRef) -> common_pb2.ModelRef:
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
            pixel_format=_pixel_format(image.pixel_format),
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


def _pixel_format(value: int) -> PixelFormat:
    try:
        return PixelFormat(value)
    except ValueError:
        raise InvalidInputError(
            f"the server sent an image in unknown pixel format {value}"
        ) from None


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
        active_model=_model_ref(message.active_model),
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
        image.pixels, image.width, image.height, _pixel_format(image.pixel_format), image.row_stride
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
        to_model=_model_ref(message.to_model),
        from_model=_model_ref(message.from_model),
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
    return _model_ref(message.model), [swap_outcome(o) for o in message.outcomes]


def list_models_request() -> control_pb2.ListModelsRequest:
    return control_pb2.ListModelsRequest()


def model_list(message: control_pb2.ListModelsResponse) -> ModelList:
    return ModelList(
        models=tuple(
            ModelInfo(
                model=_model_ref(m.model),
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
