"""Load a catalog file as a pushed model, in this process or in a loader process.

``load_for_push`` is everything the registry needs from a file's bytes: the bytes a
client receives (external data from inside the catalog embedded) and how to feed the
model, after every check of ``onnx_model`` (parse, memory bound, ONNX checker, one image
in and out). Parsing a multi-megabyte ONNX file holds the GIL for tens of
milliseconds, which stalls a server's event loop (late frames); ``ProcessLoader`` runs
it in a separate process instead: one worker of a ``forkserver`` pool (a ``spawn`` pool
where there is no forkserver), created on first use, that imports no torch. A file
that crashes the parser (or exhausts memory) kills that worker, not the server: it
is tried once more in a fresh worker, then refused with a ModelLoadError.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from stylebridge.errors import ModelLoadError
from stylebridge.models.metadata import DEFAULT_PIXEL, PixelFormat
from stylebridge.models.onnx_model import embed_external_data, onnx_from_bytes

log = logging.getLogger(__name__)

# How often a loader worker checks that its server is still alive, seconds.
_PARENT_POLL_S = 1.0


@dataclass(frozen=True)
class PushFacts:
    """A loaded catalog file: what to push and how to feed it (picklable)."""

    # The bytes to push; None when they are the file's bytes unchanged (no copy back).
    push: bytes | None
    input_name: str
    output_name: str
    input_range: float
    opset: int
    fixed_size: tuple[int, int] | None
    # Channel order and value range: the server refuses non-RGB/offset formats to Unity.
    pixel: PixelFormat = DEFAULT_PIXEL


class PushLoader(Protocol):
    """Loads a catalog file's bytes as a pushed model: ``load_for_push`` (in this
    process) or a ``ProcessLoader`` (in a loader process)."""

    def __call__(
        self,
        data: bytes,
        folder: str,
        *,
        max_bytes: int,
        name: str,
        check_size: tuple[int, int] | None = None,
    ) -> PushFacts: ...


def load_for_push(
    data: bytes,
    folder: str,
    *,
    max_bytes: int,
    name: str,
    check_size: tuple[int, int] | None = None,
) -> PushFacts:
    """Check ``data`` (a file of ``folder``) as a client would load it.

    Raises whatever ``embed_external_data`` and ``onnx_from_bytes`` raise.
    """
    push = embed_external_data(data, Path(folder), max_bytes=max_bytes, name=name)
    loaded = onnx_from_bytes(push, max_bytes=max_bytes, name=name, check_size=check_size)
    return PushFacts(
        push=None if push is data else push,
        input_name=loaded.input_name,
        output_name=loaded.output_name,
        input_range=float(loaded.pixel.high),
        opset=loaded.opset,
        fixed_size=loaded.fixed_size,
        pixel=loaded.pixel,
    )


def _warm_up() -> None:
    """Nothing: submitted once so the worker has imported its modules before a file."""


def _exit_with(server_pid: int) -> None:
    """Worker initializer: exit once the server process is gone.

    A server killed outright (SIGKILL, an unhandled SIGTERM) never shuts its pool
    down, and a pool worker waits for work forever (it holds its own queue's pipe, so
    it never sees EOF); it would also keep the forkserver alive. So it watches."""
    import psutil

    try:
        server = psutil.Process(server_pid)
    except psutil.NoSuchProcess:
        os._exit(0)

    def watch() -> None:
        while True:
            time.sleep(_PARENT_POLL_S)
            try:
                gone = not server.is_running() or server.status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                gone = True
            if gone:
                os._exit(0)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


class ProcessLoader:
    """``load_for_push`` in one worker process; thread-safe; ``close`` is safe twice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._in_process = False
        self._closed = False

    def __call__(
        self,
        data: bytes,
        folder: str,
        *,
        max_bytes: int,
        name: str,
        check_size: tuple[int, int] | None = None,
    ) -> PushFacts:
        """Blocks the calling thread (not the GIL) until the worker answers. Where no
        child process can be started (a daemonic process, a sandbox), loads here."""
        job = partial(
            load_for_push, data, folder, max_bytes=max_bytes, name=name, check_size=check_size
        )
        # Two tries: the worker may have died before this load (killed, say); a file
        # that kills a fresh worker too is the file's fault.
        for attempt in range(2):
            future = self._submit(job)
            if future is None:
                return job()
            try:
                return future.result()
            except CancelledError as exc:
                raise ModelLoadError(f"loading {name} was cancelled (the server stops)") from exc
            except BrokenProcessPool as exc:
                self._discard()
                if attempt == 1:
                    raise ModelLoadError(
                        f"the model loader process died loading {name} twice (the file "
                        "crashes the ONNX parser or exhausts memory); the file is refused"
                    ) from exc
                log.warning("the model loader process died; loading %s again", name)
        raise AssertionError("unreachable")

    def warm_up(self) -> None:
        """Start the worker now (blocks until it is ready); later loads skip the start.

        Raises BrokenProcessPool / CancelledError when the worker dies or is closed."""
        future = self._submit(_warm_up)
        if future is not None:
            future.result()

    def _submit(self, job: Callable[[], object]) -> Future[Any] | None:
        """``job`` submitted to the worker; None when loads run in this process."""
        for _ in range(2):
            executor = self._executor()
            if executor is None:
                return None
            try:
                return executor.submit(job)
            except BrokenProcessPool:
                self._discard()  # the worker died since the last load: start a fresh one
            # A daemonic process may not have children (AssertionError); OSError: no fork.
            except (AssertionError, OSError) as exc:
                self._fall_back(exc)
                return None
        raise ModelLoadError("the model loader process cannot be started; see the log")

    def _executor(self) -> ProcessPoolExecutor | None:
        """The pool (started on first use); None when loads run in this process."""
        with self._lock:
            if self._closed:
                raise ModelLoadError("the model loader is closed (the server is stopping)")
            if self._in_process:
                return None
            if multiprocessing.current_process().daemon:
                self._in_process = True
                log.info("daemonic process: catalog files are parsed in this process")
                return None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=_context(),
                    initializer=_exit_with,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def _fall_back(self, exc: BaseException) -> None:
        log.warning("cannot start a model loader process (%s); parsing in this process", exc)
        with self._lock:
            self._in_process = True
        self._discard()

    def _discard(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _context() -> multiprocessing.context.BaseContext:
    """forkserver (its server process is started once, then forks cheap workers with
    this module imported); spawn where there is none. Never fork: the server has threads."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:
        return multiprocessing.get_context("spawn")
    context.set_forkserver_preload([__name__])
    return context
