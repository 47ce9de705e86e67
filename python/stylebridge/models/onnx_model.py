"""Load ONNX style models safely and say how they take frames.

Files are untrusted: the model is parsed without following external data, every
external-data location must resolve inside the model's own folder (no ``../``, no
absolute paths, no symlinks out: ``safe_paths.resolve_inside``) and is read here, by
offset and length, never by onnx's own loader; sizes are capped, the memory its
declared shapes need is bounded before anything allocates (``onnx_budget``), and
``onnx.checker`` must pass.
The model must take exactly one image [N,3,H,W] and return one tensor. A fixed H x W
is relaxed to symbolic dims when the graph is fully convolutional (see
``onnx_shapes``); otherwise frames are resized to it, and ``note`` says which.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from stylebridge.errors import (
    LimitExceededError,
    ModelFormatError,
    ModelLoadError,
    NotFoundError,
)
from stylebridge.file_kinds import is_lfs_pointer, lfs_message
from stylebridge.models import metadata
from stylebridge.models.metadata import DEFAULT_PIXEL, InputRange, PixelFormat
from stylebridge.models.onnx_budget import (
    DEFAULT_MEMORY_LIMITS,
    MemoryLimits,
    check_declared,
    check_memory,
)
from stylebridge.models.onnx_external import embed_external, external_tensors
from stylebridge.models.onnx_ir import upgrade_ir
from stylebridge.models.onnx_shapes import probe_size, relax_spatial, run_probe, spatial_verdict

log = logging.getLogger(__name__)

DEFAULT_MAX_ONNX_BYTES = 512 * 2**20
_IMAGE_TYPES = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)


@dataclass(frozen=True)
class OnnxModel:
    """A checked ONNX style model, ready for an ONNX Runtime session."""

    proto: onnx.ModelProto
    path: Path | None
    sha256: str  # of the file (or bytes) as received, before any relaxation
    input_name: str
    output_name: str
    opset: int
    dynamic_spatial: bool
    fixed_size: tuple[int, int] | None  # (width, height) frames must be resized to
    relaxed: bool
    note: str
    input_range: InputRange
    # Channel order and value range (stylebridge.input_range or the ONNX image metadata).
    pixel: PixelFormat = DEFAULT_PIXEL

    def to_bytes(self) -> bytes:
        """The (possibly relaxed) model, serialized for ``ort.InferenceSession``."""
        return self.proto.SerializeToString()

    def run_size(self, width: int, height: int) -> tuple[int, int]:
        """The (width, height) a frame of this size must be resized to before running."""
        return self.fixed_size if self.fixed_size is not None else (width, height)


def load_onnx(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_ONNX_BYTES,
    check_size: tuple[int, int] | None = None,
    memory: MemoryLimits = DEFAULT_MEMORY_LIMITS,
) -> OnnxModel:
    """Load and check an ONNX file; external data only from inside its folder.

    ``check_size`` (width, height) is the resolution its memory is judged at (default:
    its fixed input size, else ``onnx_budget.DEFAULT_CHECK_SIZE``). Raises
    NotFoundError, LimitExceededError (file plus external data over ``max_bytes``, or
    shapes over ``memory``), ModelLoadError (not ONNX, external data outside the
    folder) and ModelFormatError (checker failure, not one image in and one out).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"ONNX model {path} does not exist (or is not a file)")
    size = path.stat().st_size
    _check_size(size, max_bytes, str(path))
    data = path.read_bytes()
    proto = parse_onnx(data, str(path))
    check_declared(proto, limits=memory, name=str(path))
    embed_external(proto, path.parent, str(path), max_bytes - size)
    return _finish(proto, path, hashlib.sha256(data).hexdigest(), str(path), check_size, memory)


def embed_external_data(
    data: bytes, folder: Path, *, max_bytes: int = DEFAULT_MAX_ONNX_BYTES, name: str = "model"
) -> bytes:
    """``data`` with the external data its tensors name (inside ``folder`` only) embedded:
    one self-contained file, as a client receives it. ``data`` itself when it has none.

    Raises ModelLoadError (not ONNX, a location outside ``folder`` or missing) and
    LimitExceededError (declared shapes or the bytes over the limits).
    """
    proto = parse_onnx(data, name)
    if not external_tensors(proto):
        return data
    check_declared(proto, name=name)
    embed_external(proto, Path(folder), name, max_bytes - len(data))
    return proto.SerializeToString()


