"""The ``stylebridge.*`` metadata_props the project records in the ONNX files it writes.

Input range and layout travel inside the model so that every consumer (the server,
the reference client, the Unity package) feeds it the same way. A model without
them is taken to be a published fast-neural-style export: RGB 0..255, NCHW.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
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


# ---- image format: channel order and value range -----------------------------------------
# The ONNX image metadata (onnx/docs/MetadataProps.md), which Windows ML writes and reads.
# Keys and values are case-insensitive there.
WINML_PIXEL_FORMAT_KEY = "Image.BitmapPixelFormat"
WINML_PIXEL_RANGE_KEY = "Image.NominalPixelRange"
WINML_GAMMA_KEY = "Image.ColorSpaceGamma"

_WINML_ORDERS = {"rgb8": "RGB", "bgr8": "BGR"}
_WINML_RANGES = {
    "nominalrange_0_255": (0.0, 255.0),
    "normalized_0_1": (0.0, 1.0),
    "normalized_1_1": (-1.0, 1.0),
    "nominalrange_16_235": (16.0, 235.0),
}


class ChannelOrder(StrEnum):
    """The order of the three colour planes of the model's input and output."""

    RGB = "RGB"
    BGR = "BGR"


@dataclass(frozen=True)
class PixelFormat:
    """How a model wants its pixels: channel order and the values black and white map to.

    A byte ``v`` (0..255) enters the model as ``low + v * (high - low) / 255`` and the
    output is mapped back the same way; BGR models get their planes reversed on both
    ends. ``declared_by`` names the metadata it was read from ("" = the default).
    """

    order: ChannelOrder = ChannelOrder.RGB
    low: float = 0.0
    high: float = 255.0
    gamma: str = "sRGB"
    declared_by: str = ""

    @property
    def scale(self) -> float:
        """What a byte step is worth in the model's units."""
        return (self.high - self.low) / 255.0

    @property
    def plain(self) -> bool:
        """RGB from 0 to 1 or 255: the format the Unity package feeds (its input range)."""
        return self.order is ChannelOrder.RGB and self.low == 0.0 and self.high in (1.0, 255.0)

    def describe(self) -> str:
        """e.g. "BGR, 0..255 (Image.BitmapPixelFormat=Bgr8)" for inspect and refusals."""
        text = f"{self.order.value}, {_number(self.low)}..{_number(self.high)}"
        if self.gamma.lower() != "srgb":
            text += f", {self.gamma} gamma (frames are fed as sRGB)"
        return f"{text} ({self.declared_by})" if self.declared_by else f"{text} (default)"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def pixel_format(proto: onnx.ModelProto) -> PixelFormat:
    """Channel order and value range, from ``stylebridge.input_range`` or the ONNX image keys.

    ``stylebridge.input_range`` (RGB) wins when present; otherwise the ONNX image
    metadata (``Image.BitmapPixelFormat``, ``Image.NominalPixelRange``,
    ``Image.ColorSpaceGamma``); otherwise RGB 0..255. Raises ModelFormatError for a
    declared format that is not a 3-channel 8-bit one (Gray8, Rgba8, Bgra8).
    """
    values = {key.lower(): (key, value) for key, value in read_metadata(proto).items()}
    if INPUT_RANGE_KEY.lower() in values:
        white = input_range(proto).scale
        return PixelFormat(high=white, declared_by=f"{INPUT_RANGE_KEY}={_number(white)}")
    order, low, high, gamma = ChannelOrder.RGB, 0.0, 255.0, "sRGB"
    said: list[str] = []
    if WINML_PIXEL_FORMAT_KEY.lower() in values:
        key, value = values[WINML_PIXEL_FORMAT_KEY.lower()]
        found = _WINML_ORDERS.get(value.strip().lower())
        if found is None:
            raise ModelFormatError(
                f"metadata {key}={value!r}: StyleBridge streams 3-channel colour frames "
                f"(Rgb8 or Bgr8); this model declares another pixel format"
            )
        order = ChannelOrder(found)
        said.append(f"{key}={value}")
    if WINML_PIXEL_RANGE_KEY.lower() in values:
        key, value = values[WINML_PIXEL_RANGE_KEY.lower()]
        bounds = _WINML_RANGES.get(value.strip().lower())
        if bounds is None:
            raise ModelFormatError(
                f"metadata {key}={value!r} is not one of the ONNX image ranges "
                f"({', '.join(sorted(_WINML_RANGES))}); fix or remove it"
            )
        low, high = bounds
        said.append(f"{key}={value}")
    if WINML_GAMMA_KEY.lower() in values:
        key, value = values[WINML_GAMMA_KEY.lower()]
        gamma = "sRGB" if value.strip().lower() == "srgb" else value.strip()
        said.append(f"{key}={value}")
    return PixelFormat(order, low, high, gamma, ", ".join(said))


# What a model without image metadata takes (frozen, so one instance serves all).
DEFAULT_PIXEL = PixelFormat()


def to_model_input(frame: np.ndarray, pixel: PixelFormat = DEFAULT_PIXEL) -> np.ndarray:
    """An H x W x 3 uint8 RGB frame as the model's float32 [1,3,H,W] input (numpy path).

    The same mapping the ONNX Runtime wrapper builds into the graph, for code that feeds
    a raw session (calibration, weight checks).
    """
    planes = frame.transpose(2, 0, 1)
    if pixel.order is ChannelOrder.BGR:
        planes = planes[::-1]
    x = planes.astype(np.float32) * np.float32(pixel.scale) + np.float32(pixel.low)
    return np.ascontiguousarray(x[None])


def from_model_output(out: np.ndarray, pixel: PixelFormat = DEFAULT_PIXEL) -> np.ndarray:
    """A model's [1,3,H,W] output in 0..255 RGB units (float, not clipped)."""
    planes = (out[0].astype(np.float32) - np.float32(pixel.low)) / np.float32(pixel.scale)
    if pixel.order is ChannelOrder.BGR:
        planes = planes[::-1]
    return planes
