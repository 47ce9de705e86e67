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
from stylebridge.engines.targets import Engine, engine_for_client
from stylebridge.errors import InvalidInputError
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.protocol import ClientEngine, ClientInfo, ModelRef, TimingMethod

CLIENT_NAME = f"stylebridge-reference/{__version__}"


@dataclass(frozen=True, slots=True)
class EngineRun:
    """One engine inference: the stylized frame and how long it took."""

    output: np.ndarray
    ms: float


# The package version a declared engine sends when none is given: one its table maps to.
_DEFAULT_VERSIONS: dict[Engine, tuple[ClientEngine, str]] = {
    Engine.BARRACUDA_1_0: (ClientEngine.BARRACUDA, "1.0.4"),
    Engine.BARRACUDA_2: (ClientEngine.BARRACUDA, "2.4.0"),
    Engine.BARRACUDA_3: (ClientEngine.BARRACUDA, "3.0.1"),
    Engine.SENTIS_1: (ClientEngine.SENTIS, "1.6.0"),
    Engine.SENTIS_2: (ClientEngine.SENTIS, "2.1.3"),
}


def declared_engine(engine: Engine, version: str = "") -> tuple[ClientEngine, str]:
    """(kind, version) for Hello; raises InvalidInputError when ``version`` names
    another engine table than ``engine`` (e.g. barracuda-3 with version 1.0.4)."""
    kind, default = _DEFAULT_VERSIONS[engine]
    chosen = version.strip() or default
    if engine_for_client(kind.label, chosen) is not engine:
        raise InvalidInputError(
            f"engine version {chosen!r} is not a {engine.value} version (it maps to "
            f"{engine_for_client(kind.label, chosen)}); e.g. {default}"
        )
    return kind, chosen


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

    def client_info(self, declared: Engine | None = None, version: str = "") -> ClientInfo:
        """What Hello says about this client: the reference engine, or ``declared``.

        Declaring a Unity engine (``stylebridge client --engine barracuda-3``) makes the
        server treat this session as that engine: it pushes only models the engine's
        checker lets run, so the per-engine gate is exercised without Unity.
        """
        import onnxruntime

        name = self.backend_name
        kind, engine_version = ClientEngine.REFERENCE, f"onnxruntime {onnxruntime.__version__}"
        if declared is not None:
            kind, engine_version = declared_engine(declared, version)
        return ClientInfo(
            engine=kind,
            engine_version=engine_version,
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
