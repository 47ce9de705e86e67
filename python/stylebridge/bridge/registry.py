"""The server's model registry: the ONNX files of the catalog folder, by id and version.

A model's id is its file stem (``mosaic-int8w.onnx`` -> ``mosaic-int8w``); its version
rises by one each time the file's bytes change (never reused, so a client can tell two
versions apart even when an old file comes back); its sha256 is of the bytes that are
pushed. Each version is loaded once, here, as a client would (``onnx_from_bytes``):
a file that does not load is kept as a *refused* entry with its reason, so the CLI can
say why it is not offered, and never replaces the last good version of that id.

External data: a file whose weights live beside it (inside the catalog) has them
embedded into the pushed bytes, since a client receives one file; anything pointing
outside the catalog is refused by ``load_onnx``. The catalog manifest, when it lists
the file, adds the recipe and the evaluation resolution.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx import external_data_helper

from stylebridge.bridge.domain import now_us
from stylebridge.errors import InvalidInputError, ModelLoadError, NotFoundError, StyleBridgeError
from stylebridge.models import load_onnx, onnx_from_bytes
from stylebridge.models.onnx_model import OnnxModel
from stylebridge.protocol import ModelRef

_log = logging.getLogger(__name__)

ONNX_SUFFIX = ".onnx"
NCHW = "NCHW"


@dataclass(frozen=True)
class PushMetadata:
    """What a client needs to feed a pushed model (``ModelMetadata`` on the wire)."""

    input_name: str
    output_name: str
    input_layout: str
    # 255.0 for 0..255 input, 1.0 for 0..1 (from the model's stylebridge.* metadata).
    input_range: float
    # (width, height) the model was made or evaluated for; (0, 0) = any.
    recommended_size: tuple[int, int]
    opset: int


@dataclass(frozen=True)
class RegisteredModel:
    """One version of one model id that loaded: its bytes are what a push sends."""

    ref: ModelRef
    file: str
    data: bytes
    metadata: PushMetadata
    registered_at_us: int
    recipe: str = ""

    @property
    def model_id(self) -> str:
        return self.ref.model_id

    @property
    def sha256(self) -> str:
        return self.ref.sha256

    @property
    def size_bytes(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class RefusedFile:
    """A file of the catalog that does not load as a style model, and why."""

    model_id: str
    file: str
    sha256: str
    size_bytes: int
    error: str
    seen_at_us: int


@dataclass(frozen=True)
class RegistryUpdate:
    """What adding one file did: a new version, the same bytes again, or a refusal."""

    model_id: str
    model: RegisteredModel | None = None
    refused: RefusedFile | None = None
    # True when the bytes equal the last version of that id (nothing new to push).
    unchanged: bool = False

    @property
    def is_new_version(self) -> bool:
        return self.model is not None and not self.unchanged


def model_id_for(path: Path) -> str:
    """The registry id of a catalog file: its stem."""
    return Path(path).stem


class ModelRegistry:
    """Models of one catalog folder (or none); safe to use from several threads.

    ``add_file`` does the disk and parsing work and is meant to run in a worker thread;
    lookups are cheap and used on the event loop.
    """

    def __init__(self, catalog: Path | None, *, max_model_bytes: int) -> None:
        self._catalog = Path(catalog).resolve() if catalog is not None else None
        self._max_bytes = max_model_bytes
        self._lock = threading.Lock()
        self._models: dict[str, RegisteredModel] = {}
        # Every sha256 ever registered per id -> its version, to tell old versions apart.
        self._versions: dict[str, dict[str, int]] = {}
        self._refused: dict[str, RefusedFile] = {}
        # sha256 of each id's file as read (differs from the pushed bytes' only when
        # external data was embedded): what tells a rewrite of the same bytes apart.
        self._raw_sha: dict[str, str] = {}
        self._current: str | None = None

    @property
    def catalog(self) -> Path | None:
        return self._catalog

    # --- lookups ------------------------------------------------------------------

    def get(self, model_id: str) -> RegisteredModel:
        """The latest good version of ``model_id``; NotFoundError names what exists."""
        with self._lock:
            model = self._models.get(model_id)
            refused = self._refused.get(model_id)
            known = sorted(self._models)
        if model is not None:
            return model
        if refused is not None:
            raise NotFoundError(
                f"model {model_id!r} ({refused.file}) is in the catalog but was refused: "
                f"{refused.error}"
            )
        where = f"catalog {self._catalog}" if self._catalog else "this server (no --catalog)"
        raise NotFoundError(
            f"no model {model_id!r} in {where}; known: {', '.join(known) or 'none'}. "
            "Drop the .onnx file into the catalog folder first"
        )

    def find(self, model_id: str) -> RegisteredModel | None:
        with self._lock:
            return self._models.get(model_id)

    def version_of(self, model_id: str, sha256: str) -> int:
        """The version ``sha256`` had under ``model_id`` (0 when never registered)."""
        with self._lock:
            return self._versions.get(model_id, {}).get(sha256, 0)

    def models(self) -> list[RegisteredModel]:
        with self._lock:
            return sorted(self._models.values(), key=lambda m: m.model_id)

    def refused(self) -> list[RefusedFile]:
        with self._lock:
            return sorted(self._refused.values(), key=lambda r: r.model_id)

    @property
    def current(self) -> RegisteredModel | None:
        """The model new sessions are brought to: the last one completed or swapped to all."""
        with self._lock:
            return self._models.get(self._current) if self._current else None

    def set_current(self, model_id: str) -> None:
        with self._lock:
            if model_id not in self._models:
                raise NotFoundError(f"no model {model_id!r} in the registry")
            self._current = model_id

    # --- adding files ---------------------------------------------------------------

    def scan(self) -> list[RegistryUpdate]:
        """Register every complete-looking ``*.onnx`` of the catalog (server start)."""
        if self._catalog is None:
            return []
        updates = []
        for path in sorted(self._catalog.glob(f"*{ONNX_SUFFIX}")):
            if path.is_file() and not is_ignored_name(path.name):
                updates.append(self.add_file(path))
        return updates

    def add_file(self, path: Path) -> RegistryUpdate:
        """Load ``path`` and register it as a new version, or as refused (with the reason).

        Raises NotFoundError when the file is gone (deleted or renamed away meanwhile).
        """
        path = Path(path)
        model_id = model_id_for(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"{path} disappeared before it could be read") from None
        except OSError as exc:
            return self._refuse(model_id, path.name, b"", f"cannot read {path.name}: {exc}")
        sha256 = hashlib.sha256(data).hexdigest()
        with self._lock:
            latest = self._models.get(model_id)
            if latest is not None and self._raw_sha.get(model_id) == sha256:
                self._refused.pop(model_id, None)
                return RegistryUpdate(model_id, model=latest, unchanged=True)
        try:
            push_bytes, loaded = self._load(path, data)
        except StyleBridgeError as exc:
            return self._refuse(model_id, path.name, data, str(exc))
        push_sha = sha256 if push_bytes is data else hashlib.sha256(push_bytes).hexdigest()
        return self._register(model_id, path.name, sha256, push_sha, push_bytes, loaded)

    def _load(self, path: Path, data: bytes) -> tuple[bytes, OnnxModel]:
        """The bytes to push and the model as a client would load them."""
        if len(data) > self._max_bytes:
            raise InvalidInputError(
                f"{path.name} is {len(data)} bytes, over the server's max_model_bytes "
                f"({self._max_bytes}); raise the limit or make the model smaller"
            )
        try:
            return data, onnx_from_bytes(data, max_bytes=self._max_bytes, name=path.name)
        except ModelLoadError:
            proto = _parse_quietly(data)
            if proto is None or not _has_external_data(proto):
                raise
        # Weights beside the file: load_onnx checks every location stays inside the
        # catalog folder (else ModelLoadError); the pushed bytes embed them.
        load_onnx(path, max_bytes=self._max_bytes)
        external_data_helper.load_external_data_for_model(proto, str(path.parent))
        data = proto.SerializeToString()
        return data, onnx_from_bytes(data, max_bytes=self._max_bytes, name=path.name)

    def _register(
        self,
        model_id: str,
        file: str,
        raw_sha: str,
        sha256: str,
        data: bytes,
        loaded: OnnxModel,
    ) -> RegistryUpdate:
        recipe, size = self._manifest_facts(file)
        if loaded.fixed_size is not None:
            size = loaded.fixed_size
        metadata = PushMetadata(
            input_name=loaded.input_name,
            output_name=loaded.output_name,
            input_layout=NCHW,
            input_range=float(loaded.input_range.scale),
            recommended_size=size,
            opset=loaded.opset,
        )
        with self._lock:
            versions = self._versions.setdefault(model_id, {})
            version = max(versions.values(), default=0) + 1
            versions[sha256] = version
            model = RegisteredModel(
                ref=ModelRef(model_id=model_id, version=version, sha256=sha256),
                file=file,
                data=data,
                metadata=metadata,
                registered_at_us=now_us(),
                recipe=recipe,
            )
            self._models[model_id] = model
            self._raw_sha[model_id] = raw_sha
            self._refused.pop(model_id, None)
        _log.info("registry: %s v%d (%d bytes, %s)", model_id, version, len(data), sha256[:12])
        return RegistryUpdate(model_id, model=model)

    def _refuse(self, model_id: str, file: str, data: bytes, error: str) -> RegistryUpdate:
        refused = RefusedFile(
            model_id=model_id,
            file=file,
            sha256=hashlib.sha256(data).hexdigest() if data else "",
            size_bytes=len(data),
            error=error,
            seen_at_us=now_us(),
        )
        with self._lock:
            self._refused[model_id] = refused
        _log.warning("registry: refused %s: %s", file, error)
        return RegistryUpdate(model_id, refused=refused)

    def _manifest_facts(self, file: str) -> tuple[str, tuple[int, int]]:
        """(recipe kind, evaluation size) from the catalog manifest, when it lists ``file``."""
        if self._catalog is None:
            return "", (0, 0)
        from stylebridge.optimize.catalog import load_manifest

        try:
            manifest = load_manifest(self._catalog)
        except (StyleBridgeError, OSError) as exc:
            _log.warning("catalog manifest unreadable (%s); using the ONNX files alone", exc)
            return "", (0, 0)
        variant = next((v for v in manifest.variants if v.file == file), None)
        if variant is None:
            return "", (0, 0)
        size = (variant.fidelity.width, variant.fidelity.height) if variant.fidelity else (0, 0)
        return variant.recipe.kind.value, size


# Names editors, browsers and copy tools give files they are still writing.
_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "~")


def is_ignored_name(name: str) -> bool:
    """True for hidden files and the temporary names of editors and copy tools."""
    lower = name.lower()
    return lower.startswith((".", "~", "#")) or lower.endswith(_TEMP_SUFFIXES)


def is_model_file(name: str) -> bool:
    """True for a name the registry takes: ``*.onnx`` and not a temporary name."""
    return name.lower().endswith(ONNX_SUFFIX) and not is_ignored_name(name)


def _parse_quietly(data: bytes) -> onnx.ModelProto | None:
    """The ModelProto, or None when the bytes do not parse (``onnx_from_bytes`` says why)."""
    try:
        return onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError):
        return None


def _has_external_data(proto: onnx.ModelProto) -> bool:
    tensors = list(proto.graph.initializer)
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                tensors.append(attr.t)
            tensors.extend(attr.tensors)
    return any(external_data_helper.uses_external_data(t) for t in tensors)
