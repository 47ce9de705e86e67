"""The built-in style: a small trained model that ships with the package.

It imitates a classical filter (:func:`stylebridge.style.filter.ink_filter`) and was
made by the project's own code (``stylebridge train-builtin-style``; recipe and
measured fidelity in ``builtin/builtin-style.json``), so a demo shows a visibly
stylized picture with nothing downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stylebridge.errors import NotFoundError

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
BUILTIN_ONNX = "builtin-style.onnx"
BUILTIN_RECIPE = "builtin-style.json"


def builtin_style_onnx() -> Path:
    """Path of the shipped ONNX model (opset 9, RGB 0..255 in and out, Barracuda-ready)."""
    path = BUILTIN_DIR / BUILTIN_ONNX
    if not path.is_file():
        raise NotFoundError(
            f"the built-in style model {path} is missing; reinstall stylebridge, or "
            "make it with `stylebridge train-builtin-style --out DIR` and copy "
            f"{BUILTIN_ONNX} and {BUILTIN_RECIPE} there"
        )
    return path


def builtin_style_recipe() -> dict[str, Any]:
    """The shipped model's recipe and measured fidelity (``builtin-style.json``)."""
    path = BUILTIN_DIR / BUILTIN_RECIPE
    if not path.is_file():
        raise NotFoundError(f"the built-in style recipe {path} is missing; reinstall stylebridge")
    return json.loads(path.read_text(encoding="utf-8"))
