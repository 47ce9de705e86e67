"""A corpus of third-party-shaped ONNX style models, generated here (nothing downloaded).

One builder per class of file that real users bring (issue 13): old exporters (IR 3 with
every initializer also a graph input; opsets 7 and 8), a fixed 960x540 input, Windows ML
image metadata declaring BGR, a second input, an int8 QDQ file, and an encoder-decoder
whose skip connections need a multiple-of-4 input. Each is a tiny convolutional network
with seeded weights, so the whole corpus builds in well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WIDTH = 8  # channels of the hidden layers


@dataclass(frozen=True)
class CorpusModel:
    """One generated file and what StyleBridge must do with it."""

    name: str
    path: Path
    # Whether it is a style model StyleBridge serves (False: refused with a clear reason).
    servable: bool
    # Words a refusal must contain (lower case), when not servable.
    refusal: tuple[str, ...] = ()


def _weights(rng: np.random.Generator, cin: int, cout: int, k: int = 3) -> np.ndarray:
    scale = 1.0 / np.sqrt(cin * k * k)
    return (rng.standard_normal((cout, cin, k, k)) * scale).astype(np.float32)


def _conv_stack(
    rng: np.random.Generator, x: str, out: str, prefix: str = "c"
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Conv 3->W, Relu, Conv W->3, plus the input (a residual): output near the input."""
    inits = [
        numpy_helper.from_array(_weights(rng, 3, WIDTH), f"{prefix}1.w"),
        numpy_helper.from_array(np.zeros(WIDTH, np.float32), f"{prefix}1.b"),
        numpy_helper.from_array(_weights(rng, WIDTH, 3) * 0.1, f"{prefix}2.w"),
        numpy_helper.from_array(np.zeros(3, np.float32), f"{prefix}2.b"),
    ]
    nodes = [
        helper.make_node("Conv", [x, f"{prefix}1.w", f"{prefix}1.b"], [f"{prefix}1"],
                         pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", [f"{prefix}1"], [f"{prefix}1r"]),
        helper.make_node("Conv", [f"{prefix}1r", f"{prefix}2.w", f"{prefix}2.b"],
                         [f"{prefix}2"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Add", [x, f"{prefix}2"], [out]),
    ]
    return nodes, inits


def _image(name: str, height: int | str = "H", width: int | str = "W") -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 3, height, width])


def _model(graph: onnx.GraphProto, opset: int, ir: int) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="corpus")
    model.ir_version = ir
    return model


def old_ir(opset: int) -> onnx.ModelProto:
    """IR 3, every initializer also listed as a graph input (old exporters did that)."""
    rng = np.random.default_rng(opset)
    nodes, inits = _conv_stack(rng, "input", "output")
    inputs = [_image("input")]
    inputs += [helper.make_tensor_value_info(i.name, TensorProto.FLOAT, list(i.dims))
               for i in inits]
    graph = helper.make_graph(nodes, "old", inputs, [_image("output")], inits)
    return _model(graph, opset, 3)


def fixed_960x540() -> onnx.ModelProto:
    rng = np.random.default_rng(960)
    nodes, inits = _conv_stack(rng, "input", "output")
    graph = helper.make_graph(nodes, "fixed", [_image("input", 540, 960)],
                              [_image("output", 540, 960)], inits)
    return _model(graph, 11, 6)


def bgr_winml() -> onnx.ModelProto:
    """Windows ML image metadata: BGR, 0..255, sRGB; the net swaps blue and red slightly."""
    rng = np.random.default_rng(8)
    nodes, inits = _conv_stack(rng, "inputImage", "outputImage")
    graph = helper.make_graph(nodes, "bgr", [_image("inputImage")],
                              [_image("outputImage")], inits)
    model = _model(graph, 9, 4)
    for key, value in (
        ("Image.BitmapPixelFormat", "Bgr8"),
        ("Image.ColorSpaceGamma", "SRGB"),
        ("Image.NominalPixelRange", "NominalRange_0_255"),
    ):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    for value in (*model.graph.input, *model.graph.output):
        value.type.denotation = "IMAGE"
    return model


