"""The one definition of "Barracuda-compatible", read by optimize, report and benchmarks.

A variant is Barracuda-compatible when the engine checker judged it for every Barracuda
version StyleBridge ships a Unity package for (2.x and 3.x) and none of them said
"cannot run"; "runs with a difference" still runs. A variant that was not checked
for one of them is "unchecked", never assumed compatible.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from stylebridge.catalog.manifest import EngineVerdict, Variant
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine

# The Barracuda versions the Unity package supports (Barracuda 1.0 is a legacy target).
BARRACUDA_TARGETS: tuple[Engine, ...] = (Engine.BARRACUDA_2, Engine.BARRACUDA_3)


class BarracudaSupport(StrEnum):
    """Whether Barracuda can load a variant, as the engine checker judged it."""

    RUNS = "runs in Barracuda"
    CANNOT_RUN = "cannot run in Barracuda"
    UNCHECKED = "Barracuda not checked"


def barracuda_support(engines: Sequence[EngineVerdict]) -> BarracudaSupport:
    """The checker's answer over every Barracuda target: any "cannot run" wins."""
    found = {v.engine: v.verdict for v in engines if v.engine in _TARGET_VALUES}
    if any(verdict == Verdict.CANNOT_RUN.value for verdict in found.values()):
        return BarracudaSupport.CANNOT_RUN
    if set(found) != _TARGET_VALUES:
        return BarracudaSupport.UNCHECKED
    return BarracudaSupport.RUNS


def is_barracuda_compatible(variant: Variant) -> bool:
    """Whether every supported Barracuda version was checked and can run ``variant``."""
    return barracuda_support(variant.engines) is BarracudaSupport.RUNS


_TARGET_VALUES = frozenset(engine.value for engine in BARRACUDA_TARGETS)
