"""Quantize an ONNX style model: ORT int8 for Python, weight-only for the engines.

``QuantizeMode.DYNAMIC`` and ``STATIC`` use ``onnxruntime.quantization``: dynamic int8
(ConvInteger, activations quantized per run) and static QDQ int8 whose activation
ranges are calibrated on real frames. Both write quantized operators that no Unity
engine imports, so they are for Python inference only (the engine checker says so).
``FP16_WEIGHTS`` and ``INT8_WEIGHTS`` are weight-only (``optimize.weights``): float
arithmetic, smaller file, loadable by the engines the checker names.

ORT's quantizer needs opset >= 13 for per-channel QDQ (``DequantizeLinear`` with an
axis); older graphs (Barracuda's opset 9) are converted with
``onnx.version_converter`` first, which is fine since the result is Python-only anyway.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import onnx

from stylebridge.errors import InvalidInputError, ModelFormatError, native_message
from stylebridge.frames import MODEL_SIZE_MULTIPLE, pad_to_multiple, resize
from stylebridge.models.metadata import DEFAULT_PIXEL, PixelFormat, to_model_input
from stylebridge.optimize import weights

_log = logging.getLogger(__name__)

QUANTIZE_OPSET = 13  # first opset with per-axis DequantizeLinear
DEFAULT_CALIBRATION_SIZE = (320, 180)
# The convolutions hold 99.9 % of the weights and FLOPs; quantizing InstanceNormalization
# too (ORT's default list) only adds error (its per-channel axis does not even apply).
QUANTIZED_OPS = ("Conv", "ConvTranspose")


class QuantizeMode(StrEnum):
    DYNAMIC = "dynamic"  # ORT dynamic int8: Python only
    STATIC = "static"  # ORT static QDQ int8, calibrated on frames: Python only
    FP16_WEIGHTS = "fp16-weights"  # weight-only fp16: engines load it
    INT8_WEIGHTS = "int8-weights"  # weight-only int8 + per-channel scale

    @property
    def python_only(self) -> bool:
        return self in (QuantizeMode.DYNAMIC, QuantizeMode.STATIC)

    @property
    def needs_frames(self) -> bool:
        return self is QuantizeMode.STATIC


@dataclass(frozen=True)
class QuantizeConfig:
    """What to write. ``calibration_size`` is (width, height) of the calibration frames."""

    mode: QuantizeMode
    per_channel: bool = True  # static QDQ weights per output channel
    keep_float_ends: bool = True  # first and last convolution stay float (see _ends)
    calibration_size: tuple[int, int] = DEFAULT_CALIBRATION_SIZE
    calibration_frames: int = 8
    fp16_layout: weights.Fp16Layout = weights.Fp16Layout.ALL_FP16
    int8_scheme: weights.Int8Scheme = weights.Int8Scheme.SYMMETRIC

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", QuantizeMode(self.mode))
        if self.calibration_frames < 1:
            raise InvalidInputError("calibration_frames must be at least 1")
        if min(self.calibration_size) < 16:
            raise InvalidInputError("calibration_size must be at least 16x16")


@dataclass(frozen=True)
class QuantizeResult:
    path: Path
    mode: QuantizeMode
    size_bytes: int
    source_bytes: int
    comparison: weights.OutputComparison | None  # weight-only modes, given frames

    @property
    def size_ratio(self) -> float:
        return self.size_bytes / self.source_bytes


class FrameCalibrationReader:
    """``onnxruntime.quantization.CalibrationDataReader`` over real frames.

    Feeds each frame once as float32 NCHW in the model's pixel format. Written
    as a duck-typed class (ORT only calls ``get_next``) so that importing this module
    does not import ``onnxruntime.quantization``.
    """

    def __init__(self, input_name: str, frames: Sequence[np.ndarray],
                 pixel: PixelFormat = DEFAULT_PIXEL) -> None:
        if not frames:
            raise InvalidInputError("static quantization needs calibration frames")
        self._input_name = input_name
        self._pixel = pixel
        self._frames = list(frames)
        self._iter: Iterator[np.ndarray] = iter(self._frames)

    def get_next(self) -> dict[str, np.ndarray] | None:
        frame = next(self._iter, None)
        if frame is None:
            return None
        return {self._input_name: to_model_input(frame, self._pixel)}

    def rewind(self) -> None:
        self._iter = iter(self._frames)


def _opset(proto: onnx.ModelProto) -> int:
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)


def _for_ort_quantizer(proto: onnx.ModelProto) -> onnx.ModelProto:
    if _opset(proto) >= QUANTIZE_OPSET:
        return proto
    from onnx import version_converter

    try:
        converted = version_converter.convert_version(proto, QUANTIZE_OPSET)
    except Exception as exc:  # the converter raises bare RuntimeError/ValueError subclasses
        raise ModelFormatError(
            f"ONNX Runtime's quantizer needs opset {QUANTIZE_OPSET} and onnx's version "
            f"converter cannot bring this opset {_opset(proto)} graph there "
            f"({native_message(exc)}); the weight-only modes (--mode fp16-weights or "
            "int8-weights) work at the model's own opset"
        ) from exc
    converted.ir_version = min(converted.ir_version, weights.MAX_IR_VERSION)
    return converted


def quantize(src: Path, dst: Path, config: QuantizeConfig,
                   frames: Sequence[np.ndarray] = ()) -> QuantizeResult:
    """Write the ``config.mode`` variant of ``src`` to ``dst``.

    ``src`` is loaded like every model StyleBridge runs (``load_onnx``: IR < 4 upgraded,
    a fixed input relaxed when the graph allows it), so the output is what the server
    would run. ``frames`` (H x W x 3 uint8 RGB) calibrate the static mode and, for the
    weight-only modes, check the result against ``src`` in ONNX Runtime
    (``result.comparison``; a failed comparison is reported, not raised); they are
    resized to a fixed input size the model keeps. ``dst`` appears complete or not at
    all. Raises InvalidInputError (not an ONNX file, already quantized, two inputs)
    and ModelFormatError (a graph ONNX Runtime's quantizer cannot take).
    """
    from stylebridge.models.onnx_model import load_onnx

    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise InvalidInputError(f"{src} is not a file; pass the float32 ONNX model to quantize")
    if src.suffix.lower() != ".onnx":
        raise InvalidInputError(
            f"{src.name} is not an ONNX file; quantize works on ONNX models: for a PyTorch "
            f"checkpoint run `stylebridge export {src.name} --out MODEL.onnx` first"
        )
    if src.resolve() == dst.resolve():
        raise InvalidInputError("--out must differ from the source model")
    mode = config.mode
    if mode.needs_frames and not frames:
        raise InvalidInputError("static quantization needs frames: pass --frames DIR")
    loaded = load_onnx(src)
    proto = loaded.proto
    _refuse_quantized(proto, src.name)
    if loaded.fixed_size is not None:
        frames = [resize(frame, loaded.fixed_size) for frame in frames]
    # As the backends run them: padded to a multiple of 4 (skip connections need it).
    frames = [pad_to_multiple(frame, MODEL_SIZE_MULTIPLE) for frame in frames]
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sb-quant-", dir=dst.parent) as tmp:
        staged = Path(tmp) / dst.name
        comparison = None
        if mode is QuantizeMode.FP16_WEIGHTS:
            weights.save_atomically(weights.to_fp16_weights(proto, config.fp16_layout), staged)
            tolerance = weights.FP16_TOLERANCE
        elif mode is QuantizeMode.INT8_WEIGHTS:
            weights.save_atomically(weights.to_int8_weights(proto, config.int8_scheme), staged)
            tolerance = weights.INT8_TOLERANCE
        else:
            _ort_quantize(proto, staged, config, frames, loaded.pixel)
            tolerance = None
        if tolerance is not None and frames:
            comparison = weights.compare_outputs(proto, staged, frames, tolerance,
                                                 loaded.pixel)
        staged.replace(dst)  # same folder: atomic; nothing is left at dst on failure
    _log.info("wrote %s (%s)", dst, config.mode.value)
    return QuantizeResult(dst, mode, dst.stat().st_size, src.stat().st_size, comparison)


# Operators that only an already-quantized graph holds.
_QUANTIZED_OPS = frozenset({
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "ConvInteger",
    "MatMulInteger", "QLinearConv", "QLinearMatMul",
})


def _refuse_quantized(proto: onnx.ModelProto, name: str) -> None:
    found = sorted({n.op_type for n in proto.graph.node} & _QUANTIZED_OPS)
    if found:
        raise InvalidInputError(
            f"{name} is already quantized (it has {', '.join(found)} nodes); quantizing it "
            "again would only add error: quantize the float32 model it was made from"
        )


def _ends(proto: onnx.ModelProto) -> list[str]:
    """Names of the first and last convolution, named if the exporter left them blank.

    They see the image itself (0..255 in, -100..400 out before clamping): an 8-bit
    activation grid there costs ~2 grey levels per step, and on mosaic keeping these two
    (1 % of the weights) float halves the static model's error (mean abs 9.8 -> 4.4).
    """
    convs = [n for n in proto.graph.node if n.op_type in QUANTIZED_OPS]
    for index, node in enumerate(convs):
        if not node.name:
            node.name = f"conv_{index}"
    return sorted({convs[0].name, convs[-1].name}) if convs else []


def _ort_quantize(proto: onnx.ModelProto, dst: Path, config: QuantizeConfig,
                  frames: Sequence[np.ndarray], pixel: PixelFormat = DEFAULT_PIXEL) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    ready = _for_ort_quantizer(proto)
    if len(ready.graph.input) != 1:
        names = ", ".join(i.name for i in ready.graph.input)
        raise InvalidInputError(
            f"the model has {len(ready.graph.input)} inputs ({names}); ONNX Runtime's "
            "quantizer is fed one image per calibration frame"
        )
    with tempfile.TemporaryDirectory(prefix="sb-quant-", dir=dst.parent) as tmp:
        staged_in = Path(tmp) / "float.onnx"
        staged_out = Path(tmp) / "quant.onnx"
        onnx.save(ready, str(staged_in))
        exclude = _ends(ready) if config.keep_float_ends else []
        try:
            if config.mode is QuantizeMode.DYNAMIC:
                quantize_dynamic(staged_in, staged_out,
                                 op_types_to_quantize=list(QUANTIZED_OPS),
                                 nodes_to_exclude=exclude, weight_type=QuantType.QInt8)
            else:
                reader = FrameCalibrationReader(ready.graph.input[0].name,
                                                list(frames)[: config.calibration_frames],
                                                pixel)
                quantize_static(staged_in, staged_out, reader, quant_format=QuantFormat.QDQ,
                                op_types_to_quantize=list(QUANTIZED_OPS),
                                nodes_to_exclude=exclude,
                                per_channel=config.per_channel,
                                activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        # ONNX Runtime's errors share no base class short of Exception; onnx's are
        # RuntimeError/ValueError subclasses. Any of them means this graph cannot be
        # quantized by ORT, and says why.
        except Exception as exc:
            raise ModelFormatError(
                f"ONNX Runtime's {config.mode.value} quantizer failed on this model: "
                f"{native_message(exc)}"
            ) from exc
        result = onnx.load(str(staged_out))
        result.ir_version = min(result.ir_version, weights.MAX_IR_VERSION)
        weights.save_atomically(result, dst)
