"""May this model go to that client? Checked before any byte is pushed.

The registry already refused files that do not load as a style model (parse, ONNX
checker, one image in and out, external data outside the catalog). What remains
depends on the session: the size limit (the smaller of the server's and the client's
``max_model_bytes``), whether the client takes pushes at all, and the engine checker's
verdict for *that client's* engine and version (a Barracuda 1.0 client and a Sentis 2
client can get different answers for one file). Verdicts are cached per (sha256,
engine): the checker reads the whole graph, and many sessions share an engine.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import onnx

from stylebridge.bridge.swaps.catalog_entries import RefusedFile, RegisteredModel, RemovedModel
from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.engines import checker
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine, engine_for_client
from stylebridge.errors import InvalidInputError
from stylebridge.protocol import ClientCapabilities, ClientInfo

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushTarget:
    """What a session can take: its engine table (None: no table, e.g. the reference
    client's ONNX Runtime), its label for messages, and its byte limit."""

    engine: Engine | None
    label: str
    max_model_bytes: int
    accepts_push: bool


@dataclass(frozen=True)
class EngineVerdict:
    """The checker's answer for one model on one engine, in one line."""

    engine: Engine
    verdict: Verdict
    reason: str

    @property
    def runs(self) -> bool:
        return self.verdict is not Verdict.CANNOT_RUN


@dataclass(frozen=True)
class Validation:
    """Go or no-go for one model and one session; ``reason`` says why not (or what
    differs when it runs with differences)."""

    ok: bool
    reason: str = ""
    verdict: EngineVerdict | None = None


def push_target(
    client: ClientInfo, capabilities: ClientCapabilities, server_max_bytes: int
) -> PushTarget:
    """The push target of a session, from its Hello."""
    limit = server_max_bytes
    if capabilities.max_model_bytes > 0:
        limit = min(limit, capabilities.max_model_bytes)
    try:
        engine = engine_for_client(client.engine.label, client.engine_version)
    except InvalidInputError:
        engine = None
    label = f"{client.engine.label} {client.engine_version}".strip()
    return PushTarget(engine, label, limit, capabilities.accepts_model_push)


class Validator:
    """Validates pushes and caches the engine checker's verdicts; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._verdicts: dict[tuple[str, Engine], EngineVerdict] = {}

    def verdict(self, model: RegisteredModel, engine: Engine) -> EngineVerdict:
        """The checker's verdict for ``engine`` (computed once per sha256 and engine)."""
        key = (model.sha256, engine)
        with self._lock:
            cached = self._verdicts.get(key)
        if cached is not None:
            return cached
        proto = onnx.load_model_from_string(model.data)
        report = checker.check_model(proto, engine)
        result = EngineVerdict(engine, report.verdict, _reason(report))
        with self._lock:
            self._verdicts[key] = result
        return result

    def verdicts(self, model: RegisteredModel) -> list[EngineVerdict]:
        """Every tabulated engine's verdict (for ``ListModels``)."""
        return [self.verdict(model, engine) for engine in Engine]

    def validate(self, model: RegisteredModel, target: PushTarget) -> Validation:
        """May ``model`` be pushed to a session with ``target``? (slow on a first verdict:
        call it in a worker thread)."""
        if not target.accepts_push:
            return Validation(
                False,
                f"the client ({target.label}) does not accept model pushes "
                "(ClientCapabilities.accepts_model_push is false)",
            )
        if model.size_bytes > target.max_model_bytes:
            return Validation(
                False,
                f"{model.model_id} is {model.size_bytes} bytes, over this session's limit of "
                f"{target.max_model_bytes} bytes (the smaller of the server's and the "
                "client's max_model_bytes); make the model smaller or raise the limit",
            )
        if target.engine is None:
            return Validation(True)
        pixel = model.metadata.pixel
        if not pixel.plain:
            return Validation(
                False,
                f"{target.label} feeds RGB frames from 0 to 1 or 255, and {model.model_id} "
                f"declares {pixel.describe()}: it would run with wrong colours. Serve it to "
                "Python clients (`stylebridge client`), or use a model that takes RGB",
            )
        verdict = self.verdict(model, target.engine)
        if not verdict.runs:
            return Validation(
                False,
                f"{target.engine.value} cannot run {model.model_id}: {verdict.reason}",
                verdict,
            )
        return Validation(True, verdict.reason, verdict)

    def forget(self, sha256: str) -> None:
        """Drop the cached verdicts of a version no longer in the registry."""
        with self._lock:
            for key in [k for k in self._verdicts if k[0] == sha256]:
                del self._verdicts[key]


def _reason(report: checker.CheckReport) -> str:
    """The checker's worst findings in one line: what and why, then the fix."""
    worst = report.verdict
    if worst is Verdict.RUNS:
        return ""
    parts: list[str] = []
    fix = ""
    for finding in report.findings:
        if finding.verdict is worst:
            parts.append(finding.reason)
            fix = fix or finding.fix
    nodes: dict[str, int] = {}
    for node in report.verdicts:
        if node.verdict is worst:
            key = f"{node.op_type}: {node.reason}"
            nodes[key] = nodes.get(key, 0) + 1
            fix = fix or node.fix
    parts.extend(f"{what} ({count} nodes)" if count > 1 else what for what, count in nodes.items())
    text = "; ".join(dict.fromkeys(parts))
    return f"{text}. Fix: {fix}" if fix else text


@dataclass(frozen=True)
class ListedModel:
    """A registry model with every engine's verdict."""

    model: RegisteredModel
    verdicts: tuple[EngineVerdict, ...]


@dataclass(frozen=True)
class ModelListing:
    """The registry as ``stylebridge models`` shows it.

    ``refused`` also lists the removed models (file deleted), as not offered with the
    reason, so a client sees why a model it knew is gone; ``removed`` has them alone.
    """

    models: tuple[ListedModel, ...]
    refused: tuple[RefusedFile, ...]
    catalog: str
    current_model_id: str
    removed: tuple[RemovedModel, ...] = ()
    catalog_missing: bool = False


def list_models(registry: ModelRegistry, validator: Validator) -> ModelListing:
    """Every model with its verdicts (the first listing of a version runs the checker
    for each engine: call it in a worker thread)."""
    current = registry.current
    removed = tuple(registry.removed())
    return ModelListing(
        models=tuple(ListedModel(m, tuple(validator.verdicts(m))) for m in registry.models()),
        refused=tuple(registry.refused()) + tuple(_as_refused(r) for r in removed),
        catalog=str(registry.catalog or ""),
        current_model_id=current.model_id if current else "",
        removed=removed,
        catalog_missing=registry.catalog_missing,
    )


def _as_refused(removed: RemovedModel) -> RefusedFile:
    model = removed.model
    return RefusedFile(
        model_id=model.model_id,
        file=model.file,
        sha256=model.sha256,
        size_bytes=model.size_bytes,
        error=(
            f"removed from the catalog: {removed.reason} (v{model.ref.version}); sessions "
            "running it keep it, swaps to it are refused until the file is back"
        ),
        seen_at_us=removed.removed_at_us,
    )
