"""Watch the catalog folder and hand over each model file once it is complete.

A file counts only when it is complete. Writers differ:

* **temp file, then rename** (``stylebridge optimize``, most tools): the temporary
  names (``*.tmp``, ``.*``, ``*~``, ``*.part``, ``*.crdownload``) are ignored and the
  file appears whole under its final name;
* **editors and copy tools writing in place**, and **slow copies**: on Linux the file
  is taken as soon as its writer closes it (inotify's IN_CLOSE_WRITE, through
  asyncinotify: watchfiles reports only added/modified/deleted), or moves it in
  (IN_MOVED_TO). Without those events (other systems, polling, a writer that never
  closes) it is taken once its size and mtime have stood still for ``settle_s`` (a copy
  in progress keeps moving its mtime). Either way it must load as an ONNX style model:
  a file closed or standing still half written is reported as refused (it does not
  parse) and taken when the rest arrives, which changes it again.

One write can raise several events (created, modified...); the registry dedupes by
sha256, so one write makes at most one new version and one push.

A file deleted (and still gone ``settle_s`` later) is marked removed in the registry.
The folder itself may be deleted while the server runs: watchfiles then goes on
quietly watching nothing (it never sees the folder come back), so every tick checks
the folder's identity (device, inode). When it is gone, the registry marks the
catalog missing (every model removed; sessions keep what they run), the folder is
polled for, and once it is back a new watch starts and every file in it goes through
the usual settle-then-add path (the same bytes as before restore the same version
and push nothing). Checkpoints (``.pth``) dropped in are ignored with a note: only
ONNX files are pushed.

Files of ``process_min_bytes`` or more (1 MiB) are parsed in a loader process
(``models.push_load.ProcessLoader``), not in this one: parsing a 6.7 MB model holds the
GIL for tens of milliseconds, long enough to delay frames of streaming sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path

from watchfiles import Change, awatch

from stylebridge.bridge.swaps.catalog_entries import RegistryUpdate
from stylebridge.bridge.swaps.catalog_names import ONNX_SUFFIX, is_ignored_name, is_model_file
from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.errors import NotFoundError, StyleBridgeError
from stylebridge.models.push_load import ProcessLoader

_log = logging.getLogger(__name__)

# Milliseconds watchfiles waits for more changes before yielding a batch.
_STEP_MS = 5
_MAX_BATCH_MS = 500
# How often a missing catalog folder is looked for, seconds.
_POLL_MISSING_S = 0.2
_CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt")
# Files at least this big are parsed in the loader process (see ``CatalogWatcher``).
PROCESS_MIN_BYTES = 1 << 20

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
        process_min_bytes: int | None = PROCESS_MIN_BYTES,
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
        # Big files that complete while the server runs are parsed in a loader process
        # (started on the first): parsing megabytes here would hold the GIL for tens of
        # milliseconds and stall streaming sessions. None: never.
        self._process_min_bytes = process_min_bytes
        self._process = ProcessLoader() if process_min_bytes is not None else None
        # Set when the folder came back: the next watch round rescans it.
        self._rescan = False
        self._noted: set[str] = set()
        # (size, mtime) of each file when its writer closed it: watchfiles' events for
        # that same write, arriving after, must not restart the settle wait.
        self._closed: dict[Path, tuple[int, int]] = {}
        self._use_close_events = sys.platform == "linux" and not force_polling

    async def start(self) -> None:
        """Register the files already there (no pushes: none of them is news), then watch
        for new ones in the background."""
        self._folder.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        updates = await loop.run_in_executor(self._loader, self._registry.scan)
        _log.info("catalog %s: %d models at start", self._folder, len(updates))
        big = self._process_min_bytes is not None and any(
            m.size_bytes >= self._process_min_bytes for m in self._registry.models()
        )
        if big:
            # A catalog of big models: start the loader process now, in the background.
            self._loader.submit(self._warm_up)
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
        if self._process is not None:
            await asyncio.to_thread(self._process.close)

    async def _watch(self) -> None:
        """Watch rounds, one per life of the folder, until ``close``."""
        known = _identity(self._folder)
        while not self._stop.is_set():
            identity = _identity(self._folder)
            if identity is None:
                self._ready.set()
                await self._wait_for_folder()
                continue
            if identity != known:
                if not self._rescan:  # replaced in one go (renamed over): old files are gone
                    await self._lose_all()
                self._rescan = True
                known = identity
            try:
                await self._watch_round(identity)
            # watchfiles raises OSError/RuntimeError when the folder vanishes under it.
            except (OSError, RuntimeError) as exc:
                _log.warning("watching %s failed (%s); retrying", self._folder, exc)
                await self._pause(_POLL_MISSING_S)

    async def _watch_round(self, identity: tuple[int, int]) -> None:
        """Watch the folder while it is the same folder (device, inode)."""
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
        closes = (
            asyncio.create_task(self._close_events(), name="catalog-close-events")
            if self._use_close_events
            else None
        )
        self._ready.set()
        try:
            async with contextlib.aclosing(watch) as rounds:
                async for changes in rounds:
                    if _identity(self._folder) != identity:
                        return  # deleted (or replaced): the next round finds out which
                    if self._rescan:
                        self._rescan = False
                        self._registry.mark_catalog_present()
                        self._schedule_existing()
                    for _change, name in changes:
                        self._on_change(Path(name))
        finally:
            if closes is not None:
                closes.cancel()
                await asyncio.gather(closes, return_exceptions=True)

    async def _close_events(self) -> None:
        """Linux: a model file closed after writing (or moved in) is complete now."""
        from asyncinotify import Inotify, Mask

        try:
            with Inotify() as inotify:
                inotify.add_watch(self._folder, Mask.CLOSE_WRITE | Mask.MOVED_TO | Mask.ONLYDIR)
                async for event in inotify:
                    if event.name is None or not is_model_file(str(event.name)):
                        continue
                    path = self._folder / str(event.name)
                    stood = _stat(path)
                    if stood is not None:
                        self._closed[path] = stood
                        self._schedule(path, complete=True)
        except OSError as exc:  # no inotify here (limits, containers): settle_s alone
            _log.info(
                "close-after-write events unavailable (%s); files settle for %.2f s",
                exc,
                self._settle_s,
            )

    def _on_change(self, path: Path) -> None:
        """A watchfiles event: settle ``path`` unless its writer closed it as it is now."""
        closed = self._closed.get(path)
        if closed is not None and closed == _stat(path):
            return  # the close event of this very write came first: already being taken
        self._schedule(path)

    async def _wait_for_folder(self) -> None:
        """The folder is gone: mark the catalog missing, then wait for it to come back."""
        await self._lose_all()
        _log.warning("catalog folder %s is missing; waiting for it to come back", self._folder)
        while not self._stop.is_set() and _identity(self._folder) is None:
            await self._pause(_POLL_MISSING_S)
        if not self._stop.is_set():
            _log.info("catalog folder %s is back; registering its models", self._folder)
            self._rescan = True

    async def _lose_all(self) -> None:
        """Every model of the old folder is removed (sessions keep what they run)."""
        for task in list(self._pending.values()):
            task.cancel()
        loop = asyncio.get_running_loop()
        updates = await loop.run_in_executor(self._loader, self._registry.mark_catalog_missing)
        for update in updates:
            await self._notify(update)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def _schedule_existing(self) -> None:
        """Every model file now in the folder, through the settle path."""
        try:
            names = sorted(p.name for p in self._folder.glob(f"*{ONNX_SUFFIX}"))
        except OSError:
            return
        for name in names:
            if is_model_file(name):
                self._schedule(self._folder / name)

    def _wanted(self, change: Change, path: str) -> bool:
        where = Path(path)
        if where.parent != self._folder:
            return False
        name = where.name
        if is_model_file(name):
            return True
        lower = name.lower()
        checkpoint = lower.endswith(_CHECKPOINT_SUFFIXES) and not is_ignored_name(name)
        if checkpoint and name not in self._noted:
            self._noted.add(name)
            _log.info(
                "catalog: ignoring %s: only .onnx models are pushed (export it with "
                "`stylebridge export %s --out %s.onnx`)",
                name,
                name,
                where.stem,
            )
        return False

    def _schedule(self, path: Path, *, complete: bool = False) -> None:
        """(Re)start the settle check of ``path``: the newest event wins. ``complete``:
        its writer closed it, so it is read at once instead of after ``settle_s``."""
        old = self._pending.pop(path, None)
        if old is not None:
            old.cancel()
        task = asyncio.create_task(
            self._settle_then_add(path, complete=complete), name=f"settle {path.name}"
        )
        self._pending[path] = task
        task.add_done_callback(lambda t, p=path: self._forget(p, t))

    def _forget(self, path: Path, task: asyncio.Task[None]) -> None:
        if self._pending.get(path) is task:
            del self._pending[path]
        if not task.cancelled() and task.exception() is not None:
            _log.error("watching %s failed", path.name, exc_info=task.exception())

    async def _settle_then_add(self, path: Path, *, complete: bool = False) -> None:
        """Wait until ``path`` stood still for ``settle_s`` (not when ``complete``: its
        writer closed it as it is), then register it."""
        while True:
            before = _stat(path)
            if before is None:
                await self._removed(path)
                return
            if complete and self._closed.get(path) != before:
                complete = False  # written again since the close: settle as usual
            quiet_for = time.time() - before[1] / 1e9
            if not complete and quiet_for < self._settle_s:
                await asyncio.sleep(self._settle_s - quiet_for)
                continue
            loop = asyncio.get_running_loop()
            try:
                update = await loop.run_in_executor(self._loader, self._add, path)
            except NotFoundError:
                return
            if _stat(path) != before:
                complete = False
                continue  # written to while it was read: wait for it to settle again
            await self._notify(update)
            return

    def _warm_up(self) -> None:
        if self._process is None:
            return
        try:
            self._process.warm_up()
        # Closed meanwhile, or no process could start (the first file will say why).
        except (StyleBridgeError, OSError, CancelledError) as exc:
            _log.debug("warming up the model loader process failed: %s", exc)

    def _add(self, path: Path) -> RegistryUpdate:
        """Register ``path`` (in the loader thread; a big file's parsing in the loader
        process: a small one parses in about a millisecond, not worth a round trip)."""
        size = (_stat(path) or (0, 0))[0]
        limit = self._process_min_bytes
        if self._process is None or limit is None or size < limit:
            return self._registry.add_file(path)
        return self._registry.add_file(path, loader=self._process)

    async def _removed(self, path: Path) -> None:
        """``path`` is gone: if it stays gone for ``settle_s``, its model is removed."""
        await asyncio.sleep(self._settle_s)
        if _stat(path) is not None or _identity(self._folder) is None:
            return  # back already, or the whole folder went (handled as a whole)
        update = self._registry.remove_file(path)
        if update is not None:
            await self._notify(update)

    async def _notify(self, update: RegistryUpdate) -> None:
        try:
            await self._on_update(update)
        except Exception:  # one failing listener must not stop the watcher
            _log.exception("handling %s failed", update.model_id)


def _identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of ``folder``, or None when it is not a folder now."""
    try:
        info = os.stat(folder)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def _stat(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns), or None when the file is gone."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_size, info.st_mtime_ns
