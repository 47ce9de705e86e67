"""models.export: torch -> ONNX round trips on real frames, per opset, and the CLI.

Tolerance: DEFAULT_TOLERANCE (max abs 0.5, mean abs 0.02 on the 0..255 scale; the
reasoning is in models/export.py). Measured on this machine, four real frames:
mosaic at 160x90 max 0.0015 / mean 0.0001 (opset 9 and 13 alike); at 320x180 max
0.014 / mean 0.0001; ingame-small.pth at 320x180 max 0.016 / mean 0.0002; untrained
small models agree to ~1e-3. A single wrong Pad mode costs max ~43 / mean ~2 and fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import typer
from conftest import load_rgb
from typer.testing import CliRunner

from stylebridge.commands import models as models_command
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError
from stylebridge.models import (
    Architecture,
    InputRange,
    LoadedCheckpoint,
    TransformerNetConfig,
    load_checkpoint,
    load_onnx,
    read_metadata,
    untrained_model,
)
from stylebridge.models.export import (
    DEFAULT_TOLERANCE,
    ExportConfig,
    ExportReport,
    export_onnx,
    verify_export,
)

# The ops a TransformerNet export may contain, besides its upsampling op: anything
# else (Reshape, Slice, ConstantOfShape…) means the pads arithmetic was not folded.
BASE_OPS = {"Pad", "Conv", "InstanceNormalization", "Relu", "Add"}
UPSAMPLE_OP = {9: "Upsample", 13: "Resize"}


@pytest.fixture(scope="module")
def mosaic(models_dir: Path) -> LoadedCheckpoint:
    return load_checkpoint(models_dir / "mosaic.pth")


@pytest.fixture(scope="module")
def tiny_frames(frame_paths: list[Path]) -> list[np.ndarray]:
    """Four real frames at 160x90 (90 is not a multiple of 4: the output is 160x92)."""
    return [load_rgb(p, (160, 90)) for p in frame_paths[:4]]


@pytest.fixture(scope="module")
def mosaic_exports(
    mosaic: LoadedCheckpoint,
    tiny_frames: list[np.ndarray],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[int, ExportReport]:
    folder = tmp_path_factory.mktemp("mosaic")
    return {
        opset: export_onnx(
            mosaic.model,
            folder / f"mosaic-{opset}.onnx",
            ExportConfig(opset=opset, sample_size=(160, 90)),
            frames=tiny_frames,
            source=mosaic.path,
        )
        for opset in (9, 13)
    }


def _ops(report: ExportReport) -> dict[str, int]:
    return dict(report.op_counts)


def _assert_clean_graph(report: ExportReport, opset: int) -> None:
    ops = _ops(report)
    assert set(ops) == BASE_OPS | {UPSAMPLE_OP[opset]}, ops
    assert ops[UPSAMPLE_OP[opset]] == 2
    proto = onnx.load(report.path)
    assert proto.opset_import[0].version == opset
    onnx.checker.check_model(proto)


@pytest.mark.parametrize("opset", [9, 13])
def test_mosaic_round_trip_on_real_frames(
    mosaic_exports: dict[int, ExportReport], opset: int
):
    report = mosaic_exports[opset]
    _assert_clean_graph(report, opset)
    check = report.check
    assert check is not None and report.passed, check
    assert len(check.frames) == 4
    assert all((f.width, f.height) == (160, 90) for f in check.frames)
    assert check.max_abs == max(f.max_abs for f in check.frames)
    assert check.tolerance == DEFAULT_TOLERANCE


def test_export_writes_metadata_and_dynamic_axes(
    mosaic_exports: dict[int, ExportReport],
):
    report = mosaic_exports[9]
    assert report.engine is Engine.BARRACUDA_3 and report.opset == 9
    assert (
        report.folded_nodes >= 1
    )  # the Upsample scales Constant became an initializer
    assert mosaic_exports[13].folded_nodes > 100  # the opset-13 pads arithmetic
    props = read_metadata(onnx.load(report.path))
    assert props["stylebridge.input_range"] == "255"
    assert props["stylebridge.layout"] == "NCHW"
    assert props["stylebridge.opset"] == "9"
    assert props["stylebridge.engine"] == "barracuda-3"
    assert props["stylebridge.source"].endswith("mosaic.pth")
    assert props["stylebridge.widths"] == "32,64,128"
    loaded = load_onnx(report.path)
    assert loaded.dynamic_spatial and not loaded.relaxed
    assert loaded.input_name == "input" and loaded.output_name == "output"
    assert loaded.input_range is InputRange.BYTE
    dims = loaded.proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[:2]] == [1, 3]
    assert [d.dim_param for d in dims[2:]] == ["H", "W"]
    assert [
        p.name for p in report.path.parent.iterdir() if p.name.endswith(".tmp")
    ] == []


def test_a_wrong_operator_fails_the_check(
    mosaic: LoadedCheckpoint,
    mosaic_exports: dict[int, ExportReport],
    tiny_frames: list[np.ndarray],
    tmp_path: Path,
):
    proto = onnx.load(mosaic_exports[9].path)
    first_pad = next(n for n in proto.graph.node if n.op_type == "Pad")
    next(a for a in first_pad.attribute if a.name == "mode").s = b"edge"
    tampered = tmp_path / "tampered.onnx"
    onnx.save(proto, tampered)
    check = verify_export(mosaic.model, tampered, tiny_frames[:2])
    assert not check.passed
    assert check.max_abs > 10 * DEFAULT_TOLERANCE.max_abs


@pytest.mark.parametrize("opset", [9, 13])
def test_untrained_small_model_round_trip(
    opset: int, small_frames: list[np.ndarray], tmp_path: Path
):
    model = untrained_model(TransformerNetConfig((8, 16, 32), 3), seed=7)
    report = export_onnx(model, tmp_path / "small.onnx", ExportConfig(opset=opset))
    _assert_clean_graph(report, opset)
    assert report.check is None and not report.passed  # no frames, no check
    check = verify_export(model, report.path, small_frames)
    assert check.passed, check
    assert all((f.width, f.height) == (320, 180) for f in check.frames)


def test_ingame_checkpoint_round_trip(models_dir: Path, small_frames, tmp_path: Path):
    loaded = load_checkpoint(models_dir / "ingame-small.pth")
    assert loaded.config.architecture is Architecture.IN_GAME
    report = export_onnx(
        loaded.model, tmp_path / "ingame.onnx", frames=small_frames[:2]
    )
    assert report.opset == 9 and _ops(report)["Upsample"] == 2
    # two per residual block, c3 + y before the decoder, two decoder skips
    assert _ops(report)["Add"] == 2 * 5 + 1 + 2
    assert report.passed, report.check


def test_fixed_size_export_is_relaxed_again_by_the_loader(tmp_path: Path):
    model = untrained_model(TransformerNetConfig((4, 8, 8), 1), seed=1)
    config = ExportConfig(dynamic_spatial=False, sample_size=(64, 48))
    report = export_onnx(model, tmp_path / "fixed.onnx", config)
    dims = onnx.load(report.path).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [1, 3, 48, 64]
    loaded = load_onnx(report.path)
    assert loaded.relaxed and "fixed input 64x48 relaxed" in loaded.note


def test_export_replaces_an_existing_file(tmp_path: Path):
    dst = tmp_path / "out.onnx"
    dst.write_bytes(b"old")
    model = untrained_model(TransformerNetConfig((4, 8, 8), 0))
    report = export_onnx(model, dst, ExportConfig(sample_size=(32, 32)))
    assert report.size_bytes == dst.stat().st_size > 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.onnx"]


def test_config_validation():
    assert ExportConfig().resolved_opset == 9
    assert ExportConfig(engine=Engine.SENTIS_2).resolved_opset == 15
    assert ExportConfig(engine="barracuda-2", opset=11).engine is Engine.BARRACUDA_2
    with pytest.raises(InvalidInputError, match=r"9\.\.13"):
        ExportConfig(opset=17)
    with pytest.raises(InvalidInputError, match="outside"):
        ExportConfig(opset=8)
    with pytest.raises(InvalidInputError, match="too small"):
        ExportConfig(sample_size=(8, 8))
    with pytest.raises(InvalidInputError, match="distinct"):
        ExportConfig(input_name="x", output_name="x")


def test_verify_export_rejects_bad_frames(mosaic, mosaic_exports, tmp_path: Path):
    path = mosaic_exports[9].path
    with pytest.raises(InvalidInputError, match="at least one frame"):
        verify_export(mosaic.model, path, [])
    with pytest.raises(InvalidInputError, match="uint8"):
        verify_export(mosaic.model, path, [np.zeros((8, 8, 3), np.float32)])
    with pytest.raises(InvalidInputError, match="H x W x 3"):
        verify_export(mosaic.model, path, [np.zeros((8, 8), np.uint8)])


# --- CLI ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    models_command.register(app)
    return app


def test_cli_inspect(cli: typer.Typer, models_dir: Path):
    runner = CliRunner()
    result = runner.invoke(cli, ["inspect", str(models_dir / "ingame-small.onnx")])
    assert result.exit_code == 0, result.output
    assert "relaxed to dynamic" in result.output and "Upsample x2" in result.output
    result = runner.invoke(cli, ["inspect", str(models_dir / "mosaic.pth")])
    assert result.exit_code == 0, result.output
    assert "1,679,235" in result.output and "32/64/128" in result.output


def test_cli_export(
    cli: typer.Typer, models_dir: Path, frames_dir: Path, tmp_path: Path
):
    out = tmp_path / "ingame.onnx"
    args = [
        "export", str(models_dir / "ingame-small.pth"), "--out", str(out),
        "--frames", str(frames_dir), "--max-frames", "2", "--size", "128x72",
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert "PASS" in result.output and "01_kinematica_character.png" in result.output
    bad = CliRunner().invoke(cli, [*args[:4], "--opset", "17"])
    assert isinstance(bad.exception, InvalidInputError)
    bad = CliRunner().invoke(cli, [*args[:4], "--size", "wide"])
    assert isinstance(bad.exception, InvalidInputError)
