"""Launch a player (or wait for the editor) through ML-Agents' UnityEnvironment, with our channels.

Everything mlagents-envs lives here and in nothing else of the harness: the import
hook runs first (``ensure_mlagents_importable``), then UnityEnvironment is used as
designed, with two adjustments made by subclassing its documented seams:

* the gRPC server listens on ``localhost`` only (ML-Agents binds every interface), and
  accepts messages up to 64 MiB (parity frames at 720p exceed gRPC's 4 MiB default);
* the wait for the player polls every 0.5 s at most (ML-Agents polls every
  ``timeout / 10`` seconds, which busy-loops for timeouts under 10 s), so a crashed
  player is noticed within half a second.

ML-Agents' exceptions become PlayerError / PlayerTimeoutError with messages that say
what to check, including the tail of the player's log.
"""

from __future__ import annotations

import logging
import socket
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from stylebridge.harness.errors import PlayerError, PlayerTimeoutError
from stylebridge.harness.mlagents_compat import ensure_mlagents_importable
from stylebridge.harness.protocol import PERF_CHANNEL_ID, PERF_PROTOCOL_VERSION

ensure_mlagents_importable()

import grpc  # noqa: E402
from google.protobuf.message import DecodeError  # noqa: E402
from mlagents_envs.communicator_objects.unity_to_external_pb2_grpc import (  # noqa: E402
    add_UnityToExternalProtoServicer_to_server,
)
from mlagents_envs.environment import UnityEnvironment  # noqa: E402
from mlagents_envs.exception import (  # noqa: E402
    UnityCommunicatorStoppedException,
    UnityEnvironmentException,
    UnityException,
    UnityTimeOutException,
    UnityWorkerInUseException,
)
from mlagents_envs.rpc_communicator import (  # noqa: E402
    RpcCommunicator,
    UnityToExternalServicerImplementation,
)
from mlagents_envs.side_channel.engine_configuration_channel import (  # noqa: E402
    EngineConfigurationChannel,
)
from mlagents_envs.side_channel.incoming_message import IncomingMessage  # noqa: E402
from mlagents_envs.side_channel.outgoing_message import OutgoingMessage  # noqa: E402
from mlagents_envs.side_channel.side_channel import SideChannel  # noqa: E402

from stylebridge.v1 import perf_pb2  # noqa: E402

_log = logging.getLogger(__name__)

EDITOR_PORT = UnityEnvironment.DEFAULT_EDITOR_PORT
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_POLL_S = 0.5
_LOG_TAIL_LINES = 15


class PerfSideChannel(SideChannel):
    """The StyleBridge perf channel: PerfToPlayer out, PerfFromPlayer in (perf.proto)."""

    def __init__(self) -> None:
        super().__init__(PERF_CHANNEL_ID)
        self._inbox: list[perf_pb2.PerfFromPlayer] = []

    def on_message_received(self, msg: IncomingMessage) -> None:
        try:
            message = perf_pb2.PerfFromPlayer.FromString(msg.get_raw_bytes())
        except DecodeError as exc:
            raise PlayerError(
                f"the player sent a message on the perf channel {PERF_CHANNEL_ID} that is not "
                f"a stylebridge.v1.PerfFromPlayer: {exc}"
            ) from exc
        if message.protocol_version != PERF_PROTOCOL_VERSION:
            _log.warning(
                "player speaks perf protocol %d, not %d",
                message.protocol_version,
                PERF_PROTOCOL_VERSION,
            )
        self._inbox.append(message)

    def send(self, message: perf_pb2.PerfToPlayer) -> None:
        out = OutgoingMessage()
        out.set_raw_bytes(bytearray(message.SerializeToString()))
        self.queue_message_to_send(out)

    def take(self) -> list[perf_pb2.PerfFromPlayer]:
        received, self._inbox = self._inbox, []
        return received


class _Communicator(RpcCommunicator):
    def create_server(self) -> None:
        self.check_port(self.port)
        try:
            self.server = grpc.server(
                thread_pool=ThreadPoolExecutor(max_workers=4),
                options=(
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ),
            )
            self.unity_to_external = UnityToExternalServicerImplementation()
            add_UnityToExternalProtoServicer_to_server(self.unity_to_external, self.server)
            if not self.server.add_insecure_port(f"localhost:{self.port}"):
                raise RuntimeError(f"cannot bind localhost:{self.port}")
            self.server.start()
            self.is_open = True
        except Exception as exc:  # grpc raises RuntimeError or its own errors
            raise UnityWorkerInUseException(self.worker_id) from exc

    def poll_for_timeout(self, poll_callback=None) -> None:
        deadline = time.monotonic() + self.timeout_wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise UnityTimeOutException(f"no answer within {self.timeout_wait} s")
            if self.unity_to_external.parent_conn.poll(min(_POLL_S, left)):
                return
            if poll_callback:
                poll_callback()


