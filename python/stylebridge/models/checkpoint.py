"""Load TransformerNet checkpoints as they are published, and save our own.

Published fast-neural-style checkpoints carry stale ``in*.running_mean/var`` keys (an
old InstanceNorm kept running statistics); the In-Game tutorial's checkpoints name
their residual blocks ``resnets.N``. Both are normalised here, widths and depth are
read off the tensors, and then the state dict must match *exactly*
(``strict=True``): anything else is a :class:`ModelFormatError` naming the keys and
shapes that differ. Files are untrusted: ``torch.load(..., weights_only=True)``
refuses pickled code, which becomes a :class:`ModelLoadError` saying so.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from stylebridge.atomic import atomic_writer
from stylebridge.errors import LimitExceededError, ModelFormatError, ModelLoadError, NotFoundError
from stylebridge.file_kinds import is_lfs_pointer, lfs_message
from stylebridge.models.transformer_net import (
    Architecture,
    TransformerNet,
    TransformerNetConfig,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_CHECKPOINT_BYTES = 512 * 2**20

# Key under which save_checkpoint records the config (widths alone cannot tell the
# wiring apart; see transformer_net.Architecture).
CONFIG_KEY = "stylebridge"

_STALE_KEY = re.compile(r"(^|\.)in\d+\.(running_mean|running_var|num_batches_tracked)$")
_RESNETS_KEY = re.compile(r"^resnets\.(\d+)\.")
_RES_KEY = re.compile(r"^res(\d+)\.")
_SHOW = 5  # names listed per kind of mismatch before "and N more"


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint loaded into a TransformerNet (eval mode) and what was fixed up."""

    model: TransformerNet
    config: TransformerNetConfig
    path: Path | None
    sha256: str
    dropped_keys: tuple[str, ...]
    renamed_keys: tuple[tuple[str, str], ...]


def normalize_state_dict(
    state_dict: Mapping[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The state dict in the example's layout, plus the keys dropped and renamed.

    Drops stale InstanceNorm statistics, strips a DataParallel ``module.`` prefix and
    maps ``resnets.N.`` to ``res{N+1}.``. Idempotent.
    """
    out: dict[str, torch.Tensor] = {}
    dropped: list[str] = []
    renamed: list[tuple[str, str]] = []
    for key, value in state_dict.items():
        new = key.removeprefix("module.")
        new = _RESNETS_KEY.sub(lambda m: f"res{int(m.group(1)) + 1}.", new)
        if _STALE_KEY.search(new):
            dropped.append(key)
            continue
        if new != key:
            renamed.append((key, new))
        out[new] = value
    return out, tuple(dropped), tuple(renamed)


def infer_config(
    state_dict: Mapping[str, torch.Tensor], *, architecture: Architecture | None = None
) -> TransformerNetConfig:
    """Widths and residual depth read off the tensors; the wiring from the key layout.

    ``architecture`` overrides the guess, which is IN_GAME exactly when the keys use
    the In-Game tutorial's ``resnets.N`` layout. Raises ModelFormatError when the
    tensors do not look like a TransformerNet at all.
    """
    if architecture is None:
        in_game = any(_RESNETS_KEY.match(k.removeprefix("module.")) for k in state_dict)
        architecture = Architecture.IN_GAME if in_game else Architecture.FAST_NEURAL_STYLE
    sd, _, _ = normalize_state_dict(state_dict)
    widths = []
    for name in ("conv1", "conv2", "conv3"):
        key = f"{name}.conv2d.weight"
        tensor = sd.get(key)
        if not isinstance(tensor, torch.Tensor) or tensor.dim() != 4:
            sample = ", ".join(sorted(sd)[:_SHOW]) or "none"
            raise ModelFormatError(
                f"no 4-D {key} tensor: this is not a fast-neural-style TransformerNet "
                f"state dict (first keys: {sample}). Pass a checkpoint of PyTorch's "
                "examples/fast_neural_style TransformerNet."
            )
        widths.append(int(tensor.shape[0]))
    indices = sorted({int(m.group(1)) for k in sd if (m := _RES_KEY.match(k))})
    if indices != list(range(1, len(indices) + 1)):
        found = ", ".join(f"res{i}" for i in indices)
        raise ModelFormatError(
            f"residual blocks must be numbered res1..resN without gaps; found {found}"
        )
    return TransformerNetConfig(
        widths=(widths[0], widths[1], widths[2]),
        residual_blocks=len(indices),
        architecture=architecture,
    )


def load_checkpoint(
    path: Path,
    *,
    map_location: str | torch.device = "cpu",
    architecture: Architecture | None = None,
    max_bytes: int = DEFAULT_MAX_CHECKPOINT_BYTES,
) -> LoadedCheckpoint:
    """Load a ``.pth`` TransformerNet checkpoint into a model in eval mode.

    Accepts a bare state dict or a dict with a ``state_dict`` / ``model`` entry.
    Raises NotFoundError (no file), LimitExceededError (over ``max_bytes``),
    ModelLoadError (not a checkpoint, or pickled code that a weights-only load
    refuses) and ModelFormatError (keys or shapes that do not match).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"checkpoint {path} does not exist (or is not a file)")
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitExceededError(
            f"checkpoint {path} is {size} bytes, over the {max_bytes}-byte limit; "
            "raise max_bytes if you trust it"
        )
    data = path.read_bytes()
    if is_lfs_pointer(data[:256]):
        raise ModelLoadError(lfs_message(str(path)))
    payload = _torch_load(data, str(path), map_location)
    state_dict, saved = _unwrap(payload, str(path))
    if architecture is None and saved is not None:
        architecture = saved
    config = infer_config(state_dict, architecture=architecture)
    sd, dropped, renamed = normalize_state_dict(state_dict)
    model = TransformerNet(config)
    _check_matches(model, sd, config, str(path))
    model.load_state_dict(sd, strict=True)
    model.to(torch.device(map_location)).eval()
    if dropped:
        log.debug("%s: dropped %d stale keys", path, len(dropped))
    return LoadedCheckpoint(
        model=model,
        config=config,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        dropped_keys=dropped,
        renamed_keys=renamed,
    )


def save_checkpoint(model: TransformerNet, path: Path) -> Path:
    """Write ``model``'s weights and config atomically (temp file, then rename).

    The config is stored beside the state dict so that an IN_GAME model, whose
    parameters look exactly like the example's, reloads with its own wiring.
    """
    path = Path(path)
    payload: dict[str, Any] = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        CONFIG_KEY: {
            "widths": list(model.config.widths),
            "residual_blocks": model.config.residual_blocks,
            "architecture": model.config.architecture.value,
        },
    }
    with atomic_writer(path) as out:
        torch.save(payload, out)
    return path


