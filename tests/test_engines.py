"""Engine checker: hand-built graphs with known importer behaviour, the real models,
and the `stylebridge check` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from stylebridge.engines.checker import FindingKind, check_model, load_model_for_check
from stylebridge.engines.findings import Verdict
from stylebridge.engines.render import report_json, summary_rows
from stylebridge.engines.sampling import first_mismatch
from stylebridge.engines.targets import Engine
from stylebridge.errors import ModelLoadError, NotFoundError

BARRACUDA = (Engine.BARRACUDA_1_0, Engine.BARRACUDA_2, Engine.BARRACUDA_3)
SENTIS = (Engine.SENTIS_1, Engine.SENTIS_2)
FLOAT = TensorProto.FLOAT


def make_model(nodes, inputs, outputs, initializers=(), opset=13) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              ir_version=8)
    onnx.checker.check_model(model, full_check=True)  # every test graph is valid ONNX
    return model


def tensor(name, shape, elem=FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def out(name="y", rank=4, elem=FLOAT):
    """A graph output of known rank and unknown size."""
    return helper.make_tensor_value_info(name, elem, [f"d{i}" for i in range(rank)])


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def verdict_of(report, op_type):
    return next(v for v in report.verdicts if v.op_type == op_type)


def run_ort(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


# ---- quantized operators ---------------------------------------------------------------
def qdq_model():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "s", "zp"], ["y"])]
    inits = [init("s", np.float32(0.1)), init("zp", np.uint8(128))]
    return make_model(nodes, [tensor("x", [1, 1, 4, 4])], [tensor("y", [1, 1, 4, 4])], inits)


def qlinearconv_model():
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xzp"], ["xq"]),
             helper.make_node("QLinearConv", ["xq", "xs", "xzp", "w", "ws", "wzp", "ys", "yzp"],
                              ["yq"]),
             helper.make_node("DequantizeLinear", ["yq", "ys", "yzp"], ["y"])]
    inits = [init("xs", np.float32(0.1)), init("xzp", np.uint8(0)),
             init("w", np.full((1, 1, 1, 1), 3, np.uint8)), init("ws", np.float32(0.5)),
             init("wzp", np.uint8(0)), init("ys", np.float32(0.2)), init("yzp", np.uint8(0))]
    return make_model(nodes, [tensor("x", [1, 1, 4, 4])], [tensor("y", [1, 1, 4, 4])], inits)


def dynamic_int8_model():
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xzp"]),
             helper.make_node("ConvInteger", ["xq", "w", "xzp", "wzp"], ["yi"]),
             helper.make_node("Cast", ["yi"], ["y"], to=FLOAT)]
    inits = [init("w", np.full((1, 1, 1, 1), 2, np.uint8)), init("wzp", np.uint8(0))]
    return make_model(nodes, [tensor("x", [1, 1, 4, 4])], [tensor("y", [1, 1, 4, 4])], inits)


QUANTIZED = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "DynamicQuantizeLinear",
             "ConvInteger"}


@pytest.mark.parametrize("build", [qdq_model, qlinearconv_model, dynamic_int8_model])
@pytest.mark.parametrize("engine", list(Engine))
def test_quantized_operators_cannot_run_anywhere(build, engine):
    report = check_model(build(), engine)
    quantized = [v for v in report.verdicts if v.op_type in QUANTIZED]
    assert quantized
    for v in quantized:
        assert v.verdict is Verdict.CANNOT_RUN
        assert "no quantized operators" in v.fix and "Python inference only" in v.fix
    assert not report.runs
    weight_only_loads = engine in (Engine.BARRACUDA_1_0, *SENTIS)
    assert ("stylebridge quantize --mode int8-weights" in quantized[0].fix) == weight_only_loads


# ---- Resize: which ignored modes change pixels -----------------------------------------------
def resize_model(coord, nearest, scale=2.0, mode="nearest"):
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode=mode,
                            coordinate_transformation_mode=coord, nearest_mode=nearest)
    return make_model([node], [tensor("x", [1, 1, 5, 5])], [out()],
                      [init("scales", np.array([1, 1, scale, scale], np.float32))])


RESIZE_CASES = [  # (coord, nearest, scale, Barracuda verdict, text in the reason)
    ("half_pixel", "round_prefer_ceil", 2, Verdict.RUNS, "identical pixels"),
    ("half_pixel", "round_prefer_floor", 3, Verdict.RUNS, "identical pixels"),
    ("asymmetric", "floor", 2, Verdict.RUNS, "identical pixels"),
    ("asymmetric", "round_prefer_ceil", 2, Verdict.RUNS_WITH_DIFFERENCE,
     "nearest_mode='round_prefer_ceil'"),
    ("half_pixel", "floor", 2, Verdict.RUNS_WITH_DIFFERENCE,
     "coordinate_transformation_mode='half_pixel'"),
    ("align_corners", "round_prefer_floor", 3, Verdict.RUNS_WITH_DIFFERENCE,
     "coordinate_transformation_mode='align_corners'"),
]


@pytest.mark.parametrize(("coord", "nearest", "scale", "expected", "text"), RESIZE_CASES)
def test_resize_modes_on_barracuda_match_onnxruntime(coord, nearest, scale, expected, text):
    model = resize_model(coord, nearest, float(scale))
    x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
    (onnx_out,) = run_ort(model, {"x": x})
    barracuda_out = x.repeat(scale, axis=2).repeat(scale, axis=3)  # floor(i / scale)
    assert np.array_equal(onnx_out, barracuda_out) == (expected is Verdict.RUNS)
    for engine in BARRACUDA:
        resize = verdict_of(check_model(model, engine), "Resize")
        assert resize.verdict is expected, resize.reason
        assert text in resize.reason
        if expected is not Verdict.RUNS:
            assert "coordinate_transformation_mode" in resize.reason
            assert "nearest_mode" in resize.reason
            assert "asymmetric" in resize.fix
    for engine in SENTIS:  # Sentis reads both modes
        assert verdict_of(check_model(model, engine), "Resize").verdict is Verdict.RUNS


def test_resize_bilinear_and_fractional_scales():
    linear = verdict_of(check_model(resize_model("half_pixel", "floor", mode="linear"),
                                    Engine.BARRACUDA_3), "Resize")
    assert linear.verdict is Verdict.RUNS_WITH_DIFFERENCE
    assert "coordinate_transformation_mode='half_pixel'" in linear.reason
    fractional = resize_model("asymmetric", "floor", scale=1.5)
    assert verdict_of(check_model(fractional, Engine.BARRACUDA_2), "Resize").verdict \
        is Verdict.CANNOT_RUN
    assert check_model(fractional, Engine.SENTIS_2).runs


def test_resize_with_sizes_computed_from_shape():
    """The Shape/Slice/Cast/Mul/Concat chain exporters emit around Resize."""
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Slice", ["shape", "start", "end"], ["hw"]),
             helper.make_node("Mul", ["hw", "two"], ["hw2"]),
             helper.make_node("Concat", ["nc", "hw2"], ["sizes"], axis=0),
             helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest")]
    inits = [init("start", np.array([2], np.int64)), init("end", np.array([4], np.int64)),
             init("two", np.array([2], np.int64)), init("nc", np.array([1, 3], np.int64))]
    model = make_model(nodes, [tensor("x", [1, 3, "H", "W"])], [out()], inits)
    old = check_model(model, Engine.BARRACUDA_1_0)
    assert verdict_of(old, "Resize").verdict is Verdict.CANNOT_RUN
    assert "sizes are computed" in verdict_of(old, "Resize").reason
    new = check_model(model, Engine.BARRACUDA_3)
    assert new.runs and "Resample2D" in verdict_of(new, "Resize").reason
    assert all(v.verdict is Verdict.RUNS for v in new.verdicts)


# ---- Pad -------------------------------------------------------------------------------------
def pad_model(shape, pads, mode="reflect", opset=11):
    if opset < 11:
        node = helper.make_node("Pad", ["x"], ["y"], mode=mode, pads=pads)
        inits = []
    else:
        node = helper.make_node("Pad", ["x", "pads"], ["y"], mode=mode)
        inits = [init("pads", np.array(pads, np.int64))]
    return make_model([node], [tensor("x", shape)], [out(rank=len(shape))], inits, opset=opset)


def test_reflect_pad_of_a_5d_tensor_needs_sentis():
    model = pad_model([1, 1, 4, 4, 4], [0, 0, 1, 1, 1, 0, 0, 1, 1, 1])
    for engine in BARRACUDA:
        pad = verdict_of(check_model(model, engine), "Pad")
        assert pad.verdict is Verdict.CANNOT_RUN, engine
    reason = verdict_of(check_model(model, Engine.BARRACUDA_3), "Pad").reason
    assert "5-D tensor" in reason and "2-D images" in reason
    for engine in SENTIS:  # a Sentis/Barracuda difference a client will see
        assert verdict_of(check_model(model, engine), "Pad").verdict is Verdict.RUNS


def test_reflect_pad_2d_and_the_pad11_input():
    pads = [0, 0, 4, 4, 0, 0, 4, 4]
    as_input = pad_model([1, 3, 8, 8], pads, opset=11)
    assert check_model(as_input, Engine.BARRACUDA_3).runs
    old = verdict_of(check_model(as_input, Engine.BARRACUDA_1_0), "Pad")
    assert old.verdict is Verdict.CANNOT_RUN and "pad by 0 pixels" in old.reason
    assert "version_converter" in old.fix  # a third-party file: convert it, never re-export
    assert check_model(pad_model([1, 3, 8, 8], pads, opset=9), Engine.BARRACUDA_1_0).runs
    channel = pad_model([1, 3, 8, 8], [0, 1, 0, 0, 0, 1, 0, 0], mode="constant")
    assert "batch or channel" in verdict_of(check_model(channel, Engine.BARRACUDA_2), "Pad").reason


# ---- opsets ------------------------------------------------------------------------------------
def conv_relu_model(opset):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Relu", ["c"], ["y"])]
    return make_model(nodes, [tensor("x", [1, 3, 8, 8])], [out()],
                      [init("w", np.ones((4, 3, 3, 3), np.float32))], opset=opset)


def test_opset_above_the_engine_maximum_is_a_model_finding():
    report = check_model(conv_relu_model(17), Engine.BARRACUDA_1_0)
    (finding,) = [f for f in report.findings if f.kind is FindingKind.OPSET_ABOVE_MAX]
    assert "opset 17" in finding.reason
    assert "version_converter.convert_version(model, 9)" in finding.fix  # third-party file
    exported = conv_relu_model(17)
    exported.metadata_props.add(key="stylebridge.source", value="model.pth")
    report = check_model(exported, Engine.BARRACUDA_1_0)
    (finding,) = [f for f in report.findings if f.kind is FindingKind.OPSET_ABOVE_MAX]
    assert "stylebridge export --engine barracuda-1.0" in finding.fix
    assert not any(f.kind is FindingKind.OPSET_ABOVE_MAX
                   for f in check_model(conv_relu_model(9), Engine.BARRACUDA_1_0).findings)
    # judged per operator version: Conv-11 and Relu-14 themselves still import
    assert all(v.verdict is Verdict.RUNS for v in report.verdicts)


# ---- weight-only compression -------------------------------------------------------------------
def weight_expansion_model():
    """Conv weights stored int8 (per-channel scale) and fp16, expanded by Cast→Sub→Mul."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    scale = (np.abs(w).reshape(4, -1).max(axis=1) / 127).reshape(4, 1, 1, 1).astype(np.float32)
    w_q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    w2 = rng.normal(size=(4, 4, 1, 1)).astype(np.float16)
    nodes = [helper.make_node("Cast", ["w_q"], ["w_f"], to=FLOAT),
             helper.make_node("Sub", ["w_f", "zero"], ["w_c"]),
             helper.make_node("Mul", ["w_c", "scale"], ["w"]),
             helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Cast", ["w2_h"], ["w2"], to=FLOAT),
             helper.make_node("Conv", ["c", "w2"], ["y"])]
    inits = [init("w_q", w_q), init("zero", np.zeros((4, 1, 1, 1), np.float32)),
             init("scale", scale), init("b", np.zeros(4, np.float32)), init("w2_h", w2)]
    model = make_model(nodes, [tensor("x", [1, 3, 8, 8])], [out()], inits)
    return model, w_q.astype(np.float32) * scale, w2.astype(np.float32)


