"""ONNX Runtime backend, with the uint8 <-> float conversion inside the model.

A style model takes float32 NCHW and returns float32 NCHW; frames are uint8 HWC.
Converting a 720p frame in numpy costs several milliseconds each way, so the model
is wrapped once, at load time, with a few nodes that do it inside ONNX Runtime:

    frame uint8 [1,H,W,3] -> Transpose NCHW [-> Gather BGR] -> Cast float [-> Mul s]
        [-> Add low] -> original model -> [Sub low ->] [Mul 1/s ->] [Gather RGB ->]
    Add 0.5 -> Clip 0..255 -> Cast uint8 -> Transpose NHWC -> stylized

where the model's pixel format (``models.metadata.PixelFormat``: channel order and the
values black and white map to, from its metadata) gives ``s = (high - low) / 255``.

Transposes run on uint8 (a quarter of the bytes). Cast float->uint8 truncates, so
Add 0.5 first makes it round half up. The wrapper nodes are written in the model's
own opset (Clip takes attributes below opset 11, inputs from 11 on), so an opset 9
Barracuda-era model is wrapped without converting anything else in it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from stylebridge.errors import BackendError, InvalidInputError, ModelFormatError
from stylebridge.frames import (
    MODEL_SIZE_MULTIPLE,
    check_rgb,
    match_size,
    pad_to_multiple,
    resize,
)
from stylebridge.inference.tuning import physical_cores
from stylebridge.models.metadata import ChannelOrder, PixelFormat

_log = logging.getLogger(__name__)

# Tried in this order when available; CPU is always the last resort.
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "DmlExecutionProvider")
WRAPPED_INPUT = "stylebridge_frame_u8"
WRAPPED_OUTPUT = "stylebridge_stylized_u8"
_MIN_OPSET = 7  # Mul/Add broadcasting and the Cast `to` as an int need opset 7.


def default_opset(model: onnx.ModelProto) -> int:
    """The model's ai.onnx opset version."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise ModelFormatError("the ONNX model imports no ai.onnx opset; re-export it with torch.onnx")


def _graph_io(model: onnx.ModelProto) -> tuple[onnx.ValueInfoProto, onnx.ValueInfoProto]:
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ModelFormatError(
            f"a style model has one image input and one image output; this one has "
            f"{len(inputs)} inputs and {len(graph.output)} outputs"
        )
    return inputs[0], graph.output[0]


def _dims(value: onnx.ValueInfoProto) -> list[int | str | None]:
    if not value.type.tensor_type.HasField("shape"):
        return [None, None, None, None]  # unknown rank: let ONNX Runtime judge
    shape = value.type.tensor_type.shape
    out: list[int | str | None] = []
    for dim in shape.dim:
        if dim.HasField("dim_value"):
            out.append(int(dim.dim_value))
        elif dim.HasField("dim_param"):
            out.append(dim.dim_param)
        else:
            out.append(None)
    return out


def model_fixed_size(model: onnx.ModelProto) -> tuple[int, int] | None:
    """(width, height) when the image input has a fixed spatial size, else None."""
    dims = _dims(_graph_io(model)[0])
    if len(dims) == 4 and isinstance(dims[2], int) and isinstance(dims[3], int):
        return dims[3], dims[2]
    return None


