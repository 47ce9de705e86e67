"""The contact sheet: every variant's output on the same few frames, one row each.

Each variant's ONNX file runs in ONNX Runtime (``inference.create_backend``) at a
small resolution, so the sheet costs seconds, not minutes. The first row is the
input, the second the teacher; a variant that fails to load or run gets a grey row
saying why instead of aborting the report.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stylebridge.catalog import Variant
from stylebridge.errors import InvalidInputError, StyleBridgeError
from stylebridge.frame_sources import BuiltinFrames, FrameSource
from stylebridge.frames import MODEL_SIZE_MULTIPLE

_log = logging.getLogger(__name__)

INPUT_ROW = "input"
LABEL_WIDTH = 150
GAP = 2
_BACKGROUND = 255
_FAILED_GREY = 200
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class ContactSheet:
    """The composed sheet (H x W x 3 uint8 RGB), its row labels, and rows that failed."""

    image: np.ndarray
    rows: tuple[str, ...]
    failures: tuple[tuple[str, str], ...]
    tile_size: tuple[int, int]
    frames: int


def sheet_frames(source: Path | None, size: tuple[int, int], count: int) -> list[np.ndarray]:
    """``count`` frames at ``size``: the first images of a folder, or spread built-in frames."""
    if count < 1:
        raise InvalidInputError(f"the contact sheet needs at least one frame, got {count}")
    width, height = size
    if width % MODEL_SIZE_MULTIPLE or height % MODEL_SIZE_MULTIPLE:
        raise InvalidInputError(
            f"contact sheet size {width}x{height}: use sides that are multiples of "
            f"{MODEL_SIZE_MULTIPLE}, e.g. 160x96"
        )
    if source is not None:
        return list(itertools.islice(FrameSource(source, size, loop=False), count))
    builtin = BuiltinFrames(size)
    step = BuiltinFrames.PERIOD // (2 * count)
    return [builtin.frame(i * step) for i in range(count)]


def stylize_rows(
    catalog: Path, variants: Sequence[Variant], frames: Sequence[np.ndarray]
) -> tuple[list[tuple[str, list[np.ndarray] | str]], list[tuple[str, str]]]:
    """Each variant's outputs on ``frames`` (or the reason it has none), in order."""
    from stylebridge.inference.base import BackendKind
    from stylebridge.inference.factory import create_backend

    rows: list[tuple[str, list[np.ndarray] | str]] = []
    failures: list[tuple[str, str]] = []
    for variant in variants:
        path = Path(catalog) / variant.file
        try:
            backend = create_backend(path, BackendKind.ONNXRUNTIME, model_id=variant.id)
            try:
                outputs = [backend.run(frame) for frame in frames]
            finally:
                backend.close()
        except StyleBridgeError as exc:
            _log.warning("contact sheet: %s failed: %s", variant.id, exc)
            failures.append((variant.id, str(exc)))
            rows.append((variant.id, str(exc)))
            continue
        rows.append((variant.id, outputs))
    return rows, failures


def compose(
    frames: Sequence[np.ndarray], rows: Sequence[tuple[str, list[np.ndarray] | str]]
) -> np.ndarray:
    """The sheet image: an input row, then one row per (label, outputs or failure)."""
    if not frames:
        raise InvalidInputError("the contact sheet needs at least one frame")
    height, width = frames[0].shape[:2]
    all_rows: list[tuple[str, list[np.ndarray] | str]] = [(INPUT_ROW, list(frames)), *rows]
    sheet_w = LABEL_WIDTH + len(frames) * (width + GAP)
    sheet_h = len(all_rows) * (height + GAP)
    sheet = np.full((sheet_h, sheet_w, 3), _BACKGROUND, dtype=np.uint8)
    for r, (label, content) in enumerate(all_rows):
        top = r * (height + GAP)
        _put_text(sheet, label, (4, top + height // 2), LABEL_WIDTH - 8)
        if isinstance(content, str):
            band = sheet[top : top + height, LABEL_WIDTH : sheet_w - GAP]
            band[:] = _FAILED_GREY
            _put_text(band, f"failed: {content}", (6, height // 2), band.shape[1] - 12)
            continue
        for c, tile in enumerate(content):
            left = LABEL_WIDTH + c * (width + GAP)
            sheet[top : top + height, left : left + width] = _fit(tile, (width, height))
    return sheet


def make_contact_sheet(
    catalog: Path,
    variants: Sequence[Variant],
    frames: Sequence[np.ndarray],
    *,
    teacher: str | None = None,
) -> ContactSheet:
    """Run every variant on ``frames`` and compose the sheet (teacher first: pass it so)."""
    rows, failures = stylize_rows(catalog, variants, frames)
    shown = [(f"{label} (teacher)" if label == teacher else label, out) for label, out in rows]
    image = compose(frames, shown)
    height, width = frames[0].shape[:2]
    return ContactSheet(
        image=image,
        rows=(INPUT_ROW, *(label for label, _ in rows)),
        failures=tuple(failures),
        tile_size=(width, height),
        frames=len(frames),
    )


def save_png(image: np.ndarray, path: Path) -> Path:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise StyleBridgeError(f"could not encode {path.name} as PNG")
    Path(path).write_bytes(encoded.tobytes())
    return Path(path)


def _fit(tile: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    if tile.shape[:2] == (height, width):
        return tile
    return cv2.resize(np.ascontiguousarray(tile), size, interpolation=cv2.INTER_AREA)


def _put_text(image: np.ndarray, text: str, origin: tuple[int, int], max_width: int) -> None:
    """Black text at ``origin`` (left, baseline), shortened with '...' to fit ``max_width``."""
    scale, thickness = 0.4, 1
    shown = text.encode("ascii", "replace").decode()
    while shown and cv2.getTextSize(shown, _FONT, scale, thickness)[0][0] > max_width:
        shown = shown[:-4] + "..." if len(shown) > 4 else ""
    cv2.putText(image, shown, origin, _FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)
