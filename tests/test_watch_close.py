"""A model written in place is taken when its writer closes it (Linux IN_CLOSE_WRITE),
not after a fixed settle time; a writer that still holds it open keeps it waiting.

``settle_s`` is 30 s here, far beyond the test's timeout: only the close event can
make the watcher take a file in time, so these tests fail if it is not seen.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from bridge_helpers import wait_for
from swap_helpers import tiny_onnx

from stylebridge.bridge.swaps.catalog_entries import RegistryUpdate
from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.bridge.swaps.watcher import CatalogWatcher

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(sys.platform != "linux", reason="close-after-write is inotify's (Linux)"),
]

MAX = 64 * 2**20
SETTLE_S = 30.0


async def _watcher(folder: Path) -> tuple[CatalogWatcher, ModelRegistry, list[RegistryUpdate]]:
    registry = ModelRegistry(folder, max_model_bytes=MAX)
    seen: list[RegistryUpdate] = []

    async def on_update(update: RegistryUpdate) -> None:
        seen.append(update)

    watcher = CatalogWatcher(registry, on_update, settle_s=SETTLE_S, process_min_bytes=None)
    await watcher.start()
    return watcher, registry, seen


async def test_a_file_written_in_place_is_taken_on_close(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    watcher, registry, seen = await _watcher(folder)
    try:
        data = tiny_onnx(1)
        with open(folder / "live.onnx", "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            # Open and half written: standing still must not be enough (settle is 30 s).
            await asyncio.sleep(0.5)
            assert registry.find("live") is None and not seen
            handle.write(data[len(data) // 2 :])
        await wait_for(lambda: any(u.is_new_version for u in seen), timeout=10.0)
        assert [u.model_id for u in seen if u.is_new_version] == ["live"]
        # Written in place again: the new bytes make a new version, also on close.
        (folder / "live.onnx").write_bytes(tiny_onnx(2))
        await wait_for(lambda: len([u for u in seen if u.is_new_version]) == 2, timeout=10.0)
        assert not [u for u in seen if u.refused is not None]
    finally:
        await watcher.close()


async def test_a_file_closed_half_written_is_refused_then_taken(tmp_path: Path) -> None:
    """A writer that closes between chunks: the half file does not parse (refused), the
    next close brings the whole file (taken) -- the slow-copy safety still holds."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    watcher, registry, seen = await _watcher(folder)
    try:
        data = tiny_onnx(3)
        (folder / "chunked.onnx").write_bytes(data[: len(data) // 3])
        await wait_for(lambda: any(u.refused is not None for u in seen), timeout=10.0)
        assert registry.find("chunked") is None
        with open(folder / "chunked.onnx", "ab") as handle:
            handle.write(data[len(data) // 3 :])
        await wait_for(lambda: registry.find("chunked") is not None, timeout=10.0)
    finally:
        await watcher.close()
