"""The engines StyleBridge targets, and how a client's Hello maps onto one.

Kept apart from the operator tables so that export (which only needs the opset an
engine prefers) and the bridge (which maps a client to an engine) import nothing heavy.
"""

from __future__ import annotations

import re
from enum import StrEnum

from stylebridge.errors import InvalidInputError


class Engine(StrEnum):
    """An engine family whose operator support is tabulated in ``engines.ops``."""

    BARRACUDA_1_0 = "barracuda-1.0"
    BARRACUDA_2 = "barracuda-2"
    BARRACUDA_3 = "barracuda-3"
    SENTIS_1 = "sentis-1"
    SENTIS_2 = "sentis-2"

    @property
    def default_opset(self) -> int:
        """The opset to export for this engine (Barracuda's docs advise 9)."""
        return _DEFAULT_OPSET[self]

    @property
    def max_opset(self) -> int:
        """The newest opset the engine's importer accepts."""
        return _MAX_OPSET[self]

    @property
    def is_barracuda(self) -> bool:
        return self.value.startswith("barracuda")

    @classmethod
    def parse(cls, name: str) -> Engine:
        """The engine called ``name``; the error lists the valid names."""
        try:
            return cls(name.strip().lower())
        except ValueError:
            valid = ", ".join(e.value for e in cls)
            raise InvalidInputError(f"unknown engine {name!r}; use one of: {valid}") from None


_DEFAULT_OPSET = {
    Engine.BARRACUDA_1_0: 9,
    Engine.BARRACUDA_2: 9,
    Engine.BARRACUDA_3: 9,
    Engine.SENTIS_1: 15,
    Engine.SENTIS_2: 15,
}

_MAX_OPSET = {
    Engine.BARRACUDA_1_0: 10,  # opset 11 moved Pad sizes to an input, which 1.x ignores
    Engine.BARRACUDA_2: 13,
    Engine.BARRACUDA_3: 13,
    Engine.SENTIS_1: 15,
    Engine.SENTIS_2: 15,
}

_VERSION = re.compile(r"^\s*(\d+)(?:\.(\d+))?")


def engine_for_client(kind: str, version: str) -> Engine | None:
    """The tabulated engine for a client's (kind, package version), or None.

    ``kind`` is "barracuda", "sentis" or "reference"; the reference client runs
    ONNX Runtime and has no engine table (None). An unparseable or unknown version
    maps to the newest table of that family, which is the most permissive guess.
    """
    kind = kind.strip().lower()
    match = _VERSION.match(version or "")
    major = int(match.group(1)) if match else None
    minor = int(match.group(2) or 0) if match else None
    if kind == "barracuda":
        if major == 1 and minor == 0:
            return Engine.BARRACUDA_1_0
        if major in (1, 2):
            return Engine.BARRACUDA_2
        return Engine.BARRACUDA_3
    if kind == "sentis":
        if major == 1:
            return Engine.SENTIS_1
        return Engine.SENTIS_2
    if kind == "reference":
        return None
    raise InvalidInputError(f"unknown engine kind {kind!r}; use barracuda, sentis or reference")
