"""Resize and Upsample: what Barracuda and Sentis do with the sampling attributes.

Barracuda (every version) maps Resize/Upsample to Upsample2D/3D, AvgPool2D (scales
below 1) or Resample2D (``sizes`` input), reads ``mode`` only, warns about and
ignores ``coordinate_transformation_mode``, ``nearest_mode``, ``cubic_coeff_a``,
``exclude_outside`` and ``extrapolation_value``, and rounds scales to integers.
Nearest upsampling there reads input ``floor(i / scale)``; whether that differs from
the model's own modes is decided exactly by ``engines.sampling``.
Sentis reads both modes; it does not support ``cubic_coeff_a``, ``exclude_outside``,
``extrapolation_value`` and ``roi``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylebridge.engines.findings import Finding, Verdict, combine
from stylebridge.engines.graph import attribute, has_attribute, input_at
from stylebridge.engines.rules import NodeContext
from stylebridge.engines.sampling import first_mismatch

_LINEAR = frozenset({"linear", "bilinear"})
_ASSUMED_FACTORS = (2, 3, 4)
_SCALE_FIX = ("export the upsampling with a constant integer scale factor "
              "(F.interpolate(x, scale_factor=2, mode='nearest') or nn.Upsample(scale_factor=2))")


@dataclass(frozen=True)
class _Scales:
    """What is known about a resize's scales: the factors, or why they are unknown."""

    factors: tuple[int, ...] | None
    problem: Finding | None = None


def _barracuda_scales(ctx: NodeContext, values: np.ndarray | None, name: str,
                      dynamic_ok: bool, three_d: bool) -> _Scales:
    if values is None:
        if name and not ctx.is_constant(name) and not dynamic_ok:
            return _Scales(None, Finding(
                Verdict.CANNOT_RUN,
                f"{ctx.op}: scales are computed when the model runs "
                f"({ctx.graph.constant_chain(name)}); {ctx.label} reads them only from "
                "constants", _SCALE_FIX))
        return _Scales(None)
    scales = [float(v) for v in values.ravel()]
    if len(scales) >= 2 and (scales[0] != 1.0 or scales[1] != 1.0):
        return _Scales(None, Finding(
            Verdict.CANNOT_RUN,
            f"{ctx.op}: scales {scales} resize the batch or channel axis; {ctx.label} "
            "resizes only spatial axes", "resize only H and W"))
    spatial = scales[2:]
    if len(spatial) >= 3 and not three_d:
        return _Scales(None, Finding(
            Verdict.CANNOT_RUN, f"{ctx.op}: 3-D resizing is not supported by {ctx.label}",
            "resize 4-D tensors only"))
    if any(s < 1.0 for s in spatial):
        inverse = [1.0 / s for s in spatial]
        if all(abs(i - round(i)) < 1e-4 for i in inverse):
            return _Scales(None, Finding(
                Verdict.RUNS_WITH_DIFFERENCE,
                f"{ctx.op}: downscaling by {spatial} runs as AvgPool2D in {ctx.label} "
                "(an average, not the model's sampling)", "downscale with a strided Conv "
                "or AveragePool in the model itself"))
        return _Scales(None, Finding(
            Verdict.CANNOT_RUN,
            f"{ctx.op}: scales {spatial} have no integer inverse; {ctx.label} rounds them "
            "(the output size differs)", _SCALE_FIX))
    if any(abs(s - round(s)) > 1e-4 for s in spatial):
        rounded = [round(s) for s in spatial]
        return _Scales(None, Finding(
            Verdict.CANNOT_RUN,
            f"{ctx.op}: scales {spatial} are not integers; {ctx.label} rounds them to "
            f"{rounded} (the output size differs)", _SCALE_FIX))
    return _Scales(tuple(sorted({round(s) for s in spatial})))


