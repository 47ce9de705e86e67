"""WIDTHxHEIGHT sizes, as commands, plans and recipes write them."""

from __future__ import annotations

import re

from stylebridge.errors import InvalidInputError

_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """``"640x360"`` -> ``(640, 360)``; InvalidInputError for anything else, or a zero side."""
    match = _SIZE.match(text)
    if match is None or int(match.group(1)) <= 0 or int(match.group(2)) <= 0:
        raise InvalidInputError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 640x360")
    return int(match.group(1)), int(match.group(2))
