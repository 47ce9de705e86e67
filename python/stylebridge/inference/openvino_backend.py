"""OpenVINO backend: the same uint8-wrapped ONNX graph as ONNX Runtime, compiled by OpenVINO.

OpenVINO reads ONNX itself, so the model goes in as ``inference.ort.wrap_uint8_io``
made it (conversion inside the graph). It is compiled once per frame size with a
static shape: OpenVINO's CPU plugin picks its fastest convolution kernels (blocked
layouts, JIT for the CPU's vector width) only for static shapes. ``precision`` is the
plugin's inference precision: ``f32`` (bit-faithful to the float model within
rounding) or ``bf16`` (on CPUs with AVX-512 BF16 or AMX; faster, less faithful: its
PSNR to the float reference is reported by ``inference.auto`` and the benchmark).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx

from stylebridge.errors import BackendError, InvalidInputError
from stylebridge.frames import MODEL_SIZE_MULTIPLE, check_rgb, match_size, pad_to_multiple, resize
from stylebridge.inference.ort import WRAPPED_INPUT, model_fixed_size, wrap_uint8_io
from stylebridge.inference.tuning import physical_cores
from stylebridge.models.metadata import PixelFormat

_log = logging.getLogger(__name__)

PRECISIONS = ("f32", "bf16")
# Compiled models kept per backend (one per frame size seen); the oldest goes first.
_MAX_SHAPES = 4


def openvino_available() -> str | None:
    """None when OpenVINO imports here, else why not (for a 'skipped' message)."""
    try:
        import openvino  # noqa: F401
    except ImportError as exc:
        return f"OpenVINO is not installed ({exc}); pip install openvino"
    return None


def default_device() -> str:
    """``GPU`` when OpenVINO sees one (an Intel GPU), else ``CPU``."""
    import openvino as ov

    devices = ov.Core().available_devices
    return "GPU" if any(d.startswith("GPU") for d in devices) else "CPU"


def cpu_has_bf16() -> bool:
    """Whether OpenVINO's CPU plugin runs bf16 natively here (AVX-512 BF16 or AMX)."""
    import openvino as ov

    caps = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return "BF16" in [str(c).upper() for c in caps]


class OpenVinoBackend:
    """Runs an ONNX style model in OpenVINO on uint8 frames (see module docstring)."""

    def __init__(
        self,
        model: onnx.ModelProto,
        model_id: str,
        *,
        input_range: float = 255.0,
        pixel: PixelFormat | None = None,
        fixed_size: tuple[int, int] | None = None,
        precision: str = "f32",
        device: str | None = None,
        threads: int | None = None,
    ) -> None:
        if precision not in PRECISIONS:
            raise InvalidInputError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        missing = openvino_available()
        if missing is not None:
            raise BackendError(missing)
        import openvino as ov

        self._model_id = model_id
        self._fixed_size = fixed_size or model_fixed_size(model)
        wrapped = wrap_uint8_io(model, input_range, pixel=pixel)
        self._core = ov.Core()
        self._device = device or default_device()
        self._config = {
            # One frame at a time, as fast as possible: the latency hint (one stream,
            # all cores on it) rather than throughput (several streams).
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": precision,
        }
        if self._device == "CPU":
            self._config["INFERENCE_NUM_THREADS"] = str(threads or physical_cores())
        try:
            # read_model takes a path: a temporary file (deleted at once) holds the graph.
            with tempfile.TemporaryDirectory(prefix="stylebridge-ov-") as tmp:
                path = Path(tmp) / "model.onnx"
                path.write_bytes(wrapped.SerializeToString())
                self._model = self._core.read_model(os.fspath(path))
        except Exception as exc:  # OpenVINO raises RuntimeError and its own types
            raise BackendError(f"OpenVINO could not read model {model_id}: {exc}") from exc
        self._compiled: dict[tuple[int, int], object] = {}
        self._precision = precision
        self._name = f"openvino/{self._device}/{precision}"
        self._closed = False
        if self._fixed_size is not None:
            width, height = self._fixed_size
            self._request_for(height, width)  # compile now: a fixed model has one shape

    @property
    def name(self) -> str:
        return self._name

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def precision(self) -> str:
        return self._precision

    def _request_for(self, height: int, width: int) -> object:
        """The infer request compiled for [1,height,width,3] (compiled on first use)."""
        key = (height, width)
        request = self._compiled.get(key)
        if request is not None:
            return request
        import openvino as ov

        model = self._model.clone()
        try:
            model.reshape({WRAPPED_INPUT: ov.PartialShape([1, height, width, 3])})
            compiled = self._core.compile_model(model, self._device, self._config)
        except Exception as exc:  # OpenVINO raises RuntimeError and its own types
            raise BackendError(
                f"OpenVINO could not compile model {self._model_id} for {width}x{height}: {exc}"
            ) from exc
        if len(self._compiled) >= _MAX_SHAPES:
            self._compiled.pop(next(iter(self._compiled)))
        request = compiled.create_infer_request()
        self._compiled[key] = request
        return request

    def run(self, frame: np.ndarray) -> np.ndarray:
        if self._closed:
            raise BackendError(f"backend for {self._model_id} is closed")
        check_rgb(frame)
        height, width = frame.shape[:2]
        fixed = self._fixed_size
        resized = fixed is not None and fixed != (width, height)
        src = resize(frame, fixed) if fixed is not None and resized else frame
        batch = np.ascontiguousarray(pad_to_multiple(src, MODEL_SIZE_MULTIPLE))[None]
        request = self._request_for(batch.shape[1], batch.shape[2])
        try:
            # share_inputs: OpenVINO reads the frame where it lies (no copy in).
            request.infer({0: batch}, share_inputs=True)  # type: ignore[attr-defined]
            out = request.get_output_tensor(0).data[0]  # type: ignore[attr-defined]
        except Exception as exc:  # OpenVINO raises RuntimeError and its own types
            raise BackendError(
                f"model {self._model_id} failed on a {width}x{height} frame: {exc}"
            ) from exc
        # The request's output buffer is reused by the next run: hand out a copy.
        if fixed is not None and resized:
            return resize(match_size(out, fixed), (width, height))
        return np.array(match_size(out, (width, height)))

    def close(self) -> None:
        self._closed = True
        self._compiled.clear()

    def __enter__(self) -> OpenVinoBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
