from stylebridge.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FrameStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAME_STATUS_UNSPECIFIED: _ClassVar[FrameStatus]
    FRAME_STATUS_PROCESSED: _ClassVar[FrameStatus]
    FRAME_STATUS_DROPPED: _ClassVar[FrameStatus]
    FRAME_STATUS_RECORDED: _ClassVar[FrameStatus]
    FRAME_STATUS_FAILED: _ClassVar[FrameStatus]
    FRAME_STATUS_REJECTED: _ClassVar[FrameStatus]

class AckStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_STATUS_UNSPECIFIED: _ClassVar[AckStatus]
    ACK_STATUS_ACTIVE: _ClassVar[AckStatus]
    ACK_STATUS_ROLLED_BACK: _ClassVar[AckStatus]
FRAME_STATUS_UNSPECIFIED: FrameStatus
FRAME_STATUS_PROCESSED: FrameStatus
FRAME_STATUS_DROPPED: FrameStatus
FRAME_STATUS_RECORDED: FrameStatus
FRAME_STATUS_FAILED: FrameStatus
FRAME_STATUS_REJECTED: FrameStatus
ACK_STATUS_UNSPECIFIED: AckStatus
ACK_STATUS_ACTIVE: AckStatus
ACK_STATUS_ROLLED_BACK: AckStatus

class ClientInfo(_message.Message):
    __slots__ = ("engine", "engine_version", "unity_version", "worker_type", "gpu", "platform", "client_name")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    UNITY_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKER_TYPE_FIELD_NUMBER: _ClassVar[int]
    GPU_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    engine: _common_pb2.EngineKind
    engine_version: str
    unity_version: str
    worker_type: str
    gpu: str
    platform: str
    client_name: str
    def __init__(self, engine: _Optional[_Union[_common_pb2.EngineKind, str]] = ..., engine_version: _Optional[str] = ..., unity_version: _Optional[str] = ..., worker_type: _Optional[str] = ..., gpu: _Optional[str] = ..., platform: _Optional[str] = ..., client_name: _Optional[str] = ...) -> None: ...

class ClientCapabilities(_message.Message):
    __slots__ = ("pixel_formats", "accepts_model_push", "sends_engine_output", "wants_stylized_pixels", "max_model_bytes")
    PIXEL_FORMATS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTS_MODEL_PUSH_FIELD_NUMBER: _ClassVar[int]
    SENDS_ENGINE_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    WANTS_STYLIZED_PIXELS_FIELD_NUMBER: _ClassVar[int]
    MAX_MODEL_BYTES_FIELD_NUMBER: _ClassVar[int]
    pixel_formats: _containers.RepeatedScalarFieldContainer[_common_pb2.PixelFormat]
    accepts_model_push: bool
    sends_engine_output: bool
    wants_stylized_pixels: bool
    max_model_bytes: int
    def __init__(self, pixel_formats: _Optional[_Iterable[_Union[_common_pb2.PixelFormat, str]]] = ..., accepts_model_push: _Optional[bool] = ..., sends_engine_output: _Optional[bool] = ..., wants_stylized_pixels: _Optional[bool] = ..., max_model_bytes: _Optional[int] = ...) -> None: ...

class HelloRequest(_message.Message):
    __slots__ = ("protocol_version", "client", "capabilities", "active_model")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_MODEL_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    client: ClientInfo
    capabilities: ClientCapabilities
    active_model: _common_pb2.ModelRef
    def __init__(self, protocol_version: _Optional[int] = ..., client: _Optional[_Union[ClientInfo, _Mapping]] = ..., capabilities: _Optional[_Union[ClientCapabilities, _Mapping]] = ..., active_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ...) -> None: ...

class ServerLimits(_message.Message):
    __slots__ = ("max_frame_bytes", "max_model_bytes", "max_width", "max_height", "model_chunk_bytes", "frame_queue_depth")
    MAX_FRAME_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_MODEL_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    MAX_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MODEL_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    FRAME_QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    max_frame_bytes: int
    max_model_bytes: int
    max_width: int
    max_height: int
    model_chunk_bytes: int
    frame_queue_depth: int
    def __init__(self, max_frame_bytes: _Optional[int] = ..., max_model_bytes: _Optional[int] = ..., max_width: _Optional[int] = ..., max_height: _Optional[int] = ..., model_chunk_bytes: _Optional[int] = ..., frame_queue_depth: _Optional[int] = ...) -> None: ...

class ServerCapabilities(_message.Message):
    __slots__ = ("python_inference", "python_backend", "model_push", "parity")
    PYTHON_INFERENCE_FIELD_NUMBER: _ClassVar[int]
    PYTHON_BACKEND_FIELD_NUMBER: _ClassVar[int]
    MODEL_PUSH_FIELD_NUMBER: _ClassVar[int]
    PARITY_FIELD_NUMBER: _ClassVar[int]
    python_inference: bool
    python_backend: str
    model_push: bool
    parity: bool
    def __init__(self, python_inference: _Optional[bool] = ..., python_backend: _Optional[str] = ..., model_push: _Optional[bool] = ..., parity: _Optional[bool] = ...) -> None: ...

