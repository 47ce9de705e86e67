"""Where the project's data lives, resolved once.

Real models and game frames live in ``../shared`` beside the checkout (or wherever
``STYLEBRIDGE_SHARED`` points); they are read from there and never copied.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent


def shared_dir() -> Path | None:
    """The shared data folder, or None when this checkout has none beside it."""
    env = os.environ.get("STYLEBRIDGE_SHARED")
    candidates = [Path(env)] if env else [REPO_ROOT.parent / "shared"]
    for candidate in candidates:
        if (candidate / "models").is_dir():
            return candidate
    return None
