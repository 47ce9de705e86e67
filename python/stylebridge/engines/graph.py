"""A read-only index over an ONNX graph for the checker: producers, small constant
values, ranks and element types, operator versions, and which tensors an engine's
importer sees as constants.

"Constant at import" is what matters to Barracuda: several of its importers read
weights, pads and scales only from tensors it knows at import time. Which nodes
produce such tensors differs per importer, so the policy is data
(:class:`ImportConstantFolding`) given by each engine table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_log = logging.getLogger(__name__)

DEFAULT_DOMAINS = frozenset({"", "ai.onnx"})
# Values of at most this many elements are read (pads, scales, sizes, shapes):
# enough for every parameter tensor the rules look at, never a weight.
_MAX_VALUE_ELEMENTS = 4096

FLOAT_TYPES = frozenset({TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE,
                         TensorProto.BFLOAT16})


@dataclass(frozen=True)
class ImportConstantFolding:
    """Which node outputs an importer holds as constants at import time.

    ``folds_all``: every node whose inputs are all constant is evaluated at import
    (Barracuda 1.x "bakes" them), except the op types in ``never``.
    ``propagating``: op types that produce a constant from constant inputs even when
    ``folds_all`` is False (Barracuda 2.x/3.x handle these specially).
    ``shape_of_variable_is_constant``: Barracuda 1.x turns Shape of a run-time tensor
    into a constant with 0 for unknown dimensions; treated as *not* constant here,
    because the value is wrong for everything but the Upsample-9 pattern.
    """

    folds_all: bool
    propagating: frozenset[str] = frozenset()
    never: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GraphView:
    """Index of one model's main graph; build with :meth:`from_model`."""

    model: onnx.ModelProto
    opset: int | None
    initializers: Mapping[str, TensorProto]
    producers: Mapping[str, onnx.NodeProto]
    graph_inputs: tuple[onnx.ValueInfoProto, ...]
    value_types: Mapping[str, onnx.TypeProto]
    _const_cache: dict[tuple[int, str], bool] = field(default_factory=dict, compare=False,
                                                      repr=False)

    @classmethod
    def from_model(cls, model: onnx.ModelProto) -> GraphView:
        graph = model.graph
        opset = next((o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS),
                     None)
        initializers = {t.name: t for t in graph.initializer}
        producers: dict[str, onnx.NodeProto] = {}
        for node in graph.node:
            for out in node.output:
                if out:
                    producers[out] = node
        inputs = tuple(i for i in graph.input if i.name not in initializers)
        return cls(
            model=model,
            opset=opset,
            initializers=MappingProxyType(initializers),
            producers=MappingProxyType(producers),
            graph_inputs=inputs,
            value_types=MappingProxyType(_infer_types(model)),
        )

    # ---- operator versions -------------------------------------------------------
    def op_version(self, node: onnx.NodeProto) -> int | None:
        """The version of ``node``'s operator at this model's opset (the opset that
        introduced it), or None for unknown ops and other domains."""
        if node.domain not in DEFAULT_DOMAINS or self.opset is None:
            return None
        try:
            return onnx.defs.get_schema(node.op_type, self.opset, "").since_version
        except onnx.defs.SchemaError:
            return None

    # ---- values, types, ranks ----------------------------------------------------
    def value(self, name: str) -> np.ndarray | None:
        """The value of a small initializer or Constant output, else None."""
        if not name:
            return None
        tensor = self.initializers.get(name)
        if tensor is None:
            node = self.producers.get(name)
            if node is None or node.op_type != "Constant":
                return None
            tensor = _constant_tensor(node)
            if tensor is None:
                return None
        if tensor.data_location == TensorProto.EXTERNAL:
            return None
        if int(np.prod(tensor.dims, dtype=np.int64)) > _MAX_VALUE_ELEMENTS:
            return None
        try:
            return numpy_helper.to_array(tensor)
        except (ValueError, TypeError) as exc:  # malformed tensor: judge it unknown
            _log.debug("cannot read tensor %s: %s", name, exc)
            return None

    def elem_type(self, name: str) -> int | None:
        """ONNX element type of a tensor, when known."""
        if name in self.initializers:
            return self.initializers[name].data_type
        tp = self.value_types.get(name)
        if tp is not None and tp.HasField("tensor_type") and tp.tensor_type.elem_type:
            return tp.tensor_type.elem_type
        return None

    def shape(self, name: str) -> tuple[int | None, ...] | None:
        """Static shape of a tensor (None per unknown dimension), when the rank is known."""
        if name in self.initializers:
            return tuple(int(d) for d in self.initializers[name].dims)
        tp = self.value_types.get(name)
        if tp is None or not tp.tensor_type.HasField("shape"):
            return None
        return tuple(d.dim_value if d.HasField("dim_value") else None
                     for d in tp.tensor_type.shape.dim)

    def rank(self, name: str) -> int | None:
        shape = self.shape(name)
        return None if shape is None else len(shape)

    # ---- constness at import -------------------------------------------------------
    def is_import_constant(self, name: str, folding: ImportConstantFolding) -> bool:
        """Whether the importer described by ``folding`` holds ``name`` as a constant."""
        if not name:
            return True  # an omitted optional input
        key = (id(folding), name)
        cached = self._const_cache.get(key)
        if cached is not None:
            return cached
        self._const_cache[key] = False  # guards against malformed cyclic graphs
        result = self._compute_constant(name, folding)
        self._const_cache[key] = result
        return result

    def _compute_constant(self, name: str, folding: ImportConstantFolding) -> bool:
        if name in self.initializers:
            return True
        node = self.producers.get(name)
        if node is None:
            return False  # a graph input
        if node.op_type == "Constant":
            return True
        if node.op_type in folding.never or node.domain not in DEFAULT_DOMAINS:
            return False
        inputs_constant = all(self.is_import_constant(i, folding) for i in node.input)
        if not inputs_constant:
            return False
        return folding.folds_all or node.op_type in folding.propagating

    def constant_chain(self, name: str, limit: int = 6) -> str:
        """How a tensor is computed, for messages: ``Mul ← Sub ← Cast ← int8 initializer 'w'``."""
        parts: list[str] = []
        current = name
        for _ in range(limit):
            if current in self.initializers:
                dtype = helper.tensor_dtype_to_np_dtype(self.initializers[current].data_type)
                parts.append(f"{np.dtype(dtype).name} initializer '{current}'")
                break
            node = self.producers.get(current)
            if node is None:
                parts.append(f"graph input '{current}'")
                break
            parts.append(node.op_type)
            nxt = next((i for i in node.input if i), None)
            if nxt is None:
                break
            current = nxt
        return " ← ".join(parts)


