"""Can an engine run this ONNX model? A verdict per node and per model, each with the
concrete reason and a fix.

Pure: reads the ModelProto, never runs it (no ONNX Runtime). Operator knowledge lives
in ``engines.ops``; this module walks the graph and applies it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto

from stylebridge.engines.findings import Finding, Verdict, combine
from stylebridge.engines.graph import DEFAULT_DOMAINS, GraphView, dtype_name, node_label
from stylebridge.engines.ops import QUANTIZED_OPS, EngineTable, quantized_fix, table_for
from stylebridge.engines.rules import LOW_PRECISION_TYPES, NodeContext
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError, ModelLoadError, NotFoundError, native_message
from stylebridge.file_kinds import read_head, unreadable_hint

_log = logging.getLogger(__name__)

__all__ = ["CheckReport", "FindingKind", "ModelFinding", "NodeVerdict", "Verdict",
           "check_engines", "check_model", "load_model_for_check"]


class FindingKind(StrEnum):
    """What a model-level finding is about."""

    NO_DEFAULT_OPSET = "no-default-opset"
    OPSET_ABOVE_MAX = "opset-above-max"
    OPSET_BELOW_MIN = "opset-below-min"
    INPUT_COUNT = "input-count"
    INPUT_TYPE = "input-type"
    INPUT_RANK = "input-rank"
    EXTERNAL_DATA = "external-data"
    LOW_PRECISION_INITIALIZERS = "low-precision-initializers"
    FP16_NOT_RAW = "fp16-not-raw"
    CUSTOM_DOMAIN = "custom-domain"
    EMPTY_GRAPH = "empty-graph"


@dataclass(frozen=True)
class NodeVerdict:
    node_name: str
    op_type: str
    verdict: Verdict
    reason: str
    fix: str


@dataclass(frozen=True)
class ModelFinding:
    kind: FindingKind
    verdict: Verdict
    reason: str
    fix: str


@dataclass(frozen=True)
class CheckReport:
    """Everything the checker says about one model on one engine."""

    engine: Engine
    engine_label: str
    opset: int | None
    verdicts: tuple[NodeVerdict, ...]
    findings: tuple[ModelFinding, ...]
    engine_notes: tuple[str, ...]
    source: str

    @property
    def verdict(self) -> Verdict:
        """The worst verdict over nodes and model findings."""
        return Verdict.worst([*(v.verdict for v in self.verdicts),
                              *(f.verdict for f in self.findings)])

    @property
    def runs(self) -> bool:
        """True when nothing is CANNOT_RUN (differences allowed)."""
        return self.verdict is not Verdict.CANNOT_RUN

    @property
    def counts(self) -> dict[Verdict, int]:
        """Number of nodes per verdict (every verdict present, zero included)."""
        counter = Counter(v.verdict for v in self.verdicts)
        return {verdict: counter.get(verdict, 0) for verdict in Verdict}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (strings, ints, bools, lists, dicts only)."""
        return {
            "engine": self.engine.value,
            "engine_label": self.engine_label,
            "opset": self.opset,
            "verdict": self.verdict.value,
            "runs": self.runs,
            "counts": {v.value: n for v, n in self.counts.items()},
            "findings": [{"kind": f.kind.value, "verdict": f.verdict.value,
                          "reason": f.reason, "fix": f.fix} for f in self.findings],
            "nodes": [{"name": v.node_name, "op_type": v.op_type, "verdict": v.verdict.value,
                       "reason": v.reason, "fix": v.fix} for v in self.verdicts],
            "engine_notes": list(self.engine_notes),
            "source": self.source,
        }


def load_model_for_check(path: Path) -> onnx.ModelProto:
    """Read an ONNX file without following external data (it is reported, not loaded).

    Raises NotFoundError for a missing file, InvalidInputError for a folder, and
    ModelLoadError for bytes that are not an ONNX model.
    """
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path} does not exist; pass the path of an .onnx file")
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file; pass the path of an .onnx file")
    hint = unreadable_hint(path, read_head(path))
    if hint:
        raise ModelLoadError(f"check reads ONNX files: {hint}")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"{path} is not a readable ONNX model: it does not parse as "
                             f"an ONNX ModelProto ({native_message(exc)})") from exc
    if not model.HasField("graph"):
        raise ModelLoadError(f"{path} holds no ONNX graph; is it an ONNX file?")
    return model


def check_model(model: onnx.ModelProto | Path, engine: Engine) -> CheckReport:
    """Judge every node and the model as a whole for ``engine``."""
    proto = model if isinstance(model, onnx.ModelProto) else load_model_for_check(model)
    table = table_for(engine)
    graph = GraphView.from_model(proto)
    verdicts = tuple(_judge_node(node, index, graph, table)
                     for index, node in enumerate(proto.graph.node))
    findings = tuple(_model_findings(proto, graph, table))
    return CheckReport(engine=engine, engine_label=table.label, opset=graph.opset,
                       verdicts=verdicts, findings=findings, engine_notes=table.notes,
                       source=table.source)


def check_engines(model: onnx.ModelProto | Path,
                  engines: Iterable[Engine] = tuple(Engine)) -> dict[Engine, CheckReport]:
    """One report per engine (the model is read once)."""
    proto = model if isinstance(model, onnx.ModelProto) else load_model_for_check(model)
    return {engine: check_model(proto, engine) for engine in engines}


# ---- nodes ------------------------------------------------------------------------
def _judge_node(node: onnx.NodeProto, index: int, graph: GraphView,
                table: EngineTable) -> NodeVerdict:
    name = node_label(node, index)
    finding = _node_finding(node, graph, table)
    if finding is None:
        support = table.support(node.op_type)
        notes = support.notes if support is not None else ""
        finding = Finding(Verdict.RUNS, f"{node.op_type}: {notes}" if notes else "")
    return NodeVerdict(name, node.op_type, finding.verdict, finding.reason, finding.fix)


def _node_finding(node: onnx.NodeProto, graph: GraphView, table: EngineTable) -> Finding | None:
    op = node.op_type
    if op in QUANTIZED_OPS:
        return Finding(Verdict.CANNOT_RUN,
                       f"{op} is a quantized operator; {table.label} cannot import it",
                       quantized_fix(table))
    if node.domain not in DEFAULT_DOMAINS:
        return Finding(Verdict.CANNOT_RUN,
                       f"{op} is from the custom domain '{node.domain}'; {table.label} imports "
                       "standard ONNX operators only",
                       "save the model as exported (not after ONNX Runtime graph "
                       "optimization, which writes com.microsoft fused operators)")
    support = table.support(op)
    if support is None:
        failure = ("import fails with 'Unknown type " + op + "' (or, with Treat Errors as "
                   "Warnings, the node silently becomes an Identity)") if table.is_barracuda \
            else f"import fails with '{op} not supported'"
        return Finding(Verdict.CANNOT_RUN, f"{op} is not supported by {table.label}: {failure}",
                       f"replace {op} with supported operators before export, or run this "
                       "model in Python only")
    version = graph.op_version(node)
    if version is not None and (version < support.min_opset or (
            support.max_opset is not None and version > support.max_opset)):
        upper = support.max_opset if support.max_opset is not None else "any"
        detail = f": {support.version_note}" if support.version_note else ""
        return Finding(Verdict.CANNOT_RUN,
                       f"{op}-{version} (opset {graph.opset}) is outside the versions "
                       f"{table.label} imports ({op}-{support.min_opset} to {op}-{upper})"
                       f"{detail}",
                       opset_fix(graph.model, table.engine))
    ctx = NodeContext(node=node, graph=graph, engine=table.engine, label=table.label,
                      folding=table.folding)
    return combine(rule(ctx) for rule in support.rules)


# ---- the model as a whole ---------------------------------------------------------------
# Written into every ONNX file ``stylebridge export`` makes: its checkpoint can be exported again.
_EXPORTED_BY_US = "stylebridge.source"


def opset_fix(model: onnx.ModelProto, engine: Engine) -> str:
    """How to get ``model`` to ``engine``'s opset: export again from its checkpoint when
    StyleBridge exported it, else convert the ONNX file itself (a third-party file has no
    checkpoint here to export from)."""
    if any(p.key == _EXPORTED_BY_US for p in model.metadata_props):
        return (f"re-export for this engine: `stylebridge export --engine {engine.value}` "
                f"(opset {engine.default_opset})")
    return (f"convert the file to opset {engine.default_opset} with "
            f"onnx.version_converter.convert_version(model, {engine.default_opset}) and check "
            "it again, or run this model in Python only (`stylebridge serve --model`)")


def _model_findings(model: onnx.ModelProto, graph: GraphView,
                    table: EngineTable) -> list[ModelFinding]:
    findings: list[ModelFinding] = []
    export_fix = opset_fix(model, table.engine)
    if not model.graph.node:
        findings.append(ModelFinding(FindingKind.EMPTY_GRAPH, Verdict.CANNOT_RUN,
                                     "the graph has no nodes", "export the model again"))
    opset = graph.opset
    if opset is None:
        findings.append(ModelFinding(FindingKind.NO_DEFAULT_OPSET, Verdict.CANNOT_RUN,
                                     "the model imports no ai.onnx opset", export_fix))
    elif opset > table.engine.max_opset:
        findings.append(ModelFinding(
            FindingKind.OPSET_ABOVE_MAX, Verdict.RUNS_WITH_DIFFERENCE,
            f"opset {opset} is newer than {table.label} is documented for (up to "
            f"{table.engine.max_opset}); operators whose versions it cannot import are marked "
            "per node", export_fix))
    elif not table.is_barracuda and opset < 7:
        findings.append(ModelFinding(
            FindingKind.OPSET_BELOW_MIN, Verdict.RUNS_WITH_DIFFERENCE,
            f"opset {opset} is older than {table.label} is documented for (7 to 15)",
            export_fix))
    findings.extend(_input_findings(graph, table))
    findings.extend(_initializer_findings(graph, table))
    domains = sorted({n.domain for n in model.graph.node if n.domain not in DEFAULT_DOMAINS})
    if domains:
        findings.append(ModelFinding(
            FindingKind.CUSTOM_DOMAIN, Verdict.CANNOT_RUN,
            f"operators from custom domains {domains}; {table.label} imports ai.onnx only",
            "save the model as exported, before ONNX Runtime graph optimization"))
    return findings


