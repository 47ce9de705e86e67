"""What each engine's ONNX importer supports, per operator and attribute.

Written from these sources (read 2025; summarized here, nothing copied):

* Barracuda 1.0.x — docs "Supported ONNX operators" 1.0.4
  https://docs.unity3d.com/Packages/com.unity.barracuda@1.0/manual/SupportedOperators.html;
  ops the docs omit but CHANGELOG.md adds before 1.0 (Round 0.5.0; Expand,
  DepthToSpace, SpaceToDepth 0.7.1; LRN 0.8.0); importer source in the
  Unity-Technologies/barracuda-release mirror: Barracuda/Editor/ONNXModelImporter.cs
  (1.0-era, commit ca16b85) and Barracuda/Runtime/ONNX/ONNXModelConverter.cs +
  ONNXNodeWrapper.cs at 1.1.0 (commit 002c39d): legacy importer that bakes every
  all-constant node, reads Pad ``pads`` and Squeeze/Unsqueeze ``axes`` from
  attributes only, needs constant Resize scales/sizes and MatMul B (issue #68).
* Barracuda 2.x — docs 2.0 https://docs.unity3d.com/Packages/com.unity.barracuda@2.0/manual/SupportedOperators.html
  and ONNXModelConverter.cs at 2.4.0-preview (commit b1eac6c), ``UseStandardImporter``:
  the public constructor uses ImportMode.Standard, which bakes no Cast/Sub/Mul chains
  (baking is ``!standardImport && AreAllInputsConst``); Conv/ConvTranspose/
  InstanceNormalization read weights with ``Input1Constant``.
* Barracuda 3.x — the 2.x list plus the ops registered by the 2.4.0-preview standard
  importer (Erf, Sign, Softplus, HardSigmoid, Range, ScatterND, RoiAlign); the
  mirror holds no 3.0.0 copy of the converter. barracuda-release issue #327 shows
  3.0.0 failing with the same "only constant tensors are supported for `W`" error.
* Sentis 1.x — needle-mirror/com.unity.sentis Documentation~/supported-operators.md and
  Editor/ONNX/ONNXModelConverter.cs at 1.6.0-pre.1 (commit 0e00df8); docs
  https://docs.unity3d.com/Packages/com.unity.sentis@1.6/manual/supported-operators.html
* Sentis 2.x — the same files at 2.1.2 (commit 61b0e10): same operator list and the same
  "Unsupported operators" list (all quantized operators).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from stylebridge.engines.findings import Verdict
from stylebridge.engines.graph import ImportConstantFolding
from stylebridge.engines.resize_rules import (
    BarracudaResizeRule,
    BarracudaUpsampleRule,
    SentisResizeRule,
)
from stylebridge.engines.rules import (
    AttributeCheck,
    BarracudaCastRule,
    BarracudaConvRule,
    ConstantInput,
    ConstantValueAttribute,
    KernelRank,
    LegacyShapeOfRuntimeTensor,
    PadRule,
    Rule,
    SplitNeedsSizes,
    absent,
    all_ones,
    equals,
)
from stylebridge.engines.targets import Engine

# No engine has quantized operators (Sentis lists them under "Unsupported operators";
# Barracuda has no importer for any of them). The com.microsoft ones come from
# onnxruntime.quantization.
QUANTIZED_OPS = frozenset({
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv",
    "QLinearMatMul", "ConvInteger", "MatMulInteger", "QLinearAdd", "QLinearMul",
    "QLinearSigmoid", "QLinearLeakyRelu", "QLinearConcat", "QLinearGlobalAveragePool",
    "QLinearAveragePool", "QLinearSoftmax", "QLinearWhere", "QGemm",
    "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QAttention", "DynamicQuantizeLSTM",
})


@dataclass(frozen=True)
class OpSupport:
    """One operator an engine imports.

    ``min_opset``/``max_opset`` bound the operator *version* (the opset that introduced
    the node's version, resolved with onnx.defs), so a model at opset 17 whose Conv is
    still Conv-11 is judged as Conv-11. ``version_note`` says why a newer version fails.
    """

    op_type: str
    min_opset: int = 1
    max_opset: int | None = None
    rules: tuple[Rule, ...] = ()
    notes: str = ""
    version_note: str = ""
    source: str = ""


@dataclass(frozen=True)
class EngineTable:
    """An engine's importer: its operators, what it folds, and how it fails."""

    engine: Engine
    label: str
    ops: Mapping[str, OpSupport]
    folding: ImportConstantFolding
    is_barracuda: bool
    weight_expansion_loads: bool  # int8 weights expanded by Cast/Sub/Mul reach Conv
    notes: tuple[str, ...]
    source: str

    def support(self, op_type: str) -> OpSupport | None:
        return self.ops.get(op_type)


_RANDOM = frozenset({"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike"})

_B10_DOCS = "https://docs.unity3d.com/Packages/com.unity.barracuda@1.0/manual/SupportedOperators.html"
_B10_SRC = ("barracuda-release Barracuda/Editor/ONNXModelImporter.cs (1.0-era) and "
            "Runtime/ONNX/ONNXModelConverter.cs @1.1.0")
_B20_DOCS = "https://docs.unity3d.com/Packages/com.unity.barracuda@2.0/manual/SupportedOperators.html"
_B2_SRC = "barracuda-release Barracuda/Runtime/ONNX/ONNXModelConverter.cs @2.4.0-preview"
_S1_DOCS = "https://docs.unity3d.com/Packages/com.unity.sentis@1.6/manual/supported-operators.html"
_S2_DOCS = "https://docs.unity3d.com/Packages/com.unity.sentis@2.1/manual/supported-operators.html"

def _names(text: str) -> tuple[str, ...]:
    """Operator names from a space-separated list (easier to compare with the docs)."""
    return tuple(text.split())


_BARRACUDA_1_0_OPS = _names(
    "Constant Reshape Shape Unsqueeze Squeeze Flatten Concat Slice Gather OneHot LSTM Add Sum "
    "Sub Mul Div Pow Min Max Mean Greater Equal Or And Not Xor Pad AveragePool MaxPool "
    "GlobalAveragePool GlobalMaxPool Upsample Resize Transpose Gemm MatMul Conv ConvTranspose "
    "BatchNormalization ImageScaler InstanceNormalization RandomNormal RandomNormalLike "
    "RandomUniform RandomUniformLike Multinomial ReduceMax ReduceMean ReduceMin ReduceProd "
    "ReduceSum Identity Cast Dropout Relu Softmax LogSoftmax Tanh Sqrt Sigmoid Elu LeakyRelu "
    "Selu PRelu Exp Log Reciprocal Abs Neg Ceil Floor Clip "
    # CHANGELOG additions before 1.0.0 that the 1.0 docs page does not list:
    "Round Expand DepthToSpace SpaceToDepth LRN"
)

_BARRACUDA_2_OPS = _names(
    "Add And ArgMax ArgMin AveragePool BatchNormalization Cast Concat Constant ConstantOfShape "
    "Conv ConvTranspose DepthToSpace Div Dropout Equal Expand Flatten Gather Gemm "
    "GlobalAveragePool GlobalMaxPool Greater Identity ImageScaler InstanceNormalization Less "
    "LessOrEqual LRN LSTM MatMul Max MaxPool Mean Min Mul Multinomial NonMaxSuppression "
    "NonZero Not OneHot Or Pad Pow RandomNormal RandomNormalLike RandomUniform "
    "RandomUniformLike ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum Reshape Resize "
    "Shape Slice SpaceToDepth Split Squeeze Sub Sum Tile TopK Transpose Unsqueeze Upsample "
    "Where Xor Abs Acos Acosh Asin Asinh Atan Atanh Ceil Clip Cos Cosh Elu Exp Floor "
    "LeakyRelu Log LogSoftmax Neg PRelu Reciprocal Relu Round Selu Sigmoid Sin Sinh Softmax "
    "Sqrt Tan Tanh"
)

_BARRACUDA_3_EXTRA = _names("Erf Sign Softplus HardSigmoid Range ScatterND RoiAlign")

_SENTIS_OPS = _names(
    "Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization "
    "Bernoulli Cast CastLike Ceil Celu Clip Compress Concat Constant ConstantOfShape Conv "
    "ConvTranspose Cos Cosh CumSum DepthToSpace Div Dropout Einsum Elu Equal Erf Exp Expand "
    "Flatten Floor Gather GatherElements GatherND Gemm GlobalAveragePool GlobalMaxPool Greater "
    "GreaterOrEqual GridSample Hardmax HardSigmoid HardSwish Identity InstanceNormalization "
    "IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax LRN LSTM MatMul "
    "Max MaxPool Mean Min Mod Mul Multinomial Neg NonMaxSuppression NonZero Not OneHot Or Pad "
    "Pow PRelu RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal "
    "ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd "
    "ReduceSum ReduceSumSquare Relu Reshape Resize RoiAlign Round Scatter ScatterElements "
    "ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax Softplus Softsign "
    "SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose "
    "Trilu Unsqueeze Upsample Where Xor"
)

_WRONG = Verdict.CANNOT_RUN
_DIFF = Verdict.RUNS_WITH_DIFFERENCE


def _barracuda_common(source: str, kernel_ranks: frozenset[int]) -> list[OpSupport]:
    """Rules every Barracuda version shares (the importers agree on these)."""
    zero_bias = "a zero bias"
    return [
        OpSupport("Conv", rules=(ConstantInput(1, "W"), ConstantInput(2, "B", False, zero_bias),
                                 BarracudaConvRule()), source=source),
        OpSupport("ConvTranspose", rules=(
            ConstantInput(1, "W"), ConstantInput(2, "B", False, zero_bias),
            AttributeCheck("group", equals(1), _WRONG, "it is treated as 1 (wrong result)",
                           "use group=1"),
            AttributeCheck("dilations", all_ones, _WRONG, "it is treated as 1 (wrong result)",
                           "use dilation 1"),
            AttributeCheck("output_shape", absent, _WRONG,
                           "the output size follows strides, pads and output_padding",
                           "export with output_padding instead of output_shape"),
            KernelRank(kernel_ranks)), source=source),
        OpSupport("InstanceNormalization", rules=(
            ConstantInput(1, "scale"), ConstantInput(2, "B", False, zero_bias)), source=source),
        OpSupport("BatchNormalization", rules=(
            ConstantInput(4, "var"), ConstantInput(1, "scale", False, "1"),
            ConstantInput(2, "B", False, "0"), ConstantInput(3, "mean", False, "0")),
            source=source),
        OpSupport("Clip", rules=(ConstantInput(1, "min", False, "no lower bound"),
                                 ConstantInput(2, "max", False, "no upper bound")), source=source),
        OpSupport("Cast", rules=(BarracudaCastRule(),),
                  notes="imported as Identity: data stays float32", source=source),
        OpSupport("Constant", rules=(ConstantValueAttribute(),), source=source),
        OpSupport("Flatten", rules=(AttributeCheck(
            "axis", equals(1), _WRONG, "it always flattens from axis 1", "flatten from axis 1"),),
            source=source),
        OpSupport("AveragePool", rules=(
            AttributeCheck("ceil_mode", equals(0), _WRONG, "it rounds the output size down",
                           "use ceil_mode=0"),
            AttributeCheck("count_include_pad", equals(0), _DIFF,
                           "border averages exclude the padding")), source=source),
        OpSupport("MaxPool", rules=(
            AttributeCheck("ceil_mode", equals(0), _WRONG, "it rounds the output size down",
                           "use ceil_mode=0"),
            AttributeCheck("dilations", all_ones, _WRONG, "it pools without dilation",
                           "use dilation 1")), source=source),
    ]


def _barracuda_1_0() -> EngineTable:
    source = f"{_B10_DOCS}; {_B10_SRC}"
    attr_only = "opset 13 moved axes to an input; the 1.x importer reads only the attribute"
    special = [
        *_barracuda_common(source, frozenset({4})),
        OpSupport("Pad", max_opset=2, rules=(PadRule(frozenset({"constant", "reflect", "edge"}),
                                                     constant_3d=False, mirror_3d=False),),
                  version_note="Pad-11 moved `pads` to an input; the 1.x importer reads only "
                               "the attribute, so the node would pad by 0 pixels",
                  source=source),
        OpSupport("Resize", min_opset=10, max_opset=13,
                  rules=(BarracudaResizeRule(dynamic_ok=False, three_d=False),), source=source),
        OpSupport("Upsample", max_opset=10, rules=(BarracudaUpsampleRule(three_d=False),),
                  source=source),
        OpSupport("Unsqueeze", max_opset=11, version_note=attr_only, source=source),
        OpSupport("Squeeze", max_opset=11, version_note=attr_only, source=source),
        OpSupport("ReduceSum", max_opset=11, version_note=attr_only, source=source),
        OpSupport("Gemm", rules=(
            ConstantInput(1, "B"),
            AttributeCheck("alpha", equals(1.0), _WRONG, "it uses 1", "fold alpha into B"),
            AttributeCheck("beta", equals(1.0), _WRONG, "it uses 1", "fold beta into C"),
            AttributeCheck("transA", equals(0), _WRONG, "it uses 0", "transpose A first")),
            source=source),
        OpSupport("MatMul", rules=(ConstantInput(1, "B"),), source=source),
        OpSupport("Reshape", rules=(ConstantInput(1, "shape"),), source=source),
        OpSupport("Expand", rules=(ConstantInput(1, "shape"),), source=source),
        OpSupport("Slice", rules=(ConstantInput(1, "starts"), ConstantInput(2, "ends"),
                                  ConstantInput(3, "axes", False, "every axis"),
                                  ConstantInput(4, "steps", False, "step 1")), source=source),
        OpSupport("Shape", rules=(LegacyShapeOfRuntimeTensor(),), source=source),
    ]
    return _table(Engine.BARRACUDA_1_0, "Barracuda 1.0", _BARRACUDA_1_0_OPS, special, source,
                  folding=ImportConstantFolding(folds_all=True, never=_RANDOM),
                  is_barracuda=True, weight_expansion_loads=True,
                  notes=("Barracuda 1.0.x imports ONNX only in the Editor; runtime import with "
                         "ONNXModelConverter arrived in 1.1.0, so a model pushed over the "
                         "bridge cannot be swapped live on 1.0.x: import it in the Editor.",))


def _barracuda_2_3(engine: Engine) -> EngineTable:
    source = f"{_B20_DOCS}; {_B2_SRC}"
    names = _BARRACUDA_2_OPS + (_BARRACUDA_3_EXTRA if engine is Engine.BARRACUDA_3 else ())
    special = [
        *_barracuda_common(source, frozenset({3, 4})),
        # Pad-11+ takes pads (and the fill value) as inputs; the importer reads them only
        # from constants, like every other computed input (ConstantInput).
        OpSupport("Pad", max_opset=13, rules=(ConstantInput(1, "pads"),
                                              ConstantInput(2, "constant_value", False, "0"),
                                              PadRule(frozenset({"constant", "reflect", "edge"}),
                                                      constant_3d=True, mirror_3d=False)),
                  version_note="Pad-18 added an `axes` input and Pad-19 mode 'wrap', which the "
                               "importer ignores", source=source),
        OpSupport("Resize", min_opset=10, max_opset=13,
                  rules=(BarracudaResizeRule(dynamic_ok=True, three_d=True),),
                  version_note="Resize-18 added axes, antialias and keep_aspect_ratio_policy, "
                               "which the importer does not read", source=source),
        OpSupport("Upsample", max_opset=10, rules=(BarracudaUpsampleRule(three_d=True),),
                  source=source),
        OpSupport("Split", rules=(SplitNeedsSizes(),), source=source),
        OpSupport("Gemm", rules=(
            AttributeCheck("alpha", equals(1.0), _WRONG, "it uses 1", "fold alpha into B"),
            AttributeCheck("beta", equals(1.0), _WRONG, "it uses 1", "fold beta into C")),
            source=source),
        OpSupport("ArgMax", rules=(AttributeCheck("select_last_index", equals(0), _DIFF,
                                                  "ties pick the first index"),), source=source),
        OpSupport("ArgMin", rules=(AttributeCheck("select_last_index", equals(0), _DIFF,
                                                  "ties pick the first index"),), source=source),
    ]
    version = "2.x" if engine is Engine.BARRACUDA_2 else "3.x"
    folding = ImportConstantFolding(
        folds_all=False,
        propagating=frozenset({"Reshape", "Unsqueeze", "Squeeze", "Transpose", "Gather",
                               "Shape", "ConstantOfShape", "NonZero", "Range"}),
        never=_RANDOM)
    return _table(engine, f"Barracuda {version}", names, special, source, folding=folding,
                  is_barracuda=True, weight_expansion_loads=False,
                  notes=("Runtime import (new ONNXModelConverter(...).Convert(bytes), "
                         "ImportMode.Standard) folds only Constant/Reshape/Unsqueeze/Squeeze/"
                         "Transpose/Gather/Shape of constants: Conv, ConvTranspose and "
                         "InstanceNormalization weights must be stored tensors, not "
                         "Cast/Sub/Mul expansions.",))


def _sentis(engine: Engine) -> EngineTable:
    docs = _S1_DOCS if engine is Engine.SENTIS_1 else _S2_DOCS
    source = f"{docs}; needle-mirror/com.unity.sentis Editor/ONNX/ONNXModelConverter.cs"
    unsupported = "isn't supported by Sentis"
    special = [
        OpSupport("Resize", rules=(SentisResizeRule(),), source=source),
        OpSupport("Upsample", notes="maps to Resize (asymmetric, floor): same pixels",
                  source=source),
        OpSupport("Constant", rules=(ConstantValueAttribute(),), source=source),
        OpSupport("Pad", rules=(PadRule(frozenset({"constant", "reflect", "edge"}),
                                        constant_3d=True, mirror_3d=True),), source=source),
        OpSupport("ConvTranspose", rules=(
            AttributeCheck("group", equals(1), _WRONG, unsupported, "use group=1"),
            AttributeCheck("dilations", all_ones, _WRONG, unsupported, "use dilation 1"),
            AttributeCheck("output_shape", absent, _WRONG, unsupported,
                           "export with output_padding instead of output_shape")),
            source=source),
        OpSupport("AveragePool", rules=(
            AttributeCheck("ceil_mode", equals(0), _WRONG, unsupported, "use ceil_mode=0"),
            AttributeCheck("count_include_pad", equals(0), _DIFF, unsupported)), source=source),
        OpSupport("MaxPool", rules=(
            AttributeCheck("ceil_mode", equals(0), _WRONG, unsupported, "use ceil_mode=0"),
            AttributeCheck("dilations", all_ones, _WRONG, unsupported, "use dilation 1")),
            source=source),
        OpSupport("BatchNormalization", rules=(
            AttributeCheck("training_mode", equals(0), _WRONG, unsupported,
                           "export in eval mode"),), source=source),
    ]
    version = "1.x" if engine is Engine.SENTIS_1 else "2.x"
    return _table(engine, f"Sentis {version}", _SENTIS_OPS, special, source,
                  folding=ImportConstantFolding(folds_all=True, never=_RANDOM),
                  is_barracuda=False, weight_expansion_loads=True,
                  notes=("From Sentis 1.5 the ONNX importer is Editor-only: a built player "
                         "cannot import raw ONNX; serialize the model to .sentis in the "
                         "Editor.",))


def _table(engine: Engine, label: str, names: Iterable[str], special: Iterable[OpSupport],
           source: str, *, folding: ImportConstantFolding, is_barracuda: bool,
           weight_expansion_loads: bool, notes: tuple[str, ...]) -> EngineTable:
    ops = {name: OpSupport(name, source=source) for name in names}
    for support in special:
        if support.op_type in ops:  # only refine operators this version has
            ops[support.op_type] = support
    return EngineTable(engine=engine, label=label, ops=MappingProxyType(ops), folding=folding,
                       is_barracuda=is_barracuda,
                       weight_expansion_loads=weight_expansion_loads, notes=notes,
                       source=source)


_TABLES: Mapping[Engine, EngineTable] = MappingProxyType({
    Engine.BARRACUDA_1_0: _barracuda_1_0(),
    Engine.BARRACUDA_2: _barracuda_2_3(Engine.BARRACUDA_2),
    Engine.BARRACUDA_3: _barracuda_2_3(Engine.BARRACUDA_3),
    Engine.SENTIS_1: _sentis(Engine.SENTIS_1),
    Engine.SENTIS_2: _sentis(Engine.SENTIS_2),
})


def table_for(engine: Engine) -> EngineTable:
    """The operator table of ``engine``."""
    return _TABLES[engine]


def quantized_fix(table: EngineTable) -> str:
    """The fix for a quantized operator on this engine."""
    head = f"{table.label} has no quantized operators; "
    if table.weight_expansion_loads:
        return (head + "use the weight-only int8 variant (`stylebridge quantize --mode "
                "int8-weights`), which stores int8 weights expanded by Cast/Sub/Mul, or keep "
                "this model for Python inference only")
    return (head + "use the float32 model, or the fp16 weight-only variant (`stylebridge "
            "quantize --mode fp16-weights`: an all-fp16 graph, half the file, which Barracuda "
            "reads as float32; its runtime importer does not fold the int8 Cast/Sub/Mul "
            "expansion), or keep this model for Python inference only")