def test_weight_only_expansion_per_engine():
    model, w, w2 = weight_expansion_model()
    x = np.random.default_rng(1).normal(size=(1, 3, 8, 8)).astype(np.float32)
    float_model = make_model(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Conv", ["c", "w2"], ["y"])],
        [tensor("x", [1, 3, 8, 8])], [out()], [init("w", w), init("w2", w2)])
    np.testing.assert_allclose(run_ort(model, {"x": x})[0], run_ort(float_model, {"x": x})[0],
                               rtol=1e-5, atol=1e-5)
    for engine in (Engine.BARRACUDA_1_0, *SENTIS):  # importers that fold constant chains
        report = check_model(model, engine)
        assert report.runs and all(v.verdict is Verdict.RUNS for v in report.verdicts), engine
        kinds = {f.kind for f in report.findings}
        assert FindingKind.LOW_PRECISION_INITIALIZERS in kinds
    for engine in (Engine.BARRACUDA_2, Engine.BARRACUDA_3):  # ImportMode.Standard: no baking
        report = check_model(model, engine)
        convs = [v for v in report.verdicts if v.op_type == "Conv"]
        assert [c.verdict for c in convs] == [Verdict.CANNOT_RUN] * 2
        assert "Mul ← Sub ← Cast ← int8 initializer 'w_q'" in convs[0].reason
        assert "only constant tensors are supported for `W`" in convs[0].reason
        assert "float32 model" in convs[0].fix