def _input_findings(graph: GraphView, table: EngineTable) -> list[ModelFinding]:
    inputs = graph.graph_inputs
    if len(inputs) != 1:
        names = [i.name for i in inputs]
        return [ModelFinding(FindingKind.INPUT_COUNT, Verdict.CANNOT_RUN,
                             f"the model has {len(inputs)} inputs {names}; StyleBridge clients "
                             "feed exactly one image tensor [1, 3, H, W]",
                             "export with a single image input")]
    found: list[ModelFinding] = []
    tensor_type = inputs[0].type.tensor_type
    elem = tensor_type.elem_type
    if elem and elem != TensorProto.FLOAT:
        if table.is_barracuda:
            reason = (f"input '{inputs[0].name}' is {dtype_name(elem)}; Barracuda tensors are "
                      "float32, so it receives floats (Cast nodes are Identity there)")
            verdict = Verdict.RUNS_WITH_DIFFERENCE
        else:
            reason = (f"input '{inputs[0].name}' is {dtype_name(elem)}; the StyleBridge Sentis "
                      "backend feeds a float32 tensor")
            verdict = Verdict.CANNOT_RUN
        found.append(ModelFinding(FindingKind.INPUT_TYPE, verdict, reason,
                                  "export with a float32 input (RGB 0–255 as float)"))
    if tensor_type.HasField("shape") and len(tensor_type.shape.dim) != 4:
        found.append(ModelFinding(
            FindingKind.INPUT_RANK, Verdict.CANNOT_RUN,
            f"input '{inputs[0].name}' has rank {len(tensor_type.shape.dim)}; StyleBridge "
            "clients send NCHW image tensors (rank 4)", "export with an input [1, 3, H, W]"))
    return found


def _initializer_findings(graph: GraphView, table: EngineTable) -> list[ModelFinding]:
    found: list[ModelFinding] = []
    tensors = list(graph.initializers.values())
    external = [t.name for t in tensors if t.data_location == TensorProto.EXTERNAL]
    if external:
        if table.is_barracuda:
            verdict, why = Verdict.CANNOT_RUN, (
                f"{len(external)} initializers live in an external data file; {table.label} "
                "reads tensor data only from the .onnx file ('Could not read tensor data')")
        else:
            verdict, why = Verdict.RUNS_WITH_DIFFERENCE, (
                f"{len(external)} initializers live in an external data file; {table.label} "
                "reads it beside the .onnx in the Editor, but a model pushed over the bridge "
                "is one file")
        found.append(ModelFinding(FindingKind.EXTERNAL_DATA, verdict, why,
                                  "save as one file: onnx.save(model, path) without "
                                  "save_as_external_data (models under 2 GB)"))
    low = Counter(t.data_type for t in tensors if t.data_type in LOW_PRECISION_TYPES)
    if low:
        summary = ", ".join(f"{n} {dtype_name(dt)}" for dt, n in sorted(low.items()))
        if table.is_barracuda:
            how = (f"{table.label} reads int8, uint8 and float16 initializers as float32 at "
                   "import: the file is smaller, device memory is not")
        else:
            how = (f"{table.label} loads float16 as float and int8/uint8 as int tensors that "
                   "Cast turns into floats")
        found.append(ModelFinding(FindingKind.LOW_PRECISION_INITIALIZERS, Verdict.RUNS,
                                  f"initializers stored small ({summary}); {how}", ""))
    not_raw = [t.name for t in tensors
               if t.data_type == TensorProto.FLOAT16 and not t.raw_data and t.int32_data]
    if not_raw and table.is_barracuda:
        found.append(ModelFinding(
            FindingKind.FP16_NOT_RAW, Verdict.CANNOT_RUN,
            f"{len(not_raw)} float16 initializers (e.g. '{not_raw[0]}') keep their bits in "
            f"int32_data; {table.label} reads that field as integer values, so a weight of "
            "1.0 arrives as 15360",
            "store float16 tensors as raw_data (onnx.numpy_helper.from_array does)"))
    return found
