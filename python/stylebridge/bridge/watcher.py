"""Watch the catalog folder and hand over each model file once it is complete.

A file counts only when it is complete. Writers differ:

* **temp file, then rename** (``stylebridge optimize``, most tools): the temporary
  names (``*.tmp``, ``.*``, ``*~``, ``*.part``, ``*.crdownload``) are ignored and the
  file appears whole under its final name;
* **editors and copy tools writing in place**, and **slow copies**: the file is taken
  only once its size and mtime have stood still for ``settle_s`` (a copy in progress
  keeps moving its mtime) *and* it loads as an ONNX style model. A file that stands
  still half written is reported as refused (it does not parse) and taken when the
  rest arrives, which changes it again.

One write can raise several events (created, modified...); the registry dedupes by
sha256, so one write makes at most one new version and one push.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from watchfiles import Change, awatch

from stylebridge.bridge.registry import ModelRegistry, RegistryUpdate, is_model_file
from stylebridge.errors import NotFoundError

_log = logging.getLogger(__name__)

# Milliseconds watchfiles waits for more changes before yielding a batch.
_STEP_MS = 5
_MAX_BATCH_MS = 500

OnUpdate = Callable[[RegistryUpdate], Awaitable[None]]


class CatalogWatcher:
    """Feeds complete catalog files to the registry; ``on_update`` hears every result."""

    def __init__(
        self,
        registry: ModelRegistry,
        on_update: OnUpdate,
        *,
        settle_s: float = 0.1,
        force_polling: bool | None = None,
    ) -> None:
        if registry.catalog is None:
            raise NotFoundError("the registry has no catalog folder to watch")
        self._registry = registry
        self._folder = registry.catalog
        self._on_update = on_update
        self._settle_s = settle_s
        self._force_polling = force_polling
        self._pending: dict[Path, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        # One thread reads and loads every file: loads are serialized anyway (a catalog
        # changes a file at a time), and one thread keeps the multi-MB buffers of each
        # load in one malloc arena instead of spreading them over the default pool's.
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-load")

    async def start(self) -> None:
        """Register the files already there (no pushes: none of them is news), then watch
        for new ones in the background."""
        self._folder.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        updates = await loop.run_in_executor(self._loader, self._registry.scan)
        _log.info("catalog %s: %d models at start", self._folder, len(updates))
        self._task = asyncio.create_task(self._watch(), name="catalog-watch")
        # Let the watcher attach before callers write files.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5.0)

    async def close(self) -> None:
        """Stop watching; settle checks in progress are cancelled. Safe to call twice."""
        self._stop.set()
        tasks = list(self._pending.values())
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pending.clear()
        self._loader.shutdown(wait=False, cancel_futures=True)

    async def _watch(self) -> None:
        watch = awatch(
            self._folder,
            watch_filter=self._wanted,
            debounce=_MAX_BATCH_MS,
            step=_STEP_MS,
            stop_event=self._stop,
            recursive=False,
            force_polling=self._force_polling,
            yield_on_timeout=True,
            rust_timeout=200,
        )
        self._ready.set()
        async for changes in watch:
            for change, name in changes:
                if change is Change.deleted:
                    continue
                self._schedule(Path(name))

    def _wanted(self, change: Change, path: str) -> bool:
        return Path(path).parent == self._folder and is_model_file(Path(path).name)

    def _schedule(self, path: Path) -> None:
        """(Re)start the settle check of ``path``: the newest event wins."""
        old = self._pending.pop(path, None)
        if old is not None:
            old.cancel()
        task = asyncio.create_task(self._settle_then_add(path), name=f"settle {path.name}")
        self._pending[path] = task
        task.add_done_callback(lambda t, p=path: self._forget(p, t))

    def _forget(self, path: Path, task: asyncio.Task[None]) -> None:
        if self._pending.get(path) is task:
            del self._pending[path]
        if not task.cancelled() and task.exception() is not None:
            _log.error("watching %s failed", path.name, exc_info=task.exception())

    async def _settle_then_add(self, path: Path) -> None:
        """Wait until ``path`` stood still for ``settle_s``, then register it."""
        while True:
            before = _stat(path)
            if before is None:
                return  # gone (renamed away or deleted)
            quiet_for = time.time() - before[1] / 1e9
            if quiet_for < self._settle_s:
                await asyncio.sleep(self._settle_s - quiet_for)
                continue
            loop = asyncio.get_running_loop()
            try:
                update = await loop.run_in_executor(self._loader, self._registry.add_file, path)
            except NotFoundError:
                return
            if _stat(path) != before:
                continue  # written to while it was read: wait for it to settle again
            await self._notify(update)
            return

    async def _notify(self, update: RegistryUpdate) -> None:
        try:
            await self._on_update(update)
        except Exception:  # one failing listener must not stop the watcher
            _log.exception("handling %s failed", update.model_id)


def _stat(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns), or None when the file is gone."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns
