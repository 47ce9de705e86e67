"""Configuration of the bridge server and the reference client.

Frozen pydantic models: the CLI turns arguments into one of these and hands it to
the library; tests build them directly. Rules that keep a deployment safe (a server
reachable from other machines needs a token) are enforced here, at construction.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from stylebridge.credentials import (
    TOKEN_ENV,
    ClientTls,
    ServerTls,
    check_exposed_token_length,
    check_token_text,
)
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError
from stylebridge.inference.base import BackendKind

DEFAULT_PORT = 50051
DEFAULT_STORE = Path("out/stylebridge.sqlite")

_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True when ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def format_address(host: str, port: int) -> str:
    """``host:port`` as gRPC wants it (IPv6 literals in brackets)."""
    name = host.strip()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return f"{name}:{port}"


class Limits(BaseModel):
    """Sizes the server enforces and announces in HelloResponse.limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Largest Image.pixels of one frame: a 1080p RGBA readback.
    max_frame_bytes: int = Field(default=1920 * 1080 * 4, gt=0)
    max_model_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    max_width: int = Field(default=4096, gt=0)
    max_height: int = Field(default=4096, gt=0)
    model_chunk_bytes: int = Field(default=1024 * 1024, gt=0)
    # Frames waiting for Python inference per stream; beyond it the newest wins.
    frame_queue_depth: int = Field(default=1, ge=1, le=64)
    # Threads running Python inference, shared by all sessions of the server.
    inference_workers: int = Field(default=1, ge=1, le=64)
    # Frames of one stream received but not yet answered before the server stops
    # reading that stream (back-pressure on a client that does not read answers).
    max_unanswered_frames: int = Field(default=32, ge=2, le=1024)


class ServerConfig(BaseModel):
    """Everything ``stylebridge serve`` needs.

    With no ``model`` and a backend other than ``identity`` the server runs without
    Python inference: frames are recorded and answered ``RECORDED``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    # 0 picks a free port (tests); the server reports the one it bound.
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    model: Path | None = None
    # auto: the fastest installed backend within parity, measured at load.
    backend: BackendKind = BackendKind.AUTO
    # An SQLite file, or a postgresql:// URL (stylebridge.store.location).
    store: Path | str = DEFAULT_STORE
    store_password: SecretStr | None = None
    limits: Limits = Field(default_factory=Limits)
    # Required unless host is a loopback address; sent as `authorization: Bearer`.
    # Comes from STYLEBRIDGE_TOKEN or --token-file (see credentials.resolve_token).
    token: SecretStr | None = None
    # Certificate and key (credentials.load_server_tls); None serves plain text.
    tls: ServerTls | None = None
    # Seconds in-flight RPCs get to finish when the server stops.
    grace_s: float = Field(default=2.0, ge=0.0)
    # Catalog folder watched for models to push (``stylebridge serve --catalog``).
    catalog: Path | None = None
    # A file in the catalog counts as complete once its size and mtime have been still
    # this long (and it loads as ONNX); covers editors writing in place and slow copies.
    settle_s: float = Field(default=0.1, ge=0.0, le=60.0)
    # How long a push waits for the client's ModelAck before it counts as timed out.
    swap_ack_timeout_s: float = Field(default=10.0, gt=0.0, le=600.0)

    @model_validator(mode="after")
    def _exposed_needs_token(self) -> ServerConfig:
        if self.token is not None:
            value = self.token.get_secret_value()
            if check_token_text(value, "of the server") != value:
                raise InvalidInputError("the server's token has surrounding whitespace; strip it")
        if is_loopback(self.host):
            return self
        if self.token is None:
            raise InvalidInputError(
                f"refusing to listen on {self.host!r} without a token: anything but a loopback "
                f"address is reachable from other machines; set {TOKEN_ENV} or pass "
                "--token-file, or listen on 127.0.0.1"
            )
        check_exposed_token_length(self.token.get_secret_value())
        return self

    @property
    def exposed(self) -> bool:
        """Whether other machines can reach the server (any non-loopback address)."""
        return not is_loopback(self.host)

    @property
    def address(self) -> str:
        return format_address(self.host, self.port)

    @property
    def python_inference(self) -> bool:
        """Whether frames are run through a Python model (else only recorded)."""
        return self.model is not None or self.backend is BackendKind.IDENTITY


class ClientConfig(BaseModel):
    """Everything the reference client needs (``stylebridge client``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server: str = f"127.0.0.1:{DEFAULT_PORT}"
    token: SecretStr | None = None
    # None speaks plain text; ClientTls.load(ca) speaks TLS trusting ``ca`` (or the system).
    tls: ClientTls | None = None
    # Frames per second to send; 0 sends as fast as the server answers.
    fps: float = Field(default=30.0, ge=0.0, le=1000.0)
    # Folder of images, one image or a video; None streams the built-in frames.
    frames: Path | None = None
    # (width, height) of the frames sent.
    size: tuple[int, int] = (640, 360)
    # Frames sent but not yet answered, at most: the client cannot flood the server.
    window: int = Field(default=4, ge=1, le=256)
    # Send the engine's own output every N frames for the parity check; 0 = never.
    parity_every: int = Field(default=10, ge=0)
    # Model the local stand-in engine runs; None runs no local inference.
    engine_model: Path | None = None
    engine_backend: BackendKind = BackendKind.AUTO
    # Ask for Python's stylized pixels back (else timings only, saving bandwidth).
    want_stylized: bool = True
    # Seconds for Hello to succeed, and for the last answers after the stream ends.
    connect_timeout_s: float = Field(default=10.0, gt=0.0)
    drain_timeout_s: float = Field(default=30.0, gt=0.0)
    # Take models the server pushes (live hot-swap); False never opens the Models stream.
    accept_pushes: bool = True
    # Opt out of automatic pushes (explicit swaps to this session still come).
    pinned: bool = False
    # Largest pushed model this client imports, in bytes; 0 = no limit of its own.
    max_model_bytes: int = Field(default=0, ge=0)
    # Warm-up runs of a pushed model at the stream size before it takes over.
    warmup_runs: int = Field(default=1, ge=1, le=20)
    # The engine Hello declares (e.g. Engine.BARRACUDA_3), so the server gates pushes
    # for it as for Unity; None declares the reference client (ONNX Runtime).
    engine: Engine | None = None
    # Package version sent with ``engine`` ("" = the newest of its family).
    engine_version: str = ""

    @model_validator(mode="after")
    def _valid_size(self) -> ClientConfig:
        width, height = self.size
        if width <= 0 or height <= 0:
            raise InvalidInputError(f"frame size {width}x{height} is invalid; use e.g. 640x360")
        return self
