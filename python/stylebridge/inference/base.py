"""The one interface every Python inference backend meets.

Backends take and return RGB uint8 HWC frames: the server never converts pixels to
float itself. Where the backend can, the conversion runs inside the model (see
``inference.ort``), since a 720p uint8 -> float32 NCHW conversion in numpy costs as
much as a gRPC round trip.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np


class BackendKind(StrEnum):
    """Which library runs the model in Python."""

    ONNXRUNTIME = "onnxruntime"
    TORCH = "torch"
    OPENVINO = "openvino"
    # Measures the installed backends on the model at load and keeps the fastest whose
    # output stays within the parity bound (``inference.auto``).
    AUTO = "auto"
    # Returns the input unchanged: measures the bridge itself, with no model.
    IDENTITY = "identity"


@runtime_checkable
class InferenceBackend(Protocol):
    """Runs one style model on one frame at a time.

    ``run`` may be called from a worker thread (never concurrently on one
    instance); ``close`` is safe to call twice.
    """

    @property
    def name(self) -> str:
        """Library and device, e.g. ``onnxruntime/CPUExecutionProvider`` or ``torch/cpu``."""
        ...

    @property
    def model_id(self) -> str:
        """The model this backend runs, as frames and the store name it."""
        ...

    def run(self, frame: np.ndarray) -> np.ndarray:
        """Stylize ``frame`` (H x W x 3 uint8 RGB); returns H x W x 3 uint8 RGB.

        Raises BackendError when the model fails on this frame.
        """
        ...

    def close(self) -> None:
        """Release the session / model; idempotent."""
        ...