class _Environment(UnityEnvironment):
    @staticmethod
    def _get_communicator(worker_id, base_port, timeout_wait):
        return _Communicator(worker_id, base_port, timeout_wait)

    def close_within(self, grace_s: float) -> None:
        """Close, killing the player if it has not quit after ``grace_s``."""
        self._close(grace_s)


@dataclass(frozen=True)
class LaunchConfig:
    """How to reach the player: an executable, or the editor when ``player`` is None."""

    player: Path | None = None
    # None: a free port for a player, 5004 (ML-Agents' editor port) for the editor.
    port: int | None = None
    timeout_s: float = 60.0
    no_graphics: bool = False
    extra_args: tuple[str, ...] = ()
    log_folder: Path | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PlayerSession:
    """A connected player with the engine-configuration and perf channels; a context manager."""

    def __init__(self, config: LaunchConfig) -> None:
        self.config = config
        self.engine_channel = EngineConfigurationChannel()
        self.perf_channel = PerfSideChannel()
        self.log_path: Path | None = None
        if config.player is not None and config.log_folder is not None:
            self.log_path = Path(config.log_folder).resolve() / "Player-0.log"
        port = config.port
        if port is None:
            port = free_port() if config.player is not None else EDITOR_PORT
        self.port = port
        if config.log_folder is not None:
            Path(config.log_folder).mkdir(parents=True, exist_ok=True)
        where = str(config.player) if config.player else f"the editor (Play) on port {port}"
        _log.info("launching %s, waiting up to %.0f s", where, config.timeout_s)
        try:
            with warnings.catch_warnings():
                # mlagents-envs compares versions with distutils' StrictVersion.
                warnings.filterwarnings("ignore", "distutils Version classes", DeprecationWarning)
                self._env: _Environment | None = self._launch(config, port)
        except UnityTimeOutException as exc:
            hint = (
                "check that the player build includes the ML-Agents Academy and starts "
                "without user interaction"
                if config.player
                else "press Play in the Unity editor, whose ML-Agents Academy connects to port "
                f"{port}"
            )
            raise PlayerTimeoutError(
                f"{where} did not connect within {config.timeout_s:g} s; {hint}{self.log_tail()}"
            ) from exc
        except UnityWorkerInUseException as exc:
            raise PlayerError(f"port {port} is in use; pass another --port") from exc
        except UnityException as exc:
            raise PlayerError(f"cannot start {where}: {exc}{self.log_tail()}") from exc

    def _launch(self, config: LaunchConfig, port: int) -> _Environment:
        return _Environment(
            file_name=str(config.player) if config.player is not None else None,
            base_port=port,
            no_graphics=config.no_graphics,
            timeout_wait=config.timeout_s,
            additional_args=list(config.extra_args),
            side_channels=[self.engine_channel, self.perf_channel],
            log_folder=str(Path(config.log_folder).resolve()) if config.log_folder else None,
        )

    def log_tail(self) -> str:
        """The last lines of the player's log, formatted for an error message ('' if none)."""
        if self.log_path is None or not self.log_path.is_file():
            return ""
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        tail = "\n  ".join(lines[-_LOG_TAIL_LINES:])
        return f"\nplayer log {self.log_path} ends with:\n  {tail}"

    def step(self) -> list[perf_pb2.PerfFromPlayer]:
        """One academy step; returns the perf messages the player sent in it."""
        if self._env is None:
            raise PlayerError("the player session is closed")
        try:
            self._env.step()
        except UnityTimeOutException as exc:
            raise PlayerTimeoutError(
                f"the player did not answer within {self.config.timeout_s:g} s "
                f"(hung, or a frame takes longer: raise --timeout){self.log_tail()}"
            ) from exc
        except (UnityCommunicatorStoppedException, UnityEnvironmentException) as exc:
            raise PlayerError(f"the player stopped: {exc}{self.log_tail()}") from exc
        except UnityException as exc:
            raise PlayerError(f"ML-Agents error: {exc}{self.log_tail()}") from exc
        return self.perf_channel.take()

    def close(self, grace_s: float = 10.0) -> None:
        """Tell the player to quit and stop the server; kills it after ``grace_s``. Idempotent."""
        env, self._env = self._env, None
        if env is not None:
            try:
                env.close_within(grace_s)
            except UnityException as exc:
                _log.warning("closing the environment: %s", exc)

    def __enter__(self) -> PlayerSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(grace_s=2.0 if exc is not None else 10.0)
