"""Can a fixed-size ONNX graph run at any frame size? Relax it when it can.

Models exported for Barracuda often carry a fixed input (``ingame-small.onnx``:
[1,3,960,540]) although the graph is fully convolutional. Such a graph is relaxed
to symbolic H x W, so frames need no resizing. The decision is conservative: every
node that depends on the input must be an operator whose result does not bake in the
spatial size (a convolution, a normalization, an elementwise op with per-channel
constants, an Upsample/Resize by constant *scales*, …). Anything else (Reshape,
Flatten, Gemm, Resize to fixed *sizes*, a constant with spatial extent, …) keeps the
fixed size, and the reason is reported. A relaxed graph is then run in ONNX Runtime
at a different size before it is trusted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import onnx

_DEFAULT_DOMAINS = ("", "ai.onnx")

# Elementwise: constant operands must broadcast over H and W (size 1 there).
_ELEMENTWISE = frozenset(
    {
        "Abs", "Add", "Ceil", "Clip", "Div", "Elu", "Erf", "Exp", "Floor", "HardSigmoid",
        "HardSwish", "Identity", "LeakyRelu", "Log", "Max", "Mean", "Min", "Mul", "Neg",
        "Pow", "PRelu", "Reciprocal", "Relu", "Round", "Selu", "Sigmoid", "Sign", "Softplus",
        "Softsign", "Sqrt", "Sub", "Sum", "Tanh", "Cast", "Dropout", "Mish", "Gelu", "Where",
    }
)  # fmt: skip
# Spatial operators: extra inputs (weights, pads, scales) must be constant.
_SPATIAL = frozenset(
    {
        "Conv", "ConvTranspose", "Pad", "InstanceNormalization", "BatchNormalization",
        "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "LRN",
        "Upsample", "Resize",
    }
)  # fmt: skip
_REDUCE = frozenset(
    {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare"}
)
_CHANNEL_AXIS_OPS = frozenset({"Concat", "Split"})


@dataclass(frozen=True)
class SpatialVerdict:
    """Whether a graph's result is independent of the input's fixed H and W."""

    agnostic: bool
    reason: str  # empty when agnostic; else e.g. "graph has Reshape"


def spatial_verdict(model: onnx.ModelProto) -> SpatialVerdict:
    """Decide whether every input-dependent node of ``model`` is spatially agnostic."""
    graph = model.graph
    shapes = _known_shapes(model)
    constants: set[str] = {i.name for i in graph.initializer}
    for node in graph.node:
        inputs = [name for name in node.input if name]
        if node.op_type == "Constant" or all(name in constants for name in inputs):
            constants.update(node.output)
            continue
        if node.domain not in _DEFAULT_DOMAINS:
            return SpatialVerdict(False, f"graph has custom operator {node.domain}.{node.op_type}")
        reason = _node_reason(node, constants, shapes)
        if reason:
            return SpatialVerdict(False, reason)
    return SpatialVerdict(True, "")


def relax_spatial(model: onnx.ModelProto, input_name: str, output_name: str) -> onnx.ModelProto:
    """A copy of ``model`` whose input/output H and W are the symbols "H"/"W".

    The output's become "H_out"/"W_out": equal to H and W only where the strides
    divide the size. Stale value_info is dropped and shapes are re-inferred (strict:
    an inference error raises onnx.shape_inference.InferenceError).
    """
    relaxed = copy.deepcopy(model)
    graph = relaxed.graph
    graph_input = next(i for i in graph.input if i.name == input_name)
    graph_output = next(o for o in graph.output if o.name == output_name)
    in_dims = graph_input.type.tensor_type.shape.dim
    out_dims = graph_output.type.tensor_type.shape.dim
    for axis, symbol in ((2, "H"), (3, "W")):
        in_dims[axis].Clear()
        in_dims[axis].dim_param = symbol
        if len(out_dims) == 4:
            out_dims[axis].Clear()
            out_dims[axis].dim_param = f"{symbol}_out"
    del graph.value_info[:]
    return onnx.shape_inference.infer_shapes(relaxed, check_type=True, strict_mode=True)


def probe_size(fixed: tuple[int, int]) -> tuple[int, int]:
    """A (width, height) different from ``fixed``, small and divisible by 32."""
    return (160, 128) if fixed == (128, 96) else (128, 96)


def run_probe(
    model: onnx.ModelProto,
    input_name: str,
    size: tuple[int, int],
) -> tuple[int, ...]:
    """Run ``model`` once in ONNX Runtime on a ``size`` (w, h) input; the output shape.

    Raises whatever ONNX Runtime raises; callers turn that into a verdict.
    """
    import onnxruntime as ort  # heavy; only needed when a graph is relaxed

    width, height = size
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 255.0, size=(1, 3, height, width)).astype(np.float32)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    (y,) = session.run(None, {input_name: x})[:1]
    return tuple(int(d) for d in y.shape)


def _node_reason(
    node: onnx.NodeProto, constants: set[str], shapes: dict[str, tuple[int, ...] | None]
) -> str:
    """Why ``node`` (which depends on the input) ties the graph to its size; '' if not."""
    op = node.op_type
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    const_inputs = [name for name in node.input if name and name in constants]
    if op in _ELEMENTWISE:
        for name in const_inputs:
            shape = shapes.get(name)
            if shape is None:
                return f"graph has {op} with a constant of unknown shape"
            if any(d != 1 for d in shape[-2:]):
                return f"graph has {op} with a constant of spatial shape {list(shape)}"
        return ""
    if op in _SPATIAL:
        dynamic_extra = [n for n in node.input[1:] if n and n not in constants]
        if dynamic_extra:
            return f"graph has {op} whose parameters are computed from the input"
        if op == "ConvTranspose" and "output_shape" in attrs:
            return "graph has ConvTranspose with a fixed output_shape"
        if op == "Resize" and len(node.input) > 3 and node.input[3]:
            sizes = shapes.get(node.input[3])
            if sizes is None or any(d > 0 for d in sizes):
                return "graph has Resize to fixed sizes (not scales)"
        return ""
    if op in _REDUCE:
        if attrs.get("keepdims", 1) == 0:
            return f"graph has {op} without keepdims"
        return ""
    if op in _CHANNEL_AXIS_OPS:
        if attrs.get("axis", 0) not in (1, -3):
            return f"graph has {op} on axis {attrs.get('axis', 0)} (not channels)"
        if const_inputs:
            return f"graph has {op} with a constant input"
        return ""
    return f"graph has {op}"


def _known_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...] | None]:
    """Static shape of every tensor whose shape ONNX shape inference can tell."""
    shapes: dict[str, tuple[int, ...] | None] = {
        i.name: tuple(int(d) for d in i.dims) for i in model.graph.initializer
    }
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    shapes[node.output[0]] = tuple(int(d) for d in attr.t.dims)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError):
        return shapes
    for info in inferred.graph.value_info:
        dims = info.type.tensor_type.shape.dim
        if info.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            shapes.setdefault(info.name, tuple(int(d.dim_value) for d in dims))
    return shapes