def onnx_from_bytes(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_ONNX_BYTES,
    name: str = "received model",
    check_size: tuple[int, int] | None = None,
    memory: MemoryLimits = DEFAULT_MEMORY_LIMITS,
) -> OnnxModel:
    """Load and check an ONNX model that arrived as bytes (e.g. over the network).

    There is no folder to read external data from, so a model that uses external
    data is refused outright. ``check_size`` and ``memory`` as for ``load_onnx``.
    """
    _check_size(len(data), max_bytes, name)
    proto = parse_onnx(data, name)
    if external_tensors(proto):
        raise ModelLoadError(
            f"{name} refers to external data files; a model sent as bytes must embed "
            "its weights (save it with onnx.save(model, path) without external data)"
        )
    return _finish(proto, None, hashlib.sha256(data).hexdigest(), name, check_size, memory)


def count_onnx_parameters(proto: onnx.ModelProto) -> int:
    """Learnable scalars: elements of the weight inputs of parametric operators.

    Counts the initializers consumed as weights/biases/scales of Conv, ConvTranspose,
    the normalizations, Gemm and MatMul, so pads and resize scales do not count and
    the number matches ``count_parameters`` of the torch model.
    """
    weight_ops = {
        "Conv", "ConvTranspose", "InstanceNormalization", "BatchNormalization",
        "Gemm", "MatMul", "LayerNormalization", "GroupNormalization", "PRelu",
    }  # fmt: skip
    sizes = {init.name: math.prod(int(d) for d in init.dims) for init in proto.graph.initializer}
    used = {
        name
        for node in proto.graph.node
        if node.op_type in weight_ops
        for name in node.input[1:]
        if name in sizes
    }
    # BatchNormalization's running mean/var are statistics, not parameters.
    for node in proto.graph.node:
        if node.op_type == "BatchNormalization":
            used.difference_update(node.input[3:5])
    return sum(sizes[name] for name in used)


def _finish(
    proto: onnx.ModelProto,
    path: Path | None,
    sha256: str,
    name: str,
    check_size: tuple[int, int] | None,
    memory: MemoryLimits,
) -> OnnxModel:
    # Before the checker, the relaxation probe or any ORT session sees the graph.
    check_memory(proto, size=check_size, limits=memory, name=name)
    upgraded = upgrade_ir(proto)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFormatError(f"{name} fails the ONNX checker: {first}") from exc
    input_info, output_info = _image_io(proto, name)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    metadata.layout(proto)
    in_range = metadata.input_range(proto)
    pixel = metadata.pixel_format(proto)
    dims = input_info.type.tensor_type.shape.dim
    fixed = [d.dim_value if d.HasField("dim_value") else None for d in dims[2:]]

    def build(
        graph: onnx.ModelProto, size: tuple[int, int] | None, relaxed: bool, note: str
    ) -> OnnxModel:
        return OnnxModel(
            proto=graph,
            path=path,
            sha256=sha256,
            input_name=input_info.name,
            output_name=output_info.name,
            opset=opset,
            dynamic_spatial=size is None,
            fixed_size=size,
            relaxed=relaxed,
            note=note,
            input_range=in_range,
            pixel=pixel,
        )

    if fixed == [None, None]:
        return build(proto, None, False, _joined(upgraded, "dynamic input H x W"))
    if None in fixed:
        raise ModelFormatError(
            f"{name}: input {input_info.name} fixes only one of height/width; "
            "re-export it with both fixed or both dynamic"
        )
    height, width = int(fixed[0]), int(fixed[1])
    relaxed, reason = _try_relax(proto, input_info.name, output_info.name, (width, height))
    if relaxed is not None:
        note = (
            f"fixed input {width}x{height} relaxed to dynamic H x W (graph is fully convolutional)"
        )
        return build(relaxed, None, True, _joined(upgraded, note))
    note = f"fixed input {width}x{height}; frames are resized to it ({reason})"
    return build(proto, (width, height), False, _joined(upgraded, note))


