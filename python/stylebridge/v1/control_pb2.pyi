from stylebridge.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATE_UNSPECIFIED: _ClassVar[SessionState]
    SESSION_STATE_CONNECTED: _ClassVar[SessionState]
    SESSION_STATE_STREAMING: _ClassVar[SessionState]
    SESSION_STATE_CLOSED: _ClassVar[SessionState]
    SESSION_STATE_INTERRUPTED: _ClassVar[SessionState]

class SwapResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SWAP_RESULT_UNSPECIFIED: _ClassVar[SwapResult]
    SWAP_RESULT_ACTIVE: _ClassVar[SwapResult]
    SWAP_RESULT_ROLLED_BACK: _ClassVar[SwapResult]
    SWAP_RESULT_REFUSED: _ClassVar[SwapResult]
    SWAP_RESULT_TIMED_OUT: _ClassVar[SwapResult]
    SWAP_RESULT_UNCHANGED: _ClassVar[SwapResult]
    SWAP_RESULT_NOT_CONNECTED: _ClassVar[SwapResult]
SESSION_STATE_UNSPECIFIED: SessionState
SESSION_STATE_CONNECTED: SessionState
SESSION_STATE_STREAMING: SessionState
SESSION_STATE_CLOSED: SessionState
SESSION_STATE_INTERRUPTED: SessionState
SWAP_RESULT_UNSPECIFIED: SwapResult
SWAP_RESULT_ACTIVE: SwapResult
SWAP_RESULT_ROLLED_BACK: SwapResult
SWAP_RESULT_REFUSED: SwapResult
SWAP_RESULT_TIMED_OUT: SwapResult
SWAP_RESULT_UNCHANGED: SwapResult
SWAP_RESULT_NOT_CONNECTED: SwapResult

class ListSessionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SessionSummary(_message.Message):
    __slots__ = ("session_id", "state", "engine", "engine_version", "worker_type", "client_name", "engine_model_id", "python_model_id", "started_at_us", "peer", "active_model", "last_swap", "pinned", "models_open")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKER_TYPE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    ENGINE_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PYTHON_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_MODEL_FIELD_NUMBER: _ClassVar[int]
    LAST_SWAP_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    MODELS_OPEN_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    state: SessionState
    engine: _common_pb2.EngineKind
    engine_version: str
    worker_type: str
    client_name: str
    engine_model_id: str
    python_model_id: str
    started_at_us: int
    peer: str
    active_model: _common_pb2.ModelRef
    last_swap: SwapOutcome
    pinned: bool
    models_open: bool
    def __init__(self, session_id: _Optional[str] = ..., state: _Optional[_Union[SessionState, str]] = ..., engine: _Optional[_Union[_common_pb2.EngineKind, str]] = ..., engine_version: _Optional[str] = ..., worker_type: _Optional[str] = ..., client_name: _Optional[str] = ..., engine_model_id: _Optional[str] = ..., python_model_id: _Optional[str] = ..., started_at_us: _Optional[int] = ..., peer: _Optional[str] = ..., active_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., last_swap: _Optional[_Union[SwapOutcome, _Mapping]] = ..., pinned: _Optional[bool] = ..., models_open: _Optional[bool] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "store")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[SessionSummary]
    store: StoreHealth
    def __init__(self, sessions: _Optional[_Iterable[_Union[SessionSummary, _Mapping]]] = ..., store: _Optional[_Union[StoreHealth, _Mapping]] = ...) -> None: ...

class StoreHealth(_message.Message):
    __slots__ = ("path", "ok", "error", "failing_since_us", "lost_writes")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_US_FIELD_NUMBER: _ClassVar[int]
    LOST_WRITES_FIELD_NUMBER: _ClassVar[int]
    path: str
    ok: bool
    error: str
    failing_since_us: int
    lost_writes: int
    def __init__(self, path: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., failing_since_us: _Optional[int] = ..., lost_writes: _Optional[int] = ...) -> None: ...

class GetSessionStatsRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class WatchSessionStatsRequest(_message.Message):
    __slots__ = ("session_id", "interval_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    interval_ms: int
    def __init__(self, session_id: _Optional[str] = ..., interval_ms: _Optional[int] = ...) -> None: ...

class TimingSummary(_message.Message):
    __slots__ = ("count", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "last_ms")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_MS_FIELD_NUMBER: _ClassVar[int]
    P50_MS_FIELD_NUMBER: _ClassVar[int]
    P90_MS_FIELD_NUMBER: _ClassVar[int]
    P99_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_MS_FIELD_NUMBER: _ClassVar[int]
    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    last_ms: float
    def __init__(self, count: _Optional[int] = ..., mean_ms: _Optional[float] = ..., p50_ms: _Optional[float] = ..., p90_ms: _Optional[float] = ..., p99_ms: _Optional[float] = ..., last_ms: _Optional[float] = ...) -> None: ...

class SessionStats(_message.Message):
    __slots__ = ("session", "frames_received", "frames_processed", "frames_dropped", "frames_failed", "frames_rejected", "engine", "engine_timing_method", "python", "queue", "receive_fps", "parity_count", "parity_psnr_mean_db", "parity_psnr_last_db", "python_backend", "per_model")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    FRAMES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FAILED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_REJECTED_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_TIMING_METHOD_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_FPS_FIELD_NUMBER: _ClassVar[int]
    PARITY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARITY_PSNR_MEAN_DB_FIELD_NUMBER: _ClassVar[int]
    PARITY_PSNR_LAST_DB_FIELD_NUMBER: _ClassVar[int]
    PYTHON_BACKEND_FIELD_NUMBER: _ClassVar[int]
    PER_MODEL_FIELD_NUMBER: _ClassVar[int]
    session: SessionSummary
    frames_received: int
    frames_processed: int
    frames_dropped: int
    frames_failed: int
    frames_rejected: int
    engine: TimingSummary
    engine_timing_method: _common_pb2.TimingMethod
    python: TimingSummary
    queue: TimingSummary
    receive_fps: float
    parity_count: int
    parity_psnr_mean_db: float
    parity_psnr_last_db: float
    python_backend: str
    per_model: _containers.RepeatedCompositeFieldContainer[ModelTimings]
    def __init__(self, session: _Optional[_Union[SessionSummary, _Mapping]] = ..., frames_received: _Optional[int] = ..., frames_processed: _Optional[int] = ..., frames_dropped: _Optional[int] = ..., frames_failed: _Optional[int] = ..., frames_rejected: _Optional[int] = ..., engine: _Optional[_Union[TimingSummary, _Mapping]] = ..., engine_timing_method: _Optional[_Union[_common_pb2.TimingMethod, str]] = ..., python: _Optional[_Union[TimingSummary, _Mapping]] = ..., queue: _Optional[_Union[TimingSummary, _Mapping]] = ..., receive_fps: _Optional[float] = ..., parity_count: _Optional[int] = ..., parity_psnr_mean_db: _Optional[float] = ..., parity_psnr_last_db: _Optional[float] = ..., python_backend: _Optional[str] = ..., per_model: _Optional[_Iterable[_Union[ModelTimings, _Mapping]]] = ...) -> None: ...

class ModelTimings(_message.Message):
    __slots__ = ("model_id", "engine", "python")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    engine: TimingSummary
    python: TimingSummary
    def __init__(self, model_id: _Optional[str] = ..., engine: _Optional[_Union[TimingSummary, _Mapping]] = ..., python: _Optional[_Union[TimingSummary, _Mapping]] = ...) -> None: ...

class SwapRequest(_message.Message):
    __slots__ = ("model_id", "session_ids", "all", "ack_timeout_ms")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_IDS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    ACK_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    session_ids: _containers.RepeatedScalarFieldContainer[str]
    all: bool
    ack_timeout_ms: int
    def __init__(self, model_id: _Optional[str] = ..., session_ids: _Optional[_Iterable[str]] = ..., all: _Optional[bool] = ..., ack_timeout_ms: _Optional[int] = ...) -> None: ...

class SwapOutcome(_message.Message):
    __slots__ = ("session_id", "push_id", "result", "reason", "from_model", "to_model", "push_ms", "import_ms", "warmup_ms", "first_inference_ms", "first_sequence", "requested_at_us", "completed_at_us", "trigger")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FROM_MODEL_FIELD_NUMBER: _ClassVar[int]
    TO_MODEL_FIELD_NUMBER: _ClassVar[int]
    PUSH_MS_FIELD_NUMBER: _ClassVar[int]
    IMPORT_MS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_US_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    push_id: str
    result: SwapResult
    reason: str
    from_model: _common_pb2.ModelRef
    to_model: _common_pb2.ModelRef
    push_ms: float
    import_ms: float
    warmup_ms: float
    first_inference_ms: float
    first_sequence: int
    requested_at_us: int
    completed_at_us: int
    trigger: str
    def __init__(self, session_id: _Optional[str] = ..., push_id: _Optional[str] = ..., result: _Optional[_Union[SwapResult, str]] = ..., reason: _Optional[str] = ..., from_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., to_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., push_ms: _Optional[float] = ..., import_ms: _Optional[float] = ..., warmup_ms: _Optional[float] = ..., first_inference_ms: _Optional[float] = ..., first_sequence: _Optional[int] = ..., requested_at_us: _Optional[int] = ..., completed_at_us: _Optional[int] = ..., trigger: _Optional[str] = ...) -> None: ...

class SwapResponse(_message.Message):
    __slots__ = ("model", "outcomes")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    outcomes: _containers.RepeatedCompositeFieldContainer[SwapOutcome]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., outcomes: _Optional[_Iterable[_Union[SwapOutcome, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EngineCheck(_message.Message):
    __slots__ = ("engine", "verdict", "reason")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    engine: str
    verdict: str
    reason: str
    def __init__(self, engine: _Optional[str] = ..., verdict: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("model", "file", "size_bytes", "valid", "error", "engines", "opset", "input_range", "registered_at_us", "recipe", "removed")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    OPSET_FIELD_NUMBER: _ClassVar[int]
    INPUT_RANGE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_US_FIELD_NUMBER: _ClassVar[int]
    RECIPE_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    file: str
    size_bytes: int
    valid: bool
    error: str
    engines: _containers.RepeatedCompositeFieldContainer[EngineCheck]
    opset: int
    input_range: float
    registered_at_us: int
    recipe: str
    removed: bool
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., file: _Optional[str] = ..., size_bytes: _Optional[int] = ..., valid: _Optional[bool] = ..., error: _Optional[str] = ..., engines: _Optional[_Iterable[_Union[EngineCheck, _Mapping]]] = ..., opset: _Optional[int] = ..., input_range: _Optional[float] = ..., registered_at_us: _Optional[int] = ..., recipe: _Optional[str] = ..., removed: _Optional[bool] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "catalog", "current_model_id", "catalog_missing")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    CATALOG_FIELD_NUMBER: _ClassVar[int]
    CURRENT_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    CATALOG_MISSING_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    catalog: str
    current_model_id: str
    catalog_missing: bool
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ..., catalog: _Optional[str] = ..., current_model_id: _Optional[str] = ..., catalog_missing: _Optional[bool] = ...) -> None: ...

class RecordRequest(_message.Message):
    __slots__ = ("session_id", "every_n", "min_change", "max_frames")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EVERY_N_FIELD_NUMBER: _ClassVar[int]
    MIN_CHANGE_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAMES_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    every_n: int
    min_change: float
    max_frames: int
    def __init__(self, session_id: _Optional[str] = ..., every_n: _Optional[int] = ..., min_change: _Optional[float] = ..., max_frames: _Optional[int] = ...) -> None: ...

class RecordedFrame(_message.Message):
    __slots__ = ("sequence", "capture_time_us", "image", "mean_change")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_US_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    MEAN_CHANGE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    capture_time_us: int
    image: _common_pb2.Image
    mean_change: float
    def __init__(self, sequence: _Optional[int] = ..., capture_time_us: _Optional[int] = ..., image: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., mean_change: _Optional[float] = ...) -> None: ...
