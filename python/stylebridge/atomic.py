"""Files that readers see whole or not at all: a temp file in the same folder, then a rename.

Catalog watchers, resumed trainings and CI artifacts all read files that StyleBridge may
be writing at that moment; ``os.replace`` of a finished, fsynced temp file is the one
step that makes the new content appear at once. Temp names start with ``.`` and end in
``.tmp``, which the catalog watcher ignores.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# mkstemp creates 0600 files; a model or report is meant to be read by others too.
FILE_MODE = 0o644


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary file object whose content replaces ``path`` when the block ends without an
    exception; on an exception ``path`` is untouched and the temp file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomically(path: Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` in one step; returns ``path``."""
    with atomic_writer(path) as out:
        out.write(data)
    return Path(path)
