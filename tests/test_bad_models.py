"""Bad models are refused with the reason before any client sees them (issue 7, item 2).

Unit tests drive the loaders (``onnx_from_bytes``, ``load_onnx``, ``load_checkpoint``,
the registry) on crafted files; the end-to-end test drops every kind of bad file into
the watched catalog of a real server on 127.0.0.1 while a real reference client
streams, and checks that its model never changes, nothing is pushed, and ListModels,
the live table and the store say why. Files outside the catalog are watched with a
Python audit hook: the test fails if anything opens them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from bridge_helpers import running_server, stubs, wait_for
from onnx import TensorProto, helper, numpy_helper
from swap_helpers import RawSwapClient, drop_into, quantized_onnx, tiny_onnx

from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.catalog import (
    Fidelity,
    Manifest,
    Recipe,
    RecipeKind,
    Variant,
    load_manifest,
    manifest_path,
    save_manifest,
)
from stylebridge.engines.checker import check_model
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError, LimitExceededError, ModelLoadError
from stylebridge.models import load_checkpoint, load_onnx, onnx_from_bytes
from stylebridge.models.onnx_budget import MemoryLimits, check_memory
from stylebridge.protocol import SwapResult
from stylebridge.store import Store

pytestmark = pytest.mark.timeout(60)

MAX = 64 * 2**20

# --- watching what gets opened ------------------------------------------------------

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _OPENED is not None and event == "open" and args and isinstance(args[0], str | bytes):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextlib.contextmanager
def never_opened(*paths: Path) -> Iterator[None]:
    """Fail if any of ``paths`` is opened (by Python code) inside the block."""
    global _OPENED
    _OPENED = []
    try:
        yield
    finally:
        opened, _OPENED = _OPENED, None
    watched = {str(p.resolve()) for p in paths}
    touched = [p for p in opened if str(Path(p).resolve()) in watched]
    assert not touched, f"opened files outside the catalog: {touched}"


def test_the_open_watch_catches_an_open(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"x")
    with pytest.raises(AssertionError, match="opened files outside"), never_opened(secret):
        secret.read_bytes()


# --- crafted models ---------------------------------------------------------------


def _model(
    nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto], **io: object
) -> bytes:
    """A one-image-in, one-image-out graph around ``nodes`` (output "output")."""
    in_shape = io.get("in_shape", [1, 3, "H", "W"])
    graph = helper.make_graph(
        nodes,
        "bad",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def _plus_big(big_nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto]) -> bytes:
    """input + ReduceMax(big): "big" is made by ``big_nodes``, its max is 1x1x1x1."""
    nodes = [
        *big_nodes,
        helper.make_node("ReduceMax", ["big"], ["m"], keepdims=1),
        helper.make_node("Add", ["input", "m"], ["output"]),
    ]
    return _model(nodes, inits)


def _i64(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, np.int64), name)


def huge_initializer() -> bytes:
    """A [65536, 65536] float weight (16 GiB) declared, with no data at all."""
    proto = onnx.load_model_from_string(tiny_onnx(1))
    huge = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[65536, 65536])
    proto.graph.initializer.append(huge)
    return proto.SerializeToString()


def constant_of_shape() -> bytes:
    return _plus_big(
        [helper.make_node("ConstantOfShape", ["shape"], ["big"])],
        [_i64("shape", [1, 3, 65536, 65536])],
    )


def expand() -> bytes:
    one = numpy_helper.from_array(np.ones((1,), np.float32), "one")
    return _plus_big(
        [helper.make_node("Expand", ["one", "shape"], ["big"])],
        [one, _i64("shape", [1, 3, 40000, 40000])],
    )


def tile() -> bytes:
    return _model(
        [helper.make_node("Tile", ["input", "reps"], ["output"])], [_i64("reps", [1, 1, 300, 300])]
    )


def resize() -> bytes:
    scales = numpy_helper.from_array(np.array([1, 1, 1000, 1000], np.float32), "scales")
    return _model([helper.make_node("Resize", ["input", "", "scales"], ["output"])], [scales])


def huge_input() -> bytes:
    return _model(
        [helper.make_node("Relu", ["input"], ["output"])], [], in_shape=[1, 3, 100000, 100000]
    )


def with_external(data: bytes, location: str) -> bytes:
    """``data`` with tensor w1's bytes said to live at ``location``."""
    proto = onnx.load_model_from_string(data)
    tensor = next(t for t in proto.graph.initializer if t.name == "w1")
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return proto.SerializeToString()