class HelloResponse(_message.Message):
    __slots__ = ("protocol_version", "session_id", "limits", "capabilities", "python_model", "server_version")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    PYTHON_MODEL_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    session_id: str
    limits: ServerLimits
    capabilities: ServerCapabilities
    python_model: _common_pb2.ModelRef
    server_version: str
    def __init__(self, protocol_version: _Optional[int] = ..., session_id: _Optional[str] = ..., limits: _Optional[_Union[ServerLimits, _Mapping]] = ..., capabilities: _Optional[_Union[ServerCapabilities, _Mapping]] = ..., python_model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., server_version: _Optional[str] = ...) -> None: ...

class EngineTiming(_message.Message):
    __slots__ = ("inference_ms", "method")
    INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    inference_ms: float
    method: _common_pb2.TimingMethod
    def __init__(self, inference_ms: _Optional[float] = ..., method: _Optional[_Union[_common_pb2.TimingMethod, str]] = ...) -> None: ...

class FrameUp(_message.Message):
    __slots__ = ("session_id", "sequence", "capture_time_us", "image", "engine_timing", "model_id", "engine_output")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_US_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_TIMING_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ENGINE_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    sequence: int
    capture_time_us: int
    image: _common_pb2.Image
    engine_timing: EngineTiming
    model_id: str
    engine_output: _common_pb2.Image
    def __init__(self, session_id: _Optional[str] = ..., sequence: _Optional[int] = ..., capture_time_us: _Optional[int] = ..., image: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., engine_timing: _Optional[_Union[EngineTiming, _Mapping]] = ..., model_id: _Optional[str] = ..., engine_output: _Optional[_Union[_common_pb2.Image, _Mapping]] = ...) -> None: ...

class FrameDown(_message.Message):
    __slots__ = ("sequence", "status", "stylized", "python_inference_ms", "queue_ms", "backend", "model_id", "parity_psnr_db", "has_parity", "dropped_total", "error", "model_note", "error_code")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STYLIZED_FIELD_NUMBER: _ClassVar[int]
    PYTHON_INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PARITY_PSNR_DB_FIELD_NUMBER: _ClassVar[int]
    HAS_PARITY_FIELD_NUMBER: _ClassVar[int]
    DROPPED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MODEL_NOTE_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    status: FrameStatus
    stylized: _common_pb2.Image
    python_inference_ms: float
    queue_ms: float
    backend: str
    model_id: str
    parity_psnr_db: float
    has_parity: bool
    dropped_total: int
    error: str
    model_note: str
    error_code: int
    def __init__(self, sequence: _Optional[int] = ..., status: _Optional[_Union[FrameStatus, str]] = ..., stylized: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., python_inference_ms: _Optional[float] = ..., queue_ms: _Optional[float] = ..., backend: _Optional[str] = ..., model_id: _Optional[str] = ..., parity_psnr_db: _Optional[float] = ..., has_parity: _Optional[bool] = ..., dropped_total: _Optional[int] = ..., error: _Optional[str] = ..., model_note: _Optional[str] = ..., error_code: _Optional[int] = ...) -> None: ...

class ModelsRequest(_message.Message):
    __slots__ = ("session_id", "pinned")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    pinned: bool
    def __init__(self, session_id: _Optional[str] = ..., pinned: _Optional[bool] = ...) -> None: ...

class ModelMetadata(_message.Message):
    __slots__ = ("input_name", "output_name", "input_layout", "input_range", "recommended_width", "recommended_height", "opset")
    INPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_LAYOUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_RANGE_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_WIDTH_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    OPSET_FIELD_NUMBER: _ClassVar[int]
    input_name: str
    output_name: str
    input_layout: str
    input_range: float
    recommended_width: int
    recommended_height: int
    opset: int
    def __init__(self, input_name: _Optional[str] = ..., output_name: _Optional[str] = ..., input_layout: _Optional[str] = ..., input_range: _Optional[float] = ..., recommended_width: _Optional[int] = ..., recommended_height: _Optional[int] = ..., opset: _Optional[int] = ...) -> None: ...

class ModelChunk(_message.Message):
    __slots__ = ("model", "total_bytes", "offset", "data", "last", "metadata", "push_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    total_bytes: int
    offset: int
    data: bytes
    last: bool
    metadata: ModelMetadata
    push_id: str
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., total_bytes: _Optional[int] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., last: _Optional[bool] = ..., metadata: _Optional[_Union[ModelMetadata, _Mapping]] = ..., push_id: _Optional[str] = ...) -> None: ...

class ModelAck(_message.Message):
    __slots__ = ("session_id", "push_id", "model", "status", "import_ms", "warmup_ms", "first_inference_ms", "first_sequence", "error")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IMPORT_MS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    push_id: str
    model: _common_pb2.ModelRef
    status: AckStatus
    import_ms: float
    warmup_ms: float
    first_inference_ms: float
    first_sequence: int
    error: str
    def __init__(self, session_id: _Optional[str] = ..., push_id: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., status: _Optional[_Union[AckStatus, str]] = ..., import_ms: _Optional[float] = ..., warmup_ms: _Optional[float] = ..., first_inference_ms: _Optional[float] = ..., first_sequence: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class ModelAckReceipt(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
