"""How much memory would this ONNX graph need? Refuse it before anything allocates.

A file of a few kilobytes can declare a [65536, 65536] float weight (16 GiB) with no
data, a ConstantOfShape / Expand / Tile / Resize that makes a huge tensor, or an input
of 1x3x100000x100000. ONNX Runtime would try to allocate that when it builds a session
(constant folding) or runs a frame. So, before the ONNX checker, a relaxation probe or
any session sees the model, its bytes are counted from what it *declares*:

1. every stored tensor (initializers, Constant and attribute tensors, in subgraphs
   too): dims x element size, whatever data it really carries;
2. every graph input's declared dims;
3. ONNX shape inference (with data propagation, on a copy) at the resolution the model
   will run at: every intermediate tensor whose shape is known, one by one and summed.

Steps 1 and 2 come first, so shape inference never reads a tensor it cannot afford.
A limit exceeded is a LimitExceededError naming the tensor and its bytes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass

import onnx

from stylebridge.errors import LimitExceededError, ModelFormatError

log = logging.getLogger(__name__)

GIB = 2**30
# The resolution a dynamic-size model is judged at when nobody names one.
DEFAULT_CHECK_SIZE = (640, 360)
# Initializers up to this size keep their values for shape inference (shapes, scales).
_SMALL_BYTES = 4096
# Bytes per element of each ONNX data type (strings count as pointers).
_ITEM_BYTES = {
    onnx.TensorProto.FLOAT: 4, onnx.TensorProto.UINT8: 1, onnx.TensorProto.INT8: 1,
    onnx.TensorProto.UINT16: 2, onnx.TensorProto.INT16: 2, onnx.TensorProto.INT32: 4,
    onnx.TensorProto.INT64: 8, onnx.TensorProto.STRING: 8, onnx.TensorProto.BOOL: 1,
    onnx.TensorProto.FLOAT16: 2, onnx.TensorProto.DOUBLE: 8, onnx.TensorProto.UINT32: 4,
    onnx.TensorProto.UINT64: 8, onnx.TensorProto.COMPLEX64: 8, onnx.TensorProto.COMPLEX128: 16,
    onnx.TensorProto.BFLOAT16: 2,
}  # fmt: skip


@dataclass(frozen=True)
class MemoryLimits:
    """What one model may need: per tensor, all activations together, and the largest
    side of the resolution it is judged at."""

    max_tensor_bytes: int = 2 * GIB
    max_total_bytes: int = 4 * GIB
    max_side: int = 16384


DEFAULT_MEMORY_LIMITS = MemoryLimits()


@dataclass(frozen=True)
class MemoryEstimate:
    """The largest tensor and the peak of live activations, at ``size``."""

    size: tuple[int, int]
    largest_name: str
    largest_bytes: int
    peak_bytes: int
    unknown: int  # intermediate tensors whose shape inference could not tell


def check_memory(
    proto: onnx.ModelProto,
    *,
    size: tuple[int, int] | None = None,
    limits: MemoryLimits = DEFAULT_MEMORY_LIMITS,
    name: str = "model",
) -> MemoryEstimate:
    """Raise LimitExceededError when ``proto`` would need more than ``limits`` at
    ``size`` (width, height; default: the input's fixed size, else DEFAULT_CHECK_SIZE).

    ModelFormatError when shape inference fails (its memory cannot be bounded).
    """
    check_declared(proto, limits=limits, name=name)
    initializers = {i.name for i in proto.graph.initializer}
    image = next((i for i in proto.graph.input if i.name not in initializers), None)
    for candidate in (size, _fixed_size(image)):
        if candidate is not None and (max(candidate) > limits.max_side or min(candidate) < 1):
            raise LimitExceededError(
                f"{name}: resolution {candidate[0]}x{candidate[1]} is outside "
                f"1..{limits.max_side} per side; fix the model's recommended size "
                "(catalog manifest) or its fixed input size"
            )
    # A fixed input wins: the model runs at that size whatever is recommended.
    width, height = _fixed_size(image) or size or DEFAULT_CHECK_SIZE
    inferred = _infer_at(proto, image, (width, height), name)
    sizes: dict[str, int] = {}
    largest_name, largest, unknown = "", 0, 0
    for info in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        nbytes = _declared_bytes(info)
        if info.name in initializers:
            continue
        if nbytes is None:
            unknown += 1
            continue
        _check_tensor(name, f"tensor {info.name!r} at {width}x{height}", nbytes, limits)
        sizes[info.name] = nbytes
        if nbytes > largest:
            largest_name, largest = info.name, nbytes
    peak = _peak_live_bytes(inferred.graph, sizes)
    if peak > limits.max_total_bytes:
        raise LimitExceededError(
            f"{name}: its activations at {width}x{height} need {_gib(peak)} at once "
            f"(largest {largest_name!r}: {_gib(largest)}), over the "
            f"{_gib(limits.max_total_bytes)} limit; refusing it before anything allocates"
        )
    return MemoryEstimate((width, height), largest_name, largest, peak, unknown)


def _peak_live_bytes(graph: onnx.GraphProto, sizes: dict[str, int]) -> int:
    """Most bytes alive at once running the nodes in order (a tensor lives from the node
    that makes it to its last reader; graph inputs from the start, outputs to the end)."""
    last_use: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for tensor in node.input:
            last_use[tensor] = index
    end = len(graph.node)
    for output in graph.output:
        last_use[output.name] = end
    live = sum(sizes.get(i.name, 0) for i in graph.input)
    peak = live
    for index, node in enumerate(graph.node):
        live += sum(sizes.get(out, 0) for out in node.output)
        peak = max(peak, live)
        for tensor in {*node.input, *node.output}:
            if last_use.get(tensor, -1) <= index and tensor in sizes:
                live -= sizes.pop(tensor)
    return peak


def check_declared(
    proto: onnx.ModelProto, *, limits: MemoryLimits = DEFAULT_MEMORY_LIMITS, name: str = "model"
) -> None:
    """Steps 1 and 2 alone (cheap, reads no data): every stored tensor and every graph
    input by its declared dims. Run it before reading external data."""
    for tensor_name, declared in _stored_tensors(proto.graph):
        _check_tensor(name, f"stored tensor {tensor_name!r}", _tensor_bytes(declared), limits)
    initializers = {i.name for i in proto.graph.initializer}
    for graph_input in proto.graph.input:
        if graph_input.name not in initializers:
            _check_tensor(name, f"input {graph_input.name!r}", _declared_bytes(graph_input), limits)


def _check_tensor(model: str, what: str, nbytes: int | None, limits: MemoryLimits) -> None:
    if nbytes is not None and nbytes > limits.max_tensor_bytes:
        raise LimitExceededError(
            f"{model}: {what} would need {_gib(nbytes)} ({nbytes} bytes), over the "
            f"{_gib(limits.max_tensor_bytes)} per-tensor limit; refusing it before "
            "anything allocates. A style model needs far less: re-export it "
            "(torch.onnx.export) or lower its resolution"
        )


def _stored_tensors(graph: onnx.GraphProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    """Every tensor stored in ``graph`` and its subgraphs, with a name for messages."""
    for tensor in graph.initializer:
        yield tensor.name, tensor
    for sparse in graph.sparse_initializer:
        yield sparse.values.name, _sparse_as_dense(sparse)
    for node in graph.node:
        for attr in node.attribute:
            label = f"{node.name or node.op_type}.{attr.name}"
            if attr.HasField("t"):
                yield label, attr.t
            if attr.HasField("sparse_tensor"):
                yield label, _sparse_as_dense(attr.sparse_tensor)
            for tensor in attr.tensors:
                yield label, tensor
            if attr.HasField("g"):
                yield from _stored_tensors(attr.g)
            for sub in attr.graphs:
                yield from _stored_tensors(sub)


def _sparse_as_dense(sparse: onnx.SparseTensorProto) -> onnx.TensorProto:
    """A dense stand-in with the sparse tensor's declared dims (what it expands to)."""
    dense = onnx.TensorProto(data_type=sparse.values.data_type)
    dense.dims.extend(sparse.dims)
    return dense


def _tensor_bytes(tensor: onnx.TensorProto) -> int | None:
    if any(d < 0 for d in tensor.dims):
        return None
    return math.prod(int(d) for d in tensor.dims) * _ITEM_BYTES.get(tensor.data_type, 8)


def _declared_bytes(info: onnx.ValueInfoProto) -> int | None:
    """Bytes of a value whose every dim is known; None when any is symbolic or unknown."""
    if not info.type.HasField("tensor_type"):
        return None
    tensor = info.type.tensor_type
    if not tensor.HasField("shape"):
        return None
    dims = tensor.shape.dim
    if not all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims):
        return None
    return math.prod(int(d.dim_value) for d in dims) * _ITEM_BYTES.get(tensor.elem_type, 8)


