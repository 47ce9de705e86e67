"""One entry point from a model file and a backend kind to a ready backend.

ONNX Runtime and OpenVINO run ``.onnx`` files as they are (a fixed-size input relaxed
to dynamic by the loader where the graph allows, otherwise frames are resized to it)
and ``.pth`` checkpoints after a one-off export to a temporary ONNX file; torch runs
``.pth`` checkpoints only. ``auto`` measures them all (``inference.auto``).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.file_kinds import CHECKPOINT_SUFFIXES as _CHECKPOINT_SUFFIXES
from stylebridge.inference.base import BackendKind, InferenceBackend

if TYPE_CHECKING:
    from stylebridge.models.onnx_model import OnnxModel

_log = logging.getLogger(__name__)

# Opset of the temporary ONNX made from a checkpoint for ONNX Runtime: Resize (not
# the deprecated Upsample) and every op TransformerNet needs.
CHECKPOINT_EXPORT_OPSET = 13
ONNX_SUFFIX = ".onnx"
CHECKPOINT_SUFFIXES = frozenset(_CHECKPOINT_SUFFIXES)


def create_backend(
    model_path: Path | None,
    kind: BackendKind,
    *,
    model_id: str | None = None,
    precision: str = "f32",
    probe_size: tuple[int, int] | None = None,
) -> InferenceBackend:
    """A backend of ``kind`` running ``model_path``; ``model_id`` defaults to the file stem.

    ``precision`` (f32 or bf16) is for OpenVINO and torch; ``probe_size`` is the frame
    size ``auto`` measures at. IDENTITY ignores the file (it may be None). Raises
    NotFoundError for a missing file, InvalidInputError for a file type the backend
    cannot run, and the loaders' ModelLoadError / BackendError for files that do not load.
    """
    kind = BackendKind(kind)
    if kind is BackendKind.IDENTITY:
        from stylebridge.inference.simple import IdentityBackend

        stem = model_path.stem if model_path is not None else "identity"
        return IdentityBackend(model_id or stem)
    if model_path is None:
        raise InvalidInputError(f"the {kind.value} backend needs a model file (.onnx or .pth)")
    path = Path(model_path)
    if not path.is_file():
        raise NotFoundError(f"model file {path} does not exist")
    suffix = path.suffix.lower()
    model_id = model_id or path.stem
    if kind is BackendKind.AUTO:
        return _auto_backend(path, model_id, probe_size)
    if kind is BackendKind.TORCH:
        return _torch_backend(path, suffix, model_id, precision)
    if suffix != ONNX_SUFFIX and suffix not in CHECKPOINT_SUFFIXES:
        raise InvalidInputError(
            f"{path.name}: {kind.value} runs .onnx files or .pth checkpoints (exported first)"
        )
    loaded = _onnx_of(path, suffix)
    if kind is BackendKind.OPENVINO:
        from stylebridge.inference.openvino_backend import OpenVinoBackend

        return OpenVinoBackend(
            loaded.proto,
            model_id,
            pixel=loaded.pixel,
            fixed_size=loaded.fixed_size,
            precision=precision,
        )
    from stylebridge.inference.ort import OrtBackend

    return OrtBackend(
        loaded.proto,
        model_id,
        pixel=loaded.pixel,
        fixed_size=loaded.fixed_size,
    )


def _auto_backend(
    path: Path, model_id: str, probe_size: tuple[int, int] | None
) -> InferenceBackend:
    from stylebridge.inference.auto import (
        DEFAULT_PROBE_SIZE,
        AutoBackend,
        Candidate,
        candidates_for,
        choose,
    )

    def build(candidate: Candidate) -> InferenceBackend:
        return create_backend(
            path, candidate.kind, model_id=model_id, precision=candidate.precision
        )

    backend, choice = choose(
        build, candidates_for(path), probe_size=probe_size or DEFAULT_PROBE_SIZE
    )
    return AutoBackend(backend, choice)


def _torch_backend(path: Path, suffix: str, model_id: str, precision: str) -> InferenceBackend:
    if suffix == ONNX_SUFFIX:
        raise InvalidInputError(
            "torch backend needs a .pth checkpoint; use --backend onnxruntime for ONNX files"
        )
    if suffix not in CHECKPOINT_SUFFIXES:
        raise InvalidInputError(f"{path.name}: the torch backend runs .pth checkpoints")
    from stylebridge.inference.torch_backend import TorchBackend
    from stylebridge.models import load_checkpoint

    checkpoint = load_checkpoint(path)
    return TorchBackend(checkpoint.model, model_id, precision=precision)


def _onnx_of(path: Path, suffix: str) -> OnnxModel:
    """The ONNX graph of ``path``: the file itself, or a checkpoint exported once."""
    from stylebridge.models import load_onnx

    if suffix == ONNX_SUFFIX:
        loaded = load_onnx(path)
    else:
        from stylebridge.engines.targets import Engine
        from stylebridge.models import load_checkpoint
        from stylebridge.models.export import ExportConfig, export_onnx

        _log.info(
            "exporting checkpoint %s to a temporary ONNX file (opset %d)",
            path.name,
            CHECKPOINT_EXPORT_OPSET,
        )
        checkpoint = load_checkpoint(path)
        with tempfile.TemporaryDirectory(prefix="stylebridge-export-") as tmp:
            exported = Path(tmp) / f"{path.stem}.onnx"
            # The engine only bounds the opset here; the runtimes run any of them.
            config = ExportConfig(engine=Engine.BARRACUDA_3, opset=CHECKPOINT_EXPORT_OPSET)
            export_onnx(checkpoint.model, exported, config, source=path)
            loaded = load_onnx(exported)
    if loaded.note:
        _log.info("%s: %s", path.name, loaded.note)
    return loaded
