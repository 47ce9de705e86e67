"""Backends with no model: measuring the bridge itself, and making slowness visible in tests."""

from __future__ import annotations

import time

import numpy as np

from stylebridge.errors import BackendError, InvalidInputError
from stylebridge.frames import check_rgb
from stylebridge.inference.base import InferenceBackend


class IdentityBackend:
    """Returns each frame unchanged: the bridge's own overhead, with no inference in it."""

    # Costs microseconds: the server runs it on the event loop, without a thread hop.
    runs_inline = True

    def __init__(self, model_id: str = "identity") -> None:
        self._model_id = model_id
        self._closed = False

    @property
    def name(self) -> str:
        return "identity"

    @property
    def model_id(self) -> str:
        return self._model_id

    def run(self, frame: np.ndarray) -> np.ndarray:
        if self._closed:
            raise BackendError(f"backend for {self._model_id} is closed")
        check_rgb(frame)
        return frame

    def close(self) -> None:
        self._closed = True


class SlowBackend:
    """Sleeps ``delay_s`` before delegating to ``inner``: a Python side slower than the stream.

    Tests use it to make the newest-frame-wins policy show up in the drop counts.
    Closing it closes ``inner``.
    """

    def __init__(self, inner: InferenceBackend, delay_s: float) -> None:
        if delay_s < 0:
            raise InvalidInputError(f"delay_s must be >= 0, got {delay_s}")
        self._inner = inner
        self._delay_s = delay_s

    @property
    def name(self) -> str:
        return f"{self._inner.name}+sleep{self._delay_s * 1000:.0f}ms"

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    def run(self, frame: np.ndarray) -> np.ndarray:
        time.sleep(self._delay_s)
        return self._inner.run(frame)

    def close(self) -> None:
        self._inner.close()
