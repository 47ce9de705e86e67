"""The bridge protocol as plain Python: the version check and the domain types.

Both sides of the bridge (``stylebridge.bridge`` and ``stylebridge.client``) import
this module and nothing here touches generated protobuf code: each side converts
between these types and the wire messages in its own ``convert`` module only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

from stylebridge import PROTOCOL_VERSION
from stylebridge.errors import InvalidInputError, ProtocolVersionError
from stylebridge.frames import PixelFormat
from stylebridge.timing import TimingSummary

__all__ = [
    "PROTOCOL_VERSION",
    "ClientCapabilities",
    "ClientEngine",
    "ClientInfo",
    "EngineCheck",
    "FrameStatus",
    "HelloReply",
    "HelloRequestInfo",
    "ModelInfo",
    "ModelList",
    "ModelRef",
    "ModelTimings",
    "ServerCapabilities",
    "ServerLimits",
    "SessionState",
    "SessionStats",
    "SessionSummary",
    "SwapOutcome",
    "SwapResult",
    "TimingMethod",
    "check_protocol_version",
    "parse_wire_enum",
]


def check_protocol_version(client: int, server: int) -> None:
    """Accept a peer only when both sides speak the same protocol version.

    The version is a single major number: any difference means the messages may
    not mean the same thing, so it is refused rather than guessed at. Raises
    ProtocolVersionError (FAILED_PRECONDITION) naming both versions.
    """
    if client == 0:
        raise ProtocolVersionError(
            f"the client sent no protocol_version (0); this server speaks version {server}: "
            "update the client so that it sends its PROTOCOL_VERSION in Hello"
        )
    if client != server:
        older = "client" if client < server else "server"
        raise ProtocolVersionError(
            f"protocol version mismatch: client speaks {client}, server speaks {server}; "
            f"update the {older} so that both speak version {max(client, server)}"
        )


class _WireEnum(IntEnum):
    """An enum whose values are the proto enum numbers (0, "not set", is never a member)."""

    @property
    def label(self) -> str:
        """Lower-case name, as the store and tables show it."""
        return self.name.lower()


_E = TypeVar("_E", bound=_WireEnum)


def parse_wire_enum(cls: type[_E], value: int, what: str) -> _E:
    """The member of ``cls`` numbered ``value``; InvalidInputError for 0 or an unknown number."""
    try:
        return cls(value)
    except ValueError:
        known = ", ".join(f"{m.value} ({m.label})" for m in cls)
        raise InvalidInputError(
            f"{what} is {'not set' if value == 0 else f'unknown ({value})'}; send one of {known}"
        ) from None


class ClientEngine(_WireEnum):
    """Which inference engine a client runs (``EngineKind`` on the wire)."""

    BARRACUDA = 1
    SENTIS = 2
    REFERENCE = 3


class TimingMethod(_WireEnum):
    """How an engine time was measured; never compare timings across methods blindly."""

    SCHEDULE_ONLY = 1
    BLOCKING_READBACK = 2
    ASYNC_READBACK = 3
    SYNCHRONOUS = 4


class FrameStatus(_WireEnum):
    """What the server did with one frame."""

    PROCESSED = 1
    DROPPED = 2
    RECORDED = 3
    FAILED = 4
    # The frame broke a protocol rule; nothing ran on it and the stream went on.
    REJECTED = 5


class SessionState(_WireEnum):
    """Life of a session: Hello -> stream -> closed (normal) or interrupted."""

    CONNECTED = 1
    STREAMING = 2
    CLOSED = 3
    INTERRUPTED = 4

    @property
    def ended(self) -> bool:
        return self in (SessionState.CLOSED, SessionState.INTERRUPTED)


@dataclass(frozen=True)
class ModelRef:
    """A model as both sides name it (version 0 and empty sha256 mean unknown)."""

    model_id: str = ""
    version: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class ClientInfo:
    """Who the client is, as it said in Hello."""

    engine: ClientEngine
    engine_version: str = ""
    unity_version: str = ""
    worker_type: str = ""
    gpu: str = ""
    platform: str = ""
    client_name: str = ""


@dataclass(frozen=True)
class ClientCapabilities:
    """What the client can do, as it said in Hello."""

    pixel_formats: tuple[PixelFormat, ...] = (PixelFormat.RGB8,)
    accepts_model_push: bool = False
    sends_engine_output: bool = False
    wants_stylized_pixels: bool = True
    max_model_bytes: int = 0


@dataclass(frozen=True)
class HelloRequestInfo:
    """A client's Hello."""

    protocol_version: int
    client: ClientInfo
    capabilities: ClientCapabilities = field(default_factory=ClientCapabilities)
    active_model: ModelRef = field(default_factory=ModelRef)


