"""Names in the catalog folder: which files are models, their ids, and the one place a
name becomes a path.

A model's id is its file stem; temporary names of editors and copy tools are never
models; ``resolve_in_catalog`` is how the server turns any name into a path (see
``models.safe_paths``: nothing it returns lies outside the catalog).
"""

from __future__ import annotations

from pathlib import Path

from stylebridge.models.safe_paths import resolve_inside

ONNX_SUFFIX = ".onnx"

# Names editors, browsers and copy tools give files they are still writing.
_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "~")


def model_id_for(path: Path) -> str:
    """The registry id of a catalog file: its stem."""
    return Path(path).stem


def resolve_in_catalog(catalog: Path, name: str) -> Path:
    """``catalog / name`` resolved, or InvalidInputError when it would leave the catalog
    (``..``, absolute, NUL, backslash, too long, a symlink pointing out)."""
    return resolve_inside(catalog, name, what="catalog name")


def is_ignored_name(name: str) -> bool:
    """True for hidden files and the temporary names of editors and copy tools."""
    lower = name.lower()
    return lower.startswith((".", "~", "#")) or lower.endswith(_TEMP_SUFFIXES)


def is_model_file(name: str) -> bool:
    """True for a name the registry takes: ``*.onnx`` and not a temporary name."""
    return name.lower().endswith(ONNX_SUFFIX) and not is_ignored_name(name)
