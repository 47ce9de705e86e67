"""Write or check generated vector files (tests/vectors): shared by the make_*_vectors tools."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(files: dict[str, str], out: Path, *, check: bool, tool: str) -> int:
    """Write ``files`` (name -> text) into ``out``, or with ``check`` report the stale ones.

    Returns the exit status: 1 when a checked file differs from what ``tool`` would write.
    """
    stale = []
    for name, text in files.items():
        path = out / name
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path}")
    for path in stale:
        print(f"{path} is stale: run python tools/{tool}", file=sys.stderr)
    return 1 if stale else 0
