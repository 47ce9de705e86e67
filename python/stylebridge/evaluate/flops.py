"""FLOPs of an ONNX style model at a given resolution, from its inferred shapes.

Convolutions count 2 FLOPs per multiply-add (``2 * C_out * H_out * W_out * C_in/group *
k_h * k_w``, ConvTranspose per input position) plus one per output for the bias.
Element-wise arithmetic counts its output elements times ``ELEMENTWISE_FLOPS`` (e.g.
InstanceNormalization ~ 4: subtract mean, divide, scale, shift). Data movement (Pad,
Resize/Upsample, Cast, Reshape, Transpose, Concat) counts 0.

Every weight counts, zero or not: a dense convolution kernel multiplies by stored zeros
just as by any other value, which is why unstructured pruning leaves FLOPs (and speed)
unchanged; only removing channels (structured pruning, a smaller student) lowers them.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import onnx
from onnx import shape_inference

from stylebridge.errors import InvalidInputError
from stylebridge.frames import MODEL_SIZE_MULTIPLE

CONV_OPS = frozenset({"Conv", "ConvInteger", "QLinearConv"})
ELEMENTWISE_FLOPS = MappingProxyType({
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Relu": 1, "LeakyRelu": 2, "Clip": 1,
    "Sigmoid": 4, "Tanh": 4, "Sqrt": 1, "Pow": 1, "Max": 1, "Min": 1, "Sum": 1,
    "InstanceNormalization": 4, "BatchNormalization": 2, "QuantizeLinear": 2,
    "DequantizeLinear": 2, "DynamicQuantizeLinear": 3,
})  # fmt: skip


def _padded(side: int) -> int:
    return -(-side // MODEL_SIZE_MULTIPLE) * MODEL_SIZE_MULTIPLE


def _with_input_size(model: onnx.ModelProto, width: int, height: int) -> onnx.ModelProto:
    proto = onnx.ModelProto()
    proto.CopyFrom(model)
    initializers = {t.name for t in proto.graph.initializer}
    image = [i for i in proto.graph.input if i.name not in initializers]
    if len(image) != 1:
        raise InvalidInputError("FLOPs need a model with one image input")
    dims = image[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        raise InvalidInputError(f"input '{image[0].name}' is not NCHW (rank {len(dims)})")
    for dim, value in zip(dims, (1, 3, height, width), strict=True):
        dim.Clear()
        dim.dim_value = value
    for output in proto.graph.output:  # the exporter's symbolic output dims would clash
        output.type.tensor_type.ClearField("shape")
    del proto.graph.value_info[:]
    return shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)


def _shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    found: dict[str, tuple[int, ...]] = {}
    for value in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            found[value.name] = tuple(int(d.dim_value) for d in dims)
    for tensor in model.graph.initializer:
        found[tensor.name] = tuple(int(d) for d in tensor.dims)
    return found


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    return next((int(a.i) for a in node.attribute if a.name == name), default)


def count_flops(model: onnx.ModelProto, width: int, height: int) -> int:
    """Total FLOPs of one frame of ``width`` x ``height`` (see the module docstring).

    Raises InvalidInputError when a convolution's shapes cannot be inferred (a graph
    whose input is not NCHW, or an operator shape inference does not know).
    """
    if width < 1 or height < 1:
        raise InvalidInputError(f"resolution {width}x{height} must be positive")
    # What the backends run: frames padded to a multiple of 4 (models with skip
    # connections across two halvings accept nothing else), the result cropped back.
    width, height = (_padded(width), _padded(height))
    inferred = _with_input_size(model, width, height)
    shapes = _shapes(inferred)
    total = 0
    for node in inferred.graph.node:
        op = node.op_type
        if op in CONV_OPS or op == "ConvTranspose":
            total += _conv_flops(node, shapes)
        elif op in ELEMENTWISE_FLOPS and node.output[0] in shapes:
            total += ELEMENTWISE_FLOPS[op] * math.prod(shapes[node.output[0]])
    return total


def _conv_flops(node: onnx.NodeProto, shapes: dict[str, tuple[int, ...]]) -> int:
    weight_index = 3 if node.op_type == "QLinearConv" else 1
    x_name, w_name, out_name = node.input[0], node.input[weight_index], node.output[0]
    missing = [n for n in (x_name, w_name, out_name) if n not in shapes]
    if missing:
        raise InvalidInputError(f"{node.op_type} '{node.name}': shapes of {missing} could not "
                                "be inferred; is the model a fixed-rank image network?")
    weight, out, x = shapes[w_name], shapes[out_name], shapes[x_name]
    group = _attr(node, "group", 1)
    kernel = math.prod(weight[2:])
    if node.op_type == "ConvTranspose":
        macs = math.prod(x) * weight[1] * kernel  # each input position scatters a kernel
    else:
        macs = math.prod(out) * (x[1] // group) * kernel
    has_bias = len(node.input) > 2 and node.input[2] and node.op_type != "QLinearConv"
    return 2 * macs + (math.prod(out) if has_bias else 0)