def _fixed_size(image: onnx.ValueInfoProto | None) -> tuple[int, int] | None:
    if image is None:
        return None
    dims = image.type.tensor_type.shape.dim
    if len(dims) == 4 and all(d.HasField("dim_value") for d in dims[2:]):
        return int(dims[3].dim_value), int(dims[2].dim_value)
    return None


def _infer_at(
    proto: onnx.ModelProto,
    image: onnx.ValueInfoProto | None,
    size: tuple[int, int],
    name: str,
) -> onnx.ModelProto:
    """Shape inference on a copy whose image input is [1, 3, height, width]."""
    work = _without_bulk_data(proto)
    del work.graph.value_info[:]
    for graph_input in work.graph.input:
        if image is None or graph_input.name != image.name:
            continue
        dims = graph_input.type.tensor_type.shape.dim
        if len(dims) == 4:
            for dim, value in zip(dims, (1, 3, size[1], size[0]), strict=True):
                if not dim.HasField("dim_value"):
                    dim.Clear()
                    dim.dim_value = value
    try:
        return onnx.shape_inference.infer_shapes(work, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFormatError(
            f"{name}: ONNX shape inference fails at {size[0]}x{size[1]} ({first[:200]}), so "
            "its memory cannot be bounded; re-export the model (torch.onnx.export)"
        ) from exc


def _without_bulk_data(proto: onnx.ModelProto) -> onnx.ModelProto:
    """A copy with the data of large initializers dropped (dims and types kept): shape
    inference needs values only of small tensors (shapes, axes, scales), and copying
    megabytes of weights into it would only hold the GIL longer."""
    graph = proto.graph
    kept = onnx.ModelProto()
    kept.CopyFrom(proto)
    del kept.graph.initializer[:]
    for tensor in graph.initializer:
        if _tensor_bytes(tensor) is not None and (_tensor_bytes(tensor) or 0) <= _SMALL_BYTES:
            kept.graph.initializer.append(tensor)
            continue
        light = kept.graph.initializer.add()
        light.name, light.data_type = tensor.name, tensor.data_type
        light.dims.extend(tensor.dims)
    return kept


def _gib(nbytes: int) -> str:
    return f"{nbytes / GIB:.2f} GiB" if nbytes >= GIB // 100 else f"{nbytes / 2**20:.1f} MiB"
