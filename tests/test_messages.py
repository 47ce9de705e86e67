"""Messages that lead somewhere (issue 13, items 6-8), each against the real code path.

Git LFS pointers say "run `git lfs pull`"; ``.model`` checkpoints (PyTorch's
fast_neural_style trainer) load; a third-party ONNX is never told to re-export; the
all-fp16 refusal suggests cast-weights only when that layout loads; a native assertion
with ``%s`` unfilled is not shown as is; a Pad whose amounts are computed at run time
gets the checker's own computed-input verdict on Barracuda; a declared engine version
must belong to that engine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from corpus_models import old_ir, plain
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from stylebridge.cli import app
from stylebridge.client.engine import declared_engine
from stylebridge.engines.checker import check_model, opset_fix
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError, ModelLoadError, native_message
from stylebridge.models import load_model
from stylebridge.optimize import weights

LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               b"size 6728029\n")


def _said(result: object) -> str:
    """What a CLI run told the user: its output, or the StyleBridge error main() prints."""
    return f"{result.output}\n{result.exception}"  # type: ignore[attr-defined]


@pytest.mark.parametrize("suffix", [".onnx", ".pth"])
def test_lfs_pointer_says_git_lfs_pull(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"mosaic{suffix}"
    path.write_bytes(LFS_POINTER)
    with pytest.raises(ModelLoadError, match="run `git lfs pull`"):
        load_model(path)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert "git lfs pull" in _said(result)


def test_fast_neural_style_model_suffix_loads(tmp_path: Path, models_dir: Path) -> None:
    path = tmp_path / "mosaic.model"
    shutil.copy(models_dir / "mosaic.pth", path)
    loaded = load_model(path)
    assert loaded.model is not None
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output


def test_check_of_unreadable_onnx_does_not_point_at_export(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07" + bytes(range(200)))
    result = CliRunner().invoke(app, ["check", str(path)])
    message = _said(result)
    assert "not a readable ONNX model" in message and "export" not in message


def test_opset_fix_exports_only_what_stylebridge_exported() -> None:
    third_party = old_ir(7)
    assert "stylebridge export" not in opset_fix(third_party, Engine.BARRACUDA_3)
    assert "version_converter" in opset_fix(third_party, Engine.BARRACUDA_3)
    ours = plain()
    ours.metadata_props.add(key="stylebridge.source", value="mosaic.pth")
    assert "stylebridge export --engine barracuda-3" in opset_fix(ours, Engine.BARRACUDA_3)


def test_native_assertion_text_is_cleaned() -> None:
    raw = RuntimeError("onnx/version_converter/adapters/upsample_8_9.h:34: adapt: Assertion "
                       "`%s` failed: Upsample in opset 9 needs scales as %s")
    text = native_message(raw)
    assert "%s" not in text and "internal check failed" in text


def _with_op(op: str) -> onnx.ModelProto:
    model = plain()
    node = helper.make_node(op, ["output"], ["hard"])
    model.graph.node.append(node)
    model.graph.output[0].name = "hard"
    return model


def test_all_fp16_suggests_cast_weights_only_when_it_loads() -> None:
    softsign = _with_op("Softsign")  # not on the all-fp16 list; cast-weights keeps it float
    with pytest.raises(InvalidInputError, match="cast-weights works for this model"):
        weights.to_fp16_weights(softsign)
    assert weights.to_fp16_weights(softsign, weights.Fp16Layout.CAST_WEIGHTS)
    broken = _with_op("NoSuchOp")  # cast-weights cannot load this graph in ORT either
    with pytest.raises(InvalidInputError, match="does not load in ONNX Runtime either") as exc:
        weights.to_fp16_weights(broken)
    assert "use --fp16-layout cast-weights" not in str(exc.value)


def _computed_pad_model() -> onnx.ModelProto:
    """Pad-11 whose pads are computed from the input's shape (round up to a multiple of 4)."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Slice", ["shape", "start", "end"], ["hw"]),
        helper.make_node("Sub", ["four", "hw"], ["short"]),
        helper.make_node("Concat", ["zeros4", "zeros2", "short"], ["pads"], axis=0),
        helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect"),
    ]
    inits = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in (
        ("start", [2]), ("end", [4]), ("four", [4]), ("zeros4", [0, 0, 0, 0]), ("zeros2", [0, 0]))]
    graph = helper.make_graph(
        nodes, "pad", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, None, None])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])


@pytest.mark.parametrize("engine", [Engine.BARRACUDA_2, Engine.BARRACUDA_3])
def test_computed_pad_gets_the_computed_input_verdict(engine: Engine) -> None:
    report = check_model(_computed_pad_model(), engine)
    (pad,) = [v for v in report.verdicts if "Pad" in v.reason and "'pads'" in v.reason]
    assert pad.verdict is Verdict.CANNOT_RUN and "computed when the model runs" in pad.reason
    assert report.verdict is Verdict.CANNOT_RUN


def test_constant_pad_still_runs_on_barracuda() -> None:
    model = _computed_pad_model()
    const = numpy_helper.from_array(np.array([0, 0, 0, 0, 0, 0, 2, 2], np.int64), "pads")
    del model.graph.node[:4]
    model.graph.initializer.append(const)
    report = check_model(model, Engine.BARRACUDA_3)
    assert report.verdict is not Verdict.CANNOT_RUN, [v.reason for v in report.verdicts]


def test_declared_engine_version_must_match() -> None:
    assert declared_engine(Engine.BARRACUDA_3)[1] == "3.0.1"
    assert declared_engine(Engine.BARRACUDA_2, "2.1.0")[1] == "2.1.0"
    with pytest.raises(InvalidInputError, match="not a barracuda-3 version"):
        declared_engine(Engine.BARRACUDA_3, "1.0.4")
    result = CliRunner().invoke(app, ["client", "--engine", "barracuda-9"])
    assert "unknown engine 'barracuda-9'" in _said(result)


def test_quantize_of_a_checkpoint_says_export_first(models_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["quantize", str(models_dir / "mosaic.pth"), "--out",
                                      str(tmp_path / "q.onnx"), "--mode", "dynamic"])
    assert "is not an ONNX file" in _said(result) and "stylebridge export" in _said(result)
    assert not (tmp_path / "q.onnx").exists()