def two_inputs() -> onnx.ModelProto:
    """An image and a style-strength scalar (arbitrary style transfer exports look so)."""
    rng = np.random.default_rng(2)
    nodes, inits = _conv_stack(rng, "content", "styled")
    nodes[-1] = helper.make_node("Add", ["content", "scaled"], ["styled"])
    nodes.insert(-1, helper.make_node("Mul", ["c2", "strength"], ["scaled"]))
    strength = helper.make_tensor_value_info("strength", TensorProto.FLOAT, [1])
    graph = helper.make_graph(nodes, "two", [_image("content"), strength],
                              [_image("styled")], inits)
    return _model(graph, 11, 7)


def int8_qdq(float_path: Path, out: Path) -> None:
    """ONNX Runtime's own static QDQ int8 of a float model (calibrated on noise)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    class Reader:
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self._left = [{"input": (rng.random((1, 3, 32, 32)) * 255).astype(np.float32)}
                          for _ in range(2)]

        def get_next(self) -> dict[str, np.ndarray] | None:
            return self._left.pop() if self._left else None

    quantize_static(str(float_path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)


def plain(opset: int = 13) -> onnx.ModelProto:
    rng = np.random.default_rng(13)
    nodes, inits = _conv_stack(rng, "input", "output")
    graph = helper.make_graph(nodes, "plain", [_image("input")], [_image("output")], inits)
    return _model(graph, opset, 7)


def skip_multiple_of_4() -> onnx.ModelProto:
    """Two stride-2 convolutions, two nearest x2 upsamplings, skips added at each scale.

    At a height that is not a multiple of 4 (90) the upsampled tensor is one row off its
    skip (23 -> 46 vs 45) and the Add fails, as in U-Net-style exports.
    """
    rng = np.random.default_rng(4)
    w = WIDTH
    inits = [
        numpy_helper.from_array(_weights(rng, 3, w), "d1.w"),
        numpy_helper.from_array(_weights(rng, w, w), "d2.w"),
        numpy_helper.from_array(_weights(rng, w, 3) * 0.1, "o.w"),
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
        numpy_helper.from_array(np.array([], np.float32), "roi"),
    ]
    conv = dict(pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    nodes = [
        helper.make_node("Conv", ["input", "d1.w"], ["d1"], strides=[2, 2], **conv),
        helper.make_node("Relu", ["d1"], ["d1r"]),
        helper.make_node("Conv", ["d1r", "d2.w"], ["d2"], strides=[2, 2], **conv),
        helper.make_node("Relu", ["d2"], ["d2r"]),
        helper.make_node("Resize", ["d2r", "roi", "scales"], ["u1"], mode="nearest"),
        helper.make_node("Add", ["u1", "d1r"], ["s1"]),
        helper.make_node("Resize", ["s1", "roi", "scales"], ["u2"], mode="nearest"),
        helper.make_node("Conv", ["u2", "o.w"], ["o"], **conv),
        helper.make_node("Add", ["input", "o"], ["output"]),
    ]
    graph = helper.make_graph(nodes, "unet", [_image("input")], [_image("output")], inits)
    return _model(graph, 11, 7)


def build_corpus(folder: Path) -> list[CorpusModel]:
    """Write every corpus model into ``folder``; returns them in a fixed order."""
    folder.mkdir(parents=True, exist_ok=True)
    built: list[CorpusModel] = []

    def save(name: str, make: Callable[[], onnx.ModelProto], servable: bool = True,
             refusal: tuple[str, ...] = ()) -> None:
        path = folder / f"{name}.onnx"
        onnx.save(make(), str(path))
        built.append(CorpusModel(name, path, servable, refusal))

    save("ir3-opset7", lambda: old_ir(7))
    save("ir3-opset8", lambda: old_ir(8))
    save("fixed-960x540", fixed_960x540)
    save("bgr-winml", bgr_winml)
    save("two-inputs", two_inputs, servable=False, refusal=("2 inputs", "strength"))
    plain_path = folder / "plain-float.onnx"
    onnx.save(plain(), str(plain_path))
    int8_qdq(plain_path, folder / "int8-qdq.onnx")
    plain_path.unlink()
    built.append(CorpusModel("int8-qdq", folder / "int8-qdq.onnx", True))
    save("skip-multiple-of-4", skip_multiple_of_4)
    return built