def test_all_fp16_graph_runs_on_barracuda():
    """fp16 initializers used directly are read as float32: the file shrinks everywhere."""
    nodes = [helper.make_node("Cast", ["x"], ["xh"], to=TensorProto.FLOAT16),
             helper.make_node("Conv", ["xh", "w"], ["yh"]),
             helper.make_node("Cast", ["yh"], ["y"], to=FLOAT)]
    model = make_model(nodes, [tensor("x", [1, 3, 8, 8])], [out()],
                       [init("w", np.ones((4, 3, 3, 3), np.float16))])
    for engine in Engine:
        assert check_model(model, engine).runs, engine


def test_fp16_bits_in_int32_data_are_refused_by_barracuda():
    w = helper.make_tensor("w", TensorProto.FLOAT16, [4, 3, 1, 1],
                           np.ones(12, np.float16).view(np.uint16).tolist())
    assert not w.raw_data and w.int32_data
    nodes = [helper.make_node("Cast", ["w"], ["wf"], to=FLOAT),
             helper.make_node("Conv", ["x", "wf"], ["y"])]
    model = make_model(nodes, [tensor("x", [1, 3, 4, 4])], [out()], [w])
    report = check_model(model, Engine.BARRACUDA_1_0)
    (finding,) = [f for f in report.findings if f.kind is FindingKind.FP16_NOT_RAW]
    assert finding.verdict is Verdict.CANNOT_RUN and "15360" in finding.reason
    assert not any(f.kind is FindingKind.FP16_NOT_RAW
                   for f in check_model(model, Engine.SENTIS_2).findings)


