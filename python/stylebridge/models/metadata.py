"""The ``stylebridge.*`` metadata_props the project records in the ONNX files it writes.

Input range and layout travel inside the model so that every consumer (the server,
the reference client, the Unity package) feeds it the same way. A model without
them is taken to be a published fast-neural-style export: RGB 0..255, NCHW.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import onnx

from stylebridge.errors import ModelFormatError

INPUT_RANGE_KEY = "stylebridge.input_range"
LAYOUT_KEY = "stylebridge.layout"
SOURCE_KEY = "stylebridge.source"
OPSET_KEY = "stylebridge.opset"
ENGINE_KEY = "stylebridge.engine"
ARCHITECTURE_KEY = "stylebridge.architecture"
WIDTHS_KEY = "stylebridge.widths"
RESIDUAL_BLOCKS_KEY = "stylebridge.residual_blocks"

SUPPORTED_LAYOUT = "NCHW"


class InputRange(StrEnum):
    """The value range a model expects for its RGB input (and returns)."""

    BYTE = "255"  # 0..255, like the fast-neural-style example
    UNIT = "1"  # 0..1

    @property
    def scale(self) -> float:
        """What a 0..1 pixel is multiplied by before it enters the model."""
        return 255.0 if self is InputRange.BYTE else 1.0


def read_metadata(proto: onnx.ModelProto) -> dict[str, str]:
    """All metadata_props of ``proto`` as a dict (the last value wins on duplicates)."""
    return {p.key: p.value for p in proto.metadata_props}


def write_metadata(proto: onnx.ModelProto, values: Mapping[str, str]) -> None:
    """Set ``values`` in ``proto.metadata_props`` in place, replacing equal keys."""
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in values]
    del proto.metadata_props[:]
    for key, value in [*kept, *values.items()]:
        entry = proto.metadata_props.add()
        entry.key = str(key)
        entry.value = str(value)


def input_range(proto: onnx.ModelProto) -> InputRange:
    """The model's input range; 0..255 when the model does not say."""
    value = read_metadata(proto).get(INPUT_RANGE_KEY)
    if value is None:
        return InputRange.BYTE
    try:
        return InputRange(value.strip())
    except ValueError:
        raise ModelFormatError(
            f"metadata {INPUT_RANGE_KEY}={value!r} is not one of "
            f"{', '.join(r.value for r in InputRange)}; fix or remove it"
        ) from None


def layout(proto: onnx.ModelProto) -> str:
    """The model's tensor layout; only NCHW is supported (and assumed when absent)."""
    value = read_metadata(proto).get(LAYOUT_KEY, SUPPORTED_LAYOUT).strip().upper()
    if value != SUPPORTED_LAYOUT:
        raise ModelFormatError(
            f"metadata {LAYOUT_KEY}={value!r}: only {SUPPORTED_LAYOUT} models are supported"
        )
    return value
