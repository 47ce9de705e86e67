"""The perf-test plan: which models, at which resolutions, for how many frames.

A TOML file (read with ``tomllib``) validated by pydantic; every field has a default,
so an empty file is a valid plan: every model of the catalog at 640x360, 960x540 and
1280x720, 10 warm-up and 100 measured frames, once. Example::

    models = ["mosaic", "mosaic-int8w", "/abs/path/other.onnx"]
    resolutions = ["640x360", "1280x720"]
    warmup_frames = 10
    measured_frames = 200
    worker_type = "ComputePrecompiled"
    repetitions = 2
    frames = "builtin"            # or a folder of images
    python_backend = "auto"            # or onnxruntime, openvino, torch
    [engine]
    quality_level = 5
    target_frame_rate = -1
    time_scale = 1.0

Models are catalog variant ids (resolved through the catalog's manifest) or paths to
``.onnx`` files (relative paths are relative to the plan file).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.inference.base import BackendKind

DEFAULT_RESOLUTIONS = ("640x360", "960x540", "1280x720")
BUILTIN_FRAMES = "builtin"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EngineSettings(_Frozen):
    """What the EngineConfigurationChannel sets before every case (besides resolution)."""

    quality_level: int = Field(default=5, ge=0, le=32)
    # -1: as fast as possible (Unity's convention); a cap would hide slow models.
    target_frame_rate: int = Field(default=-1, ge=-1, le=1000)
    time_scale: float = Field(default=1.0, gt=0.0, le=100.0)


class Plan(_Frozen):
    """What to measure; see the module docstring for the TOML form."""

    # Empty: every variant of the catalog.
    models: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = DEFAULT_RESOLUTIONS
    warmup_frames: int = Field(default=10, ge=0, le=10_000)
    measured_frames: int = Field(default=100, ge=1, le=100_000)
    worker_type: str = ""
    repetitions: int = Field(default=1, ge=1, le=100)
    frames: str = BUILTIN_FRAMES
    python_backend: BackendKind = BackendKind.AUTO
    # Python timing of the same model and frames (the comparison column); off for speed.
    python_timing: bool = True
    parity: bool = True
    engine: EngineSettings = Field(default_factory=EngineSettings)

    @field_validator("resolutions")
    @classmethod
    def _sizes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("resolutions must name at least one WIDTHxHEIGHT")
        for text in value:
            parse_resolution(text)
        return tuple(f"{w}x{h}" for w, h in (parse_resolution(t) for t in value))

    @property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple(parse_resolution(text) for text in self.resolutions)


def parse_resolution(text: str) -> tuple[int, int]:
    """``"640x360"`` -> (640, 360); ValueError (pydantic-friendly) otherwise."""
    from stylebridge.sizes import parse_size

    try:
        return parse_size(text)
    except InvalidInputError as exc:
        raise ValueError(str(exc)) from exc


def load_plan(path: Path | None) -> Plan:
    """The plan in ``path`` (TOML); the default plan for None.

    Raises NotFoundError for a missing file, InvalidInputError for bad TOML or values.
    """
    if path is None:
        return Plan()
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"plan {path} does not exist; pass a TOML file to --plan")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"plan {path} is not valid TOML: {exc}") from exc
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "plan"
        raise InvalidInputError(f"plan {path}: {where}: {first['msg']}") from exc


@dataclass(frozen=True)
class ResolvedModel:
    """A plan model as a file: id for results, path and sha256 for the player."""

    model_id: str
    path: Path
    sha256: str
    # Values per pixel the model expects (its stylebridge.input_range metadata).
    input_range: float = 255.0


def resolve_models(
    plan: Plan, catalog: Path | None, plan_dir: Path | None = None
) -> tuple[ResolvedModel, ...]:
    """Turn the plan's model names into files: catalog ids first, then paths.

    Raises NotFoundError naming the model when neither matches, InvalidInputError when
    the plan names no model and there is no catalog to take them from.
    """
    from stylebridge.catalog import load_manifest, sha256_file

    manifest = load_manifest(catalog) if catalog is not None else None
    names = plan.models
    if not names:
        if manifest is None or not manifest.variants:
            raise InvalidInputError(
                "the plan names no models and there is no catalog with variants; "
                "list models in the plan or pass --catalog DIR"
            )
        names = tuple(v.id for v in manifest.variants)
    resolved: list[ResolvedModel] = []
    seen: set[str] = set()
    for name in names:
        variant = next((v for v in manifest.variants if v.id == name), None) if manifest else None
        if variant is not None and catalog is not None:
            path = (Path(catalog) / variant.file).resolve()
            model = ResolvedModel(variant.id, path, variant.sha256, _input_range(path))
        else:
            path = Path(name).expanduser()
            if not path.is_absolute() and plan_dir is not None:
                path = plan_dir / path
            if not path.is_file():
                where = f" or a variant of catalog {catalog}" if catalog else ""
                raise NotFoundError(
                    f"plan model {name!r} is neither an ONNX file{where}; "
                    f"fix the plan's models list"
                )
            path = path.resolve()
            model = ResolvedModel(path.stem, path, sha256_file(path), _input_range(path))
        if model.model_id in seen:
            raise InvalidInputError(f"plan names model {model.model_id!r} twice")
        seen.add(model.model_id)
        resolved.append(model)
    return tuple(resolved)


def _input_range(path: Path) -> float:
    """The range the player must scale 0..1 texture values to; 255 when the file says nothing."""
    import onnx
    from google.protobuf.message import DecodeError

    from stylebridge.models.metadata import pixel_format

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except (OSError, DecodeError) as exc:
        raise InvalidInputError(f"model {path} is not a readable ONNX file: {exc}") from exc
    pixel = pixel_format(proto)
    if not pixel.plain:
        raise InvalidInputError(
            f"model {path} declares {pixel.describe()}; the Unity package feeds RGB from 0 to "
            "1 or 255, so the player would run it with wrong colours"
        )
    return pixel.high
