"""The catalog: model variants, the manifest that records them, and what "runs in Barracuda" means.

A low package: ``optimize`` writes catalogs, ``evaluate`` fills their measurements,
``report``, ``bridge``, ``inference``, ``harness`` and the demo read them. It imports
only ``engines``, ``errors`` and ``atomic``, so none of those readers import each other
through it.
"""

from stylebridge.catalog.compat import (
    BARRACUDA_TARGETS,
    BarracudaSupport,
    barracuda_support,
    is_barracuda_compatible,
)
from stylebridge.catalog.manifest import (
    MANIFEST_NAME,
    MANIFEST_SCHEMA_VERSION,
    EngineVerdict,
    Fidelity,
    Latency,
    Manifest,
    ParamValue,
    Recipe,
    RecipeKind,
    SpeedUp,
    Variant,
    load_manifest,
    manifest_path,
    save_manifest,
    sha256_file,
)

__all__ = [
    "BARRACUDA_TARGETS",
    "MANIFEST_NAME",
    "MANIFEST_SCHEMA_VERSION",
    "BarracudaSupport",
    "EngineVerdict",
    "Fidelity",
    "Latency",
    "Manifest",
    "ParamValue",
    "Recipe",
    "RecipeKind",
    "SpeedUp",
    "Variant",
    "barracuda_support",
    "is_barracuda_compatible",
    "load_manifest",
    "manifest_path",
    "save_manifest",
    "sha256_file",
]