def node_label(node: onnx.NodeProto, index: int) -> str:
    """A stable name for a node: its name, else its first output, else op#index."""
    if node.name:
        return node.name
    first = next((o for o in node.output if o), "")
    return first or f"{node.op_type}#{index}"


def attribute(node: onnx.NodeProto, name: str, default: object = None) -> object:
    """An attribute's Python value (strings decoded), or ``default`` when absent."""
    for attr in node.attribute:
        if attr.name == name:
            value = helper.get_attribute_value(attr)
            if isinstance(value, bytes):
                return value.decode("utf-8", errors="replace")
            if isinstance(value, list) and value and isinstance(value[0], bytes):
                return [v.decode("utf-8", errors="replace") for v in value]
            return value
    return default


def has_attribute(node: onnx.NodeProto, name: str) -> bool:
    return any(a.name == name for a in node.attribute)


def input_at(node: onnx.NodeProto, index: int) -> str:
    """The name of input ``index``, '' when absent or omitted."""
    return node.input[index] if index < len(node.input) else ""


def dtype_name(elem_type: int) -> str:
    """'float16', 'int8', … for an ONNX element type."""
    try:
        return TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        return f"type {elem_type}"


def _constant_tensor(node: onnx.NodeProto) -> TensorProto | None:
    for attr in node.attribute:
        if attr.name == "value" and attr.type == onnx.AttributeProto.TENSOR:
            return attr.t
    return None


def _infer_types(model: onnx.ModelProto) -> dict[str, onnx.TypeProto]:
    """Element types and shapes from ONNX shape inference, best effort."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    except (onnx.shape_inference.InferenceError, ValueError, RuntimeError) as exc:
        _log.debug("shape inference failed, checking without it: %s", exc)
        inferred = model
    types: dict[str, onnx.TypeProto] = {}
    graph = inferred.graph
    for info in (*graph.input, *graph.value_info, *graph.output):
        types[info.name] = info.type
    return types
