"""Recipes: which variants ``stylebridge optimize`` builds, and how it measures them.

A recipe set is a list of recipe specs (one pydantic model per kind, chosen by its
``kind`` field) plus the evaluation and latency settings. Two sets are built in:
``quick`` (seconds: tiny training runs, 160x90 evaluation; for tests and a first look)
and ``default`` (the full grid within ~30 min of CPU on 2 cores: every training run has
a ``time_budget_s``). Any other set comes from a TOML file::

    [evaluation]
    width = 320
    height = 180
    frames = 4            # held out from training, spread over the folder

    [latency]
    resolutions = ["640x360"]
    runs = 5
    warmup = 1

    [[recipe]]
    kind = "fp16-weights"

    [[recipe]]
    kind = "distill"
    widths = [16, 32, 64]
    residual_blocks = 3
    steps = 2000
    time_budget_s = 300

    [[recipe]]
    kind = "fp16-weights"
    parent = "distill-16-32-64-r3"   # compress a variant built above

Each spec maps to a ``catalog.Recipe`` whose parameters are exactly the fields that
change the result (not its name), so its ``key`` decides reuse.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stylebridge.catalog import Recipe, RecipeKind
from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.optimize.quantize import QuantizeConfig, QuantizeMode
from stylebridge.optimize.weights import Fp16Layout, Int8Scheme

VARIANT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=VARIANT_ID)] | None = None  # variant id; default derived
    needs_torch: ClassVar[bool] = True  # built from the torch teacher (.pth) or from ONNX

    def default_name(self) -> str:
        raise NotImplementedError

    def variant_id(self) -> str:
        return self.name or self.default_name()

    def to_recipe(self) -> Recipe:
        """The catalog recipe: kind plus every result-changing field."""
        params = self.model_dump(mode="json", exclude={"kind", "name"}, exclude_none=True)
        return Recipe(kind=RecipeKind(self.kind), params=params)  # type: ignore[attr-defined]


class OnnxRecipeSpec(_Spec):
    """A transform of an ONNX file: of the teacher, or of a variant built before it."""

    parent: Annotated[str, Field(pattern=VARIANT_ID)] | None = None
    needs_torch: ClassVar[bool] = False

    def variant_id(self) -> str:
        if self.name:
            return self.name
        return f"{self.parent}.{self.default_name()}" if self.parent else self.default_name()

    def quantize_config(self) -> QuantizeConfig:
        """The ``optimize.quantize`` config this recipe runs."""
        raise NotImplementedError


class QuantizeDynamicSpec(OnnxRecipeSpec):
    kind: Literal["quantize-dynamic"] = "quantize-dynamic"
    keep_float_ends: bool = True  # first and last conv stay float (see optimize.quantize)

    def default_name(self) -> str:
        return "int8-dynamic"

    def quantize_config(self) -> QuantizeConfig:
        return QuantizeConfig(mode=QuantizeMode.DYNAMIC, keep_float_ends=self.keep_float_ends)


class QuantizeStaticSpec(OnnxRecipeSpec):
    kind: Literal["quantize-static"] = "quantize-static"
    calibration_frames: Annotated[int, Field(ge=1, le=256)] = 8
    calibration_width: Annotated[int, Field(ge=16)] = 320
    calibration_height: Annotated[int, Field(ge=16)] = 180
    per_channel: bool = True
    keep_float_ends: bool = True

    def default_name(self) -> str:
        return "int8-static"

    def quantize_config(self) -> QuantizeConfig:
        return QuantizeConfig(mode=QuantizeMode.STATIC, per_channel=self.per_channel,
                              calibration_size=(self.calibration_width,
                                                self.calibration_height),
                              calibration_frames=self.calibration_frames,
                              keep_float_ends=self.keep_float_ends)


class Fp16WeightsSpec(OnnxRecipeSpec):
    kind: Literal["fp16-weights"] = "fp16-weights"
    layout: Fp16Layout = Fp16Layout.ALL_FP16

    def default_name(self) -> str:
        return "fp16-weights" if self.layout is Fp16Layout.ALL_FP16 else "fp16-cast-weights"

    def quantize_config(self) -> QuantizeConfig:
        return QuantizeConfig(mode=QuantizeMode.FP16_WEIGHTS, fp16_layout=self.layout)


class Int8WeightsSpec(OnnxRecipeSpec):
    kind: Literal["int8-weights"] = "int8-weights"
    scheme: Int8Scheme = Int8Scheme.SYMMETRIC

    def default_name(self) -> str:
        return "int8-weights" if self.scheme is Int8Scheme.SYMMETRIC else "int8-weights-asym"

    def quantize_config(self) -> QuantizeConfig:
        return QuantizeConfig(mode=QuantizeMode.INT8_WEIGHTS, int8_scheme=self.scheme)


class TrainingSpec(_Spec):
    """Fields passed on to ``distill.DistillConfig`` (time_budget_s caps the run)."""

    steps: Annotated[int, Field(ge=1)] = 1000
    batch_size: Annotated[int, Field(ge=1)] = 4
    crop: Annotated[int, Field(ge=16, multiple_of=4)] = 256
    lr: Annotated[float, Field(gt=0)] = 1e-3
    seed: int = 0
    time_budget_s: Annotated[float, Field(gt=0)] | None = None

    def distill_fields(self) -> dict[str, object]:
        return {"steps": self.steps, "batch_size": self.batch_size, "crop": self.crop,
                "lr": self.lr, "seed": self.seed, "time_budget_s": self.time_budget_s}


class PruneUnstructuredSpec(_Spec):
    kind: Literal["prune-unstructured"] = "prune-unstructured"
    amount: Annotated[float, Field(gt=0, lt=1)] = 0.5

    def default_name(self) -> str:
        return f"prune-u{round(self.amount * 100)}"


class PruneStructuredSpec(TrainingSpec):
    kind: Literal["prune-structured"] = "prune-structured"
    ratio: Annotated[float, Field(gt=0, lt=1)] = 0.5

    def default_name(self) -> str:
        return f"prune-s{round(self.ratio * 100)}"


class DistillSpec(TrainingSpec):
    kind: Literal["distill"] = "distill"
    widths: tuple[int, int, int] = (16, 32, 64)
    residual_blocks: Annotated[int, Field(ge=0, le=16)] = 3

    @field_validator("widths")
    @classmethod
    def _positive(cls, widths: tuple[int, int, int]) -> tuple[int, int, int]:
        if min(widths) < 1:
            raise ValueError("widths must be positive")
        return widths

    def default_name(self) -> str:
        a, b, c = self.widths
        return f"distill-{a}-{b}-{c}-r{self.residual_blocks}"


RecipeSpec = Annotated[
    QuantizeDynamicSpec | QuantizeStaticSpec | Fp16WeightsSpec | Int8WeightsSpec
    | PruneUnstructuredSpec | PruneStructuredSpec | DistillSpec,
    Field(discriminator="kind"),
]


class EvaluationSpec(BaseModel):
    """Fidelity frames: ``frames`` held out of training, compared at width x height."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    width: Annotated[int, Field(ge=16)] = 320
    height: Annotated[int, Field(ge=16)] = 180
    frames: Annotated[int, Field(ge=1)] = 4


class LatencySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    resolutions: tuple[str, ...] = ("640x360",)
    runs: Annotated[int, Field(ge=1)] = 5
    warmup: Annotated[int, Field(ge=0)] = 1

    @field_validator("resolutions")
    @classmethod
    def _parse(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            parse_resolution(value)
        return values

    def sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple(parse_resolution(v) for v in self.resolutions)


def parse_resolution(text: str) -> tuple[int, int]:
    """``"640x360"`` -> (640, 360); each side at least 16 (the models downsample 4x)."""
    from stylebridge.sizes import parse_size

    width, height = parse_size(text)
    if min(width, height) < 16:
        raise InvalidInputError(f"resolution {text!r} is too small; use at least 16x16")
    return width, height


class RecipeSet(BaseModel):
    """Everything one optimize run builds and measures."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    name: str = "custom"
    recipes: tuple[RecipeSpec, ...] = Field(default=(), alias="recipe")
    evaluation: EvaluationSpec = EvaluationSpec()
    latency: LatencySettings = LatencySettings()

    def check(self) -> RecipeSet:
        """Refuse duplicate ids and parents that are not built earlier in the list."""
        seen: set[str] = set()
        for spec in self.recipes:
            parent = getattr(spec, "parent", None)
            if parent is not None and parent not in seen:
                raise InvalidInputError(f"recipe {spec.variant_id()!r} names parent {parent!r}, "
                                        "which no earlier recipe builds; list it first")
            if spec.variant_id() in seen:
                raise InvalidInputError(f"two recipes build {spec.variant_id()!r}; give one a "
                                        "distinct name")
            seen.add(spec.variant_id())
        return self


def quick_recipes() -> RecipeSet:
    """Seconds, not minutes: every kind once, tiny training, 160x90 evaluation."""
    tiny = {"steps": 4, "batch_size": 1, "crop": 64, "time_budget_s": 20.0}
    return RecipeSet(
        name="quick",
        recipes=(
            QuantizeDynamicSpec(),
            QuantizeStaticSpec(calibration_frames=2, calibration_width=160,
                               calibration_height=90),
            Fp16WeightsSpec(),
            Int8WeightsSpec(),
            PruneUnstructuredSpec(amount=0.5),
            PruneStructuredSpec(ratio=0.5, **tiny),
            DistillSpec(widths=(8, 16, 32), residual_blocks=1, **tiny),
        ),
        evaluation=EvaluationSpec(width=160, height=90, frames=2),
        latency=LatencySettings(resolutions=("160x90",), runs=5, warmup=1),
    ).check()


def default_recipes() -> RecipeSet:
    """The full set for one model in ~30 min of CPU on 2 cores (training is budgeted)."""
    return RecipeSet(
        name="default",
        recipes=(
            QuantizeDynamicSpec(),
            QuantizeStaticSpec(),
            Fp16WeightsSpec(),
            Int8WeightsSpec(),
            PruneUnstructuredSpec(amount=0.5),
            PruneStructuredSpec(ratio=0.5, steps=1500, batch_size=2, crop=192,
                                time_budget_s=300.0),
            DistillSpec(widths=(16, 32, 64), residual_blocks=3, steps=4000, batch_size=2,
                        crop=192, time_budget_s=600.0),
            DistillSpec(widths=(8, 16, 32), residual_blocks=2, steps=3000, batch_size=2,
                        crop=192, time_budget_s=300.0),
            Fp16WeightsSpec(parent="distill-16-32-64-r3"),
        ),
        evaluation=EvaluationSpec(width=320, height=180, frames=4),
        latency=LatencySettings(resolutions=("640x360",), runs=20, warmup=1),
    ).check()


BUILTIN_SETS = {"quick": quick_recipes, "default": default_recipes}


def load_recipes(name_or_path: str | Path) -> RecipeSet:
    """A built-in set by name ("quick", "default") or a set from a TOML file."""
    key = str(name_or_path)
    if key in BUILTIN_SETS:
        return BUILTIN_SETS[key]()
    path = Path(name_or_path)
    if not path.is_file():
        raise NotFoundError(f"recipe {key!r} is neither a built-in set "
                            f"({', '.join(BUILTIN_SETS)}) nor a TOML file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not valid TOML: {exc}") from exc
    data.setdefault("name", path.stem)
    try:
        return RecipeSet.model_validate(data).check()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"{path}: {first['msg']} at {where}") from exc
