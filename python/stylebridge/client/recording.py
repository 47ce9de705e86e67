"""Recording a live session's frames into a folder of PNGs, for training students.

The server picks the frames (every Nth, near-duplicates skipped; see
``stylebridge.bridge.control.recorder``) and streams them over ``Control.RecordFrames``; this
side writes them, so the server never writes to paths a client names. Each PNG is
written to a temp file and renamed, so a training job reading the folder meanwhile
never sees half an image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stylebridge.atomic import write_bytes_atomically
from stylebridge.client.records import FrameRecorder, RecordedFrame, RecordOptions
from stylebridge.errors import InvalidInputError, StyleBridgeError
from stylebridge.frames import check_rgb

__all__ = ["RecordOptions", "RecordedFrame", "RecordingResult", "record_to_folder"]


@dataclass(frozen=True)
class RecordingResult:
    """What ``record_to_folder`` wrote."""

    folder: Path
    files: tuple[Path, ...]


def frame_filename(sequence: int) -> str:
    """``frame_<sequence>.png``, zero-padded so names sort in stream order."""
    return f"frame_{sequence:08d}.png"


def save_png(path: Path, rgb: np.ndarray) -> Path:
    """Write ``rgb`` as a PNG atomically (temp file in the same folder, then rename)."""
    check_rgb(rgb)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise StyleBridgeError(f"could not encode {path.name} as PNG")
    return write_bytes_atomically(path, encoded.tobytes())


async def record_to_folder(
    control: FrameRecorder,
    session_id: str,
    out: Path,
    options: RecordOptions,
    *,
    on_frame: Callable[[RecordedFrame, Path], None] | None = None,
) -> RecordingResult:
    """Record ``session_id`` into ``out`` until max_frames, the session's end, or cancel.

    Raises NotFoundError for an unknown session, InvalidInputError for bad options or
    an ``out`` that is a file.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} is a file; pass a folder for the recorded frames")
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    async for frame in control.record(session_id, options):
        path = save_png(out / frame_filename(frame.sequence), frame.rgb)
        files.append(path)
        if on_frame is not None:
            on_frame(frame, path)
    return RecordingResult(folder=out, files=tuple(files))