def _joined(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


def _try_relax(
    proto: onnx.ModelProto, input_name: str, output_name: str, fixed: tuple[int, int]
) -> tuple[onnx.ModelProto | None, str]:
    """The relaxed model, or None and why it stays fixed."""
    verdict = spatial_verdict(proto)
    if not verdict.agnostic:
        return None, verdict.reason
    try:
        relaxed = relax_spatial(proto, input_name, output_name)
        onnx.checker.check_model(relaxed)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        return None, f"shape inference fails at other sizes: {str(exc).splitlines()[0]}"
    out_dims = next(o for o in proto.graph.output if o.name == output_name)
    out_shape = [d.dim_value for d in out_dims.type.tensor_type.shape.dim]
    probe = probe_size(fixed)
    try:
        got = run_probe(relaxed, input_name, probe)
    # ONNX Runtime reports failures as its own exception types (Fail, InvalidArgument,
    # RuntimeException …) that share no public base class short of Exception.
    except Exception as exc:
        log.debug("relaxed model failed at %s: %s", probe, exc)
        detail = str(exc).strip().splitlines()[-1][-160:] if str(exc).strip() else ""
        return None, f"the relaxed graph fails in ONNX Runtime at {probe[0]}x{probe[1]}: {detail}"
    width, height = fixed
    if len(out_shape) == 4 and all(out_shape[2:]):
        expected = (out_shape[2] * probe[1] // height, out_shape[3] * probe[0] // width)
    else:
        expected = (probe[1], probe[0])
    if len(got) != 4 or got[2:] != expected:
        return None, (
            f"the relaxed graph returns {list(got)} for a {probe[0]}x{probe[1]} input, "
            f"not the expected H x W {expected[0]}x{expected[1]}"
        )
    return relaxed, ""


def _image_io(proto: onnx.ModelProto, name: str) -> tuple[onnx.ValueInfoProto, onnx.ValueInfoProto]:
    """The one image input [N,3,H,W] and the one output, or a ModelFormatError."""
    initializers = {i.name for i in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in initializers]
    outputs = list(proto.graph.output)
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFormatError(
            f"{name} has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}) and "
            f"{len(outputs)} outputs ({', '.join(o.name for o in outputs)}); a style model "
            "takes exactly one image and returns one"
        )
    (graph_input,), (graph_output,) = inputs, outputs
    tensor = graph_input.type.tensor_type
    dims = tensor.shape.dim
    if (
        not graph_input.type.HasField("tensor_type")
        or tensor.elem_type not in _IMAGE_TYPES
        or len(dims) != 4
        or dims[1].dim_value != 3
    ):
        raise ModelFormatError(
            f"{name}: input {graph_input.name} is {_describe(graph_input)}; "
            "a style model takes a float image [N,3,H,W] (RGB, NCHW)"
        )
    if dims[0].HasField("dim_value") and dims[0].dim_value != 1:
        raise ModelFormatError(
            f"{name}: input {graph_input.name} has a fixed batch of {dims[0].dim_value}; "
            "frames are sent one at a time, so the batch must be 1 or dynamic"
        )
    out = graph_output.type.tensor_type
    if out.HasField("shape") and len(out.shape.dim) != 4:
        raise ModelFormatError(
            f"{name}: output {graph_output.name} is {_describe(graph_output)}; "
            "a style model returns an image [N,3,H,W]"
        )
    return graph_input, graph_output


def _describe(info: onnx.ValueInfoProto) -> str:
    tensor = info.type.tensor_type
    dtype = onnx.TensorProto.DataType.Name(tensor.elem_type) if tensor.elem_type else "?"
    dims = [
        d.dim_param or (str(d.dim_value) if d.HasField("dim_value") else "?")
        for d in tensor.shape.dim
    ]
    return f"{dtype}[{','.join(dims)}]"


def parse_onnx(data: bytes, name: str) -> onnx.ModelProto:
    """``data`` parsed as an ONNX model (nothing loaded or checked beyond that).

    Raises ModelLoadError when it is not one.
    """
    if is_lfs_pointer(data[:256]):
        raise ModelLoadError(lfs_message(name))
    try:
        proto = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(
            f"{name} is not an ONNX model (it does not parse as an ONNX ModelProto)"
        ) from exc
    if proto.ir_version <= 0 or not proto.HasField("graph") or not proto.graph.node:
        raise ModelLoadError(
            f"{name} is not an ONNX model (no IR version or no graph); "
            "pass a .onnx file written by torch.onnx.export or onnx.save"
        )
    return proto


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise LimitExceededError(
            f"{name} is {size} bytes, over the {max_bytes}-byte limit for models"
        )
