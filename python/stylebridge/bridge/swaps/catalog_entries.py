"""What the model registry holds: versions that loaded, files refused, models removed.

Plain frozen records, shared by the registry, the pusher and the validator, so none of
them needs the registry itself to speak about a model.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylebridge.models.metadata import DEFAULT_PIXEL, PixelFormat
from stylebridge.protocol import ModelRef

NCHW = "NCHW"


@dataclass(frozen=True)
class PushMetadata:
    """What a client needs to feed a pushed model (``ModelMetadata`` on the wire)."""

    input_name: str
    output_name: str
    input_layout: str
    # 255.0 for 0..255 input, 1.0 for 0..1 (from the model's stylebridge.* metadata).
    input_range: float
    # (width, height) the model was made or evaluated for; (0, 0) = any.
    recommended_size: tuple[int, int]
    opset: int
    # Channel order and value range the file declares (not on the wire: the Unity
    # package feeds RGB from 0 to input_range, so other formats are not pushed to it).
    pixel: PixelFormat = DEFAULT_PIXEL


@dataclass(frozen=True)
class RegisteredModel:
    """One version of one model id that loaded: its bytes are what a push sends."""

    ref: ModelRef
    file: str
    data: bytes
    metadata: PushMetadata
    registered_at_us: int
    recipe: str = ""

    @property
    def model_id(self) -> str:
        return self.ref.model_id

    @property
    def sha256(self) -> str:
        return self.ref.sha256

    @property
    def size_bytes(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class RefusedFile:
    """A file of the catalog that does not load as a style model, and why."""

    model_id: str
    file: str
    sha256: str
    size_bytes: int
    error: str
    seen_at_us: int


@dataclass(frozen=True)
class RemovedModel:
    """A model whose file left the catalog: no longer offered, still run by whoever has it."""

    model: RegisteredModel
    removed_at_us: int
    reason: str

    @property
    def model_id(self) -> str:
        return self.model.model_id


@dataclass(frozen=True)
class RegistryUpdate:
    """What adding (or losing) one file did: a new version, the same bytes again, a
    refusal, or a removal."""

    model_id: str
    model: RegisteredModel | None = None
    refused: RefusedFile | None = None
    removed: RemovedModel | None = None
    # True when the bytes equal the last version of that id (nothing new to push).
    unchanged: bool = False

    @property
    def is_new_version(self) -> bool:
        return self.model is not None and not self.unchanged