def _nearest_finding(ctx: NodeContext, coord: str, nearest: str,
                     factors: tuple[int, ...] | None, explicit: bool) -> Finding:
    """Nearest upsampling: identical pixels or the first differing one."""
    assumed = factors is None
    checked = _ASSUMED_FACTORS if factors is None else factors
    how = f"coordinate_transformation_mode='{coord}' and nearest_mode='{nearest}'"
    try:
        mismatches = [(s, first_mismatch(coord, nearest, s)) for s in checked if s > 1]
    except ValueError:
        return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                       f"{ctx.op}: {how} are ignored by {ctx.label}, which reads input "
                       "floor(i/scale) (asymmetric/floor)",
                       "export with coordinate_transformation_mode='asymmetric' and "
                       "nearest_mode='floor'")
    differing = [(s, m) for s, m in mismatches if m is not None]
    if not differing:
        factor_text = ("integer factors" if assumed
                       else "factor " + ", ".join(str(s) for s in checked))
        if not explicit:
            return Finding(Verdict.RUNS,
                           f"{ctx.op}: nearest upsampling by {factor_text}: {ctx.label} reads "
                           "input floor(i/scale), the same pixels as this model")
        return Finding(Verdict.RUNS,
                       f"{ctx.op}: {how} are ignored by {ctx.label} (it reads input "
                       f"floor(i/scale)); for {factor_text} they select identical pixels")
    scale, (out_i, onnx_i, barracuda_i) = differing[0]
    return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                   f"{ctx.op}: {how} are ignored by {ctx.label}, which reads input "
                   f"floor(i/scale) (asymmetric/floor); at factor {scale} output pixel "
                   f"{out_i} reads input {onnx_i} in this model but {barracuda_i} in "
                   f"{ctx.label} (a shift of up to one source pixel)",
                   "export with coordinate_transformation_mode='asymmetric' and "
                   "nearest_mode='floor' (what nn.Upsample(mode='nearest') gives), or accept "
                   "the shift")


@dataclass(frozen=True)
class BarracudaResizeRule:
    """Resize-10/11/13 on Barracuda."""

    dynamic_ok: bool  # 2.x/3.x take run-time scales and sizes; 1.x needs constants
    three_d: bool

    def __call__(self, ctx: NodeContext) -> Finding | None:
        node = ctx.node
        version = ctx.version or 11
        mode = str(attribute(node, "mode", "nearest"))
        if version >= 11:
            coord = str(attribute(node, "coordinate_transformation_mode", "half_pixel"))
            nearest = str(attribute(node, "nearest_mode", "round_prefer_floor"))
            explicit = has_attribute(node, "coordinate_transformation_mode") or has_attribute(
                node, "nearest_mode")
            scales_name, sizes_name = input_at(node, 2), input_at(node, 3)
        else:  # Resize-10 samples like Upsample: asymmetric, floor
            coord, nearest, explicit = "asymmetric", "floor", False
            scales_name, sizes_name = input_at(node, 1), ""
        findings: list[Finding] = []
        if coord == "tf_crop_and_resize":
            return Finding(Verdict.CANNOT_RUN,
                           f"Resize: coordinate_transformation_mode='tf_crop_and_resize' needs "
                           f"the roi input, which {ctx.label} ignores",
                           "crop with Slice before a plain Resize")
        if mode not in _LINEAR and mode != "nearest":
            findings.append(Finding(Verdict.RUNS_WITH_DIFFERENCE,
                                    f"Resize: mode='{mode}' is not supported by {ctx.label}; "
                                    "it warns and resizes with nearest-neighbour",
                                    "use mode='nearest' or 'linear'"))
        if sizes_name:
            if not ctx.is_constant(sizes_name) and not self.dynamic_ok:
                return Finding(Verdict.CANNOT_RUN,
                               f"Resize: sizes are computed when the model runs "
                               f"({ctx.graph.constant_chain(sizes_name)}); {ctx.label} reads "
                               "sizes only from constants", _SCALE_FIX)
            scales = _Scales(None)
            findings.append(Finding(Verdict.RUNS,
                                    f"Resize: target sizes run as Resample2D in {ctx.label}"))
        else:
            scales = _barracuda_scales(ctx, ctx.graph.value(scales_name), scales_name,
                                       self.dynamic_ok, self.three_d)
        if scales.problem is not None:
            findings.append(scales.problem)
        else:
            findings.append(self._sampling(ctx, mode, coord, nearest, scales.factors, explicit))
        return combine(findings)

    @staticmethod
    def _sampling(ctx: NodeContext, mode: str, coord: str, nearest: str,
                  factors: tuple[int, ...] | None, explicit: bool) -> Finding:
        if mode in _LINEAR:
            return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                           f"Resize: bilinear with coordinate_transformation_mode='{coord}'; "
                           f"{ctx.label} ignores the mode and uses its own sampling grid "
                           "(not documented): edges may shift by a fraction of a pixel",
                           "prefer mode='nearest' for Barracuda, or measure the difference "
                           "with the live parity check")
        return _nearest_finding(ctx, coord, nearest, factors, explicit)


