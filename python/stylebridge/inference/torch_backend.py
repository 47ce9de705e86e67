"""PyTorch backend: the checkpoint itself, eager, on the GPU when torch has one.

Frames cross to the device as uint8 (a quarter of the bytes of float32) and are
converted there, so on CUDA the conversion costs the host nothing. Rounding matches
the ONNX Runtime backend: add 0.5, clip to 0..255, truncate.

``channels_last`` runs the model in NHWC memory format (oneDNN's preferred layout);
it is off by default because on the style models (instance norm after every
convolution) it measured slower than NCHW at both 640x360 and 1280x720
(tests/bench/bench_inference.py, torch vs torch-nhwc). ``precision="bf16"``
runs it under CPU autocast in bfloat16, faster on CPUs with AVX-512 BF16 or AMX and
less faithful (``inference.auto`` reports its PSNR to the float reference).
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from stylebridge.errors import BackendError, InvalidInputError
from stylebridge.frames import MODEL_SIZE_MULTIPLE, check_rgb, match_size, pad_to_multiple

_log = logging.getLogger(__name__)

PRECISIONS = ("f32", "bf16")


def default_device() -> str:
    """``cuda`` when this torch build sees a GPU, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchBackend:
    """Runs a style ``torch.nn.Module`` (RGB 0..``input_range`` NCHW in and out) on frames.

    The module is moved to ``device`` and put in eval mode in place.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        model_id: str,
        *,
        device: str | None = None,
        input_range: float = 255.0,
        precision: str = "f32",
        channels_last: bool = False,
    ) -> None:
        if precision not in PRECISIONS:
            raise InvalidInputError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if input_range <= 0:
            raise InvalidInputError(f"input_range must be > 0 (255 or 1), got {input_range}")
        chosen = device or default_device()
        try:
            self._device = torch.device(chosen)
            self._model: torch.nn.Module | None = model.to(self._device).eval()
            if channels_last:
                self._model = self._model.to(memory_format=torch.channels_last)
        except (RuntimeError, AssertionError) as exc:
            # torch raises AssertionError for "Torch not compiled with CUDA enabled".
            raise BackendError(f"torch cannot use device {chosen!r}: {exc}") from exc
        self._model_id = model_id
        self._scale = input_range / 255.0
        self._channels_last = channels_last
        self._dtype = torch.bfloat16 if precision == "bf16" else None
        self._precision = precision
        suffix = "" if precision == "f32" else f"/{precision}"
        self._name = f"torch/{self._device}{suffix}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def precision(self) -> str:
        return self._precision

    def run(self, frame: np.ndarray) -> np.ndarray:
        model = self._model
        if model is None:
            raise BackendError(f"backend for {self._model_id} is closed")
        check_rgb(frame)
        height, width = frame.shape[:2]
        # torch.from_numpy warns on read-only arrays (frames unpacked from request bytes)
        # and refuses negative strides (flipped views): copy those once.
        host = pad_to_multiple(frame, MODEL_SIZE_MULTIPLE)
        if not (host.flags.writeable and host.flags.c_contiguous):
            host = host.copy()
        try:
            with torch.inference_mode():
                x = torch.from_numpy(host).to(self._device)
                x = x.permute(2, 0, 1).unsqueeze(0).float()
                if self._scale != 1.0:
                    x = x * self._scale
                if self._channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                if self._dtype is not None:
                    with torch.autocast(self._device.type, dtype=self._dtype):
                        y = model(x).float()
                else:
                    y = model(x)
                if self._scale != 1.0:
                    y = y / self._scale
                y = y.add_(0.5).clamp_(0.0, 255.0).to(torch.uint8)
                out = y[0].permute(1, 2, 0).contiguous().cpu().numpy()
        except RuntimeError as exc:
            raise BackendError(
                f"model {self._model_id} failed on a {width}x{height} frame: {exc}"
            ) from exc
        return match_size(out, (width, height))

    def close(self) -> None:
        if self._model is not None and self._device.type == "cuda":
            self._model = None
            torch.cuda.empty_cache()
        self._model = None
