"""Style models: the TransformerNet family, its checkpoints, and ONNX files.

``load_model(path)`` is the one entry point for a model file of either kind; the
rest are re-exported for callers that need one kind only.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from stylebridge.errors import ModelLoadError
from stylebridge.file_kinds import CHECKPOINT_SUFFIXES as _CHECKPOINT_SUFFIXES
from stylebridge.models.metadata import InputRange, input_range, read_metadata, write_metadata
from stylebridge.models.onnx_model import (
    OnnxModel,
    count_onnx_parameters,
    load_onnx,
    onnx_from_bytes,
)

if TYPE_CHECKING:
    from stylebridge.models.checkpoint import (
        LoadedCheckpoint,
        infer_config,
        load_checkpoint,
        normalize_state_dict,
        save_checkpoint,
    )
    from stylebridge.models.transformer_net import (
        Architecture,
        TransformerNet,
        TransformerNetConfig,
        count_parameters,
        untrained_model,
    )

# The torch side is imported on first use: ONNX-only users (the server's catalog
# loader process, the reference client) must not pay seconds for importing torch.
_LAZY = {
    "LoadedCheckpoint": "checkpoint",
    "infer_config": "checkpoint",
    "load_checkpoint": "checkpoint",
    "normalize_state_dict": "checkpoint",
    "save_checkpoint": "checkpoint",
    "Architecture": "transformer_net",
    "TransformerNet": "transformer_net",
    "TransformerNetConfig": "transformer_net",
    "count_parameters": "transformer_net",
    "untrained_model": "transformer_net",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


CHECKPOINT_SUFFIXES = _CHECKPOINT_SUFFIXES  # .pth, .pt and .model (fast_neural_style)
ONNX_SUFFIXES = (".onnx",)


def load_model(path: Path) -> LoadedCheckpoint | OnnxModel:
    """Load a ``.pth``/``.pt`` checkpoint or an ``.onnx`` model, by file suffix.

    Raises ModelLoadError for any other suffix, and whatever the loader of that
    kind raises (see ``load_checkpoint`` and ``load_onnx``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CHECKPOINT_SUFFIXES:
        from stylebridge.models.checkpoint import load_checkpoint

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
