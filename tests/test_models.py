"""stylebridge.models on the real shared models, hand-built graphs and hostile files.

Agreement bound: ONNX Runtime vs torch on the same weights is float32 arithmetic in
another order. Measured on four real frames at 320x180: mosaic.pth vs mosaic.onnx
max 0.0143 / mean 0.00012; ingame-small's weights in torch vs its relaxed ONNX max
0.0083 / mean 0.00006 (0..255 scale). The bound is the project's export tolerance
(max 0.5, mean 0.02, see models/export.py): ~35x the measured error, far below what a
wrong op costs (the negative controls below differ by tens of levels).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from stylebridge.errors import (
    InvalidInputError,
    LimitExceededError,
    ModelFormatError,
    ModelLoadError,
    NotFoundError,
)
from stylebridge.models import (
    Architecture,
    InputRange,
    LoadedCheckpoint,
    OnnxModel,
    TransformerNet,
    TransformerNetConfig,
    count_onnx_parameters,
    count_parameters,
    infer_config,
    input_range,
    load_checkpoint,
    load_model,
    load_onnx,
    normalize_state_dict,
    onnx_from_bytes,
    read_metadata,
    save_checkpoint,
    untrained_model,
    write_metadata,
)
from stylebridge.models.export import DEFAULT_TOLERANCE, verify_export

EXPECTED_CHECKPOINTS = {
    "mosaic.pth": ((32, 64, 128), 5, Architecture.FAST_NEURAL_STYLE),
    "candy.pth": ((32, 64, 128), 5, Architecture.FAST_NEURAL_STYLE),
    "ingame-small.pth": ((8, 16, 32), 5, Architecture.IN_GAME),
}
EXPECTED_ONNX = {
    # name: (input name, relaxed from a fixed size)
    "mosaic.onnx": ("input1", False),
    "candy.onnx": ("input1", False),
    "ingame-small.onnx": ("input.1", True),
}


@pytest.fixture(scope="module")
def mosaic(models_dir: Path) -> LoadedCheckpoint:
    return load_checkpoint(models_dir / "mosaic.pth")


@pytest.fixture(scope="module")
def mosaic_state(models_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(models_dir / "mosaic.pth", weights_only=True)


# --- every real model loads ------------------------------------------------------------


def test_shared_folder_has_the_expected_models(models_dir: Path) -> None:
    names = {p.name for p in models_dir.iterdir() if p.suffix in (".pth", ".onnx")}
    assert names == set(EXPECTED_CHECKPOINTS) | set(EXPECTED_ONNX)


@pytest.mark.parametrize("name", sorted(EXPECTED_CHECKPOINTS))
def test_checkpoint_loads_with_inferred_shape(models_dir: Path, name: str) -> None:
    widths, blocks, architecture = EXPECTED_CHECKPOINTS[name]
    loaded = load_model(models_dir / name)
    assert isinstance(loaded, LoadedCheckpoint)
    assert loaded.config == TransformerNetConfig(widths, blocks, architecture)
    assert not loaded.model.training
    assert len(loaded.sha256) == 64
    if architecture is Architecture.IN_GAME:
        assert loaded.dropped_keys == ()
        assert ("resnets.0.conv1.conv2d.weight", "res1.conv1.conv2d.weight") in (
            loaded.renamed_keys
        )
        assert len(loaded.renamed_keys) == 8 * blocks
    else:
        # in1..in5 and two per residual block, each with running_mean and running_var
        assert len(loaded.dropped_keys) == 2 * (5 + 2 * blocks)
        assert all(".running_" in key for key in loaded.dropped_keys)


@pytest.mark.parametrize("name", sorted(EXPECTED_ONNX))
def test_onnx_loads(models_dir: Path, name: str) -> None:
    input_name, relaxed = EXPECTED_ONNX[name]
    loaded = load_model(models_dir / name)
    assert isinstance(loaded, OnnxModel)
    assert loaded.input_name == input_name
    assert loaded.dynamic_spatial and loaded.fixed_size is None
    assert loaded.relaxed is relaxed
    assert loaded.input_range is InputRange.BYTE
    assert loaded.run_size(321, 123) == (321, 123)


def test_parameter_counts_match_the_model_zoo(
    mosaic: LoadedCheckpoint, models_dir: Path
) -> None:
    assert count_parameters(mosaic.model) == 1_679_235
    assert (
        count_onnx_parameters(load_onnx(models_dir / "mosaic.onnx").proto) == 1_679_235
    )
    small = load_checkpoint(models_dir / "ingame-small.pth")
    assert count_parameters(small.model) == count_onnx_parameters(
        load_onnx(models_dir / "ingame-small.onnx").proto
    )


# --- torch and ONNX Runtime agree on real frames ---------------------------------------


def test_mosaic_pth_and_onnx_agree_on_real_frames(
    mosaic: LoadedCheckpoint, models_dir: Path, small_frames: list[np.ndarray]
) -> None:
    check = verify_export(mosaic.model, models_dir / "mosaic.onnx", small_frames)
    assert len(check.frames) == len(small_frames) == 4
    assert all((f.width, f.height) == (320, 180) for f in check.frames)
    assert check.passed, check
    assert check.tolerance == DEFAULT_TOLERANCE


def test_agreement_check_tells_two_styles_apart(
    models_dir: Path, small_frames: list[np.ndarray]
) -> None:
    candy = load_checkpoint(models_dir / "candy.pth")
    check = verify_export(candy.model, models_dir / "mosaic.onnx", small_frames[:1])
    assert not check.passed
    assert check.mean_abs > 10 * DEFAULT_TOLERANCE.mean_abs


def _ingame_onnx_weights(models_dir: Path) -> dict[str, torch.Tensor]:
    """ingame-small.onnx's own weights (its initializers carry the checkpoint's names).

    ingame-small.pth and .onnx are two different trainings of the same network (their
    tensors differ), so the ONNX is compared with its own weights loaded into torch.
    """
    proto = onnx.load(models_dir / "ingame-small.onnx")
    return {
        init.name: torch.from_numpy(numpy_helper.to_array(init).copy())
        for init in proto.graph.initializer
        if "." in init.name  # skip the two Upsample scale constants
    }


def test_ingame_wiring_matches_its_relaxed_onnx_at_another_size(
    models_dir: Path, small_frames: list[np.ndarray]
) -> None:
    raw = _ingame_onnx_weights(models_dir)
    config = infer_config(raw)
    assert config == TransformerNetConfig((8, 16, 32), 5, Architecture.IN_GAME)
    state, _, _ = normalize_state_dict(raw)
    model = TransformerNet(config).eval()
    model.load_state_dict(state, strict=True)
    loaded = load_onnx(models_dir / "ingame-small.onnx")
    assert loaded.relaxed
    onnx_path = models_dir / "ingame-small.onnx"
    check = verify_export(model, onnx_path, small_frames)  # 320x180, not 540x960
    assert all((f.width, f.height) == (320, 180) for f in check.frames)
    assert check.passed, check
    # The wiring matters: the same weights in the plain example network disagree.
    plain = TransformerNet(
        TransformerNetConfig((8, 16, 32), 5, Architecture.FAST_NEURAL_STYLE)
    ).eval()
    plain.load_state_dict(state, strict=True)
    assert not verify_export(plain, onnx_path, small_frames[:1]).passed


# --- fixed input shapes ----------------------------------------------------------------


def test_ingame_onnx_fixed_input_is_relaxed(models_dir: Path) -> None:
    loaded = load_onnx(models_dir / "ingame-small.onnx")
    assert loaded.relaxed and loaded.dynamic_spatial and loaded.fixed_size is None
    assert loaded.opset == 9
    assert "fixed input 540x960 relaxed to dynamic H x W" in loaded.note
    dims = loaded.proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims[2:]] == ["H", "W"]
    session = ort.InferenceSession(
        loaded.to_bytes(), providers=["CPUExecutionProvider"]
    )
    x = np.full((1, 3, 180, 320), 128.0, dtype=np.float32)
    (y,) = session.run(None, {loaded.input_name: x})
    assert y.shape == (1, 3, 180, 320)


def _fixed_model(
    tail: list[onnx.NodeProto], inits: list[TensorProto], h: int = 64, w: int = 48
) -> onnx.ModelProto:
    """[1,3,h,w] -> Conv 3x3 -> ``tail`` -> "y" [1,3,h,w], opset 13."""
    weight = numpy_helper.from_array(np.full((3, 3, 3, 3), 0.01, np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1])
    graph = helper.make_graph(
        [conv, *tail],
        "fixed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, h, w])],
        [weight, *inits],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8
    )


def _const(
    name: str, values: list[int] | list[float], dtype: type = np.int64
) -> TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=dtype), name)


FIXED_ONLY_GRAPHS = {
    "Reshape": (
        [helper.make_node("Reshape", ["c", "shape"], ["y"])],
        [_const("shape", [1, 3, 64, 48])],
        "graph has Reshape",
    ),
    "Flatten": (
        [
            helper.make_node("Flatten", ["c"], ["f"], axis=1),
            helper.make_node("Reshape", ["f", "shape"], ["y"]),
        ],
        [_const("shape", [1, 3, 64, 48])],
        "graph has Flatten",
    ),
    "Resize to sizes": (
        [helper.make_node("Resize", ["c", "", "", "sizes"], ["y"], mode="nearest")],
        [_const("sizes", [1, 3, 64, 48])],
        "Resize to fixed sizes",
    ),
    "spatial constant": (
        [helper.make_node("Add", ["c", "bias"], ["y"])],
        [numpy_helper.from_array(np.zeros((1, 3, 64, 48), np.float32), "bias")],
        "constant of spatial shape",
    ),
}


@pytest.mark.parametrize("case", sorted(FIXED_ONLY_GRAPHS))
def test_fixed_graph_that_depends_on_its_size_is_not_relaxed(
    tmp_path: Path, case: str
) -> None:
    tail, inits, reason = FIXED_ONLY_GRAPHS[case]
    path = tmp_path / "fixed.onnx"
    onnx.save(_fixed_model(tail, inits), path)
    loaded = load_onnx(path)
    assert not loaded.relaxed and not loaded.dynamic_spatial
    assert loaded.fixed_size == (48, 64)
    assert loaded.run_size(1280, 720) == (48, 64)
    assert "fixed input 48x64; frames are resized to it" in loaded.note
    assert reason in loaded.note


def test_fully_convolutional_hand_built_graph_is_relaxed(tmp_path: Path) -> None:
    tail = [
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Mul", ["r", "gain"], ["m"]),
        helper.make_node("Resize", ["m", "", "scales"], ["u"], mode="nearest"),
        helper.make_node("MaxPool", ["u"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    inits = [
        numpy_helper.from_array(np.ones((1, 3, 1, 1), np.float32), "gain"),
        _const("scales", [1.0, 1.0, 2.0, 2.0], np.float32),
    ]
    path = tmp_path / "conv.onnx"
    onnx.save(_fixed_model(tail, inits), path)
    loaded = load_onnx(path)
    assert loaded.relaxed and loaded.fixed_size is None
    assert "fixed input 48x64 relaxed" in loaded.note


# --- clear errors for bad checkpoints --------------------------------------------------


def _save(tmp_path: Path, obj: object, name: str = "bad.pth") -> Path:
    path = tmp_path / name
    torch.save(obj, path)
    return path


def test_missing_key_is_named(tmp_path: Path, mosaic_state: dict) -> None:
    state = dict(mosaic_state)
    del state["deconv3.conv2d.bias"]
    with pytest.raises(ModelFormatError, match=r"missing keys: deconv3\.conv2d\.bias"):
        load_checkpoint(_save(tmp_path, state))


def test_wrong_shape_is_named(tmp_path: Path, mosaic_state: dict) -> None:
    state = dict(mosaic_state)
    state["res2.conv1.conv2d.weight"] = torch.zeros(128, 128, 5, 5)
    with pytest.raises(ModelFormatError) as info:
        load_checkpoint(_save(tmp_path, state))
    assert (
        "shape mismatch: res2.conv1.conv2d.weight is (128, 128, 5, 5) in the file"
        in str(info.value)
    )
    assert "(128, 128, 3, 3) expected" in str(info.value)


def test_unexpected_key_is_named(tmp_path: Path, mosaic_state: dict) -> None:
    state = {**mosaic_state, "extra.weight": torch.zeros(3)}
    with pytest.raises(ModelFormatError, match=r"unexpected keys: extra\.weight"):
        load_checkpoint(_save(tmp_path, state))


def test_many_mismatches_show_a_few_and_count_the_rest(
    tmp_path: Path, mosaic_state: dict
) -> None:
    state = {k: v for k, v in mosaic_state.items() if not k.startswith("res3.")}
    state.update({f"res3.conv{i}.conv2d.weight": torch.zeros(1) for i in (1, 2)})
    with pytest.raises(ModelFormatError) as info:
        load_checkpoint(_save(tmp_path, state))
    message = str(info.value)
    assert "missing keys:" in message and "(and 1 more)" in message
    assert "res3.conv1.conv2d.weight is (1,) in the file" in message


def test_random_bytes_are_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "noise.pth"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ModelLoadError, match="not a PyTorch checkpoint"):
        load_checkpoint(path)


def test_pickled_callable_is_refused_by_weights_only(tmp_path: Path) -> None:
    path = _save(tmp_path, {"x": os.system}, "evil.pth")
    with pytest.raises(ModelLoadError, match="pickled code") as info:
        load_checkpoint(path)
    assert "system" in str(info.value)
    assert not isinstance(info.value, ModelFormatError)


def test_other_payloads_are_format_errors(tmp_path: Path, mosaic_state: dict) -> None:
    with pytest.raises(ModelFormatError, match="not a state dict"):
        load_checkpoint(_save(tmp_path, torch.zeros(3), "tensor.pth"))
    with pytest.raises(ModelFormatError, match=r"no 4-D conv1\.conv2d\.weight"):
        load_checkpoint(_save(tmp_path, {"fc.weight": torch.zeros(2, 2)}, "fc.pth"))
    with pytest.raises(ModelFormatError, match="not tensors: note"):
        load_checkpoint(_save(tmp_path, {"note": "hello", **mosaic_state}, "mixed.pth"))
    gap = {k: v for k, v in mosaic_state.items() if not k.startswith("res2.")}
    with pytest.raises(ModelFormatError, match="res1, res3, res4, res5"):
        load_checkpoint(_save(tmp_path, gap, "gap.pth"))


def test_wrapped_state_dicts_load(tmp_path: Path, mosaic_state: dict) -> None:
    for key in ("state_dict", "model"):
        loaded = load_checkpoint(
            _save(tmp_path, {key: mosaic_state, "epoch": 3}, f"{key}.pth")
        )
        assert loaded.config.widths == (32, 64, 128)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_checkpoint(tmp_path / "absent.pth")
    with pytest.raises(NotFoundError):
        load_onnx(tmp_path / "absent.onnx")
    (tmp_path / "model.h5").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match=r"unknown model file type '\.h5'"):
        load_model(tmp_path / "model.h5")


def test_checkpoint_size_limit(models_dir: Path) -> None:
    with pytest.raises(LimitExceededError):
        load_checkpoint(models_dir / "ingame-small.pth", max_bytes=1000)


# --- state dict helpers, config, untrained model, save/load ----------------------------


def test_normalize_state_dict_is_idempotent() -> None:
    t = torch.zeros(1)
    raw = {
        "module.conv1.conv2d.weight": t,
        "resnets.2.in1.weight": t,
        "in1.running_mean": t,
        "res1.in2.running_var": t,
        "in2.num_batches_tracked": t,
    }
    state, dropped, renamed = normalize_state_dict(raw)
    assert set(state) == {"conv1.conv2d.weight", "res3.in1.weight"}
    assert set(dropped) == {
        "in1.running_mean",
        "res1.in2.running_var",
        "in2.num_batches_tracked",
    }
    assert ("resnets.2.in1.weight", "res3.in1.weight") in renamed
    assert normalize_state_dict(state) == (state, (), ())


def test_config_validation() -> None:
    with pytest.raises(InvalidInputError, match="widths"):
        TransformerNetConfig(widths=(0, 16, 32))
    with pytest.raises(InvalidInputError, match="widths"):
        TransformerNetConfig(widths=(8, 16))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="residual_blocks"):
        TransformerNetConfig(residual_blocks=-1)
    assert TransformerNetConfig(residual_blocks=0).residual_blocks == 0
    assert (
        TransformerNetConfig((8, 16, 32), 2).describe()
        == "8/16/32 x2 (fast-neural-style)"
    )


def test_untrained_model_is_deterministic_and_leaves_global_rng_alone() -> None:
    config = TransformerNetConfig((8, 16, 32), 2)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = untrained_model(config, seed=0)
    after = torch.rand(1)
    assert torch.equal(before, after)
    b = untrained_model(config, seed=0)
    c = untrained_model(config, seed=1)
    assert not a.training
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert not torch.equal(a.conv1.conv2d.weight, c.conv1.conv2d.weight)
    names = {n for n, _ in a.named_children()}
    assert {"conv1", "in1", "res1", "res2", "deconv1", "in4", "deconv3"} <= names
    assert "res3" not in names


def test_sizes_are_preserved_for_multiples_of_four() -> None:
    model = untrained_model(TransformerNetConfig((4, 8, 8), 1))
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 36, 20)).shape == (1, 3, 36, 20)


def test_save_checkpoint_keeps_the_wiring(tmp_path: Path) -> None:
    config = TransformerNetConfig((8, 16, 32), 2, Architecture.IN_GAME)
    model = untrained_model(config, seed=3)
    path = save_checkpoint(model, tmp_path / "sub" / "ingame.pth")
    assert [p.name for p in path.parent.iterdir()] == [
        "ingame.pth"
    ]  # no temp file left
    loaded = load_checkpoint(path)
    assert loaded.config == config
    x = torch.rand(1, 3, 32, 48) * 255
    with torch.no_grad():
        assert torch.equal(model(x), loaded.model(x))


# --- ONNX: hostile files, limits, metadata ---------------------------------------------


def _tiny_onnx(h: int | str = "H", w: int | str = "W") -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.full((3, 3, 1, 1), 0.5, np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"])
    graph = helper.make_graph(
        [node],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, h, w])],
        [weight],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8
    )


def _point_weight_at(proto: onnx.ModelProto, location: str) -> onnx.ModelProto:
    tensor = proto.graph.initializer[0]
    tensor.ClearField("float_data")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return proto


@pytest.mark.parametrize(
    "location", ["../../etc/passwd", "/etc/passwd", "sub/../../x.bin"]
)
def test_external_data_outside_the_folder_is_refused(
    tmp_path: Path, location: str
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    path = folder / "escape.onnx"
    path.write_bytes(_point_weight_at(_tiny_onnx(), location).SerializeToString())
    with pytest.raises(ModelLoadError, match="outside the model's folder"):
        load_onnx(path)


def test_external_data_beside_the_model_loads(tmp_path: Path) -> None:
    path = tmp_path / "ext.onnx"
    onnx.save_model(
        _tiny_onnx(),
        path,
        save_as_external_data=True,
        location="ext.bin",
        size_threshold=0,
    )
    assert (tmp_path / "ext.bin").is_file()
    loaded = load_onnx(path)
    assert numpy_helper.to_array(
        loaded.proto.graph.initializer[0]
    ).sum() == pytest.approx(4.5)
    with pytest.raises(ModelLoadError, match="external data"):
        onnx_from_bytes(path.read_bytes())


def test_not_an_onnx_file(tmp_path: Path) -> None:
    for name, data in [
        ("noise.onnx", np.random.default_rng(2).bytes(2048)),
        ("text.onnx", b"hello, this is not a model\n"),
        ("empty.onnx", b""),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ModelLoadError, match="not an ONNX model"):
            load_onnx(path)


def test_onnx_from_bytes_and_limits() -> None:
    data = _tiny_onnx().SerializeToString()
    loaded = onnx_from_bytes(data)
    assert loaded.path is None and loaded.dynamic_spatial and loaded.input_name == "x"
    with pytest.raises(LimitExceededError):
        onnx_from_bytes(data, max_bytes=len(data) - 1)


def test_onnx_shape_and_checker_errors(tmp_path: Path) -> None:
    two_inputs = _tiny_onnx()
    two_inputs.graph.input.append(
        helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 3, 4, 4])
    )
    with pytest.raises(ModelFormatError, match="2 inputs"):
        onnx_from_bytes(two_inputs.SerializeToString())
    gray = _tiny_onnx()
    gray.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 1
    with pytest.raises(ModelFormatError, match=r"FLOAT\[1,1,H,W\]"):
        onnx_from_bytes(gray.SerializeToString())
    broken = _tiny_onnx()
    broken.graph.node[0].input[1] = "nowhere"
    with pytest.raises(ModelFormatError, match="ONNX checker"):
        onnx_from_bytes(broken.SerializeToString())


def test_metadata_round_trip_and_defaults() -> None:
    proto = _tiny_onnx()
    assert input_range(proto) is InputRange.BYTE  # absent -> 0..255
    write_metadata(proto, {"stylebridge.input_range": "1", "other": "x"})
    write_metadata(proto, {"stylebridge.layout": "NCHW"})
    assert read_metadata(proto) == {
        "stylebridge.input_range": "1",
        "other": "x",
        "stylebridge.layout": "NCHW",
    }
    assert onnx_from_bytes(proto.SerializeToString()).input_range is InputRange.UNIT
    assert InputRange.UNIT.scale == 1.0 and InputRange.BYTE.scale == 255.0
    write_metadata(proto, {"stylebridge.input_range": "65535"})
    with pytest.raises(ModelFormatError, match="input_range"):
        onnx_from_bytes(proto.SerializeToString())
