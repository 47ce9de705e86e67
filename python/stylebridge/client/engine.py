"""The reference client's stand-in engine: ONNX Runtime where Unity runs Barracuda.

It runs the same model file a Unity client would import, times each run end to end
(a synchronous call, so ``TimingMethod.SYNCHRONOUS``) and says it is the REFERENCE
engine in Hello. ``ReferenceEngine.none()`` runs nothing: frames go up untimed.
"""

from __future__ import annotations

import hashlib
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylebridge import __version__
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.protocol import ClientEngine, ClientInfo, ModelRef, TimingMethod

CLIENT_NAME = f"stylebridge-reference/{__version__}"


@dataclass(frozen=True, slots=True)
class EngineRun:
    """One engine inference: the stylized frame and how long it took."""

    output: np.ndarray
    ms: float


class ReferenceEngine:
    """Runs a style model locally on each frame, as the Unity package's engine would.

    Owns its backend: ``close`` (idempotent) closes it.
    """

    timing_method = TimingMethod.SYNCHRONOUS

    def __init__(
        self,
        backend: InferenceBackend | None,
        *,
        model_sha256: str = "",
        model_version: int = 0,
    ) -> None:
        self._backend = backend
        self._sha256 = model_sha256
        self._version = model_version

    @classmethod
    def from_model(
        cls, model: Path, kind: BackendKind = BackendKind.ONNXRUNTIME
    ) -> ReferenceEngine:
        """An engine running ``model`` (.onnx, or .pth exported on the fly) with ``kind``."""
        from stylebridge.inference.factory import create_backend

        backend = create_backend(Path(model), kind)
        digest = hashlib.sha256(Path(model).read_bytes()).hexdigest()
        return cls(backend, model_sha256=digest)

    @classmethod
    def none(cls) -> ReferenceEngine:
        """No local inference: the client only streams frames."""
        return cls(None)

    @property
    def active(self) -> bool:
        return self._backend is not None

    @property
    def backend_name(self) -> str:
        return self._backend.name if self._backend is not None else "none"

    @property
    def model(self) -> ModelRef:
        if self._backend is None:
            return ModelRef()
        return ModelRef(
            model_id=self._backend.model_id, version=self._version, sha256=self._sha256
        )

    def client_info(self) -> ClientInfo:
        """What Hello says about this client."""
        import onnxruntime

        name = self.backend_name
        return ClientInfo(
            engine=ClientEngine.REFERENCE,
            engine_version=f"onnxruntime {onnxruntime.__version__}",
            unity_version="",
            worker_type=name,
            gpu="cpu" if "CPU" in name or not self.active else name,
            platform=platform.platform(terse=True),
            client_name=CLIENT_NAME,
        )

    def run(self, rgb: np.ndarray) -> EngineRun | None:
        """Stylize one frame and time it; None when this engine runs nothing."""
        backend = self._backend
        if backend is None:
            return None
        start = time.perf_counter()
        output = backend.run(rgb)
        return EngineRun(output, (time.perf_counter() - start) * 1000.0)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
