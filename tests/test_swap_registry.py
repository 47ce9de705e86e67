"""The swap server's parts on their own: registry, watcher, validation (real files)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from swap_helpers import drop_into, tiny_onnx

from stylebridge.bridge.swaps.catalog_entries import RegistryUpdate
from stylebridge.bridge.swaps.registry import ModelRegistry, is_model_file, resolve_in_catalog
from stylebridge.bridge.swaps.validation import Validator, push_target
from stylebridge.bridge.swaps.watcher import CatalogWatcher
from stylebridge.catalog import Manifest, Recipe, RecipeKind, Variant, save_manifest
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.models.safe_paths import check_model_id
from stylebridge.protocol import ClientCapabilities, ClientEngine, ClientInfo

pytestmark = pytest.mark.timeout(60)

MAX = 64 * 2**20


def test_versions_rise_per_change_and_repeat_writes_are_unchanged(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path, max_model_bytes=MAX)
    path = tmp_path / "m.onnx"
    path.write_bytes(tiny_onnx(1))
    first = registry.add_file(path)
    assert first.is_new_version and first.model is not None and first.model.ref.version == 1
    again = registry.add_file(path)
    assert again.unchanged and not again.is_new_version
    path.write_bytes(tiny_onnx(2))
    assert registry.add_file(path).model.ref.version == 2
    path.write_bytes(tiny_onnx(1))  # an old file coming back is still a new version
    back = registry.add_file(path).model
    assert back is not None and back.ref.version == 3
    assert registry.version_of("m", back.sha256) == 3
    assert back.metadata.input_name == "input" and back.metadata.opset == 13


def test_refused_file_keeps_the_last_good_version(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path, max_model_bytes=MAX)
    path = tmp_path / "m.onnx"
    path.write_bytes(tiny_onnx(1))
    registry.add_file(path)
    path.write_bytes(b"not onnx at all")
    update = registry.add_file(path)
    assert update.refused is not None and "not an ONNX model" in update.refused.error
    assert registry.get("m").ref.version == 1  # still offered
    path.write_bytes(tiny_onnx(3))
    assert registry.add_file(path).model.ref.version == 2
    assert registry.refused() == []
    with pytest.raises(NotFoundError, match="known: m"):
        registry.get("other")


def test_size_over_server_limit_is_refused(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path, max_model_bytes=100)
    path = tmp_path / "big.onnx"
    path.write_bytes(tiny_onnx(1))
    update = registry.add_file(path)
    assert update.refused is not None and "max_model_bytes" in update.refused.error


def _with_external(data: bytes, folder: Path, location: str) -> onnx.ModelProto:
    proto = onnx.load_model_from_string(data)
    tensor = next(t for t in proto.graph.initializer if t.name == "w1")
    target = (folder / location).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(tensor.raw_data or onnx.numpy_helper.to_array(tensor).tobytes())
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return proto


def test_external_data_inside_is_embedded_outside_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    registry = ModelRegistry(catalog, max_model_bytes=MAX)
    data = tiny_onnx(4)
    inside = _with_external(data, catalog, "inside.bin")
    (catalog / "inside.onnx").write_bytes(inside.SerializeToString())
    model = registry.add_file(catalog / "inside.onnx").model
    assert model is not None
    embedded = onnx.load_model_from_string(model.data)
    assert not any(t.external_data for t in embedded.graph.initializer)
    outside = _with_external(data, catalog, "../outside.bin")
    (catalog / "outside.onnx").write_bytes(outside.SerializeToString())
    update = registry.add_file(catalog / "outside.onnx")
    assert update.refused is not None and "outside the model's folder" in update.refused.error


def test_manifest_adds_recipe_and_resolution(tmp_path: Path) -> None:
    from stylebridge.catalog import Fidelity

    path = tmp_path / "s.onnx"
    path.write_bytes(tiny_onnx(5))
    variant = Variant(
        id="s",
        recipe=Recipe(kind=RecipeKind.DISTILL),
        recipe_key="k",
        file="s.onnx",
        sha256="x",
        size_bytes=1,
        params=1,
        nonzero_params=1,
        fidelity=Fidelity(
            psnr_mean_db=30,
            psnr_min_db=29,
            ssim_mean=0.9,
            ssim_min=0.8,
            frames=1,
            width=320,
            height=180,
        ),
    )
    save_manifest(tmp_path, Manifest(variants=(variant,)))
    model = ModelRegistry(tmp_path, max_model_bytes=MAX).add_file(path).model
    assert model is not None
    assert model.recipe == "distill" and model.metadata.recommended_size == (320, 180)


def test_temporary_names_are_not_models() -> None:
    for name in ("m.onnx.tmp", ".m.onnx", "m.onnx~", "m.onnx.part", "m.onnx.crdownload", "m.pth"):
        assert not is_model_file(name), name
    assert is_model_file("mosaic-int8w.onnx")


def test_validation_takes_the_smaller_limit_and_the_engine_of_the_client(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(tiny_onnx(6))
    model = ModelRegistry(tmp_path, max_model_bytes=MAX).add_file(path).model
    assert model is not None
    validator = Validator()
    caps = ClientCapabilities(accepts_model_push=True, max_model_bytes=model.size_bytes - 1)
    old = ClientInfo(engine=ClientEngine.BARRACUDA, engine_version="1.0.4")
    target = push_target(old, caps, server_max_bytes=MAX)
    assert target.engine is Engine.BARRACUDA_1_0 and target.max_model_bytes == model.size_bytes - 1
    assert "over this session's limit" in validator.validate(model, target).reason
    roomy = ClientCapabilities(accepts_model_push=True)
    verdict = validator.validate(model, push_target(old, roomy, MAX))
    assert not verdict.ok and "barracuda-1.0 cannot run m" in verdict.reason
    new = ClientInfo(engine=ClientEngine.SENTIS, engine_version="2.1.0")
    assert validator.validate(model, push_target(new, roomy, MAX)).ok
    reference = ClientInfo(engine=ClientEngine.REFERENCE, engine_version="onnxruntime 1.31")
    assert validator.validate(model, push_target(reference, roomy, MAX)).ok
    no_push = validator.validate(model, push_target(new, ClientCapabilities(), MAX))
    assert not no_push.ok and "does not accept model pushes" in no_push.reason


async def _watched(
    folder: Path, settle_s: float, registry: ModelRegistry | None = None
) -> tuple[CatalogWatcher, list[RegistryUpdate]]:
    registry = registry or ModelRegistry(folder, max_model_bytes=MAX)
    seen: list[RegistryUpdate] = []

    async def on_update(update: RegistryUpdate) -> None:
        seen.append(update)

    watcher = CatalogWatcher(registry, on_update, settle_s=settle_s)
    await watcher.start()
    return watcher, seen


async def _until(predicate: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_watcher_waits_out_a_slow_copy_and_ignores_temp_files(tmp_path: Path) -> None:
    watcher, seen = await _watched(tmp_path, settle_s=0.3)
    try:
        data = tiny_onnx(7)
        target = tmp_path / "slow.onnx"
        pieces = np.array_split(np.frombuffer(data, np.uint8), 5)
        with target.open("wb") as out:  # a copy that writes a piece every 0.1 s
            for piece in pieces:
                out.write(piece.tobytes())
                out.flush()
                await asyncio.sleep(0.1)
        (tmp_path / "other.onnx.part").write_bytes(tiny_onnx(8))
        (tmp_path / ".hidden.onnx").write_bytes(tiny_onnx(8))
        await _until(lambda: seen)
        await asyncio.sleep(0.5)
        assert [(u.model_id, u.is_new_version) for u in seen] == [("slow", True)]
        drop_into(tmp_path, tiny_onnx(9), "slow.onnx")  # temp file, then rename
        await _until(lambda: len(seen) == 2)
        assert seen[1].model is not None and seen[1].model.ref.version == 2
    finally:
        await watcher.close()


async def test_watcher_registers_existing_files_without_news(tmp_path: Path) -> None:
    (tmp_path / "here.onnx").write_bytes(tiny_onnx(10))
    os.utime(tmp_path / "here.onnx", (1, 1))
    registry = ModelRegistry(tmp_path, max_model_bytes=MAX)
    watcher, seen = await _watched(tmp_path, settle_s=0.05, registry=registry)
    try:
        assert registry.get("here").ref.version == 1
        assert seen == []  # already there at start: registered, not announced
    finally:
        await watcher.close()


# --- names from clients never leave the catalog (issue 7, item 6) -------------------

_PARTS = st.one_of(
    st.sampled_from(["..", ".", "", "out", "loop", "a.onnx", "sub", "~", "x" * 300, "C:"]),
    st.text(min_size=1, max_size=12),
)
_NAMES = st.one_of(
    st.lists(_PARTS, min_size=1, max_size=6).map("/".join),
    st.lists(_PARTS, min_size=1, max_size=3).map("\\".join),
    st.lists(_PARTS, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def tricky_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog with a symlink pointing out, a symlink loop and a sub folder."""
    root = tmp_path_factory.mktemp("names")
    outside = root / "outside"
    outside.mkdir()
    catalog = root / "catalog"
    (catalog / "sub").mkdir(parents=True)
    (catalog / "out").symlink_to(outside)
    (catalog / "loop").symlink_to(catalog / "loop")
    (catalog / "a.onnx").write_bytes(b"x")
    return catalog


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=_NAMES)
def test_resolved_names_stay_inside_the_catalog(tricky_catalog: Path, name: str) -> None:
    root = tricky_catalog.resolve()
    try:
        path = resolve_in_catalog(tricky_catalog, name)
    except InvalidInputError as exc:
        assert str(exc)  # refused, with a message
        return
    assert path.is_relative_to(root) and path != root, (name, path)
    assert ".." not in Path(name).parts and "\0" not in name


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "a/../../b", "x\0y", "..", "n" * 5000, "out/passwd",
     "loop", "a\\..\\..\\b", "", "."],
)  # fmt: skip
def test_escaping_names_are_refused(tricky_catalog: Path, name: str) -> None:
    with pytest.raises(InvalidInputError):
        resolve_in_catalog(tricky_catalog, name)


def test_model_ids_are_stems_never_paths() -> None:
    for bad in ("../../etc/passwd", "/etc/passwd", "a/b", "x\0y", "..", ".", "", "m" * 201, "a\\b"):
        with pytest.raises(InvalidInputError, match="model id"):
            check_model_id(bad)
    for good in ("mosaic", "mosaic-int8w", "a.b", "ünïcode"):
        assert check_model_id(good) == good


@settings(max_examples=200, deadline=None)
@given(model_id=st.text(max_size=30))
def test_registry_lookups_never_raise_anything_but_package_errors(model_id: str) -> None:
    registry = ModelRegistry(None, max_model_bytes=MAX)
    with pytest.raises((InvalidInputError, NotFoundError)):
        registry.get(model_id)
