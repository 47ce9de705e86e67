"""External data of an untrusted ONNX file, read without onnx's own loader.

Every location must resolve inside the model's folder (``safe_paths.resolve_inside``)
and be a regular file before anything is opened; the bytes read are capped.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import external_data_helper

from stylebridge.errors import InvalidInputError, LimitExceededError, ModelLoadError
from stylebridge.models.safe_paths import resolve_inside


def external_tensors(proto: onnx.ModelProto) -> list[onnx.TensorProto]:
    """Every tensor in the model (initializers, attributes, subgraphs) stored outside."""
    found: list[onnx.TensorProto] = []

    def visit(graph: onnx.GraphProto) -> None:
        found.extend(t for t in graph.initializer if external_data_helper.uses_external_data(t))
        for node in graph.node:
            for attr in node.attribute:
                tensors = [attr.t] if attr.HasField("t") else []
                tensors.extend(attr.tensors)
                found.extend(t for t in tensors if external_data_helper.uses_external_data(t))
                if attr.HasField("g"):
                    visit(attr.g)
                for sub in attr.graphs:
                    visit(sub)

    visit(proto.graph)
    return found


def embed_external(proto: onnx.ModelProto, folder: Path, name: str, budget: int) -> None:
    """Read every external tensor's bytes (offset, length) into the tensor itself.

    Every location is checked before any file is opened: it must resolve inside
    ``folder`` (``resolve_inside``) and be a regular file; then at most ``budget``
    bytes are read in all. onnx's own loader is never used (it follows any path).
    """
    tensors = external_tensors(proto)
    plan: list[tuple[onnx.TensorProto, Path, int, int | None]] = []
    for tensor in tensors:
        try:
            info = external_data_helper.ExternalDataInfo(tensor)
        except ValueError as exc:  # offset/length that are not numbers >= 0
            raise ModelLoadError(f"{name}: tensor {tensor.name!r}: {exc}") from exc
        try:
            target = resolve_inside(folder, info.location, what="external data location")
        except InvalidInputError as exc:
            raise ModelLoadError(
                f"{name}: tensor {tensor.name!r} points to external data at "
                f"{info.location!r}, outside the model's folder; refusing to read it "
                f"({exc}). External data files must sit beside the model (or below it)."
            ) from exc
        if not target.is_file():
            raise ModelLoadError(
                f"{name}: external data {info.location!r} for tensor {tensor.name!r} is "
                "missing (or not a regular file)"
            )
        offset = int(info.offset or 0)
        length = int(info.length) if info.length is not None else None
        plan.append((tensor, target, offset, length))
    total = sum(
        (length if length is not None else max(0, target.stat().st_size - offset))
        for _, target, offset, length in plan
    )
    if total > budget:
        raise LimitExceededError(
            f"{name} with its external data is over the byte limit for models "
            f"({total} bytes of external data, {max(budget, 0)} left)"
        )
    for tensor, target, offset, length in plan:
        with target.open("rb") as handle:
            handle.seek(offset)
            raw = handle.read(-1 if length is None else length)
        tensor.raw_data = raw
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
