"""The posts' first experiment: PyTorch-native int8 quantization, and what Unity makes of it.

The "In-Game Style Transfer" author quantized fast_neural_style with PyTorch's own
tools: it ran faster in Python and nothing changed in Unity. This recipe repeats that
with current PyTorch. torch 2.13 ships FX graph mode quantization
(``torch.ao.quantization.quantize_fx``) with the ``x86`` backend config; the PT2E
quantizers moved to the separate ``torchao`` package, which is not a dependency here.
Static post-training quantization: observers are calibrated on real frames, then the
convolutions become ``quantized::conv2d`` (fbgemm/x86) kernels while InstanceNorm and
the reflection pads stay float between dequantize/quantize pairs.

The result is timed against the float model in the same run, then exported to ONNX
(the TorchScript exporter, at the teacher's opset and at 13). Every engine then gets
the checker's verdict on the exported file, or, where the export itself fails, a
``cannot-run`` verdict naming the exporter's error; the fix is the same either way:
quantize at the ONNX level for Python, and ship a distilled student to Unity.
"""

from __future__ import annotations

import copy
import io
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx
import torch
from torch import nn

from stylebridge.engines.targets import Engine

FIX = ("Unity engines import float ONNX only: ship a distilled student (recipe 'students') "
       "or an fp16-weights variant; keep torch int8 for Python inference")


@dataclass(frozen=True)
class EngineNote:
    """One engine's verdict on the torch-int8 model, with why and what to do instead."""

    engine: str
    verdict: str
    reason: str
    fix: str


@dataclass
class TorchInt8Result:
    """Python speed-up of the FX int8 model, and each engine's verdict on its export."""

    model: nn.Module
    float_ms: float
    int8_ms: float
    mean_abs_error: float  # int8 vs float output on the timing frame, 0..255 scale
    max_abs_error: float
    export_errors: dict[int, str] = field(default_factory=dict)  # opset -> error
    onnx_bytes: bytes | None = None
    engines: list[EngineNote] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        return self.float_ms / self.int8_ms if self.int8_ms > 0 else 0.0


def _tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()


def quantize_fx(model: nn.Module, calibration: Sequence[np.ndarray]) -> nn.Module:
    """Static int8 (x86 backend) of ``model`` by FX graph mode, calibrated on frames."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    float_model = copy.deepcopy(model).eval()
    example = (_tensor(calibration[0]),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FX quantization is deprecated in favour of torchao
        prepared = prepare_fx(float_model, get_default_qconfig_mapping("x86"), example)
        with torch.no_grad():
            for frame in calibration:
                prepared(_tensor(frame))
        return convert_fx(prepared).eval()


def time_forward(model: nn.Module, frame: np.ndarray, runs: int = 3) -> float:
    """Fastest of ``runs`` forward passes, in milliseconds (after one warm-up)."""
    x = _tensor(frame)
    best = float("inf")
    with torch.no_grad():
        model(x)
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - start)
    return best * 1000.0


def torch_int8(model: nn.Module, calibration: Sequence[np.ndarray], timing_frame: np.ndarray,
               *, opsets: Sequence[int] = (9, 13), runs: int = 3) -> TorchInt8Result:
    """Quantize, time against float on ``timing_frame``, try the export, get verdicts."""
    quantized = quantize_fx(model, calibration)
    with torch.no_grad():
        reference = model.eval()(_tensor(timing_frame))
        approx = quantized(_tensor(timing_frame))
    result = TorchInt8Result(
        model=quantized, float_ms=time_forward(model, timing_frame, runs),
        int8_ms=time_forward(quantized, timing_frame, runs),
        mean_abs_error=float((approx - reference).abs().mean()),
        max_abs_error=float((approx - reference).abs().max()))
    for opset in opsets:
        try:
            buffer = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(quantized, (_tensor(calibration[0]),), buffer,
                                  opset_version=opset, dynamo=False,
                                  input_names=["input"], output_names=["output"])
            result.onnx_bytes = _tidy(buffer.getvalue())
            break
        except Exception as exc:  # the exporter raises many types; each is a verdict
            result.export_errors[opset] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    result.engines = engine_notes(result)
    return result


def _tidy(data: bytes) -> bytes:
    """Name the image dims and fold the exporter's Constant/Cast chains (onnxslim), so
    shape inference, FLOP counting and the checker see initializers as for any model."""
    import onnxslim

    proto = onnx.load_from_string(data)
    for value in (proto.graph.input[0], proto.graph.output[0]):
        for dim, name in zip(value.type.tensor_type.shape.dim,
                             ("1", "3", "height", "width"), strict=False):
            if name.isdigit():
                dim.dim_value = int(name)
            else:
                dim.dim_param = name
    return onnxslim.slim(proto).SerializeToString()


def engine_notes(result: TorchInt8Result) -> list[EngineNote]:
    """Each engine's verdict: the checker's on the exported file, or the export error."""
    if result.onnx_bytes is None:
        errors = "; ".join(f"opset {k}: {v}" for k, v in result.export_errors.items())
        return [EngineNote(e.value, "cannot-run",
                           f"the int8 FX model does not export to ONNX ({errors})", FIX)
                for e in Engine]
    from stylebridge.optimize.measure import engine_verdicts

    proto = onnx.load_from_string(result.onnx_bytes)
    return [EngineNote(v.engine, v.verdict, v.reason, v.fix or FIX)
            for v in engine_verdicts(proto)]
