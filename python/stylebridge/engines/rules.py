"""Per-operator rules: small callables that look at one node and say what an
engine's importer does with it.

Each rule is a frozen dataclass with ``__call__(ctx) -> Finding | None``; the
tables in ``engines.ops`` attach them to operators. The Resize and Upsample rules
live in ``engines.resize_rules`` (they are the long ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import onnx
from onnx import TensorProto

from stylebridge.engines.findings import Finding, Verdict
from stylebridge.engines.graph import (
    FLOAT_TYPES,
    GraphView,
    ImportConstantFolding,
    attribute,
    dtype_name,
    has_attribute,
    input_at,
)
from stylebridge.engines.targets import Engine

LOW_PRECISION_TYPES = frozenset({TensorProto.INT8, TensorProto.UINT8, TensorProto.FLOAT16})


@dataclass(frozen=True)
class NodeContext:
    """What a rule may look at: the node, the graph and the engine it is judged for."""

    node: onnx.NodeProto
    graph: GraphView
    engine: Engine
    label: str  # "Barracuda 2.x", "Sentis 1.x", … for messages
    folding: ImportConstantFolding

    @property
    def op(self) -> str:
        return self.node.op_type

    @property
    def version(self) -> int | None:
        return self.graph.op_version(self.node)

    def is_constant(self, name: str) -> bool:
        return self.graph.is_import_constant(name, self.folding)


class Rule(Protocol):
    def __call__(self, ctx: NodeContext) -> Finding | None: ...


# ---- value predicates used by AttributeCheck --------------------------------------
def all_ones(value: object) -> bool:
    return all(int(v) == 1 for v in value)  # type: ignore[union-attr]


def equals(expected: object) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(expected, float):
            return abs(float(value) - expected) < 1e-6  # type: ignore[arg-type]
        return value == expected

    return check


def absent(_value: object) -> bool:
    """For attributes whose mere presence is ignored (``output_shape``)."""
    return False


@dataclass(frozen=True)
class AttributeCheck:
    """An attribute the importer ignores: flag it when set to a value that matters.

    ``ok`` says which values are harmless; otherwise the finding says what the
    engine does instead (``consequence``).
    """

    name: str
    ok: Callable[[object], bool]
    verdict: Verdict
    consequence: str
    fix: str = ""

    def __call__(self, ctx: NodeContext) -> Finding | None:
        if not has_attribute(ctx.node, self.name):
            return None
        value = attribute(ctx.node, self.name)
        if self.ok(value):
            return None
        return Finding(self.verdict,
                       f"{ctx.op}: {self.name}={value!r} is ignored by {ctx.label}; "
                       f"{self.consequence}", self.fix)


@dataclass(frozen=True)
class ConstantInput:
    """An input the importer reads only from constants (initializers, Constant nodes,
    or what the importer folds). ``required``: the import fails otherwise; optional
    inputs are silently replaced by ``default`` instead."""

    index: int
    role: str
    required: bool = True
    default: str = ""

    def __call__(self, ctx: NodeContext) -> Finding | None:
        name = input_at(ctx.node, self.index)
        if not name or ctx.is_constant(name):
            return None
        chain = ctx.graph.constant_chain(name)
        if self.required:
            reason = (f"{ctx.op}: input '{self.role}' is computed when the model runs "
                      f"({chain}); {ctx.label} reads it only from a constant at import and "
                      f"fails ('Currently only constant tensors are supported for "
                      f"`{self.role}` input in node of type {ctx.op}')")
        else:
            reason = (f"{ctx.op}: input '{self.role}' is computed when the model runs "
                      f"({chain}); {ctx.label} reads it only from a constant and silently "
                      f"uses {self.default or 'the default'} instead")
        return Finding(Verdict.CANNOT_RUN, reason, _constant_fix(ctx, name))


def _constant_fix(ctx: NodeContext, name: str) -> str:
    """The fix for a non-constant input: weight-only chains get their own advice."""
    if _expands_low_precision(ctx.graph, name):
        return ("this engine's importer does not fold Cast/Sub/Mul weight expansion into "
                "constants: ship the float32 model here, or an all-fp16 graph (fp16 "
                "initializers used directly, Cast only at input and output: `stylebridge "
                f"quantize --mode fp16-weights`), which {ctx.label} reads as float32; "
                "weight-only int8 variants load on "
                "barracuda-1.0 and Sentis")
    return ("make it a constant in the file: export with constant folding "
            "(torch.onnx.export(..., do_constant_folding=True)) or fold it with "
            "onnx-simplifier before checking again")


def _expands_low_precision(graph: GraphView, name: str, depth: int = 8) -> bool:
    """Whether ``name`` is computed (Cast/Sub/Mul/…) from an int8/uint8/fp16 initializer."""
    if depth == 0:
        return False
    tensor = graph.initializers.get(name)
    if tensor is not None:
        return tensor.data_type in LOW_PRECISION_TYPES
    node = graph.producers.get(name)
    if node is None or node.op_type not in ("Cast", "Sub", "Mul", "Add", "Reshape",
                                            "DequantizeLinear"):
        return False
    return any(_expands_low_precision(graph, i, depth - 1) for i in node.input if i)


@dataclass(frozen=True)
class ConstantValueAttribute:
    """Constant nodes: both engines read only the tensor attribute ``value``."""

    def __call__(self, ctx: NodeContext) -> Finding | None:
        if has_attribute(ctx.node, "sparse_value"):
            return Finding(Verdict.CANNOT_RUN,
                           f"Constant: sparse_value is not supported by {ctx.label}",
                           "store the constant densely (attribute 'value')")
        if has_attribute(ctx.node, "value"):
            return None
        used = next((a.name for a in ctx.node.attribute), "none")
        return Finding(Verdict.CANNOT_RUN,
                       f"Constant: uses attribute '{used}'; {ctx.label} reads only the "
                       "tensor attribute 'value' and fails to import it",
                       "rewrite the Constant with a tensor 'value' "
                       "(onnx.helper.make_tensor), as exporters do")


@dataclass(frozen=True)
class PadRule:
    """Pad: which modes exist, spatial-only padding, and the 2-D limit of mirror modes."""

    modes: frozenset[str]
    constant_3d: bool
    mirror_3d: bool

    def __call__(self, ctx: NodeContext) -> Finding | None:
        mode = str(attribute(ctx.node, "mode", "constant"))
        if mode not in self.modes:
            return Finding(Verdict.CANNOT_RUN,
                           f"Pad: mode='{mode}' is not supported by {ctx.label}",
                           f"use one of {', '.join(sorted(self.modes))}")
        pads = self._pads(ctx)
        rank = len(pads) // 2 if pads is not None else ctx.graph.rank(input_at(ctx.node, 0))
        if pads is not None and rank >= 2:
            begin, end = pads[:rank], pads[rank:]
            if any(int(p) != 0 for p in (begin[0], begin[1], end[0], end[1])):
                return Finding(Verdict.CANNOT_RUN,
                               f"Pad: pads {list(map(int, pads))} pad the batch or channel "
                               f"axis; {ctx.label} pads only spatial axes and ignores the rest "
                               "(the output shape differs)",
                               "pad only the spatial (H, W) axes")
        if rank is None:
            if mode == "constant":
                return None
            return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                           f"Pad: the tensor rank is unknown; {ctx.label} has {mode} padding "
                           "only for 4-D tensors (2-D images)",
                           "export with static ranks so the checker can verify it")
        spatial = rank - 2
        if spatial >= 3 and mode != "constant" and not self.mirror_3d:
            return Finding(Verdict.CANNOT_RUN,
                           f"Pad: {mode} padding of a {rank}-D tensor ({spatial} spatial "
                           f"axes); {ctx.label} has {mode} padding only for 2-D images "
                           "(4-D tensors)",
                           "pad 4-D tensors (N, C, H, W) only, or run this model on Sentis, "
                           "which pads tensors of any rank")
        if spatial >= 3 and mode == "constant" and not self.constant_3d:
            return Finding(Verdict.CANNOT_RUN,
                           f"Pad: constant padding of a {rank}-D tensor; {ctx.label} pads "
                           "only 2-D images (it warns '3D pads are not supported yet')",
                           "pad 4-D tensors only")
        return None

    @staticmethod
    def _pads(ctx: NodeContext) -> list[int] | None:
        if ctx.version is not None and ctx.version < 11:
            value = attribute(ctx.node, "pads", attribute(ctx.node, "paddings"))
            return list(value) if value is not None else None  # type: ignore[arg-type]
        value = ctx.graph.value(input_at(ctx.node, 1))
        return None if value is None else [int(v) for v in value.ravel()]


@dataclass(frozen=True)
class BarracudaConvRule:
    """Conv on Barracuda: every group > 1 becomes a depthwise convolution; dilation is
    applied by expanding the kernel at import; kernel rank 3-5."""

    conv3d_groups: bool = False

    def __call__(self, ctx: NodeContext) -> Finding | None:
        weights = ctx.graph.shape(input_at(ctx.node, 1))
        group = int(attribute(ctx.node, "group", 1))  # type: ignore[arg-type]
        rank = len(weights) if weights is not None else None
        if rank is not None and rank not in (3, 4, 5):
            return Finding(Verdict.CANNOT_RUN,
                           f"Conv: {rank}-D kernel; {ctx.label} has 1-D, 2-D and 3-D "
                           "convolutions only", "use 1-D to 3-D convolutions")
        if group > 1:
            if rank == 5:
                return Finding(Verdict.CANNOT_RUN,
                               f"Conv: grouped 3-D convolution (group={group}) is not "
                               f"supported by {ctx.label}", "use group=1 for 3-D convolutions")
            per_group = weights[1] if weights is not None else None
            if per_group is None:
                return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                               f"Conv: group={group} with unknown weight shape; {ctx.label} "
                               "imports every Conv with group > 1 as depthwise",
                               "keep weights as initializers so the checker can verify")
            if per_group != 1:
                return Finding(Verdict.CANNOT_RUN,
                               f"Conv: grouped convolution (group={group}, {per_group} input "
                               f"channels per group); {ctx.label} imports every Conv with "
                               "group > 1 as a depthwise convolution, so the result is wrong",
                               "use group=1 or depthwise convolutions (one input channel per "
                               "group), or run this model on Sentis")
            return Finding(Verdict.RUNS, "Conv: imported as DepthwiseConv2D")
        dilations = attribute(ctx.node, "dilations")
        if dilations is not None and not all_ones(dilations):
            return Finding(Verdict.RUNS, f"Conv: dilations {list(dilations)} are applied by "  # type: ignore[arg-type]
                           "expanding the kernel at import (same result, more work)")
        return None


@dataclass(frozen=True)
class KernelRank:
    """ConvTranspose and friends: which weight ranks the importer handles."""

    allowed: frozenset[int]

    def __call__(self, ctx: NodeContext) -> Finding | None:
        rank = ctx.graph.rank(input_at(ctx.node, 1))
        if rank is None or rank in self.allowed:
            return None
        return Finding(Verdict.CANNOT_RUN,
                       f"{ctx.op}: {rank}-D kernel is not supported by {ctx.label} "
                       f"(supported: {sorted(self.allowed)}-D weights)",
                       "use 2-D transposed convolutions")


@dataclass(frozen=True)
class BarracudaCastRule:
    """Barracuda imports Cast as Identity: exact for floats and for whole numbers only."""

    def __call__(self, ctx: NodeContext) -> Finding | None:
        to = attribute(ctx.node, "to")
        if to is None or int(to) in FLOAT_TYPES:  # type: ignore[arg-type]
            return None
        source = ctx.graph.elem_type(input_at(ctx.node, 0))
        if source is None or source not in FLOAT_TYPES:
            return None  # integer to integer (shape arithmetic): Identity is exact
        return Finding(Verdict.RUNS_WITH_DIFFERENCE,
                       f"Cast: to {dtype_name(int(to))} from {dtype_name(source)} is imported "  # type: ignore[arg-type]
                       f"as Identity by {ctx.label}: values are not truncated to whole numbers",
                       "round explicitly (Floor) before the Cast, or cast only whole numbers")


@dataclass(frozen=True)
class SplitNeedsSizes:
    """Barracuda's Split reads the split sizes only from the ``split`` attribute."""

    def __call__(self, ctx: NodeContext) -> Finding | None:
        if has_attribute(ctx.node, "split"):
            return None
        return Finding(Verdict.CANNOT_RUN,
                       f"Split: no 'split' attribute (opset 13 passes sizes as an input or "
                       f"splits equally); {ctx.label} fails with 'Unsupported default "
                       "attribute `split`'",
                       "export with opset ≤ 12 and explicit split sizes")


@dataclass(frozen=True)
class LegacyShapeOfRuntimeTensor:
    """Barracuda 1.x turns Shape of a run-time tensor into a constant with 0 for the
    spatial sizes; only the Upsample-9 scale pattern (shape·k / shape) survives that.
    Consumers that need the real sizes are judged on their own (they see no constant)."""

    def __call__(self, ctx: NodeContext) -> Finding | None:
        if ctx.is_constant(input_at(ctx.node, 0)):
            return None
        return Finding(Verdict.RUNS,
                       f"Shape: {ctx.label} replaces the run-time H and W by 0 at import; "
                       "only the Upsample-9 scale pattern survives that")
