"""Teacher-output cache: every training view goes through the teacher exactly once.

Views match inference: whole frames (or large crops of them, at least ``min_area`` of
the frame, aspect kept) resized to ``width`` x ``height``, mirrored at random, with a
mild brightness/contrast jitter (13 frames are few). The teacher runs on the view
itself, never on a crop of a larger output, because InstanceNorm normalises over the
whole image: the teacher run on a 128-px crop agrees with the crop of its full-frame
output only at SSIM ~0.72 (256 px: ~0.83; half frame: ~0.92), so small crops teach
the student a different picture from the one it will be asked to draw.

Storage: the views (uint8), the teacher's clamped outputs and its two 1/4-resolution
activations (for hint losses) in fp16, as ``np.memmap`` files in ``folder``. A
``cache.json`` records what was cached (teacher weights hash, frames, view settings);
a second build with the same inputs reuses the files and runs the teacher zero times.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.frames import load_image
from stylebridge.optimize.student_nets import teacher_hints

_log = logging.getLogger(__name__)
META = "cache.json"


class ViewSpec(BaseModel):
    """Which views of the frames are cached (and so what the student trains on)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    width: Annotated[int, Field(ge=16, multiple_of=8)] = 320
    height: Annotated[int, Field(ge=16, multiple_of=8)] = 184
    views_per_frame: Annotated[int, Field(ge=1, le=256)] = 8
    min_area: Annotated[float, Field(gt=0, le=1)] = 0.5  # crop area as a share of the frame
    jitter: Annotated[float, Field(ge=0, le=0.5)] = 0.1  # brightness/contrast, +-share
    hints: bool = True  # also cache the teacher's activations for hint losses
    seed: int = 0


@dataclass(frozen=True)
class TeacherCache:
    """Memory-mapped views, teacher outputs (0..255) and teacher hint activations."""

    folder: Path
    inputs: np.ndarray  # N x 3 x H x W uint8
    targets: np.ndarray  # N x 3 x H x W float16, clamped to 0..255
    hints: tuple[np.ndarray, ...]  # each N x C x H/4 x W/4 float16
    teacher_runs: int  # forward passes the teacher made to build this (0 when reused)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def batch(self, indices: Sequence[int], device: torch.device | str = "cpu"
              ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """(views float32 0..255, targets float32 0..1, hint activations float32)."""
        idx = np.asarray(indices)
        x = torch.from_numpy(np.ascontiguousarray(self.inputs[idx])).float()
        t = torch.from_numpy(np.ascontiguousarray(self.targets[idx])).float() / 255.0
        h = [torch.from_numpy(np.ascontiguousarray(a[idx])).float().to(device)
             for a in self.hints]
        return x.to(device), t.to(device), h


def build_cache(teacher: nn.Module, frames: Sequence[Path], spec: ViewSpec,
                folder: Path) -> TeacherCache:
    """Cache ``spec``'s views of ``frames`` with ``teacher``'s outputs in ``folder``.

    Reuses an earlier cache of the same teacher weights, frames and spec. Raises
    NotFoundError without frames.
    """
    if not frames:
        raise NotFoundError("the teacher cache needs at least one frame")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = _meta(teacher, frames, spec)
    count = len(frames) * spec.views_per_frame
    meta_path = folder / META
    if meta_path.is_file() and json.loads(meta_path.read_text(encoding="utf-8")) == meta:
        _log.info("teacher cache reused: %s (%d views)", folder, count)
        return _open(folder, meta, count, spec, "r", runs=0)
    meta_path.unlink(missing_ok=True)  # a half-built cache must never look complete
    cache = _open(folder, meta, count, spec, "w+", runs=0)
    teacher.eval()
    device = next(teacher.parameters()).device
    runs = 0
    with torch.no_grad():
        for frame_index, path in enumerate(frames):
            image = load_image(path)
            for view_index in range(spec.views_per_frame):
                rng = np.random.default_rng([spec.seed, frame_index, view_index])
                view = make_view(image, spec, rng, whole=view_index == 0)
                row = frame_index * spec.views_per_frame + view_index
                x = torch.from_numpy(view).permute(2, 0, 1)[None].float().to(device)
                out, hints = teacher_hints(teacher, x)
                runs += 1
                cache.inputs[row] = view.transpose(2, 0, 1)
                cache.targets[row] = out.clamp(0, 255)[0].cpu().numpy().astype(np.float16)
                for store, value in zip(cache.hints, hints, strict=False):
                    store[row] = value[0].cpu().numpy().astype(np.float16)
    for array in (cache.inputs, cache.targets, *cache.hints):
        array.flush()  # type: ignore[attr-defined]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    _log.info("teacher cache built: %d views, %d teacher runs", count, runs)
    return TeacherCache(folder, cache.inputs, cache.targets, cache.hints, runs)