def wrap_uint8_io(
    model: onnx.ModelProto, input_range: float = 255.0, *, pixel: PixelFormat | None = None
) -> onnx.ModelProto:
    """A copy of ``model`` that takes and returns uint8 [1,H,W,3] RGB frames.

    ``pixel`` (channel order and value range, from the model's metadata) says how the
    model wants its input: BGR planes are reversed on both ends (a Gather on the
    channel axis), and a byte ``v`` enters as ``low + v * (high - low) / 255``. Without
    it, ``input_range`` is the value of white for an RGB model whose black is 0 (255 or
    1). Raises ModelFormatError when the model does not look like an NCHW image model.
    """
    if pixel is None:
        if input_range <= 0:
            raise InvalidInputError(f"input_range must be > 0 (255 or 1), got {input_range}")
        pixel = PixelFormat(high=float(input_range))
    if pixel.high <= pixel.low:
        raise InvalidInputError(f"pixel range {pixel.low}..{pixel.high} is empty")
    opset = default_opset(model)
    if opset < _MIN_OPSET:
        raise ModelFormatError(
            f"opset {opset} is older than ONNX Runtime's broadcasting arithmetic (opset "
            f"{_MIN_OPSET}); convert it with onnx.version_converter to opset 9 or later"
        )
    source_in, source_out = _graph_io(model)
    in_dims, out_dims = _dims(source_in), _dims(source_out)
    for value, dims in ((source_in, in_dims), (source_out, out_dims)):
        fixed_wrong = (
            [isinstance(dims[i], int) and dims[i] != want for i, want in ((0, 1), (1, 3))]
            if len(dims) == 4
            else [True]
        )
        if any(fixed_wrong):
            raise ModelFormatError(
                f"model value {value.name} has shape {dims}; "
                "a style model maps [1,3,H,W] to [1,3,H,W]"
            )

    wrapped = onnx.ModelProto()
    wrapped.CopyFrom(model)
    graph = wrapped.graph
    taken = {v.name for v in graph.input} | {v.name for v in graph.output}
    taken |= {i.name for i in graph.initializer}
    taken |= {o for node in graph.node for o in node.output}
    if WRAPPED_INPUT in taken or WRAPPED_OUTPUT in taken:
        raise ModelFormatError("the model already has stylebridge wrapper nodes; load the original")

    def name(suffix: str) -> str:
        return f"stylebridge_{suffix}"

    # Float type of the model's input and output (float32, or float16 for half models).
    in_type = source_in.type.tensor_type.elem_type or TensorProto.FLOAT
    out_type = source_out.type.tensor_type.elem_type or TensorProto.FLOAT

    def constant(suffix: str, value: float, elem_type: int) -> str:
        dtype = helper.tensor_dtype_to_np_dtype(elem_type)
        tensor = numpy_helper.from_array(np.array(value, dtype=dtype), name(suffix))
        graph.initializer.append(tensor)
        return name(suffix)

    node = helper.make_node
    bgr = pixel.order is ChannelOrder.BGR
    if bgr:
        order = numpy_helper.from_array(np.array([2, 1, 0], dtype=np.int64), name("bgr"))
        graph.initializer.append(order)
    # Pre: uint8 NHWC -> float NCHW (planes reversed for BGR), feeding the original input.
    pre = [node("Transpose", [WRAPPED_INPUT], [name("nchw_u8")], perm=[0, 3, 1, 2])]
    planes = name("nchw_u8")
    if bgr:
        pre.append(node("Gather", [planes, name("bgr")], [name("nchw_bgr")], axis=1))
        planes = name("nchw_bgr")
    scale_in, offset = pixel.scale, pixel.low
    steps: list[tuple[str, str]] = []  # (op, constant) after the Cast, in order
    if scale_in != 1.0:
        steps.append(("Mul", constant("in_scale", scale_in, in_type)))
    if offset != 0.0:
        steps.append(("Add", constant("in_offset", offset, in_type)))
    current = name("nchw_f")
    pre.append(node("Cast", [planes], [source_in.name if not steps else current], to=in_type))
    for index, (op, value) in enumerate(steps):
        target = source_in.name if index == len(steps) - 1 else name(f"pre_{index}")
        pre.append(node(op, [current, value], [target]))
        current = target

    # Post: float NCHW -> rounded, clipped uint8 NHWC (planes back to RGB).
    post: list[onnx.NodeProto] = []
    current = source_out.name
    if offset != 0.0:
        post.append(node("Sub", [current, constant("out_offset", offset, out_type)],
                         [name("unshifted")]))
        current = name("unshifted")
    if scale_in != 1.0:
        scale = constant("out_scale", 1.0 / scale_in, out_type)
        post.append(node("Mul", [current, scale], [name("scaled")]))
        current = name("scaled")
    if bgr:
        post.append(node("Gather", [current, name("bgr")], [name("rgb")], axis=1))
        current = name("rgb")
    post.append(node("Add", [current, constant("half", 0.5, out_type)], [name("rounded")]))
    if opset < 11:
        clip_inputs = [name("rounded")]
        clip_attrs = {"min": 0.0, "max": 255.0}
    else:
        clip_inputs = [
            name("rounded"),
            constant("lo", 0.0, out_type),
            constant("hi", 255.0, out_type),
        ]
        clip_attrs = {}
    post.append(node("Clip", clip_inputs, [name("clipped")], **clip_attrs))
    post.append(node("Cast", [name("clipped")], [name("out_u8")], to=TensorProto.UINT8))
    post.append(node("Transpose", [name("out_u8")], [WRAPPED_OUTPUT], perm=[0, 2, 3, 1]))

    nodes = [*pre, *graph.node, *post]
    del graph.node[:]
    graph.node.extend(nodes)

    def nhwc(dims: list[int | str | None], prefix: str) -> list[int | str | None]:
        h, w = dims[2], dims[3]
        return [1, f"{prefix}_H" if h is None else h, f"{prefix}_W" if w is None else w, 3]

    u8 = TensorProto.UINT8
    new_in = helper.make_tensor_value_info(WRAPPED_INPUT, u8, nhwc(in_dims, "in"))
    new_out = helper.make_tensor_value_info(WRAPPED_OUTPUT, u8, nhwc(out_dims, "out"))
    kept_inputs = [v for v in graph.input if v.name != source_in.name]
    del graph.input[:]
    graph.input.extend([new_in, *kept_inputs])
    del graph.output[:]
    graph.output.append(new_out)
    # Shapes recorded for the old boundary values may no longer be the whole story.
    stale = {source_in.name, source_out.name}
    kept_info = [v for v in graph.value_info if v.name not in stale]
    del graph.value_info[:]
    graph.value_info.extend(kept_info)
    try:
        onnx.checker.check_model(wrapped)
    except onnx.checker.ValidationError as exc:
        raise ModelFormatError(
            f"wrapping the model for uint8 frames failed the ONNX checker: {exc}"
        ) from exc
    return wrapped


