"""Parameter counts of an ONNX model as its operators see them.

Weight-only and QDQ variants store their weights as int8/fp16 tensors expanded in the
graph (Cast/Sub/Mul, DequantizeLinear), so counting initializers would count codes,
scales and zero points; this evaluates those chains with numpy instead. Pruning shows
up in the nonzero count only: a zero is still a stored, multiplied parameter.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

_PARAMETRIC_OPS = frozenset({"Conv", "ConvTranspose", "ConvInteger", "InstanceNormalization",
                             "BatchNormalization", "Gemm", "MatMul"})


def parameter_counts(model: onnx.ModelProto) -> tuple[int, int]:
    """(parameters, nonzero parameters) as the operators see them after expansion.

    Counts the weight/bias inputs of parametric operators, following Cast/Sub/Mul and
    DequantizeLinear chains back to the stored tensors, so an int8 or QDQ variant has
    the same count as its float parent and pruning shows up only in the nonzero count.
    """
    values = expanded_weights(model)
    seen: set[str] = set()
    total = nonzero = 0
    for node in model.graph.node:
        if node.op_type not in _PARAMETRIC_OPS:
            continue
        for name in node.input[1:]:
            if name and name in values and name not in seen:
                seen.add(name)
                total += int(values[name].size)
                nonzero += int(np.count_nonzero(values[name]))
    return total, nonzero


def expanded_weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Every initializer as float, plus the Cast/Sub/Mul/DequantizeLinear expansions
    computed from them: the values the operators actually see (for parameter counts)."""
    values: dict[str, np.ndarray] = {
        t.name: numpy_helper.to_array(t).astype(np.float32) for t in model.graph.initializer
        if t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.INT8,
                           TensorProto.UINT8, TensorProto.INT32)
    }
    for node in model.graph.node:
        if not node.input or any(i and i not in values for i in node.input):
            continue
        args = [values[i] for i in node.input if i]
        if node.op_type in ("Cast", "Identity"):
            values[node.output[0]] = args[0]
        elif node.op_type == "Mul":
            values[node.output[0]] = args[0] * args[1]
        elif node.op_type == "Sub":
            values[node.output[0]] = args[0] - args[1]
        elif node.op_type == "DequantizeLinear":
            values[node.output[0]] = _dequantize_linear(node, args)
    return values


def _dequantize_linear(node: onnx.NodeProto, args: list[np.ndarray]) -> np.ndarray:
    x, scale = args[0], args[1]
    zero = args[2] if len(args) > 2 else np.zeros_like(scale)
    axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
    if scale.ndim == 1 and scale.size > 1:
        shape = [1] * x.ndim
        shape[axis] = scale.size
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return (x - zero) * scale
