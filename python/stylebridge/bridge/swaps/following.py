"""Python follows the client's model: each frame runs the model its FrameUp names.

The client says in every FrameUp which model produced its engine output, and it
switches models exactly between two frames (the swap state machine). Running, for each
frame, the model that frame names makes Python switch at the same frame boundary, so
engine and Python timings always compare one model. Backends are loaded from the
registry's bytes once per (model id, sha256) and kept in a small LRU cache; a load runs
in a worker thread (prefetched when a push starts, else by the first frame that needs
it), never on the event loop. A name the server does not know, or a model it cannot
load, falls back to the server's own model, and the frame's answer says so.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from stylebridge.bridge.swaps.catalog_entries import RegisteredModel
from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.errors import BackendError, StyleBridgeError
from stylebridge.inference.base import BackendKind, InferenceBackend

_log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 4


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """Which model Python runs for one frame: a registry model, or (None) the server's own."""

    model: RegisteredModel | None
    note: str = ""


class _Slot:
    """One loaded backend; its lock keeps it to one thread at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.backend: InferenceBackend | None = None
        self.error: str = ""
        self.loaded = threading.Event()


class _Lease:
    """A backend held by one thread; leaving the ``with`` block hands it back."""

    def __init__(self, slot: _Slot, backend: InferenceBackend) -> None:
        self._slot = slot
        self._backend = backend

    def __enter__(self) -> InferenceBackend:
        return self._backend

    def __exit__(self, *exc_info: object) -> None:
        self._slot.lock.release()


class ModelBackends:
    """Backends for registry models, per (model id, sha256); thread-safe."""

    def __init__(
        self,
        registry: ModelRegistry,
        kind: BackendKind,
        default_model_id: str,
        *,
        capacity: int = DEFAULT_CAPACITY,
        precision: str = "f32",
    ) -> None:
        self._registry = registry
        self._kind = BackendKind(kind)
        self._precision = precision
        self._default_id = default_model_id
        self._capacity = max(1, capacity)
        self._lock = threading.Lock()
        self._slots: OrderedDict[tuple[str, str], _Slot] = OrderedDict()
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stylebridge-load")
        self._closed = False

    @property
    def default_model_id(self) -> str:
        return self._default_id

    def choose(self, requested: str) -> ModelChoice:
        """The model to run for a frame naming ``requested`` (cheap: on the event loop)."""
        if not requested or requested == self._default_id:
            return ModelChoice(None)
        model = self._registry.find(requested)
        if model is None:
            return ModelChoice(
                None,
                f"model {requested!r} is unknown to the server; Python ran "
                f"{self._default_id!r} instead",
            )
        if self._kind is BackendKind.TORCH:
            return ModelChoice(
                None,
                f"the torch backend cannot run ONNX model {requested!r}; Python ran "
                f"{self._default_id!r} (serve with --backend onnxruntime to follow swaps)",
            )
        return ModelChoice(model)

    def prefetch(self, model: RegisteredModel) -> None:
        """Start loading ``model`` in the background (a push is on its way to a client)."""
        if not self._closed and self._kind is not BackendKind.TORCH:
            self._loader.submit(self._ensure_loaded, model)

    def lease(self, model: RegisteredModel) -> _Lease:
        """The backend of ``model``, loaded if needed and held by this thread until the
        lease's ``with`` block ends.

        Raises BackendError (with the loader's reason) when the model cannot be loaded.
        """
        slot = self._ensure_loaded(model)
        slot.lock.acquire()
        if slot.backend is None:
            slot.lock.release()
            raise BackendError(slot.error or f"model {model.model_id} was unloaded; try again")
        return _Lease(slot, slot.backend)

    def _ensure_loaded(self, model: RegisteredModel) -> _Slot:
        key = (model.model_id, model.sha256)
        with self._lock:
            slot = self._slots.get(key)
            fresh = slot is None
            if slot is None:
                slot = self._slots[key] = _Slot()
            else:
                self._slots.move_to_end(key)
        if fresh:
            with slot.lock:
                try:
                    slot.backend = self._load(model)
                except StyleBridgeError as exc:
                    slot.error = f"cannot load {model.model_id} v{model.ref.version}: {exc}"
                    _log.warning("%s", slot.error)
                finally:
                    slot.loaded.set()
            self._evict()
        else:
            slot.loaded.wait()
        return slot

    def _load(self, model: RegisteredModel) -> InferenceBackend:
        if self._kind is BackendKind.IDENTITY:
            from stylebridge.inference.simple import IdentityBackend

            return IdentityBackend(model.model_id)
        from stylebridge.inference.ort import OrtBackend
        from stylebridge.models import onnx_from_bytes

        loaded = onnx_from_bytes(model.data, name=model.file or model.model_id)
        if self._kind is BackendKind.OPENVINO:
            from stylebridge.inference.openvino_backend import OpenVinoBackend

            return OpenVinoBackend(
                loaded.proto,
                model.model_id,
                pixel=loaded.pixel,
                fixed_size=loaded.fixed_size,
                precision=self._precision,
            )
        return OrtBackend(
            loaded.proto,
            model.model_id,
            pixel=loaded.pixel,
            fixed_size=loaded.fixed_size,
        )

    def _evict(self) -> None:
        """Close the least recently used backends beyond capacity (those not in use)."""
        with self._lock:
            extra = len(self._slots) - self._capacity
            victims = []
            for key, slot in list(self._slots.items()):
                if extra <= 0:
                    break
                if slot.loaded.is_set() and slot.lock.acquire(blocking=False):
                    del self._slots[key]
                    victims.append(slot)
                    extra -= 1
        for slot in victims:
            try:
                if slot.backend is not None:
                    slot.backend.close()
            finally:
                slot.backend = None
                slot.lock.release()

    def loaded_keys(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._slots)

    def close(self) -> None:
        """Stop loading and close every backend; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._loader.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            slots = list(self._slots.values())
            self._slots.clear()
        for slot in slots:
            with slot.lock:
                if slot.backend is not None:
                    try:
                        slot.backend.close()
                    except Exception:  # closing must go on for the others
                        _log.warning("closing a backend failed", exc_info=True)
                    slot.backend = None
