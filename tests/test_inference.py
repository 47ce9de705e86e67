"""Inference backends on the real models: ONNX Runtime (uint8 I/O inside the graph), torch,
identity / slow, and the factory. Small frames (160x90) keep this fast on 2 cores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from stylebridge.errors import (
    BackendError,
    InvalidInputError,
    ModelFormatError,
    NotFoundError,
)
from stylebridge.frames import (
    PixelFormat,
    flip_rows,
    pack_pixels,
    resize,
    unpack_pixels,
)
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.inference.factory import create_backend
from stylebridge.inference.ort import (
    WRAPPED_INPUT,
    WRAPPED_OUTPUT,
    OrtBackend,
    choose_providers,
    wrap_uint8_io,
)
from stylebridge.inference.simple import IdentityBackend, SlowBackend

SIZE = (
    160,
    90,
)  # (width, height): 90 rows is not a multiple of 4, so padding is exercised
CPU = ["CPUExecutionProvider"]


def reference_run(
    session: ort.InferenceSession, rgb: np.ndarray, multiple: int = 4
) -> np.ndarray:
    """The plain way: pad (mirror), convert in numpy, run the float model, crop; float HWC."""
    height, width = rgb.shape[:2]
    padded = np.pad(
        rgb, ((0, -height % multiple), (0, -width % multiple), (0, 0)), mode="reflect"
    )
    x = padded.transpose(2, 0, 1)[None].astype(np.float32)
    name = session.get_inputs()[0].name
    y = session.run(None, {name: x})[0][0].transpose(1, 2, 0)
    return y[:height, :width]


def assert_rounds_to(out: np.ndarray, reference: np.ndarray) -> None:
    """``out`` (uint8) is ``reference`` (float) clipped and rounded: within 0.5 (+ float slack)."""
    assert out.dtype == np.uint8 and out.shape == reference.shape
    diff = np.abs(out.astype(np.float64) - np.clip(reference, 0.0, 255.0))
    assert diff.max() <= 0.5 + 1e-3, f"max diff {diff.max()}"


def tiny_model(
    opset: int,
    body: str = "Identity",
    constant: float = 0.0,
    elem: int = TensorProto.FLOAT,
) -> onnx.ModelProto:
    """[1,3,H,W] -> [1,3,H,W]: Identity, or Add / Mul by ``constant``."""
    inputs = ["x"] if body == "Identity" else ["x", "c"]
    inits = (
        []
        if body == "Identity"
        else [numpy_helper.from_array(np.float32(constant), "c")]
    )
    graph = helper.make_graph(
        [helper.make_node(body, inputs, ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", elem, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", elem, [1, 3, "H", "W"])],
        inits,
    )
    # IR versions ONNX Runtime 1.31 reads (onnx 1.23 would write 14 by default).
    ir = 4 if opset < 11 else 8
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir
    )


@pytest.fixture(scope="module")
def frames(small_frames: list[np.ndarray]) -> list[np.ndarray]:
    return [resize(f, SIZE) for f in small_frames[:2]]


@pytest.fixture(scope="module")
def mosaic_proto(models_dir: Path) -> onnx.ModelProto:
    return onnx.load(str(models_dir / "mosaic.onnx"))


@pytest.fixture(scope="module")
def mosaic_ort(mosaic_proto: onnx.ModelProto) -> Iterator[OrtBackend]:
    backend = OrtBackend(mosaic_proto, "mosaic", providers=CPU)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def mosaic_plain(models_dir: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(models_dir / "mosaic.onnx"), providers=CPU)


# --- the uint8 wrapper ---------------------------------------------------------------


@pytest.mark.parametrize("opset", [9, 13])
def test_wrapper_keeps_the_opset_and_speaks_uint8(opset: int) -> None:
    wrapped = wrap_uint8_io(tiny_model(opset))
    assert [(o.domain, o.version) for o in wrapped.opset_import] == [("", opset)]
    (inp,) = wrapped.graph.input
    (out,) = wrapped.graph.output
    assert (inp.name, out.name) == (WRAPPED_INPUT, WRAPPED_OUTPUT)
    assert inp.type.tensor_type.elem_type == TensorProto.UINT8
    assert out.type.tensor_type.elem_type == TensorProto.UINT8
    clip = next(n for n in wrapped.graph.node if n.op_type == "Clip")
    if opset < 11:
        assert {a.name for a in clip.attribute} == {"min", "max"} and len(
            clip.input
        ) == 1
    else:
        assert not clip.attribute and len(clip.input) == 3


@pytest.mark.parametrize("opset", [9, 13])
@pytest.mark.parametrize("input_range", [255.0, 1.0])
def test_identity_model_returns_the_frame_exactly(
    opset: int, input_range: float
) -> None:
    frame = np.random.default_rng(1).integers(0, 256, (30, 44, 3), dtype=np.uint8)
    with OrtBackend(
        tiny_model(opset), "id", input_range=input_range, providers=CPU
    ) as backend:
        np.testing.assert_array_equal(backend.run(frame), frame)


def test_half_precision_io_is_wrapped_in_its_own_type() -> None:
    frame = np.random.default_rng(2).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    model = tiny_model(13, elem=TensorProto.FLOAT16)
    with OrtBackend(model, "half", input_range=1.0, providers=CPU) as backend:
        np.testing.assert_array_equal(backend.run(frame), frame)


@pytest.mark.parametrize("offset", [-300.0, -0.6, 0.49, 0.5, 1.4, 300.0])
def test_output_is_rounded_half_up_and_clipped(offset: float) -> None:
    frame = np.arange(256, dtype=np.uint8).repeat(3).reshape(16, 16, 3)
    with OrtBackend(tiny_model(13, "Add", offset), "add", providers=CPU) as backend:
        out = backend.run(frame)
    expected = np.clip(np.floor(frame.astype(np.float64) + offset + 0.5), 0, 255)
    np.testing.assert_array_equal(out, expected.astype(np.uint8))


def test_wrapper_rejects_models_that_are_not_image_to_image() -> None:
    two_inputs = tiny_model(13, "Add", 1.0)
    two_inputs.graph.initializer.pop()
    two_inputs.graph.input.append(
        helper.make_tensor_value_info("c", TensorProto.FLOAT, [])
    )
    with pytest.raises(ModelFormatError, match="2 inputs"):
        wrap_uint8_io(two_inputs)
    flat = tiny_model(13)
    flat.graph.input[0].CopyFrom(
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])
    )
    with pytest.raises(ModelFormatError, match=r"\[1,3,H,W\]"):
        wrap_uint8_io(flat)
    with pytest.raises(ModelFormatError, match="already"):
        wrap_uint8_io(wrap_uint8_io(tiny_model(13)))


# --- ONNX Runtime on the real models ------------------------------------------------


def test_ort_mosaic_matches_a_plain_numpy_run(
    mosaic_ort: OrtBackend, mosaic_plain: ort.InferenceSession, frames: list[np.ndarray]
) -> None:
    assert mosaic_ort.name == "onnxruntime/CPUExecutionProvider"
    assert mosaic_ort.model_id == "mosaic" and mosaic_ort.fixed_size is None
    assert isinstance(mosaic_ort, InferenceBackend)
    for frame in frames:
        assert_rounds_to(mosaic_ort.run(frame), reference_run(mosaic_plain, frame))


def test_ort_accepts_wire_views(
    mosaic_ort: OrtBackend, frames: list[np.ndarray]
) -> None:
    frame = frames[0]
    data, stride = pack_pixels(frame, PixelFormat.RGBA8)
    rgba_view = unpack_pixels(data, SIZE[0], SIZE[1], PixelFormat.RGBA8, stride)
    expected = mosaic_ort.run(frame)
    np.testing.assert_array_equal(mosaic_ort.run(rgba_view), expected)
    np.testing.assert_array_equal(mosaic_ort.run(flip_rows(flip_rows(frame))), expected)


def test_ort_rejects_bad_frames_and_runs_after_close(
    mosaic_proto: onnx.ModelProto,
) -> None:
    backend = OrtBackend(tiny_model(13), "id", providers=CPU)
    with pytest.raises(InvalidInputError):
        backend.run(np.zeros((8, 8, 4), np.uint8))
    with pytest.raises(InvalidInputError):
        backend.run(np.zeros((8, 8, 3), np.float32))
    backend.close()
    backend.close()
    with pytest.raises(BackendError, match="closed"):
        backend.run(np.zeros((8, 8, 3), np.uint8))


def test_provider_choice() -> None:
    assert choose_providers()[-1] == "CPUExecutionProvider"
    with pytest.raises(BackendError, match="NoSuchExecutionProvider"):
        choose_providers(["NoSuchExecutionProvider"])


def test_ingame_small_fixed_input_resizes_frames(
    models_dir: Path, frames: list[np.ndarray]
) -> None:
    """The file as published: opset 9, fixed [1,3,960,540] (H=960, W=540)."""
    proto = onnx.load(str(models_dir / "ingame-small.onnx"))
    with OrtBackend(proto, "ingame-small", providers=CPU) as backend:
        assert backend.fixed_size == (540, 960)
        out = backend.run(frames[0])
    assert out.shape == (SIZE[1], SIZE[0], 3)
    plain = ort.InferenceSession(str(models_dir / "ingame-small.onnx"), providers=CPU)
    big = reference_run(plain, resize(frames[0], (540, 960)))
    expected = resize(np.clip(big + 0.5, 0, 255).astype(np.uint8), SIZE)
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_ingame_small_relaxed_matches_a_plain_run(
    models_dir: Path, frames: list[np.ndarray]
) -> None:
    from stylebridge.models import load_onnx

    loaded = load_onnx(models_dir / "ingame-small.onnx")
    assert loaded.opset == 9 and loaded.fixed_size is None
    backend = OrtBackend(loaded.proto, "ingame-small", providers=CPU)
    plain = ort.InferenceSession(loaded.proto.SerializeToString(), providers=CPU)
    # 90 rows: the skip connections of this model need the padding to a multiple of 4.
    assert_rounds_to(backend.run(frames[1]), reference_run(plain, frames[1]))


# --- torch -----------------------------------------------------------------------


def test_torch_matches_ort_on_mosaic(
    models_dir: Path, mosaic_ort: OrtBackend, frames: list[np.ndarray]
) -> None:
    from stylebridge.inference.torch_backend import TorchBackend
    from stylebridge.models import load_checkpoint

    backend = TorchBackend(
        load_checkpoint(models_dir / "mosaic.pth").model, "mosaic", device="cpu"
    )
    assert backend.name == "torch/cpu" and isinstance(backend, InferenceBackend)
    for frame in frames:
        got = backend.run(frame).astype(int)
        want = mosaic_ort.run(frame).astype(int)
        diff = np.abs(got - want)
        # Same weights, float32 in another order: at most one level where rounding flips.
        assert diff.max() <= 1 and diff.mean() < 0.01
    backend.close()
    backend.close()
    with pytest.raises(BackendError, match="closed"):
        backend.run(frames[0])


def test_torch_rounding_and_wire_views(frames: list[np.ndarray]) -> None:
    import torch

    from stylebridge.inference.torch_backend import TorchBackend

    class AddOffset(torch.nn.Module):
        def __init__(self, offset: float) -> None:
            super().__init__()
            self.offset = offset

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.offset

    frame = frames[0]
    np.testing.assert_array_equal(TorchBackend(AddOffset(0.0), "id").run(frame), frame)
    ramp = np.arange(256, dtype=np.uint8).repeat(3).reshape(16, 16, 3)
    for offset in (-300.0, -0.6, 0.49, 0.5, 300.0):
        out = TorchBackend(AddOffset(offset), "add").run(ramp)
        expected = np.clip(np.floor(ramp.astype(np.float64) + offset + 0.5), 0, 255)
        np.testing.assert_array_equal(out, expected.astype(np.uint8))
    # Read-only, pixel-strided and negative-stride views (wire bytes, flipped textures).
    backend = TorchBackend(AddOffset(0.0), "id", input_range=1.0)
    data, stride = pack_pixels(frame, PixelFormat.RGBA8)
    view = unpack_pixels(data, SIZE[0], SIZE[1], PixelFormat.RGBA8, stride)
    np.testing.assert_array_equal(backend.run(view), frame)
    np.testing.assert_array_equal(backend.run(flip_rows(frame)), frame[::-1])


# --- identity and slow ----------------------------------------------------------------


def test_identity_and_slow_backends(frames: list[np.ndarray]) -> None:
    identity = IdentityBackend()
    assert identity.name == "identity" and identity.model_id == "identity"
    assert isinstance(identity, InferenceBackend)
    np.testing.assert_array_equal(identity.run(frames[0]), frames[0])
    slow = SlowBackend(identity, 0.05)
    assert isinstance(slow, InferenceBackend)
    assert slow.model_id == "identity" and slow.name.startswith("identity+")
    start = time.perf_counter()
    np.testing.assert_array_equal(slow.run(frames[0]), frames[0])
    assert time.perf_counter() - start >= 0.05
    slow.close()
    with pytest.raises(BackendError):
        identity.run(frames[0])  # closing the slow backend closed the inner one
    with pytest.raises(InvalidInputError):
        SlowBackend(IdentityBackend(), -1.0)


# --- factory -----------------------------------------------------------------------


def test_factory_onnx_with_onnxruntime(
    models_dir: Path, frames: list[np.ndarray]
) -> None:
    backend = create_backend(models_dir / "ingame-small.onnx", BackendKind.ONNXRUNTIME)
    assert backend.model_id == "ingame-small"
    assert backend.name.startswith("onnxruntime/")
    assert backend.run(frames[0]).shape == frames[0].shape
    backend.close()


def test_factory_checkpoint_with_both_backends(
    models_dir: Path, frames: list[np.ndarray]
) -> None:
    path = models_dir / "ingame-small.pth"
    via_ort = create_backend(path, BackendKind.ONNXRUNTIME, model_id="small")
    via_torch = create_backend(path, BackendKind.TORCH)
    assert via_ort.model_id == "small" and via_torch.model_id == "ingame-small"
    assert via_torch.name.startswith("torch/")
    diff = np.abs(via_ort.run(frames[0]).astype(int) - via_torch.run(frames[0]))
    assert diff.max() <= 1
    via_ort.close()
    via_torch.close()


def test_factory_errors_and_identity(models_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"needs a \.pth checkpoint"):
        create_backend(models_dir / "mosaic.onnx", BackendKind.TORCH)
    with pytest.raises(NotFoundError):
        create_backend(tmp_path / "missing.onnx", BackendKind.ONNXRUNTIME)
    odd = tmp_path / "model.tflite"
    odd.write_bytes(b"x")
    with pytest.raises(InvalidInputError):
        create_backend(odd, BackendKind.ONNXRUNTIME)
    with pytest.raises(InvalidInputError):
        create_backend(None, BackendKind.TORCH)
    identity = create_backend(None, BackendKind.IDENTITY)
    assert identity.name == "identity" and identity.model_id == "identity"
    named = create_backend(tmp_path / "anything.onnx", BackendKind.IDENTITY)
    assert named.model_id == "anything"