@dataclass(frozen=True)
class BarracudaUpsampleRule:
    """Upsample-1/7/9 on Barracuda (nearest Upsample is asymmetric/floor by definition)."""

    three_d: bool

    def __call__(self, ctx: NodeContext) -> Finding | None:
        node = ctx.node
        mode = str(attribute(node, "mode", "nearest"))
        scales_name = input_at(node, 1)
        if scales_name:
            values = ctx.graph.value(scales_name)
        elif has_attribute(node, "scales"):
            values = np.asarray(attribute(node, "scales"), dtype=np.float32)
        else:
            values = np.asarray([1.0, 1.0, attribute(node, "height_scale", 1.0),
                                 attribute(node, "width_scale", 1.0)], dtype=np.float32)
        # Barracuda takes run-time Upsample scales (dynamic Upsample2D) in every version.
        scales = _barracuda_scales(ctx, values, scales_name, dynamic_ok=True,
                                   three_d=self.three_d)
        if scales.problem is not None:
            return scales.problem
        if mode in _LINEAR:
            return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                           f"Upsample: bilinear; {ctx.label} uses its own sampling grid (not "
                           "documented): edges may shift by a fraction of a pixel",
                           "prefer mode='nearest' for Barracuda, or measure the difference "
                           "with the live parity check")
        if mode != "nearest":
            return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                           f"Upsample: mode='{mode}' is not supported by {ctx.label}; it "
                           "warns and resizes with nearest-neighbour", "use mode='nearest'")
        return None


@dataclass(frozen=True)
class SentisResizeRule:
    """Resize on Sentis: both sampling modes are read; a few attributes are not."""

    def __call__(self, ctx: NodeContext) -> Finding | None:
        node = ctx.node
        mode = str(attribute(node, "mode", "nearest"))
        coord = str(attribute(node, "coordinate_transformation_mode", "half_pixel"))
        findings: list[Finding] = []
        if coord == "tf_crop_and_resize" and input_at(node, 1):
            return Finding(Verdict.CANNOT_RUN,
                           f"Resize: the roi input (tf_crop_and_resize) is not supported by "
                           f"{ctx.label}", "crop with Slice before a plain Resize")
        ignored = (("cubic_coeff_a", -0.75, mode == "cubic"),
                   ("exclude_outside", 0, mode == "cubic"),
                   ("antialias", 0, True),
                   ("keep_aspect_ratio_policy", "stretch", True))
        for name, default, relevant in ignored:
            value = attribute(node, name, default)
            if relevant and value != default and not (
                    isinstance(default, float) and abs(float(value) - default) < 1e-6):  # type: ignore[arg-type]
                findings.append(Finding(Verdict.RUNS_WITH_DIFFERENCE,
                                        f"Resize: {name}={value!r} is ignored by {ctx.label} "
                                        f"(uses {default!r})",
                                        f"export with the default {name}"))
        return combine(findings)