# ---- other operators and model-level findings -------------------------------------------------
@pytest.mark.parametrize(("per_group", "expected"), [(1, Verdict.RUNS), (2, Verdict.CANNOT_RUN)])
def test_grouped_convolution_on_barracuda(per_group, expected):
    groups = 4 // per_group
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=groups)
    model = make_model([node], [tensor("x", [1, 4, 8, 8])], [out()],
                       [init("w", np.ones((4, per_group, 3, 3), np.float32))])
    for engine in BARRACUDA:
        assert verdict_of(check_model(model, engine), "Conv").verdict is expected
    assert check_model(model, Engine.SENTIS_1).runs


def test_unknown_and_custom_domain_operators():
    einsum = make_model([helper.make_node("Einsum", ["x", "x"], ["y"], equation="ij,ij->ij")],
                        [tensor("x", [2, 2])], [out(rank=2)])
    barracuda = verdict_of(check_model(einsum, Engine.BARRACUDA_3), "Einsum")
    assert barracuda.verdict is Verdict.CANNOT_RUN and "Unknown type Einsum" in barracuda.reason
    assert verdict_of(check_model(einsum, Engine.SENTIS_2), "Einsum").verdict is Verdict.RUNS
    fused = helper.make_node("FusedConv", ["x", "w"], ["y"], domain="com.microsoft")
    graph = helper.make_graph([fused], "g", [tensor("x", [1, 1, 4, 4])], [out()],
                              [init("w", np.ones((1, 1, 1, 1), np.float32))])
    custom = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                     helper.make_opsetid("com.microsoft", 1)])
    for engine in Engine:
        report = check_model(custom, engine)
        assert not report.runs
        assert any(f.kind is FindingKind.CUSTOM_DOMAIN for f in report.findings)


def test_inputs_the_client_cannot_feed():
    two = make_model([helper.make_node("Add", ["a", "b"], ["y"])],
                     [tensor("a", [1, 3, 4, 4]), tensor("b", [1, 3, 4, 4])], [out()])
    assert FindingKind.INPUT_COUNT in {f.kind for f in check_model(two, Engine.SENTIS_1).findings}
    uint8 = make_model([helper.make_node("Cast", ["x"], ["y"], to=FLOAT)],
                       [tensor("x", [1, 3, 4, 4], TensorProto.UINT8)], [out()])
    (finding,) = [f for f in check_model(uint8, Engine.BARRACUDA_2).findings
                  if f.kind is FindingKind.INPUT_TYPE]
    assert finding.verdict is Verdict.RUNS_WITH_DIFFERENCE and "uint8" in finding.reason


