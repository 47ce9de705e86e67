"""Weight-only compression that a Unity engine can still load: smaller files, float math.

Two encodings, both built with ``onnx.helper`` on the exported float graph:

* **fp16** (``Fp16Layout.ALL_FP16``, the default): every float tensor of the graph becomes
  float16 and the image is Cast to float16 on the way in and back to float32 on the way
  out. The Conv/InstanceNormalization weights stay *stored* initializers, which is what
  Barracuda 2.x/3.x need (their runtime importer folds no Cast chains; it reads float16
  initializers as float32). ``Fp16Layout.CAST_WEIGHTS`` keeps the activations float32
  and expands each fp16 weight with a Cast: that pattern passes only on Barracuda 1.0
  and Sentis, exactly like int8 below. Resize/Upsample scales and ROI stay float32
  (the operators require it).
* **int8** (``Int8Scheme``): each Conv/ConvTranspose weight is stored as int8 with one
  float scale per output channel (symmetric), plus a float zero point per channel
  (asymmetric), and expanded in the graph by ``Cast -> (Sub) -> Mul``. Biases and the
  normalization parameters stay float32: they are < 1 % of the bytes.

Sizes: fp16 halves every tensor (~0.50x); int8 quarters the conv weights (~0.26x with
the float biases, scales and graph). Accuracy is checked in ONNX Runtime against the
float model by ``compare_outputs``; the tolerances below are on the clamped 0..255
output, as shown on screen. Measured on mosaic, 3 real frames at 320x180: all-fp16 mean
abs 0.024 / max 0.43; int8 symmetric mean 0.75 / max 27.6; int8 asymmetric mean 0.58 /
max 17.4 levels. The bounds (``FP16_TOLERANCE``: mean 0.25, max 8; ``INT8_TOLERANCE``:
mean 3, max 96) are ~4-10x that, yet a wrong scale moves the mean by tens of levels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from stylebridge.atomic import write_bytes_atomically
from stylebridge.errors import InvalidInputError
from stylebridge.models.metadata import (
    DEFAULT_PIXEL,
    PixelFormat,
    from_model_output,
    to_model_input,
)

_log = logging.getLogger(__name__)

# Largest IR version ONNX Runtime 1.31 runs (onnx 1.23 writes 14 by default).
MAX_IR_VERSION = 10


@dataclass(frozen=True)
class OutputTolerance:
    """Largest compressed-vs-float difference accepted, clamped 0..255 output scale."""

    mean_abs: float
    max_abs: float


# fp16: relative precision 2^-11 on activations up to ~500 gives < 0.3 levels per pixel;
# the max allows rare pixels near a ReLU/clamp edge.
FP16_TOLERANCE = OutputTolerance(mean_abs=0.25, max_abs=8.0)
# int8 per channel: each weight moves by up to scale/2 (max|w|/254); measured mean ~1 level.
INT8_TOLERANCE = OutputTolerance(mean_abs=3.0, max_abs=96.0)


class Fp16Layout(StrEnum):
    """Where float16 lives in an fp16-weights model."""

    ALL_FP16 = "all-fp16"  # whole graph in fp16, Cast at input/output: Barracuda 2/3 load it
    CAST_WEIGHTS = "cast-weights"  # fp16 initializers Cast to float: Barracuda 1.0/Sentis only


class Int8Scheme(StrEnum):
    """How an int8 weight maps back to float."""

    SYMMETRIC = "symmetric"  # w = q * scale, q in [-127, 127]
    ASYMMETRIC = "asymmetric"  # w = (q - zero_point) * scale, q in [-128, 127]


# (operator, input index) pairs that must stay float32 whatever the graph computes in.
_FLOAT32_INPUTS = frozenset({("Upsample", 1), ("Resize", 1), ("Resize", 2)})
# Operators the all-fp16 conversion knows to be type-generic over float16.
_FP16_SAFE_OPS = frozenset({
    "Conv", "ConvTranspose", "InstanceNormalization", "BatchNormalization", "Relu",
    "LeakyRelu", "Add", "Sub", "Mul", "Div", "Pad", "Upsample", "Resize", "Clip", "Sigmoid",
    "Tanh", "Constant", "Identity", "Concat", "Reshape", "Transpose", "Shape", "Slice",
    "Unsqueeze", "Squeeze", "Gather", "Cast",
})  # fmt: skip
_WEIGHT_OPS = {"Conv": 0, "ConvTranspose": 1}  # op -> output-channel axis of its weight


def _check_float_model(proto: onnx.ModelProto) -> None:
    if not proto.graph.node:
        raise InvalidInputError("the model has an empty graph; export it again")
    if len(proto.graph.input) - _count_initializer_inputs(proto) != 1:
        raise InvalidInputError("weight compression expects one image input")
    if any(t.data_type in (TensorProto.INT8, TensorProto.UINT8, TensorProto.FLOAT16)
           for t in proto.graph.initializer):
        raise InvalidInputError("the model's weights are already compressed; start from "
                                "the float32 model")


def _count_initializer_inputs(proto: onnx.ModelProto) -> int:
    names = {t.name for t in proto.graph.initializer}
    return sum(1 for i in proto.graph.input if i.name in names)


def _consumers(graph: onnx.GraphProto) -> dict[str, list[tuple[onnx.NodeProto, int]]]:
    found: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name:
                found.setdefault(name, []).append((node, index))
    return found


def _rename_input(graph: onnx.GraphProto, old: str, new: str) -> None:
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name == old:
                node.input[index] = new


def _finish(proto: onnx.ModelProto) -> onnx.ModelProto:
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    onnx.checker.check_model(proto)
    return proto


def to_fp16_weights(model: onnx.ModelProto,
                    layout: Fp16Layout = Fp16Layout.ALL_FP16) -> onnx.ModelProto:
    """A copy of ``model`` with float16 weights (see the module docstring for layouts)."""
    proto = onnx.ModelProto()
    proto.CopyFrom(model)
    _check_float_model(proto)
    if Fp16Layout(layout) is Fp16Layout.CAST_WEIGHTS:
        return _finish(_cast_weights_fp16(proto))
    return _finish(_all_fp16(proto))


def _all_fp16(proto: onnx.ModelProto) -> onnx.ModelProto:
    graph = proto.graph
    unknown = sorted({n.op_type for n in graph.node} - _FP16_SAFE_OPS)
    if unknown:
        advice = ("--fp16-layout cast-weights works for this model (ONNX Runtime loads it)"
                  if _cast_weights_loads(proto) else
                  "--fp16-layout cast-weights does not load in ONNX Runtime either; use "
                  "--mode int8-weights, or keep the float32 model")
        raise InvalidInputError(f"the all-fp16 layout does not know operators {unknown}; "
                                f"{advice}")
    consumers = _consumers(graph)

    def keep_float32(name: str) -> bool:
        return any((n.op_type, i) in _FLOAT32_INPUTS for n, i in consumers.get(name, ()))

    for index, tensor in enumerate(graph.initializer):
        if tensor.data_type == TensorProto.FLOAT and not keep_float32(tensor.name):
            half = numpy_helper.to_array(tensor).astype(np.float16)
            graph.initializer[index].CopyFrom(numpy_helper.from_array(half, tensor.name))
    for node in graph.node:
        if node.op_type == "Constant" and not keep_float32(node.output[0]):
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == TensorProto.FLOAT:
                    half = numpy_helper.to_array(attr.t).astype(np.float16)
                    attr.t.CopyFrom(numpy_helper.from_array(half, attr.t.name))
        if node.op_type == "Cast":
            for attr in node.attribute:
                if attr.name == "to" and attr.i == TensorProto.FLOAT:
                    attr.i = TensorProto.FLOAT16
    stored = {t.name for t in graph.initializer}
    image_in = next(i.name for i in graph.input if i.name not in stored)
    half_in = f"{image_in}__fp16"
    _rename_input(graph, image_in, half_in)
    cast_in = helper.make_node("Cast", [image_in], [half_in], name="cast_input_fp16",
                               to=TensorProto.FLOAT16)
    nodes = [cast_in, *graph.node]
    for output in graph.output:
        half_out = f"{output.name}__fp16"
        for node in nodes:
            for index, name in enumerate(node.output):
                if name == output.name:
                    node.output[index] = half_out
        nodes.append(helper.make_node("Cast", [half_out], [output.name],
                                      name=f"cast_{output.name}_fp32", to=TensorProto.FLOAT))
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]  # intermediate types changed; ORT infers them again
    return proto


def _weight_initializers(proto: onnx.ModelProto) -> dict[str, int]:
    """Conv/ConvTranspose weight initializers -> their output-channel axis."""
    names = {t.name for t in proto.graph.initializer if t.data_type == TensorProto.FLOAT}
    found: dict[str, int] = {}
    for node in proto.graph.node:
        axis = _WEIGHT_OPS.get(node.op_type)
        if axis is not None and len(node.input) > 1 and node.input[1] in names:
            found[node.input[1]] = axis
    return found


def _replace_initializers(proto: onnx.ModelProto, replaced: dict[str, list[TensorProto]],
                          nodes: list[onnx.NodeProto]) -> onnx.ModelProto:
    graph = proto.graph
    kept = [t for t in graph.initializer if t.name not in replaced]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for tensors in replaced.values():
        graph.initializer.extend(tensors)
    old_nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend([*nodes, *old_nodes])  # expansions first: topological order
    inputs = [i for i in graph.input if i.name not in replaced]
    del graph.input[:]
    graph.input.extend(inputs)
    return proto


def _cast_weights_loads(proto: onnx.ModelProto) -> bool:
    """Whether the cast-weights layout of ``proto`` passes the checker and loads in ORT:
    it is suggested only then."""
    candidate = onnx.ModelProto()
    candidate.CopyFrom(proto)
    try:
        converted = _finish(_cast_weights_fp16(candidate))
        onnx.checker.check_model(converted)
        _session(converted)
    # The checker and ORT raise their own types; any failure means "do not suggest it".
    except Exception:
        return False
    return True


def _cast_weights_fp16(proto: onnx.ModelProto) -> onnx.ModelProto:
    weights = _weight_initializers(proto)
    by_name = {t.name: t for t in proto.graph.initializer}
    replaced: dict[str, list[TensorProto]] = {}
    nodes: list[onnx.NodeProto] = []
    for name in weights:
        half = numpy_helper.to_array(by_name[name]).astype(np.float16)
        stored = f"{name}__fp16"
        replaced[name] = [numpy_helper.from_array(half, stored)]
        nodes.append(helper.make_node("Cast", [stored], [name], name=f"{name}__cast",
                                      to=TensorProto.FLOAT))
    return _replace_initializers(proto, replaced, nodes)


@dataclass(frozen=True)
class QuantizedWeight:
    """One weight tensor as int8 codes and its per-channel scale (and zero point)."""

    codes: np.ndarray  # int8, the weight's shape
    scale: np.ndarray  # float32, broadcastable to the weight
    zero_point: np.ndarray | None  # float32 like scale; None when symmetric

    def dequantize(self) -> np.ndarray:
        codes = self.codes.astype(np.float32)
        if self.zero_point is not None:
            codes = codes - self.zero_point
        return codes * self.scale


def quantize_weight(weight: np.ndarray, axis: int,
                    scheme: Int8Scheme = Int8Scheme.SYMMETRIC) -> QuantizedWeight:
    """Per-channel int8 codes of ``weight`` along ``axis`` (the output channels)."""
    weight = np.asarray(weight, dtype=np.float32)
    reduce_axes = tuple(i for i in range(weight.ndim) if i != axis)
    shape = [1] * weight.ndim
    shape[axis] = weight.shape[axis]
    tiny = np.float32(1e-12)
    if Int8Scheme(scheme) is Int8Scheme.SYMMETRIC:
        peak = np.abs(weight).max(axis=reduce_axes).reshape(shape)
        scale = (np.maximum(peak, tiny) / 127.0).astype(np.float32)
        codes = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
        return QuantizedWeight(codes, scale, None)
    low = np.minimum(weight.min(axis=reduce_axes), 0.0).reshape(shape)
    high = np.maximum(weight.max(axis=reduce_axes), 0.0).reshape(shape)
    scale = (np.maximum(high - low, tiny) / 255.0).astype(np.float32)
    zero = np.clip(np.rint(-128.0 - low / scale), -128, 127).astype(np.float32)
    codes = np.clip(np.rint(weight / scale) + zero, -128, 127).astype(np.int8)
    return QuantizedWeight(codes, scale, zero)


def to_int8_weights(model: onnx.ModelProto,
                    scheme: Int8Scheme = Int8Scheme.SYMMETRIC) -> onnx.ModelProto:
    """A copy of ``model`` whose conv weights are int8 + per-channel scale, expanded by
    ``Cast -> (Sub) -> Mul`` into the original weight name (so the Conv is unchanged)."""
    proto = onnx.ModelProto()
    proto.CopyFrom(model)
    _check_float_model(proto)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 7:
        raise InvalidInputError(f"opset {opset} has no broadcasting Mul; export at opset >= 7")
    by_name = {t.name: t for t in proto.graph.initializer}
    replaced: dict[str, list[TensorProto]] = {}
    nodes: list[onnx.NodeProto] = []
    for name, axis in _weight_initializers(proto).items():
        q = quantize_weight(numpy_helper.to_array(by_name[name]), axis, scheme)
        codes, scale = f"{name}__int8", f"{name}__scale"
        tensors = [numpy_helper.from_array(q.codes, codes),
                   numpy_helper.from_array(q.scale, scale)]
        floated = f"{name}__float"
        nodes.append(helper.make_node("Cast", [codes], [floated], name=f"{name}__cast",
                                      to=TensorProto.FLOAT))
        if q.zero_point is not None:
            zero, centred = f"{name}__zero_point", f"{name}__centred"
            tensors.append(numpy_helper.from_array(q.zero_point, zero))
            nodes.append(helper.make_node("Sub", [floated, zero], [centred],
                                          name=f"{name}__sub"))
            floated = centred
        nodes.append(helper.make_node("Mul", [floated, scale], [name], name=f"{name}__mul"))
        replaced[name] = tensors
    if not replaced:
        raise InvalidInputError("the model has no Conv/ConvTranspose weight initializers "
                                "to compress")
    return _finish(_replace_initializers(proto, replaced, nodes))


def save_atomically(model: onnx.ModelProto, dst: Path) -> Path:
    """Write ``model`` as one file (no external data) via a temp file and a rename."""
    return write_bytes_atomically(Path(dst), model.SerializeToString())


@dataclass(frozen=True)
class OutputComparison:
    """A compressed model against its float source in ONNX Runtime, 0..255 clamped."""

    mean_abs: float
    max_abs: float
    tolerance: OutputTolerance

    @property
    def passed(self) -> bool:
        return (self.mean_abs <= self.tolerance.mean_abs
                and self.max_abs <= self.tolerance.max_abs)


def compare_outputs(reference: Path | onnx.ModelProto, candidate: Path | onnx.ModelProto,
                    frames: Sequence[np.ndarray],
                    tolerance: OutputTolerance,
                    pixel: PixelFormat = DEFAULT_PIXEL) -> OutputComparison:
    """Run both models in ONNX Runtime on ``frames`` (H x W x 3 uint8) and compare.

    Outputs are clamped to 0..255 first: that is what a client shows, and the raw
    output of a style model overshoots that range by hundreds where it does not matter.
    """
    if not frames:
        raise InvalidInputError("compare_outputs needs at least one frame")
    ref, cand = _session(reference), _session(candidate)
    total = 0.0
    count = 0
    worst = 0.0
    for frame in frames:
        x = to_model_input(frame, pixel)
        a = np.clip(from_model_output(_run(ref, x), pixel), 0.0, 255.0).astype(np.float64)
        b = np.clip(from_model_output(_run(cand, x), pixel), 0.0, 255.0).astype(np.float64)
        diff = np.abs(a - b)
        total += float(diff.sum())
        count += diff.size
        worst = max(worst, float(diff.max()))
    return OutputComparison(total / count, worst, tolerance)


def _session(model: Path | onnx.ModelProto) -> object:
    import onnxruntime as ort

    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) \
        else Path(model).read_bytes()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _run(session: object, x: np.ndarray) -> np.ndarray:
    name = session.get_inputs()[0].name  # type: ignore[attr-defined]
    return session.run(None, {name: x})[0]  # type: ignore[attr-defined]
