"""The watched catalog under faults (issue 7, item 3): files and the folder itself
deleted and re-created while a real server runs and a client streams.

What must hold: the watcher survives; the registry says the catalog is missing and
marks models removed (gone from ListModels' offer, a swap to them is NOT_FOUND naming
the id); clients keep running what they run; the folder coming back is picked up, and
a model identical by sha256 to what a client runs is not pushed again. Names given by
clients never leave the catalog (INVALID_ARGUMENT).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from bridge_helpers import running_server, stubs, wait_for
from swap_helpers import RawSwapClient, drop_into, tiny_onnx

from stylebridge.bridge import BridgeServer
from stylebridge.bridge.swaps.catalog_entries import RegistryUpdate
from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.bridge.swaps.watcher import CatalogWatcher
from stylebridge.client import ControlClient
from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.v1 import bridge_pb2, control_pb2

pytestmark = pytest.mark.timeout(60)

MAX = 64 * 2**20
FRAME = np.zeros((18, 32, 3), np.uint8)


@pytest.mark.parametrize(
    ("polling", "process_min_bytes"),
    [(False, None), (True, None), (False, 0)],
    ids=["inotify", "polling", "loader-process"],
)
async def test_watcher_survives_the_folder_deleted_and_recreated(
    tmp_path: Path, polling: bool, process_min_bytes: int | None
) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "a.onnx").write_bytes(tiny_onnx(1))
    registry = ModelRegistry(folder, max_model_bytes=MAX)
    seen: list[RegistryUpdate] = []

    async def on_update(update: RegistryUpdate) -> None:
        seen.append(update)

    watcher = CatalogWatcher(
        registry,
        on_update,
        settle_s=0.05,
        force_polling=polling,
        process_min_bytes=process_min_bytes,
    )
    await watcher.start()
    try:
        version = registry.get("a").ref
        shutil.rmtree(folder)
        await wait_for(lambda: registry.catalog_missing)
        await wait_for(lambda: any(u.removed for u in seen))
        assert registry.models() == [] and [r.model_id for r in registry.removed()] == ["a"]
        with pytest.raises(NotFoundError, match="'a' was removed from the catalog"):
            registry.get("a")
        assert registry.find("a") is not None  # what sessions still run stays known
        await asyncio.sleep(0.3)  # the watcher keeps looking, it does not die
        folder.mkdir()
        drop_into(folder, tiny_onnx(1), "a.onnx")  # the same bytes: the same version
        drop_into(folder, tiny_onnx(2), "b.onnx")
        await wait_for(lambda: registry.find("b") is not None and registry.models() != [])
        await wait_for(lambda: len(registry.models()) == 2)
        assert registry.get("a").ref == version and not registry.catalog_missing
        news = [u.model_id for u in seen if u.is_new_version]
        assert news == ["b"]  # a came back unchanged: nothing to push
        drop_into(folder, tiny_onnx(3), "c.onnx")  # the new watch round sees new files
        await wait_for(lambda: registry.find("c") is not None)
    finally:
        await watcher.close()
        await watcher.close()


async def test_watcher_follows_a_folder_replaced_by_renames(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "a.onnx").write_bytes(tiny_onnx(1))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "b.onnx").write_bytes(tiny_onnx(2))
    registry = ModelRegistry(folder, max_model_bytes=MAX)

    async def on_update(update: RegistryUpdate) -> None:
        return None

    watcher = CatalogWatcher(registry, on_update, settle_s=0.05)
    await watcher.start()
    try:
        folder.rename(tmp_path / "old")
        fresh.rename(folder)  # the new folder in the old one's place, at once
        await wait_for(lambda: registry.find("b") is not None and not registry.catalog_missing)
        assert [m.model_id for m in registry.models()] == ["b"]
        assert [r.model_id for r in registry.removed()] == ["a"]
    finally:
        await watcher.close()


@contextlib.asynccontextmanager
async def streaming_client(server: BridgeServer, model_id: str) -> AsyncIterator[RawSwapClient]:
    async with stubs(server) as (bridge, _):
        sha = server.pushes.registry.get(model_id).sha256
        raw = RawSwapClient(bridge, model_id=model_id, sha256=sha)
        await raw.hello()
        await raw.open_models()
        await wait_for(lambda: server.sessions.get(raw.session_id).models_open)
        await raw.open_frames()
        try:
            yield raw
        finally:
            await raw.close()


class Streamer:
    """Sends a frame every 10 ms in the background until stopped."""

    def __init__(self, raw: RawSwapClient) -> None:
        self.raw = raw
        self.sequence = 1
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self.raw.send_frame(self.sequence, FRAME)
            self.sequence += 1
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_server_keeps_streaming_through_a_deleted_catalog(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.onnx").write_bytes(tiny_onnx(1))
    (catalog / "b.onnx").write_bytes(tiny_onnx(2))
    async with (
        running_server(tmp_path, catalog=catalog, settle_s=0.05) as server,
        streaming_client(server, "a") as raw,
    ):
        registry = server.pushes.registry
        streamer = Streamer(raw)
        try:
            shutil.rmtree(catalog)
            await wait_for(lambda: registry.catalog_missing and not registry.models())
            async with ControlClient(server.address) as control:
                listing = await control.list_models()
                with pytest.raises(NotFoundError, match="'b' was removed"):
                    await control.swap("b", all_sessions=True)
            assert {m.model.model_id: m.valid for m in listing.models} == {"a": False, "b": False}
            assert all("removed from the catalog" in m.error for m in listing.models)
            assert listing.catalog_missing and all(m.removed for m in listing.models)
            before = streamer.sequence
            await wait_for(lambda: streamer.sequence > before + 10)
            catalog.mkdir()
            drop_into(catalog, tiny_onnx(1), "a.onnx")
            drop_into(catalog, tiny_onnx(1), "a-copy.onnx")  # same sha256 as what runs
            await wait_for(lambda: registry.find("a-copy") is not None)
            await asyncio.sleep(0.3)
            assert raw.received == []  # identical bytes are never pushed again
            drop_into(catalog, tiny_onnx(3), "c.onnx")
            session = server.sessions.get(raw.session_id)
            # Stream on until the server has the ack (stopping could cancel its send).
            await wait_for(lambda: session.active_model.model_id == "c")
        finally:
            await streamer.stop()
        assert [r.model.model_id for r in raw.received] == ["c"]
        await wait_for(lambda: len(raw.answers) >= len(raw.sent) - 1)
        for sequence, model_id in raw.sent.items():
            answer = raw.answers.get(sequence)
            if answer is not None:  # dropped ones: newest-frame-wins on a busy machine
                assert answer.status in (
                    bridge_pb2.FRAME_STATUS_PROCESSED,
                    bridge_pb2.FRAME_STATUS_DROPPED,
                ), answer
                assert answer.model_id == model_id, (sequence, answer.model_note)


async def test_deleted_file_is_removed_but_clients_keep_it(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.onnx").write_bytes(tiny_onnx(1))
    (catalog / "b.onnx").write_bytes(tiny_onnx(2))
    async with (
        running_server(tmp_path, catalog=catalog, settle_s=0.05) as server,
        streaming_client(server, "a") as raw,
    ):
        registry = server.pushes.registry
        (catalog / "a.onnx").unlink()
        await raw.stream(5, FRAME)
        await wait_for(lambda: registry.removed() != [])
        async with ControlClient(server.address) as control:
            with pytest.raises(NotFoundError, match="model 'a' was removed"):
                await control.swap("a", [raw.session_id])
            listing = await control.list_models()
        infos = {m.model.model_id: m for m in listing.models}
        assert (
            infos["b"].valid and not infos["a"].valid and "a.onnx was deleted" in infos["a"].error
        )
        assert infos["a"].removed and not infos["b"].removed and not listing.catalog_missing
        await raw.stream(5, FRAME, start=6)
        await wait_for(lambda: len(raw.answers) == 10)
        assert {a.model_id for a in raw.answers.values()} == {"a"}  # Python still follows it
        assert server.sessions.get(raw.session_id).active_model.model_id == "a"
        drop_into(catalog, tiny_onnx(1), "a.onnx")  # put back: offered again, same version
        await wait_for(lambda: registry.removed() == [])
        assert registry.get("a").ref.version == 1 and raw.received == []


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "a/../../b", "x\0y", "..", "m" * 5000, "a\\b"]
)
async def test_swap_to_a_path_is_invalid_argument(tmp_path: Path, name: str) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.onnx").write_bytes(tiny_onnx(1))
    async with running_server(tmp_path, catalog=catalog) as server, stubs(server) as (_, control):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await control.Swap(control_pb2.SwapRequest(model_id=name, all=True))
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "is not a model id" in (caught.value.details() or "")
        with pytest.raises(InvalidInputError):
            server.pushes.registry.get(name)


_LOADER_SCRIPT = """
import os, sys, time
import psutil
from stylebridge.models.push_load import ProcessLoader
if __name__ == "__main__":
    loader = ProcessLoader()
    loader.warm_up()
    kids = psutil.Process().children(recursive=True)
    print(" ".join(str(k.pid) for k in kids), flush=True)
    time.sleep(60)
"""


def test_loader_process_exits_when_the_server_is_killed(tmp_path: Path) -> None:
    """A server killed outright leaves no loader worker (nor forkserver) behind."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    script = tmp_path / "server.py"
    script.write_text(_LOADER_SCRIPT)
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        kids = [psutil.Process(int(pid)) for pid in server.stdout.readline().split()]
        assert kids, "the loader started no process"
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        _, alive = psutil.wait_procs(kids, timeout=10)
        assert not alive, f"left behind: {alive}"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)


def test_a_dead_loader_worker_is_replaced(tmp_path: Path) -> None:
    import os
    import signal

    import psutil

    from stylebridge.models.push_load import ProcessLoader

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    loader = ProcessLoader()
    try:
        loader.warm_up()
        workers = [
            p for p in me.children(recursive=True) if p.pid not in before and p.ppid() != me.pid
        ]
        assert workers, "no loader worker found"
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
        psutil.wait_procs(workers, timeout=10)
        facts = loader(tiny_onnx(1), str(tmp_path), max_bytes=MAX, name="after.onnx")
        assert facts.input_name == "input"
    finally:
        loader.close()
