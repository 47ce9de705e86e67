"""Style models: the TransformerNet family, its checkpoints, and ONNX files.

``load_model(path)`` is the one entry point for a model file of either kind; the
rest are re-exported for callers that need one kind only.
"""

from __future__ import annotations

from pathlib import Path

from stylebridge.errors import ModelLoadError
from stylebridge.models.checkpoint import (
    LoadedCheckpoint,
    infer_config,
    load_checkpoint,
    normalize_state_dict,
    save_checkpoint,
)
from stylebridge.models.metadata import InputRange, input_range, read_metadata, write_metadata
from stylebridge.models.onnx_model import (
    OnnxModel,
    count_onnx_parameters,
    load_onnx,
    onnx_from_bytes,
)
from stylebridge.models.transformer_net import (
    Architecture,
    TransformerNet,
    TransformerNetConfig,
    count_parameters,
    untrained_model,
)

CHECKPOINT_SUFFIXES = (".pth", ".pt")
ONNX_SUFFIXES = (".onnx",)


def load_model(path: Path) -> LoadedCheckpoint | OnnxModel:
    """Load a ``.pth``/``.pt`` checkpoint or an ``.onnx`` model, by file suffix.

    Raises ModelLoadError for any other suffix, and whatever the loader of that
    kind raises (see ``load_checkpoint`` and ``load_onnx``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CHECKPOINT_SUFFIXES:
        return load_checkpoint(path)
    if suffix in ONNX_SUFFIXES:
        return load_onnx(path)
    known = ", ".join(CHECKPOINT_SUFFIXES + ONNX_SUFFIXES)
    raise ModelLoadError(
        f"{path}: unknown model file type {suffix or '(no suffix)'!r}; use one of {known}"
    )


__all__ = [
    "CHECKPOINT_SUFFIXES",
    "ONNX_SUFFIXES",
    "Architecture",
    "InputRange",
    "LoadedCheckpoint",
    "OnnxModel",
    "TransformerNet",
    "TransformerNetConfig",
    "count_onnx_parameters",
    "count_parameters",
    "infer_config",
    "input_range",
    "load_checkpoint",
    "load_model",
    "load_onnx",
    "normalize_state_dict",
    "onnx_from_bytes",
    "read_metadata",
    "save_checkpoint",
    "untrained_model",
    "write_metadata",
]