class Evil:
    """Unpickling this runs a shell command that creates ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.path}",)


def png_bytes(tmp_path: Path) -> bytes:
    from PIL import Image

    path = tmp_path / "frame.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    return path.read_bytes()


# --- unit tests --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["random", "png", "empty", "truncated"])
def test_not_onnx_is_refused_by_the_loader_and_the_registry(tmp_path: Path, kind: str) -> None:
    data = {
        "random": np.random.default_rng(0).bytes(4096),
        "png": png_bytes(tmp_path),
        "empty": b"",
        "truncated": tiny_onnx(1)[:-100],
    }[kind]
    with pytest.raises(ModelLoadError, match="not an ONNX model"):
        onnx_from_bytes(data, name=f"{kind}.onnx")
    (tmp_path / f"{kind}.onnx").write_bytes(data)
    update = ModelRegistry(tmp_path, max_model_bytes=MAX).add_file(tmp_path / f"{kind}.onnx")
    assert update.refused is not None and "not an ONNX model" in update.refused.error


def test_int8_model_cannot_run_on_barracuda(tmp_path: Path) -> None:
    proto = onnx.load_model_from_string(quantized_onnx(tiny_onnx(2), tmp_path))
    report = check_model(proto, Engine.BARRACUDA_3)
    assert report.verdict is Verdict.CANNOT_RUN
    assert any("quantized operator" in v.reason for v in report.verdicts)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (huge_initializer, "stored tensor 'huge' would need 16.00 GiB"),
        (constant_of_shape, "tensor 'big'"),
        (expand, "tensor 'big'"),
        (tile, "tensor 'output'"),
        (resize, "tensor 'output'"),
        (huge_input, "input 'input' would need"),
    ],
)
def test_declared_shapes_over_the_memory_limit_are_refused(make: object, named: str) -> None:
    data = make()  # type: ignore[operator]
    assert len(data) < 10_000  # a few kilobytes that ask for gigabytes
    with pytest.raises(LimitExceededError, match="before anything allocates") as caught:
        onnx_from_bytes(data, name="bad.onnx")
    assert named in str(caught.value)


def test_check_command_says_huge_shapes_cannot_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    path = tmp_path / "huge.onnx"
    path.write_bytes(huge_initializer())
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["check", str(path), "-e", "sentis-2"])
    assert result.exit_code == 1
    assert "cannot run" in result.output and "16.00 GiB" in result.output


def test_real_models_fit_the_memory_limits(models_dir: Path) -> None:
    for name in ("mosaic", "ingame-small"):
        proto = onnx.load(str(models_dir / f"{name}.onnx"))
        estimate = check_memory(proto, size=(1920, 1080))
        assert 0 < estimate.peak_bytes < MemoryLimits().max_total_bytes
    with pytest.raises(LimitExceededError, match="per-tensor limit"):
        check_memory(proto, limits=MemoryLimits(max_tensor_bytes=2**20))


def test_absurd_recommended_size_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.onnx").write_bytes(tiny_onnx(3))
    _manifest(tmp_path, "s.onnx", 100_000, 100_000)
    update = ModelRegistry(tmp_path, max_model_bytes=MAX).add_file(tmp_path / "s.onnx")
    assert update.refused is not None and "resolution 100000x100000" in update.refused.error


def _manifest(folder: Path, file: str, width: int, height: int) -> None:
    fidelity = Fidelity(
        psnr_mean_db=30, psnr_min_db=29, ssim_mean=0.9, ssim_min=0.8, frames=1,
        width=width, height=height,
    )  # fmt: skip
    variant = Variant(
        id=Path(file).stem, recipe=Recipe(kind=RecipeKind.DISTILL), recipe_key="k", file=file,
        sha256="x", size_bytes=1, params=1, nonzero_params=1, fidelity=fidelity,
    )  # fmt: skip
    save_manifest(folder, Manifest(variants=(variant,)))


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "sub/a.onnx", ".."])
def test_a_manifest_naming_a_path_is_refused_on_load(tmp_path: Path, name: str) -> None:
    # report, perf-test and the demo open the files a manifest names.
    _manifest(tmp_path, "a.onnx", 64, 64)
    text = manifest_path(tmp_path).read_text().replace('"a.onnx"', json.dumps(name))
    manifest_path(tmp_path).write_text(text)
    with pytest.raises(InvalidInputError, match="not a StyleBridge catalog manifest"):
        load_manifest(tmp_path)


def outside_setup(tmp_path: Path) -> tuple[Path, Path]:
    """A catalog and a sentinel file beside it (outside) holding w1-sized bytes."""
    catalog = tmp_path / "deep" / "catalog"
    catalog.mkdir(parents=True)
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.zeros(8 * 3 * 3 * 3, np.float32).tobytes())
    (catalog / "link.bin").symlink_to(secret)
    return catalog, secret


def test_external_data_outside_the_catalog_is_never_opened(tmp_path: Path) -> None:
    catalog, secret = outside_setup(tmp_path)
    registry = ModelRegistry(catalog, max_model_bytes=MAX)
    locations = {"up": "../../secret.bin", "absolute": str(secret), "link": "link.bin"}
    with never_opened(secret):
        for name, location in locations.items():
            path = catalog / f"{name}.onnx"
            path.write_bytes(with_external(tiny_onnx(4), location))
            update = registry.add_file(path)
            assert update.refused is not None, name
            assert "outside the model's folder; refusing to read it" in update.refused.error
            with pytest.raises(ModelLoadError, match="outside the model's folder"):
                load_onnx(path)
    assert registry.models() == []


def test_symlinked_model_pointing_outside_is_not_read(tmp_path: Path) -> None:
    catalog, _ = outside_setup(tmp_path)
    outside_model = tmp_path / "outside.onnx"
    outside_model.write_bytes(tiny_onnx(5))
    (catalog / "sneaky.onnx").symlink_to(outside_model)
    registry = ModelRegistry(catalog, max_model_bytes=MAX)
    with never_opened(outside_model):
        (update,) = registry.scan()
    assert update.refused is not None and "outside" in update.refused.error
    assert registry.find("sneaky") is None


def _evil_files(tmp_path: Path, sentinel: Path) -> dict[str, Path]:
    import torch

    zipped = tmp_path / "evil-zip.pth"
    torch.save({"state_dict": Evil(sentinel)}, zipped)
    legacy = tmp_path / "evil-legacy.pth"
    legacy.write_bytes(pickle.dumps(Evil(sentinel), protocol=2))
    return {"zip": zipped, "legacy": legacy}


def test_checkpoint_with_pickled_code_never_runs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    sentinel = tmp_path / "pwned"
    files = _evil_files(tmp_path, sentinel)
    for path in files.values():
        with pytest.raises(ModelLoadError, match="weights_only"):
            load_checkpoint(path)
    runner = CliRunner()
    for command in (["inspect"], ["check"]):
        result = runner.invoke(app, [*command, str(files["zip"])])
        assert result.exit_code != 0
    assert not sentinel.exists(), "unpickling ran the file's code"


def test_loader_process_refuses_with_the_same_reasons(tmp_path: Path) -> None:
    from stylebridge.models.push_load import ProcessLoader, load_for_push

    loader = ProcessLoader()
    try:
        facts = loader(tiny_onnx(1), str(tmp_path), max_bytes=MAX, name="ok.onnx")
        assert facts == load_for_push(tiny_onnx(1), str(tmp_path), max_bytes=MAX, name="ok.onnx")
        assert facts.push is None and facts.input_name == "input"
        with pytest.raises(LimitExceededError, match=r"16\.00 GiB"):
            loader(huge_initializer(), str(tmp_path), max_bytes=MAX, name="huge.onnx")
        with pytest.raises(ModelLoadError, match="not an ONNX model"):
            loader(b"junk", str(tmp_path), max_bytes=MAX, name="junk.onnx")
    finally:
        loader.close()
        loader.close()
    with pytest.raises(ModelLoadError, match="closed"):
        loader(tiny_onnx(1), str(tmp_path), max_bytes=MAX, name="late.onnx")


# --- end to end: a real server, a real catalog, a real reference client -----------


async def test_bad_files_in_the_catalog_never_reach_a_streaming_client(
    tmp_path: Path,
) -> None:
    from stylebridge.client import ControlClient, ReferenceClient
    from stylebridge.config import ClientConfig

    # The server parses catalog files in a loader process, out of the audit hook's
    # sight; there the secret is w1-sized zeros, so a model that read it would load and
    # be registered: its refusal shows it was not read.
    catalog, secret = outside_setup(tmp_path)
    (catalog / "a.onnx").write_bytes(tiny_onnx(1))
    sentinel = tmp_path / "pwned"
    evil = _evil_files(tmp_path, sentinel)["zip"]
    bad = {
        "random": np.random.default_rng(1).bytes(2048),
        "png": png_bytes(tmp_path),
        "empty": b"",
        "truncated": tiny_onnx(6)[:-50],
        "outside": with_external(tiny_onnx(7), "../../secret.bin"),
        "absolute": with_external(tiny_onnx(7), str(secret)),
        "link": with_external(tiny_onnx(7), "link.bin"),
        "huge": huge_initializer(),
        "filled": constant_of_shape(),
        "wide": huge_input(),
    }
    reasons = {
        "random": "not an ONNX model", "png": "not an ONNX model", "empty": "not an ONNX model",
        "truncated": "not an ONNX model", "outside": "outside the model's folder",
        "absolute": "outside the model's folder", "link": "outside the model's folder",
        "huge": "16.00 GiB", "filled": "before anything allocates",
        "wide": "input 'input' would need",
    }  # fmt: skip
    done = asyncio.Event()

    def frames() -> Iterator[np.ndarray]:
        frame = np.zeros((18, 32, 3), np.uint8)
        while not done.is_set():
            yield frame

    config = ClientConfig(
        server="", size=(32, 18), fps=50.0, parity_every=0, want_stylized=False,
        engine_model=catalog / "a.onnx", drain_timeout_s=20.0,
    )  # fmt: skip
    with never_opened(secret):
        async with running_server(tmp_path, catalog=catalog, settle_s=0.05) as server:
            config = config.model_copy(update={"server": server.address})
            async with ReferenceClient(config, frames=frames()) as client:
                run = asyncio.create_task(client.run(100_000))
                await wait_for(lambda: len(client.frame_models) > 3)
                for name, data in bad.items():
                    drop_into(catalog, data, f"{name}.onnx")
                drop_into(catalog, evil.read_bytes(), "evil.pth")
                registry = server.pushes.registry
                await wait_for(lambda: {r.model_id for r in registry.refused()} >= set(bad))
                async with ControlClient(server.address) as control:
                    listing = await control.list_models()
                    for name in ("huge", "outside"):
                        with pytest.raises(Exception, match="refused"):
                            await control.swap(name, all_sessions=True)
                await asyncio.sleep(0.3)  # frames keep flowing after the refusals
                done.set()
                result = await run
                session = server.sessions.get(result.session_id)
                assert session.active_model.model_id == "a"
                assert session.last_swap is not None
                assert session.last_swap.result is SwapResult.REFUSED
    assert not sentinel.exists()
    assert result.swaps == () and result.answered == result.sent
    assert {f.model_id for f in result.frames} == {"a"}
    infos = {m.model.model_id: m for m in listing.models}
    assert "evil" not in infos  # a checkpoint in the catalog is ignored, never unpickled
    for name, why in reasons.items():
        assert not infos[name].valid and why in infos[name].error, (name, infos[name].error)
    with Store(tmp_path / "store.sqlite") as store:
        rows = store.swaps(result.session_id)
    assert {r.to_model_id for r in rows} == set(bad)
    assert all(r.result == "refused" and r.trigger == "watch" for r in rows)
    by_model = {r.to_model_id: r.error for r in rows}
    for name, why in reasons.items():
        assert why in by_model[name], (name, by_model[name])


async def test_raw_client_gets_no_chunk_of_a_bad_model(tmp_path: Path) -> None:
    """The chunk-level view of the same promise (a raw client records every push)."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.onnx").write_bytes(tiny_onnx(1))
    async with (
        running_server(tmp_path, catalog=catalog, settle_s=0.05) as server,
        stubs(server) as (bridge, _),
    ):
        sha = server.pushes.registry.get("a").sha256
        raw = RawSwapClient(bridge, model_id="a", sha256=sha)
        await raw.hello()
        await raw.open_models()
        await raw.open_frames()
        try:
            drop_into(catalog, resize(), "zoom.onnx")
            drop_into(catalog, tile(), "tiled.onnx")
            frame = np.zeros((18, 32, 3), np.uint8)
            sequence = 1
            registry = server.pushes.registry
            while len(registry.refused()) < 2:
                await raw.send_frame(sequence, frame)
                sequence += 1
                await asyncio.sleep(0.01)
            assert raw.received == [] and raw.acks == []
            assert set(raw.sent.values()) == {"a"}
        finally:
            await raw.close()
