"""Atomic writes: readers see the old file or the new one, never a half-written one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from stylebridge.atomic import FILE_MODE, atomic_writer, write_bytes_atomically


def test_a_write_replaces_the_file_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "model.onnx"
    write_bytes_atomically(path, b"old")
    assert write_bytes_atomically(path, b"new") == path
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE
    assert [p.name for p in path.parent.iterdir()] == ["model.onnx"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_bytes_atomically(path, b"kept")
    with pytest.raises(RuntimeError), atomic_writer(path) as out:
        out.write(b"half")
        raise RuntimeError("disk gone")
    assert path.read_bytes() == b"kept"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
