from stylebridge.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PerfProtocolVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERF_PROTOCOL_VERSION_UNSPECIFIED: _ClassVar[PerfProtocolVersion]
    PERF_PROTOCOL_VERSION_CURRENT: _ClassVar[PerfProtocolVersion]
PERF_PROTOCOL_VERSION_UNSPECIFIED: PerfProtocolVersion
PERF_PROTOCOL_VERSION_CURRENT: PerfProtocolVersion

class PerfToPlayer(_message.Message):
    __slots__ = ("protocol_version", "run_case", "finish")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RUN_CASE_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    run_case: PerfRunCase
    finish: PerfFinish
    def __init__(self, protocol_version: _Optional[int] = ..., run_case: _Optional[_Union[PerfRunCase, _Mapping]] = ..., finish: _Optional[_Union[PerfFinish, _Mapping]] = ...) -> None: ...

class PerfRunCase(_message.Message):
    __slots__ = ("case_id", "model", "model_path", "width", "height", "warmup_frames", "measured_frames", "worker_type", "frames", "send_parity", "input_range")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_PATH_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WARMUP_FRAMES_FIELD_NUMBER: _ClassVar[int]
    MEASURED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    WORKER_TYPE_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    SEND_PARITY_FIELD_NUMBER: _ClassVar[int]
    INPUT_RANGE_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    model: _common_pb2.ModelRef
    model_path: str
    width: int
    height: int
    warmup_frames: int
    measured_frames: int
    worker_type: str
    frames: str
    send_parity: bool
    input_range: float
    def __init__(self, case_id: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., model_path: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., warmup_frames: _Optional[int] = ..., measured_frames: _Optional[int] = ..., worker_type: _Optional[str] = ..., frames: _Optional[str] = ..., send_parity: _Optional[bool] = ..., input_range: _Optional[float] = ...) -> None: ...

class PerfFinish(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PerfFromPlayer(_message.Message):
    __slots__ = ("protocol_version", "player_info", "case_result")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PLAYER_INFO_FIELD_NUMBER: _ClassVar[int]
    CASE_RESULT_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    player_info: PerfPlayerInfo
    case_result: PerfCaseResult
    def __init__(self, protocol_version: _Optional[int] = ..., player_info: _Optional[_Union[PerfPlayerInfo, _Mapping]] = ..., case_result: _Optional[_Union[PerfCaseResult, _Mapping]] = ...) -> None: ...

class PerfPlayerInfo(_message.Message):
    __slots__ = ("engine_kind", "engine", "engine_version", "unity_version", "gpu", "platform", "worker_types", "player_name")
    ENGINE_KIND_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_VERSION_FIELD_NUMBER: _ClassVar[int]
    UNITY_VERSION_FIELD_NUMBER: _ClassVar[int]
    GPU_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    WORKER_TYPES_FIELD_NUMBER: _ClassVar[int]
    PLAYER_NAME_FIELD_NUMBER: _ClassVar[int]
    engine_kind: _common_pb2.EngineKind
    engine: str
    engine_version: str
    unity_version: str
    gpu: str
    platform: str
    worker_types: _containers.RepeatedScalarFieldContainer[str]
    player_name: str
    def __init__(self, engine_kind: _Optional[_Union[_common_pb2.EngineKind, str]] = ..., engine: _Optional[str] = ..., engine_version: _Optional[str] = ..., unity_version: _Optional[str] = ..., gpu: _Optional[str] = ..., platform: _Optional[str] = ..., worker_types: _Optional[_Iterable[str]] = ..., player_name: _Optional[str] = ...) -> None: ...

class PerfEngineConfig(_message.Message):
    __slots__ = ("width", "height", "quality_level", "time_scale", "target_frame_rate")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    QUALITY_LEVEL_FIELD_NUMBER: _ClassVar[int]
    TIME_SCALE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    quality_level: int
    time_scale: float
    target_frame_rate: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., quality_level: _Optional[int] = ..., time_scale: _Optional[float] = ..., target_frame_rate: _Optional[int] = ...) -> None: ...

class PerfCaseResult(_message.Message):
    __slots__ = ("case_id", "model", "width", "height", "engine", "worker_type", "timing_method", "engine_ms", "warmup_frames", "load_ms", "memory_bytes", "memory_kind", "config", "parity_input", "parity_output", "frames_source", "error")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    WORKER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIMING_METHOD_FIELD_NUMBER: _ClassVar[int]
    ENGINE_MS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_FRAMES_FIELD_NUMBER: _ClassVar[int]
    LOAD_MS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_KIND_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    PARITY_INPUT_FIELD_NUMBER: _ClassVar[int]
    PARITY_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    FRAMES_SOURCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    model: _common_pb2.ModelRef
    width: int
    height: int
    engine: str
    worker_type: str
    timing_method: _common_pb2.TimingMethod
    engine_ms: _containers.RepeatedScalarFieldContainer[float]
    warmup_frames: int
    load_ms: float
    memory_bytes: int
    memory_kind: str
    config: PerfEngineConfig
    parity_input: _common_pb2.Image
    parity_output: _common_pb2.Image
    frames_source: str
    error: str
    def __init__(self, case_id: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., engine: _Optional[str] = ..., worker_type: _Optional[str] = ..., timing_method: _Optional[_Union[_common_pb2.TimingMethod, str]] = ..., engine_ms: _Optional[_Iterable[float]] = ..., warmup_frames: _Optional[int] = ..., load_ms: _Optional[float] = ..., memory_bytes: _Optional[int] = ..., memory_kind: _Optional[str] = ..., config: _Optional[_Union[PerfEngineConfig, _Mapping]] = ..., parity_input: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., parity_output: _Optional[_Union[_common_pb2.Image, _Mapping]] = ..., frames_source: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...
