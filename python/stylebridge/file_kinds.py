"""What a file that does not load as a model is instead, in words that lead somewhere.

A model downloaded from a repository that uses Git LFS is often still its pointer (a
few lines of text) when ``git lfs pull`` was never run; a PyTorch checkpoint passed
where an ONNX file is expected needs an export first. Loaders call ``unreadable_hint``
before they word their refusal.
"""

from __future__ import annotations

from pathlib import Path

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"
# Suffixes PyTorch checkpoints carry: .pth/.pt, and .model, which PyTorch's own
# fast_neural_style trainer (examples/fast_neural_style) writes.
CHECKPOINT_SUFFIXES = (".pth", ".pt", ".model")


def is_lfs_pointer(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) is a Git LFS pointer file."""
    return head.lstrip().startswith(LFS_POINTER_PREFIX)


def lfs_message(name: str) -> str:
    return (f"{name} is a Git LFS pointer (a small text file), not the model itself: run "
            "`git lfs pull` in the repository it came from, then use the downloaded file")


def unreadable_hint(path: Path, head: bytes, wanted: str = "ONNX") -> str:
    """"" or a sentence saying what the file is instead and what to do about it."""
    if is_lfs_pointer(head):
        return lfs_message(Path(path).name)
    if wanted == "ONNX" and Path(path).suffix.lower() in CHECKPOINT_SUFFIXES:
        return (f"{Path(path).name} is a PyTorch checkpoint; export it to ONNX first: "
                f"`stylebridge export {Path(path).name} --out MODEL.onnx`")
    return ""


def read_head(path: Path, size: int = 256) -> bytes:
    """The first ``size`` bytes of ``path`` (b"" when it cannot be read)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(size)
    except OSError:
        return b""