def open_cache(teacher: nn.Module, frames: Sequence[Path], spec: ViewSpec,
               folder: Path) -> TeacherCache:
    """The finished cache :func:`build_cache` wrote in ``folder`` for these inputs, read-only.

    For workers that share one cache: they must never rebuild it (two writers would
    race), so a missing or different cache raises NotFoundError naming the folder.
    """
    folder = Path(folder)
    meta = _meta(teacher, frames, spec)
    meta_path = folder / META
    if not meta_path.is_file():
        raise NotFoundError(f"no finished teacher cache in {folder}: build it first (and on a "
                            f"cluster, put the work folder on a path every worker sees)")
    if json.loads(meta_path.read_text(encoding="utf-8")) != meta:
        raise NotFoundError(f"the teacher cache in {folder} was built from another teacher, "
                            f"frames or view settings: build it again")
    return _open(folder, meta, len(frames) * spec.views_per_frame, spec, "r", runs=0)


def _meta(teacher: nn.Module, frames: Sequence[Path], spec: ViewSpec) -> dict[str, object]:
    """What a cache was built from; a cache is reused only when this matches exactly."""
    return {"teacher": _weights_sha(teacher), "frames": [str(Path(p).resolve()) for p in frames],
            "spec": spec.model_dump(mode="json"),
            "teacher_width": int(teacher.conv3.conv2d.out_channels)}


def make_view(image: np.ndarray, spec: ViewSpec, rng: np.random.Generator, *,
              whole: bool = False) -> np.ndarray:
    """One H x W x 3 uint8 view: a large crop (aspect kept), resized, maybe mirrored."""
    height, width = image.shape[:2]
    if not whole:
        area = float(rng.uniform(spec.min_area, 1.0))
        side = np.sqrt(area)
        ch, cw = max(8, round(height * side)), max(8, round(width * side))
        top = int(rng.integers(height - ch + 1))
        left = int(rng.integers(width - cw + 1))
        image = image[top : top + ch, left : left + cw]
    shrinking = image.shape[1] > spec.width
    view = cv2.resize(np.ascontiguousarray(image), (spec.width, spec.height),
                      interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    if not whole:
        if rng.random() < 0.5:
            view = view[:, ::-1]
        if spec.jitter > 0:
            gain = 1.0 + float(rng.uniform(-spec.jitter, spec.jitter))
            offset = 255.0 * float(rng.uniform(-spec.jitter, spec.jitter)) / 2
            view = np.clip(view.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(view)


def _open(folder: Path, meta: dict[str, object], count: int, spec: ViewSpec, mode: str,
          runs: int) -> TeacherCache:
    shape = (count, 3, spec.height, spec.width)
    try:
        inputs = np.memmap(folder / "inputs.u8", np.uint8, mode, shape=shape)
        targets = np.memmap(folder / "targets.f16", np.float16, mode, shape=shape)
        hints: tuple[np.ndarray, ...] = ()
        if spec.hints:
            channels = _teacher_hint_channels(meta)
            quarter = (spec.height // 4, spec.width // 4)
            hints = tuple(np.memmap(folder / f"hint{i}.f16", np.float16, mode,
                                    shape=(count, c, *quarter))
                          for i, c in enumerate(channels))  # type: ignore[union-attr]
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"teacher cache in {folder} is unreadable: {exc}") from exc
    return TeacherCache(folder, inputs, targets, hints, runs)


def _teacher_hint_channels(meta: dict[str, object]) -> tuple[int, int]:
    width = int(meta.get("teacher_width", 128))  # type: ignore[arg-type]
    return width, width


def _weights_sha(model: nn.Module) -> str:
    digest = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
