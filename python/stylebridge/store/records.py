"""Rows of the store as frozen dataclasses: what the server writes and the CLI reads."""

from __future__ import annotations

from dataclasses import dataclass

from stylebridge.store_condition import describe_store

# Session states the server writes. A session still "connected" or "streaming" when the
# server starts was cut off by a crash and is marked "interrupted".
STATE_CONNECTED = "connected"
STATE_STREAMING = "streaming"
STATE_ENDED = "ended"
STATE_INTERRUPTED = "interrupted"
OPEN_STATES = (STATE_CONNECTED, STATE_STREAMING)


@dataclass(frozen=True)
class SessionRecord:
    """One client connection, from Hello to the end of its stream."""

    session_id: str
    started_at_us: int
    ended_at_us: int | None = None
    state: str = STATE_CONNECTED
    engine: str = ""
    engine_version: str = ""
    unity_version: str = ""
    worker_type: str = ""
    gpu: str = ""
    platform: str = ""
    client_name: str = ""
    protocol_version: int = 0
    peer: str = ""
    python_backend: str = ""
    python_model_id: str = ""
    # The server instance (``servers.instance_id``) that owns the session; the store
    # fills it in. Start-up marks interrupted only the open sessions of servers gone.
    server_id: str = ""


@dataclass(frozen=True)
class FrameRecord:
    """One frame the client sent, written once when its result (or drop) is known.

    Every FrameUp gets exactly one outcome, so one row per frame written at that
    moment needs no update: ``status`` says which outcome (e.g. "ok", "dropped",
    "failed"), and the Python columns stay NULL for frames Python never ran.
    """

    session_id: str
    sequence: int
    received_at_us: int
    status: str
    capture_time_us: int = 0
    width: int = 0
    height: int = 0
    pixel_format: str = ""
    engine_model_id: str = ""
    engine_ms: float | None = None
    engine_timing_method: str | None = None
    python_ms: float | None = None
    python_model_id: str = ""
    python_backend: str = ""
    queue_ms: float | None = None
    parity_psnr_db: float | None = None


# Results of a swap, as the store names them (control.proto SwapResult, lower case).
SWAP_ACTIVE = "active"
SWAP_ROLLED_BACK = "rolled_back"
SWAP_REFUSED = "refused"
SWAP_TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class SwapRecord:
    """One model push to one session (or its refusal), written once its result is known.

    ``trigger`` says what started it ("swap", "watch", "join"); the three client timings
    come from the client's ModelAck and stay None when it never answered.
    """

    push_id: str
    session_id: str
    requested_at_us: int
    to_model_id: str
    result: str
    completed_at_us: int | None = None
    trigger: str = ""
    from_model_id: str = ""
    from_version: int = 0
    from_sha256: str = ""
    to_version: int = 0
    to_sha256: str = ""
    error: str = ""
    push_ms: float | None = None
    import_ms: float | None = None
    warmup_ms: float | None = None
    first_inference_ms: float | None = None
    first_sequence: int | None = None


@dataclass(frozen=True)
class WriteStats:
    """What the writer thread has done so far; ``dropped`` writes never reached SQLite."""

    enqueued: int
    committed: int
    dropped: int
    failed: int


@dataclass(frozen=True)
class ServerRecord:
    """One server process that wrote to the store (a row of ``servers``).

    ``heartbeat_us`` is refreshed every ``heartbeat_s`` by the server's writer thread;
    ``stopped_at_us`` is set by a clean stop. ``host`` names the machine and its pid
    namespace, so that a pid is only checked where it means the same process.
    """

    instance_id: str
    pid: int
    host: str
    started_at_us: int
    heartbeat_us: int
    heartbeat_s: float
    stopped_at_us: int | None = None


@dataclass(frozen=True)
class StoreGap:
    """A stretch of time the store could not write (disk full, read-only, I/O error),
    recorded once writing works again: what was lost is counted, never silent."""

    server_id: str
    started_at_us: int
    ended_at_us: int
    reason: str
    lost_writes: int


@dataclass(frozen=True)
class StoreHealth:
    """Whether the store is writing now, and what it could not store so far.

    ``ok`` is False from the first failed write of a store-wide condition (SQLite's
    ``database or disk is full``, ``attempt to write a readonly database``, I/O errors)
    until a write commits again; ``error`` is SQLite's reason for it.
    """

    path: str
    ok: bool
    error: str
    failing_since_us: int | None
    # Writes that never reached the file: failed (SQLite refused) plus dropped (queue full).
    lost_writes: int
    stats: WriteStats

    def describe(self) -> str:
        """One line for tables and logs."""
        return describe_store(self.path, self.ok, self.error, self.lost_writes)