@dataclass(frozen=True)
class ServerLimits:
    """Limits the server enforces, as announced in HelloResponse."""

    max_frame_bytes: int
    max_model_bytes: int
    max_width: int
    max_height: int
    model_chunk_bytes: int
    frame_queue_depth: int


@dataclass(frozen=True)
class ServerCapabilities:
    """What the server does with frames."""

    python_inference: bool
    python_backend: str
    model_push: bool = False
    parity: bool = True


@dataclass(frozen=True)
class HelloReply:
    """The server's answer to Hello."""

    protocol_version: int
    session_id: str
    limits: ServerLimits
    capabilities: ServerCapabilities
    python_model: ModelRef
    server_version: str


class SwapResult(_WireEnum):
    """How one push to one session ended (``SwapResult`` on the wire)."""

    ACTIVE = 1
    ROLLED_BACK = 2
    REFUSED = 3
    TIMED_OUT = 4
    UNCHANGED = 5
    NOT_CONNECTED = 6


@dataclass(frozen=True)
class SwapOutcome:
    """One push of a model to one session (or why there was none), with its timings."""

    session_id: str
    result: SwapResult
    to_model: ModelRef
    from_model: ModelRef = field(default_factory=ModelRef)
    push_id: str = ""
    reason: str = ""
    push_ms: float = 0.0
    import_ms: float = 0.0
    warmup_ms: float = 0.0
    first_inference_ms: float = 0.0
    first_sequence: int = 0
    requested_at_us: int = 0
    completed_at_us: int = 0
    trigger: str = ""


@dataclass(frozen=True)
class EngineCheck:
    """One engine's verdict on one registry model (``stylebridge.engines.Verdict`` values)."""

    engine: str
    verdict: str
    reason: str = ""


@dataclass(frozen=True)
class ModelInfo:
    """One model of the server's registry (``valid`` False: the file was refused)."""

    model: ModelRef
    file: str
    size_bytes: int
    valid: bool
    error: str = ""
    engines: tuple[EngineCheck, ...] = ()
    opset: int = 0
    input_range: float = 0.0
    registered_at_us: int = 0
    recipe: str = ""
    # Deleted from the catalog (sessions running it keep it).
    removed: bool = False


@dataclass(frozen=True)
class ModelList:
    """The server's registry: its models, the watched folder, the current model."""

    models: tuple[ModelInfo, ...]
    catalog: str
    current_model_id: str
    # The watched folder is gone; the server picks it up again when it returns.
    catalog_missing: bool = False


@dataclass(frozen=True)
class ModelTimings:
    """Engine and Python times of one session's frames that named one model."""

    model_id: str
    engine: TimingSummary
    python: TimingSummary


@dataclass(frozen=True)
class SessionSummary:
    """One line of ``ListSessions``."""

    session_id: str
    state: SessionState
    engine: ClientEngine
    engine_version: str
    worker_type: str
    client_name: str
    engine_model_id: str
    python_model_id: str
    started_at_us: int
    peer: str
    # The model the client acknowledged last (or named in Hello), its latest swap,
    # whether it opted out of automatic pushes, and whether it can receive any.
    active_model: ModelRef = field(default_factory=ModelRef)
    last_swap: SwapOutcome | None = None
    pinned: bool = False
    models_open: bool = False


@dataclass(frozen=True)
class SessionStats:
    """A session's counters and timing distributions at one moment."""

    session: SessionSummary
    frames_received: int
    frames_processed: int
    frames_dropped: int
    frames_failed: int
    frames_rejected: int
    engine: TimingSummary
    engine_timing_method: TimingMethod | None
    python: TimingSummary
    queue: TimingSummary
    receive_fps: float
    parity_count: int
    parity_psnr_mean_db: float
    parity_psnr_last_db: float
    python_backend: str
    per_model: tuple[ModelTimings, ...] = ()
