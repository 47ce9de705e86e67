"""The bridge server: builds, starts and stops the grpc.aio server and what it owns.

``BridgeServer`` is an async context manager owning, in order of start: the store,
the Python backends (in the inference thread pool), and the gRPC server with the
Bridge and Control services. Closing undoes them in reverse: stop accepting RPCs and
let streams finish for ``grace_s``, end open sessions as interrupted, wait for running
inference, close the backends, flush and close the store. ``close`` is safe twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path

import grpc
import grpc.aio

from stylebridge.bridge.control.servicer import ControlServicer, add_control_servicer
from stylebridge.bridge.core.sessions import SessionRegistry
from stylebridge.bridge.frames.runner import BackendFactory, InferenceRunner
from stylebridge.bridge.frames.servicer import BridgeDeps, BridgeServicer, add_bridge_servicer
from stylebridge.bridge.serving.interceptors import ErrorInterceptor, TokenInterceptor
from stylebridge.bridge.swaps.catalog_entries import RegistryUpdate
from stylebridge.bridge.swaps.following import ModelBackends
from stylebridge.bridge.swaps.push import PushManager
from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.bridge.swaps.swap_domain import ChunkTransform
from stylebridge.bridge.swaps.validation import Validator
from stylebridge.bridge.swaps.watcher import CatalogWatcher
from stylebridge.config import ServerConfig, format_address
from stylebridge.errors import InvalidInputError, StateError
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.protocol import ModelRef, SessionState
from stylebridge.store import Store

_log = logging.getLogger(__name__)

# Room for the non-pixel fields of a message on top of its pixel bytes.
_MESSAGE_MARGIN_BYTES = 1024 * 1024
# How long close() waits for frame streams to run their clean-up after the grace period.
_STREAM_CLEANUP_S = 5.0


def grpc_server_options(config: ServerConfig) -> list[tuple[str, int]]:
    """Channel options of the server, derived from its limits."""
    limits = config.limits
    # A FrameUp carries a frame and, now and then, the engine's output of it.
    receive = 2 * limits.max_frame_bytes + _MESSAGE_MARGIN_BYTES
    send = max(limits.max_frame_bytes, limits.model_chunk_bytes) + _MESSAGE_MARGIN_BYTES
    return [
        ("grpc.max_receive_message_length", receive),
        ("grpc.max_send_message_length", send),
        # Two servers on one port would split the clients between them silently.
        ("grpc.so_reuseport", 0),
    ]


def _bind(server: grpc.aio.Server, config: ServerConfig) -> int:
    """Add the listening port, with TLS when the config has a certificate; the port bound."""
    if config.tls is None:
        return server.add_insecure_port(config.address)
    credentials = grpc.ssl_server_credentials(
        [(config.tls.private_key.get_secret_value(), config.tls.certificate_chain)]
    )
    return server.add_secure_port(config.address, credentials)


def default_backend_factory(config: ServerConfig) -> BackendFactory | None:
    """The backend the config asks for, as a factory; None without Python inference."""
    if not config.python_inference:
        return None
    from stylebridge.inference.factory import create_backend

    model, kind = config.model, config.backend
    if kind is BackendKind.AUTO and model is not None:
        from stylebridge.inference.auto import auto_factory

        return auto_factory(model)
    return lambda: create_backend(model, kind)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class BridgeServer:
    """The bridge's gRPC server and everything it owns.

    Pass ``backend`` (one instance, used by one worker at a time) or
    ``backend_factory`` (called once per inference worker) to override what
    ``config`` asks for; tests inject slow or failing backends this way.
    """

    def __init__(
        self,
        config: ServerConfig,
        *,
        backend: InferenceBackend | None = None,
        backend_factory: BackendFactory | None = None,
        chunk_transform: ChunkTransform | None = None,
    ) -> None:
        if backend is not None and backend_factory is not None:
            raise InvalidInputError("pass either backend or backend_factory, not both")
        self._config = config
        self._backend = backend
        self._factory = backend_factory
        self._registry = SessionRegistry()
        self._exit = contextlib.AsyncExitStack()
        self._server: grpc.aio.Server | None = None
        self._deps: BridgeDeps | None = None
        self._chunk_transform = chunk_transform
        self._pushes: PushManager | None = None
        self._watcher: CatalogWatcher | None = None
        self._port: int | None = None
        self._started = False
        self._closed = False

    # --- properties -------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port bound (the ephemeral one when the config says 0)."""
        if self._port is None:
            raise StateError("the server has not started; use `async with BridgeServer(...)`")
        return self._port

    @property
    def address(self) -> str:
        return format_address(self._config.host, self.port)

    @property
    def config(self) -> ServerConfig:
        return self._config

    @property
    def sessions(self) -> SessionRegistry:
        return self._registry

    @property
    def store(self) -> Store:
        """The server's store (its ``health`` says whether frames are being stored)."""
        if self._deps is None:
            raise StateError("the server has not started; use `async with BridgeServer(...)`")
        return self._deps.store

    @property
    def python_backend(self) -> str:
        """Backend description, or "none" when the server only records frames."""
        return self._deps.python_backend if self._deps else "none"

    @property
    def backend_choice(self) -> str:
        """Why ``--backend auto`` chose the backend it did; empty without an auto choice."""
        from stylebridge.inference.auto import AutoBackend

        runner = self._deps.runner if self._deps else None
        backend = runner.primary_backend if runner is not None else None
        return backend.choice.reason if isinstance(backend, AutoBackend) else ""

    @property
    def python_model(self) -> ModelRef:
        return self._deps.python_model if self._deps else ModelRef()

    @property
    def pushes(self) -> PushManager:
        """Model pushes and the registry; StateError when the server has no catalog."""
        if self._pushes is None:
            raise StateError("this server has no catalog: set ServerConfig.catalog")
        return self._pushes

    # --- life cycle -------------------------------------------------------------

    async def __aenter__(self) -> BridgeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Open the store, load the backends, bind and start serving."""
        if self._started:
            raise StateError("the server was already started; create a new BridgeServer")
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.close()
            raise

    async def _start(self) -> None:
        config = self._config
        password = config.store_password
        store = await asyncio.to_thread(
            Store, config.store, password=None if password is None else password.get_secret_value()
        )
        self._exit.push_async_callback(asyncio.to_thread, store.close)
        interrupted = await asyncio.to_thread(store.mark_interrupted_open_sessions)
        if interrupted:
            _log.info(
                "store: %d sessions left open by an earlier server marked interrupted", interrupted
            )
        runner = await self._build_runner()
        if runner is not None:
            self._exit.push_async_callback(asyncio.to_thread, runner.close)
        sha256 = ""
        if config.model is not None and self._backend is None and self._factory is None:
            sha256 = await asyncio.to_thread(_sha256_of, config.model)
        pushes = await self._start_pushes(store, runner)
        deps = BridgeDeps(
            registry=self._registry,
            store=store,
            limits=config.limits,
            runner=runner,
            python_model=ModelRef(model_id=runner.model_id, sha256=sha256)
            if runner
            else ModelRef(),
            python_backend=runner.backend_name if runner else "none",
            pushes=pushes,
        )
        self._deps = deps
        interceptors: list[grpc.aio.ServerInterceptor] = [ErrorInterceptor()]
        if config.token is not None:
            interceptors.append(TokenInterceptor(config.token.get_secret_value()))
        server = grpc.aio.server(options=grpc_server_options(config), interceptors=interceptors)
        add_bridge_servicer(BridgeServicer(deps), server)
        add_control_servicer(ControlServicer(self._registry, pushes, lambda: store.health), server)
        address = config.address
        try:
            self._port = _bind(server, config)
        except RuntimeError as exc:
            raise StateError(
                f"cannot listen on {address}: {exc}; is another server using the port? "
                "pick another with --port (0 picks a free one)"
            ) from exc
        self._server = server
        await server.start()
        if pushes is not None:
            self._watcher = CatalogWatcher(
                pushes.registry, self._on_catalog_update, settle_s=config.settle_s
            )
            self._exit.push_async_callback(self._watcher.close)
            await self._watcher.start()
        _log.info(
            "bridge listening on %s (tls %s, token %s; python: %s, model %s)",
            self.address,
            "on" if config.tls is not None else "off",
            "required" if config.token is not None else "not required",
            deps.python_backend,
            deps.python_model.model_id or "-",
        )
        if config.exposed and config.tls is None:
            _log.warning(
                "%s is reachable from other machines without TLS: the token and the frames "
                "travel in clear text; pass --tls-cert and --tls-key",
                self.address,
            )

    async def _start_pushes(
        self, store: Store, runner: InferenceRunner | None
    ) -> PushManager | None:
        """The registry, validator and push manager when the config names a catalog."""
        config = self._config
        if config.catalog is None:
            return None
        limits = config.limits
        registry = ModelRegistry(config.catalog, max_model_bytes=limits.max_model_bytes)
        backends = None
        if runner is not None:
            from stylebridge.inference.auto import followed_kind

            kind, precision = followed_kind(runner.primary_backend, config.backend)
            if self._backend is not None:
                kind, precision = BackendKind.IDENTITY, "f32"
            backends = ModelBackends(registry, kind, runner.model_id, precision=precision)
            runner.models = backends
        pushes = PushManager(
            registry=registry,
            sessions=self._registry,
            store=store,
            validator=Validator(),
            server_max_model_bytes=limits.max_model_bytes,
            chunk_bytes=limits.model_chunk_bytes,
            ack_timeout_s=config.swap_ack_timeout_s,
            backends=backends,
            chunk_transform=self._chunk_transform,
        )
        self._exit.push_async_callback(pushes.close)
        self._pushes = pushes
        return pushes

    async def _on_catalog_update(self, update: RegistryUpdate) -> None:
        """A catalog file completed: a new version goes to the sessions that follow."""
        if self._pushes is None:
            return
        if update.is_new_version and update.model is not None:
            # In the background: pushes wait for acks, and the watcher must go on.
            self._pushes.spawn(self._pushes.on_model_complete(update.model))
        elif update.refused is not None:
            self._pushes.on_file_refused(update.refused)

    async def _build_runner(self) -> InferenceRunner | None:
        limits = self._config.limits
        if self._backend is not None:
            return InferenceRunner([self._backend], workers=1)
        factory = self._factory or default_backend_factory(self._config)
        if factory is None:
            return None
        backends: list[InferenceBackend] = []
        try:
            for _ in range(limits.inference_workers):
                backends.append(await asyncio.to_thread(factory))
        except BaseException:
            for backend in backends:
                backend.close()
            raise
        return InferenceRunner(backends, workers=limits.inference_workers)

    async def wait_for_termination(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    async def close(self, grace: float | None = None) -> None:
        """Stop serving and release everything; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        grace_s = self._config.grace_s if grace is None else grace
        if self._deps is not None:
            self._deps.stopping.set()
        try:
            if self._server is not None:
                await self._server.stop(grace_s)
                await self._wait_streams_closed()
        finally:
            if self._deps is not None:
                for session in self._registry.open_sessions():
                    self._deps.end_session(session, SessionState.INTERRUPTED)
            await self._exit.aclose()

    async def _wait_streams_closed(self) -> None:
        """Let cancelled frame streams finish their clean-up before the store closes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STREAM_CLEANUP_S
        while any(s.state is SessionState.STREAMING for s in self._registry):
            if loop.time() > deadline:
                _log.warning("frame streams still open after shutdown; ending them as interrupted")
                return
            await asyncio.sleep(0.01)


def run_server(
    config: ServerConfig,
    *,
    on_started: Callable[[BridgeServer], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly (the ``serve`` command)."""
    asyncio.run(_serve(config, on_started))


async def _serve(config: ServerConfig, on_started: Callable[[BridgeServer], None] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: no signal handlers
            loop.add_signal_handler(sig, stop.set)
    async with BridgeServer(config) as server:
        if on_started is not None:
            on_started(server)
        await stop.wait()
