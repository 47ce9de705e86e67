from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EngineKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENGINE_KIND_UNSPECIFIED: _ClassVar[EngineKind]
    ENGINE_KIND_BARRACUDA: _ClassVar[EngineKind]
    ENGINE_KIND_SENTIS: _ClassVar[EngineKind]
    ENGINE_KIND_REFERENCE: _ClassVar[EngineKind]

class PixelFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PIXEL_FORMAT_UNSPECIFIED: _ClassVar[PixelFormat]
    PIXEL_FORMAT_RGB8: _ClassVar[PixelFormat]
    PIXEL_FORMAT_RGBA8: _ClassVar[PixelFormat]

class TimingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIMING_METHOD_UNSPECIFIED: _ClassVar[TimingMethod]
    TIMING_METHOD_SCHEDULE_ONLY: _ClassVar[TimingMethod]
    TIMING_METHOD_BLOCKING_READBACK: _ClassVar[TimingMethod]
    TIMING_METHOD_ASYNC_READBACK: _ClassVar[TimingMethod]
    TIMING_METHOD_SYNCHRONOUS: _ClassVar[TimingMethod]
ENGINE_KIND_UNSPECIFIED: EngineKind
ENGINE_KIND_BARRACUDA: EngineKind
ENGINE_KIND_SENTIS: EngineKind
ENGINE_KIND_REFERENCE: EngineKind
PIXEL_FORMAT_UNSPECIFIED: PixelFormat
PIXEL_FORMAT_RGB8: PixelFormat
PIXEL_FORMAT_RGBA8: PixelFormat
TIMING_METHOD_UNSPECIFIED: TimingMethod
TIMING_METHOD_SCHEDULE_ONLY: TimingMethod
TIMING_METHOD_BLOCKING_READBACK: TimingMethod
TIMING_METHOD_ASYNC_READBACK: TimingMethod
TIMING_METHOD_SYNCHRONOUS: TimingMethod

class Image(_message.Message):
    __slots__ = ("width", "height", "pixel_format", "row_stride", "pixels")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PIXEL_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ROW_STRIDE_FIELD_NUMBER: _ClassVar[int]
    PIXELS_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    pixel_format: PixelFormat
    row_stride: int
    pixels: bytes
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., pixel_format: _Optional[_Union[PixelFormat, str]] = ..., row_stride: _Optional[int] = ..., pixels: _Optional[bytes] = ...) -> None: ...

class ModelRef(_message.Message):
    __slots__ = ("model_id", "version", "sha256")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    version: int
    sha256: str
    def __init__(self, model_id: _Optional[str] = ..., version: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...
