"""The reference client's "engine import": a pushed ONNX file becomes a ready ReferenceEngine.

What Unity does with ``ModelLoader.Load`` + a first ``Execute``, done with ONNX Runtime:
parse and check the bytes (never following external data), build a session, then run it
on blank frames at the stream resolution so the first real frame does not pay for
allocation and kernel selection. Both steps are timed (``import_ms``, ``warmup_ms``)
and never raise for a bad model: a failure is a value the swap machine turns into a
rollback. The calls block; the host runs them in its own worker thread while the old
engine keeps serving frames.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from stylebridge.client.engine import ReferenceEngine
from stylebridge.client.swap import PushedModel
from stylebridge.errors import InvalidInputError, StyleBridgeError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PushHints:
    """What the push's ModelMetadata says about feeding the model (0 = not said)."""

    input_range: float = 0.0
    input_layout: str = ""


@dataclass(frozen=True, slots=True)
class Loaded:
    """An imported model, not yet warm."""

    engine: ReferenceEngine
    import_ms: float


@dataclass(frozen=True, slots=True)
class Warmed:
    warmup_ms: float


@dataclass(frozen=True, slots=True)
class Failed:
    """Why an import or warm-up failed (the text goes into ModelAck.error)."""

    error: str


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if isinstance(exc, StyleBridgeError) and text else f"{type(exc).__name__}: {text}"


def import_model(
    data: bytes, model: PushedModel, hints: PushHints, *, max_bytes: int = 0
) -> Loaded | Failed:
    """Parse, check and open ``data`` in ONNX Runtime; Failed (never raises) for a bad model."""
    from stylebridge.inference.ort import OrtBackend
    from stylebridge.models import onnx_from_bytes
    from stylebridge.models.onnx_model import DEFAULT_MAX_ONNX_BYTES

    start = time.perf_counter()
    try:
        if hints.input_layout and hints.input_layout.upper() != "NCHW":
            return Failed(f"input layout {hints.input_layout!r}: this client runs NCHW models only")
        loaded = onnx_from_bytes(
            data,
            max_bytes=max_bytes if max_bytes > 0 else DEFAULT_MAX_ONNX_BYTES,
            name=f"pushed model {model.model_id} v{model.version}",
        )
        # The file's own metadata says channel order and range (BGR, -1..1, ...); the
        # push's input_range (white, for RGB from 0) overrides only the white point.
        pixel = loaded.pixel
        if hints.input_range > 0 and hints.input_range != pixel.high:
            logger.warning(
                "push of %s says input range %g, the file says %s: using the push's",
                model.model_id, hints.input_range, pixel.describe(),
            )
            pixel = replace(pixel, high=hints.input_range)
        backend = OrtBackend(
            loaded.proto, model.model_id, pixel=pixel, fixed_size=loaded.fixed_size
        )
    # An untrusted file must never take the client down: any failure is a rollback.
    except Exception as exc:
        logger.info("import of pushed model %s failed: %s", model.model_id, exc)
        return Failed(f"import failed: {_describe(exc)}")
    import_ms = (time.perf_counter() - start) * 1000.0
    engine = ReferenceEngine(backend, model_sha256=model.sha256, model_version=model.version)
    return Loaded(engine, import_ms)


def warm_up(engine: ReferenceEngine, size: tuple[int, int], runs: int = 1) -> Warmed | Failed:
    """Run ``engine`` ``runs`` times on a blank ``size`` (width, height) frame; total time."""
    if runs < 1:
        raise InvalidInputError(f"warm-up needs at least one run, got {runs}")
    width, height = size
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    total = 0.0
    try:
        for _ in range(runs):
            run = engine.run(frame)
            if run is None:
                return Failed("warm-up failed: the engine has no model loaded")
            if run.output.shape != frame.shape or run.output.dtype != np.uint8:
                return Failed(
                    f"warm-up failed: output {run.output.shape} {run.output.dtype}, "
                    f"expected {frame.shape} uint8"
                )
            total += run.ms
    except Exception as exc:  # as in import_model: a bad model is a rollback, not a crash
        logger.info("warm-up of pushed model %s failed: %s", engine.model.model_id, exc)
        return Failed(f"warm-up failed: {_describe(exc)}")
    return Warmed(total)