def test_cast_to_integer_is_identity_in_barracuda():
    nodes = [helper.make_node("Cast", ["x"], ["xi"], to=TensorProto.INT64),
             helper.make_node("Cast", ["xi"], ["y"], to=FLOAT)]
    model = make_model(nodes, [tensor("x", [1, 3, 4, 4])], [out()])
    casts = [v.verdict for v in check_model(model, Engine.BARRACUDA_3).verdicts]
    assert casts == [Verdict.RUNS_WITH_DIFFERENCE, Verdict.RUNS]


# ---- the real models --------------------------------------------------------------------------
EXPECTED = {
    "mosaic.onnx": {Engine.BARRACUDA_1_0: Verdict.CANNOT_RUN, Engine.BARRACUDA_2: Verdict.RUNS,
                    Engine.BARRACUDA_3: Verdict.RUNS, Engine.SENTIS_1: Verdict.RUNS,
                    Engine.SENTIS_2: Verdict.RUNS},
    "ingame-small.onnx": dict.fromkeys(Engine, Verdict.RUNS),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_models_on_every_engine(models_dir, name):
    model = load_model_for_check(models_dir / name)
    for engine, expected in EXPECTED[name].items():
        report = check_model(model, engine)
        assert report.verdict is expected, (engine, report.to_dict()["findings"])
        assert sum(report.counts.values()) == len(model.graph.node)
    if name == "mosaic.onnx":
        old = check_model(model, Engine.BARRACUDA_1_0)
        assert {v.op_type for v in old.verdicts if v.verdict is Verdict.CANNOT_RUN} == {"Pad"}
        resize = verdict_of(check_model(model, Engine.BARRACUDA_3), "Resize")
        assert resize.verdict is Verdict.RUNS and "identical pixels" in resize.reason
    else:
        upsample = verdict_of(check_model(model, Engine.BARRACUDA_1_0), "Upsample")
        assert upsample.verdict is Verdict.RUNS


def test_report_groups_rows_and_serializes(models_dir):
    report = check_model(models_dir / "mosaic.onnx", Engine.BARRACUDA_1_0)
    rows = summary_rows(report.verdicts)
    assert len(rows) <= 8 < len(report.verdicts)
    assert rows[0].verdict is Verdict.CANNOT_RUN and rows[0].count == 16
    data = json.loads(report_json(report))
    assert data["runs"] is False and data["counts"]["cannot-run"] == 16


def test_sampling_model_agrees_with_onnxruntime():
    for coord, nearest in (("pytorch_half_pixel", "ceil"), ("tf_half_pixel_for_nn", "floor")):
        model = resize_model(coord, nearest, 3.0)
        x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)
        same = np.array_equal(run_ort(model, {"x": x})[0], x.repeat(3, 2).repeat(3, 3))
        assert same == (first_mismatch(coord, nearest, 3) is None)


def test_loading_bad_files(tmp_path):
    with pytest.raises(NotFoundError):
        load_model_for_check(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x96\x01 this is not a protobuf \xff\xff")
    with pytest.raises(ModelLoadError):
        check_model(junk, Engine.BARRACUDA_3)


# ---- the command -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli():
    from stylebridge.cli import app

    return app


def test_cli_exit_codes_and_json(cli, models_dir, tmp_path):
    runner = CliRunner()
    mosaic = str(models_dir / "mosaic.onnx")
    assert runner.invoke(cli, ["check", mosaic, "--engine", "barracuda-3"]).exit_code == 0
    refused = runner.invoke(cli, ["check", mosaic, "--engine", "barracuda-1.0"])
    assert refused.exit_code == 1 and "Pad" in refused.output
    as_json = runner.invoke(cli, ["check", mosaic, "-e", "sentis-2", "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.output)["engine"] == "sentis-2"
    every = runner.invoke(cli, ["check", str(models_dir / "ingame-small.onnx"), "--all-nodes"])
    assert every.exit_code == 0 and "Upsample" in every.output
    assert runner.invoke(cli, ["check", str(tmp_path / "none.onnx")]).exit_code == 2
    assert runner.invoke(cli, ["check", mosaic, "--engine", "tflite"]).exit_code == 2


def test_check_accepts_path_or_proto(models_dir):
    path: Path = models_dir / "ingame-small.onnx"
    from_path = check_model(path, Engine.SENTIS_1)
    from_proto = check_model(onnx.load(str(path)), Engine.SENTIS_1)
    assert from_path.to_dict() == from_proto.to_dict()