def _torch_load(data: bytes, name: str, map_location: str | torch.device) -> object:
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    # torch.load raises many unrelated types on malformed input (UnpicklingError,
    # RuntimeError, EOFError, ValueError, zip errors…); all of them mean the same.
    except Exception as exc:
        text = str(exc)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        code = next((line for line in lines if "GLOBAL" in line), None)
        if code is not None:
            raise ModelLoadError(
                f"{name} contains pickled code or objects that a weights-only load "
                f"(torch.load weights_only=True) refuses, so none of it ran ({code}). "
                "Only plain tensors are accepted; if you trust the "
                "file's source, load it once yourself and re-save model.state_dict()."
            ) from exc
        detail = next(
            (line for line in lines if line.startswith("Unsupported")),
            lines[0][:200] if lines else "no detail",
        )
        raise ModelLoadError(
            f"{name} is not a PyTorch checkpoint ({type(exc).__name__}: {detail}). "
            "Pass a .pth file written by torch.save(model.state_dict(), path)."
        ) from exc


def _unwrap(payload: object, name: str) -> tuple[dict[str, torch.Tensor], Architecture | None]:
    """The state dict inside a checkpoint payload, and any architecture saved with it."""
    if not isinstance(payload, Mapping):
        raise ModelFormatError(
            f"{name} holds a {type(payload).__name__}, not a state dict; "
            "save model.state_dict() rather than the model or a tensor"
        )
    saved: Architecture | None = None
    meta = payload.get(CONFIG_KEY)
    if isinstance(meta, Mapping) and "architecture" in meta:
        try:
            saved = Architecture(meta["architecture"])
        except ValueError:
            raise ModelFormatError(
                f"{name} records unknown architecture {meta['architecture']!r}; "
                f"known: {', '.join(a.value for a in Architecture)}"
            ) from None
    inner: object = payload
    for key in ("state_dict", "model"):
        if isinstance(payload.get(key), Mapping):
            inner = payload[key]
            break
    assert isinstance(inner, Mapping)
    not_tensors = [str(k) for k, v in inner.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ModelFormatError(
            f"{name}: entries that are not tensors: {_few(not_tensors)}; "
            "a checkpoint must be a state dict (optionally under 'state_dict' or 'model')"
        )
    return {str(k): v for k, v in inner.items()}, saved


def _check_matches(
    model: TransformerNet, sd: Mapping[str, torch.Tensor], config: TransformerNetConfig, name: str
) -> None:
    """Raise ModelFormatError naming every key and shape that differs from the model."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    mismatched = [
        f"{k} is {tuple(sd[k].shape)} in the file, {tuple(v.shape)} expected"
        for k, v in expected.items()
        if k in sd and tuple(sd[k].shape) != tuple(v.shape)
    ]
    if not (missing or unexpected or mismatched):
        return
    parts = []
    if missing:
        parts.append(f"missing keys: {_few(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {_few(unexpected)}")
    if mismatched:
        parts.append(f"shape mismatch: {_few(mismatched)}")
    raise ModelFormatError(
        f"{name} does not match a TransformerNet {config.describe()}: "
        + "; ".join(parts)
        + ". It must be a state dict of PyTorch's fast_neural_style TransformerNet "
        "(stale in*.running_* keys and the resnets.N layout are accepted)."
    )


def _few(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    rest = len(items) - _SHOW
    return f"{shown} (and {rest} more)" if rest > 0 else shown
