"""The catalog: a folder of model variants and the manifest that says what each one is.

Layout: ``CATALOG/manifest.json`` plus one ``CATALOG/<variant id>.onnx`` per variant (and
``<variant id>.pth`` for variants trained in torch). The manifest is the one record of
how a variant was made and what it measured; the bridge's watcher and the perf-test
harness read it, ``stylebridge report`` renders it. It is rewritten atomically, so a
crash mid-write never leaves a half manifest behind.
"""

from __future__ import annotations

import hashlib
import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stylebridge.atomic import write_bytes_atomically
from stylebridge.errors import InvalidInputError, NotFoundError

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA_VERSION = 1

# A file name inside the catalog folder: no separators, no leading dot, so no "..".
_FILE_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$"

# What a recipe's parameters may hold: JSON scalars and flat lists of them.
ParamValue = str | int | float | bool | list[str] | list[int] | list[float]


class RecipeKind(StrEnum):
    """What was done to the parent to make a variant."""

    TEACHER = "teacher"  # the source model itself, exported to ONNX
    QUANTIZE_DYNAMIC = "quantize-dynamic"  # ORT dynamic int8 (ConvInteger): Python only
    QUANTIZE_STATIC = "quantize-static"  # ORT static QDQ int8, calibrated on frames: Python only
    FP16_WEIGHTS = "fp16-weights"  # fp16 initializers, Cast to float in the graph
    INT8_WEIGHTS = "int8-weights"  # int8 + per-channel scale, expanded by Cast/Sub/Mul
    PRUNE_UNSTRUCTURED = "prune-unstructured"  # magnitude pruning: sparsity only
    PRUNE_STRUCTURED = "prune-structured"  # torch-pruning channels, then distilled
    DISTILL = "distill"  # a smaller student trained on the teacher's output
    STUDENTS = "students"  # several student shapes, successive halving, the best kept
    TORCH_INT8 = "torch-int8"  # PyTorch FX int8, exported at the lowest opset that takes it


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipe(_Frozen):
    """How a variant is made: its kind and the parameters that change the result."""

    kind: RecipeKind
    params: dict[str, ParamValue] = Field(default_factory=dict)

    def key(self, parent: str | None) -> str:
        """Stable id of (parent, recipe): equal keys mean the variant can be reused."""
        blob = json.dumps(
            {"parent": parent, "kind": self.kind.value, "params": self.params}, sort_keys=True
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Fidelity(_Frozen):
    """Agreement with the teacher's output on the evaluation frames (0..255 scale)."""

    psnr_mean_db: float
    psnr_min_db: float
    ssim_mean: float
    ssim_min: float
    frames: int
    width: int
    height: int


class Latency(_Frozen):
    """One backend at one resolution; warm-up runs excluded."""

    backend: str  # e.g. "onnxruntime/CPUExecutionProvider", "torch/cpu"
    width: int
    height: int
    median_ms: float
    p90_ms: float
    runs: int
    warmup: int
    # True when timed round-robin with every other variant of the catalog in one run
    # (``evaluate.latency.measure_interleaved``), so ratios between variants are fair.
    interleaved: bool = False


class SpeedUp(_Frozen):
    """The teacher's median latency over this variant's, with its bootstrap interval.

    Measured interleaved in one run, on one backend at one resolution. Only an interval
    entirely above 1 supports "faster" (below 1: "slower"); otherwise the two cannot be
    told apart with these samples.
    """

    backend: str
    width: int
    height: int
    ratio: float
    low: float
    high: float
    confidence: float = 0.95
    runs: int = 0

    @property
    def verdict(self) -> str:
        """"faster", "slower" or "no measurable difference"."""
        if self.low > 1.0:
            return "faster"
        if self.high < 1.0:
            return "slower"
        return "no measurable difference"

    def describe(self) -> str:
        """e.g. "1.84x (1.71-1.97, 95 %)" or "no measurable difference (0.96-1.05, 95 %)"."""
        band = f"{self.low:.2f}-{self.high:.2f}, {self.confidence:.0%}"
        if self.verdict == "no measurable difference":
            return f"no measurable difference ({self.ratio:.2f}x, {band})"
        return f"{self.ratio:.2f}x ({band})"


class Temporal(_Frozen):
    """Flicker: mean abs change (0..255) against the output moved by the known motion."""

    pan: float
    zoom: float
    mean: float
    pairs: int
    width: int
    height: int


class FrontierPoint(_Frozen):
    """One student shape after one budget of a successive-halving search."""

    shape: str  # StudentShape name, e.g. s8-16-32-r2
    rung: int  # 0-based budget index
    train_seconds: float  # cumulative training time of this shape (CPU wall time)
    steps: int  # cumulative steps
    speedup: float  # teacher median / student median latency, same run, same resolution
    ssim_mean: float
    ssim_min: float
    kept: bool  # promoted to the next budget (or the winner, on the last rung)


class EngineVerdict(_Frozen):
    """The engine checker's answer for one engine target."""

    engine: str  # stylebridge.engines.Engine value, e.g. "barracuda-3"
    verdict: str  # stylebridge.engines.Verdict value
    reason: str = ""
    fix: str = ""


class Variant(_Frozen):
    """One model file of the catalog and everything measured about it."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    parent: str | None = None
    recipe: Recipe
    recipe_key: str
    # ONNX file name in the catalog folder. A plain name, never a path: a manifest is
    # read from folders people share, and its names are opened by report, perf-test
    # and the demo.
    file: str = Field(pattern=_FILE_NAME)
    checkpoint: str | None = Field(default=None, pattern=_FILE_NAME)  # .pth, torch variants
    sha256: str
    size_bytes: int
    params: int
    nonzero_params: int
    # FLOPs (multiply-adds x 2) per resolution, keyed "WIDTHxHEIGHT".
    flops: dict[str, int] = Field(default_factory=dict)
    fidelity: Fidelity | None = None
    temporal: Temporal | None = None
    frontier: tuple[FrontierPoint, ...] = ()  # students recipe: every shape, every budget
    latency: tuple[Latency, ...] = ()
    # Against the teacher, at the first latency resolution (None for the teacher itself,
    # and in catalogs written before interleaved timing).
    speedup: SpeedUp | None = None
    engines: tuple[EngineVerdict, ...] = ()
    created_at: float = Field(default_factory=time.time)
    build_seconds: float = 0.0
    # Where it was built: "local", or the Ray node and process (optimize --ray).
    built_on: str = ""
    notes: str = ""


class Manifest(_Frozen):
    """The catalog's table of contents."""

    schema_version: Annotated[int, Field(ge=1)] = MANIFEST_SCHEMA_VERSION
    teacher: str | None = None  # id of the variant every fidelity is measured against
    source: str = ""  # the model file the catalog was made from, as given
    # The frames folder optimize was given (absolute): the report's contact sheet shows
    # them, not built-in samples.
    frames: str = ""
    variants: tuple[Variant, ...] = ()

    def get(self, variant_id: str) -> Variant:
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        known = ", ".join(v.id for v in self.variants) or "none"
        raise NotFoundError(f"variant {variant_id!r} is not in the catalog (known: {known})")

    def find_recipe(self, recipe_key: str) -> Variant | None:
        return next((v for v in self.variants if v.recipe_key == recipe_key), None)

    def upsert(self, variant: Variant) -> Manifest:
        """A manifest with ``variant`` added, or replacing the one with the same id."""
        kept = tuple(v for v in self.variants if v.id != variant.id)
        return self.model_copy(update={"variants": (*kept, variant)})


def manifest_path(catalog: Path) -> Path:
    return Path(catalog) / MANIFEST_NAME


def load_manifest(catalog: Path) -> Manifest:
    """The catalog's manifest; an empty one for a folder that has none yet."""
    path = manifest_path(catalog)
    if not path.exists():
        return Manifest()
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise InvalidInputError(
            f"{path} is not a StyleBridge catalog manifest: {exc.errors()[0]['msg']} "
            f"at {'.'.join(str(p) for p in exc.errors()[0]['loc'])}"
        ) from exc
    if manifest.schema_version > MANIFEST_SCHEMA_VERSION:
        raise InvalidInputError(
            f"{path} has manifest schema {manifest.schema_version}, newer than this "
            f"StyleBridge understands ({MANIFEST_SCHEMA_VERSION}); upgrade StyleBridge"
        )
    return manifest


def save_manifest(catalog: Path, manifest: Manifest) -> Path:
    """Write the manifest atomically (temp file in the same folder, then rename)."""
    return write_bytes_atomically(
        manifest_path(catalog), manifest.model_dump_json(indent=2).encode("utf-8")
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
