"""The stand-in player's engine work: ONNX Runtime on frames, one inference per game frame.

Written the way an engine backend works, not by reusing the Python bridge's backend:
frames go in as float32 NCHW tensors (uploaded), the session runs, the output comes
back (downloaded) and is clamped to uint8. Each measured inference is timed end to end,
upload to download, on the calling thread: TimingMethod SYNCHRONOUS. An artificial
slowdown (for the regression gate's tests) runs inside the timed region, like a slower
model would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylebridge.errors import BackendError, InvalidInputError
from stylebridge.frame_sources import FrameSource, builtin_frames
from stylebridge.frames import MODEL_SIZE_MULTIPLE, match_size, pad_to_multiple, resize
from stylebridge.harness.plan import BUILTIN_FRAMES

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Slowdown:
    """Extra time inside the timed region: ``extra_ms`` plus ``(factor - 1)`` x the work."""

    extra_ms: float = 0.0
    factor: float = 1.0
    # Only these model ids (empty: every model).
    models: tuple[str, ...] = ()

    def applies_to(self, model_id: str) -> bool:
        active = self.extra_ms > 0 or self.factor > 1.0
        return active and (not self.models or model_id in self.models)


# The model metadata key stylebridge.models.metadata writes (read here without importing
# stylebridge.models, which pulls in torch: seconds of start-up a player does not have).
INPUT_RANGE_KEY = "stylebridge.input_range"
MAX_MODEL_BYTES = 512 * 2**20


class OrtEngine:
    """One ONNX model in an ONNX Runtime session, run frame by frame.

    The model is read as bytes (as a player imports it): external data files are never
    followed. Raises BackendError when the file cannot be read or ONNX Runtime refuses it.
    """

    def __init__(self, path: Path, model_id: str, slowdown: Slowdown) -> None:
        import hashlib

        import onnxruntime as ort

        started = time.perf_counter()
        try:
            if Path(path).stat().st_size > MAX_MODEL_BYTES:
                raise BackendError(f"{path} is larger than {MAX_MODEL_BYTES >> 20} MiB")
            data = Path(path).read_bytes()
        except OSError as exc:
            raise BackendError(f"cannot read model {path}: {exc}") from exc
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BackendError(f"ONNX Runtime cannot load {path}: {exc}") from exc
        self.load_ms = (time.perf_counter() - started) * 1000.0
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.worker_type = "onnxruntime/CPUExecutionProvider"
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or len(inputs[0].shape) != 4:
            raise BackendError(f"{path} is not a style model (one NCHW image in, one out)")
        self._input, self._output = inputs[0].name, outputs[0].name
        height, width = inputs[0].shape[2:]
        self._fixed = (
            (width, height) if isinstance(width, int) and isinstance(height, int) else None
        )
        meta = self._session.get_modelmeta().custom_metadata_map
        self._scale = 1.0 if meta.get(INPUT_RANGE_KEY, "255").strip() == "255" else 1.0 / 255.0
        self._slow = slowdown.applies_to(model_id)
        self._slowdown = slowdown

    def run(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        """(stylized uint8 RGB frame, milliseconds) for one H x W x 3 uint8 frame."""
        height, width = frame.shape[:2]
        started = time.perf_counter()
        run_w, run_h = self._fixed or (width, height)
        source = resize(frame, (run_w, run_h)) if (run_w, run_h) != (width, height) else frame
        padded = pad_to_multiple(source, MODEL_SIZE_MULTIPLE) if self._fixed is None else source
        tensor = padded.astype(np.float32).transpose(2, 0, 1)[None]
        if self._scale != 1.0:
            tensor = tensor * np.float32(self._scale)
        try:
            (out,) = self._session.run([self._output], {self._input: np.ascontiguousarray(tensor)})
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise BackendError(f"ONNX Runtime failed on a {width}x{height} frame: {exc}") from exc
        out = out[0].transpose(1, 2, 0)
        if self._scale != 1.0:
            out = out / np.float32(self._scale)
        stylized = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        stylized = match_size(stylized, (run_w, run_h))
        if (run_w, run_h) != (width, height):
            stylized = resize(stylized, (width, height))
        if self._slow:
            work_s = time.perf_counter() - started
            time.sleep(self._slowdown.extra_ms / 1000.0 + (self._slowdown.factor - 1.0) * work_s)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        return np.ascontiguousarray(stylized), elapsed_ms


def frame_provider(frames: str, size: tuple[int, int]) -> Callable[[int], np.ndarray]:
    """Frame ``i`` of a source at ``size``: the built-in pan, or a folder looped over.

    The harness uses the same function for its Python timing, so both sides run on the
    same frames. Raises NotFoundError / InvalidInputError for a bad folder.
    """
    if not frames or frames == BUILTIN_FRAMES:
        pan = builtin_frames(size)
        return pan.frame
    source = FrameSource(Path(frames), size, loop=False)
    cache = [np.ascontiguousarray(f) for f in source]
    if not cache:
        raise InvalidInputError(f"frame folder {frames} yields no frames")
    return lambda index: cache[index % len(cache)]