def choose_providers(requested: Sequence[str] | None = None) -> list[str]:
    """Execution providers in order of preference: a GPU where installed, then CPU."""
    available = ort.get_available_providers()
    if requested is not None:
        missing = [p for p in requested if p not in available]
        if missing:
            raise BackendError(
                f"ONNX Runtime here has no {', '.join(missing)}; available: {', '.join(available)}"
            )
        return list(requested)
    chosen = [p for p in PREFERRED_PROVIDERS if p in available]
    return [*chosen, "CPUExecutionProvider"]


class OrtBackend:
    """Runs an ONNX style model in ONNX Runtime on uint8 frames (see module docstring).

    ``fixed_size`` (width, height) is for models whose input size could not be made
    dynamic: frames are resized to it and the result back to the frame's size. When
    the model's input is fixed and ``fixed_size`` is None, the model's size is used.
    """

    def __init__(
        self,
        model: onnx.ModelProto,
        model_id: str,
        *,
        input_range: float = 255.0,
        pixel: PixelFormat | None = None,
        providers: Sequence[str] | None = None,
        intra_op_threads: int | None = None,
        fixed_size: tuple[int, int] | None = None,
        optimization_level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    ) -> None:
        self._model_id = model_id
        own_size = model_fixed_size(model)
        if fixed_size is not None and own_size is not None and tuple(fixed_size) != own_size:
            raise InvalidInputError(
                f"fixed_size {fixed_size} differs from the model's fixed input {own_size} "
                "(width, height)"
            )
        if fixed_size is None and own_size is not None:
            _log.info(
                "model %s has a fixed %dx%d input: other frame sizes are resized to it and back",
                model_id,
                *own_size,
            )
        self._fixed_size = tuple(fixed_size) if fixed_size is not None else own_size
        wrapped = wrap_uint8_io(model, input_range, pixel=pixel)
        chosen = choose_providers(providers)
        options = ort.SessionOptions()
        # ALL adds the CPU layout transformation (NCHWc blocked convolutions): faster
        # than EXTENDED or level with it on the style models (bench_inference.py).
        options.graph_optimization_level = optimization_level
        # One thread per physical core: ORT's default counts hyper-threads, which share
        # a core's vector units and slow convolutions down.
        options.intra_op_num_threads = intra_op_threads or physical_cores()
        if "DmlExecutionProvider" in chosen:
            # DirectML requires these two settings (onnxruntime's DirectML EP docs).
            options.enable_mem_pattern = False
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session: ort.InferenceSession | None = ort.InferenceSession(
                wrapped.SerializeToString(), sess_options=options, providers=chosen
            )
        except Exception as exc:  # ORT's errors derive from Exception only
            raise BackendError(f"ONNX Runtime could not load model {model_id}: {exc}") from exc
        self._name = f"onnxruntime/{self._session.get_providers()[0]}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        """(width, height) frames are resized to, or None when any size runs as is."""
        return self._fixed_size

    def run(self, frame: np.ndarray) -> np.ndarray:
        session = self._session
        if session is None:
            raise BackendError(f"backend for {self._model_id} is closed")
        check_rgb(frame)
        height, width = frame.shape[:2]
        fixed = self._fixed_size
        resized = fixed is not None and fixed != (width, height)
        src = resize(frame, fixed) if fixed is not None and resized else frame
        batch = np.ascontiguousarray(pad_to_multiple(src, MODEL_SIZE_MULTIPLE))[None]
        try:
            out = session.run([WRAPPED_OUTPUT], {WRAPPED_INPUT: batch})[0][0]
        except Exception as exc:  # ORT's errors derive from Exception only
            raise BackendError(
                f"model {self._model_id} failed on a {width}x{height} frame: {exc}"
            ) from exc
        if fixed is not None and resized:
            return resize(match_size(out, fixed), (width, height))
        return match_size(out, (width, height))

    def close(self) -> None:
        self._session = None

    def __enter__(self) -> OrtBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
