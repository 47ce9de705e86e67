"""The server's model registry: the ONNX files of the catalog folder, by id and version.

A model's id is its file stem (``mosaic-int8w.onnx`` -> ``mosaic-int8w``); its version
rises by one each time the file's bytes change (never reused, so a client can tell two
versions apart even when an old file comes back); its sha256 is of the bytes that are
pushed. Each version is loaded once, here, as a client would (``onnx_from_bytes``):
a file that does not load is kept as a *refused* entry with its reason, so the CLI can
say why it is not offered, and never replaces the last good version of that id.

External data: a file whose weights live beside it (inside the catalog) has them
embedded into the pushed bytes, since a client receives one file; anything pointing
outside the catalog is refused before it is opened. The catalog manifest, when it
lists the file, adds the recipe and the evaluation resolution, at which the model's
memory is bounded (``models.onnx_budget``) before any ONNX Runtime session sees it.

Names: every name from outside that could become a path goes through
``resolve_in_catalog`` (catalog files, symlinks among them, and external data), and
every model id a client names through ``check_model_id``; nothing outside the catalog
is ever opened.

Files deleted from the catalog (or the whole folder) are marked *removed*: they leave
the listing and cannot be swapped to (NOT_FOUND naming the id), while sessions running
them keep them. The same bytes coming back restore the same version (no push).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from stylebridge.bridge.core.domain import now_us
from stylebridge.bridge.swaps.catalog_entries import (
    NCHW,
    PushMetadata,
    RefusedFile,
    RegisteredModel,
    RegistryUpdate,
    RemovedModel,
)
from stylebridge.bridge.swaps.catalog_names import ONNX_SUFFIX as ONNX_SUFFIX
from stylebridge.bridge.swaps.catalog_names import is_ignored_name as is_ignored_name
from stylebridge.bridge.swaps.catalog_names import is_model_file as is_model_file
from stylebridge.bridge.swaps.catalog_names import model_id_for as model_id_for
from stylebridge.bridge.swaps.catalog_names import resolve_in_catalog as resolve_in_catalog
from stylebridge.errors import InvalidInputError, NotFoundError, StyleBridgeError
from stylebridge.models.push_load import PushFacts, PushLoader, load_for_push
from stylebridge.models.safe_paths import check_model_id
from stylebridge.protocol import ModelRef

_log = logging.getLogger(__name__)


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
        self._removed: dict[str, RemovedModel] = {}
        self._current: str | None = None
        self._missing = False

    @property
    def catalog(self) -> Path | None:
        return self._catalog

    @property
    def catalog_missing(self) -> bool:
        """True while the catalog folder is gone (deleted, not yet re-created)."""
        with self._lock:
            return self._missing

    # --- lookups ------------------------------------------------------------------

    def get(self, model_id: str) -> RegisteredModel:
        """The latest good version of ``model_id``; NotFoundError names what exists,
        InvalidInputError when ``model_id`` cannot be a model id (a path, NUL, ...)."""
        check_model_id(model_id)
        with self._lock:
            model = self._models.get(model_id)
            refused = self._refused.get(model_id)
            removed = self._removed.get(model_id)
            known = sorted(self._models)
            missing = self._missing
        if model is not None:
            return model
        if removed is not None:
            raise NotFoundError(
                f"model {model_id!r} was removed from the catalog ({removed.reason}); "
                "sessions running it keep it, but it cannot be swapped to until "
                f"{removed.model.file} is back in the catalog"
            )
        if refused is not None:
            raise NotFoundError(
                f"model {model_id!r} ({refused.file}) is in the catalog but was refused: "
                f"{refused.error}"
            )
        where = f"catalog {self._catalog}" if self._catalog else "this server (no --catalog)"
        if missing:
            where += " (the folder is missing: deleted and not re-created yet)"
        raise NotFoundError(
            f"no model {model_id!r} in {where}; known: {', '.join(known) or 'none'}. "
            "Drop the .onnx file into the catalog folder first"
        )

    def find(self, model_id: str) -> RegisteredModel | None:
        """The latest version of ``model_id``, removed ones included (a session may still
        run a model whose file was deleted); None when never registered."""
        with self._lock:
            model = self._models.get(model_id)
            if model is None and model_id in self._removed:
                model = self._removed[model_id].model
            return model

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

    def removed(self) -> list[RemovedModel]:
        """Models whose file left the catalog (not offered; see ``RemovedModel``)."""
        with self._lock:
            return sorted(self._removed.values(), key=lambda r: r.model_id)

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
        """Register every complete-looking ``*.onnx`` of the catalog (server start, and
        when the folder comes back after it was deleted)."""
        if self._catalog is None:
            return []
        updates = []
        for path in sorted(self._catalog.glob(f"*{ONNX_SUFFIX}")):
            if is_ignored_name(path.name) or not (path.is_file() or path.is_symlink()):
                continue
            try:
                updates.append(self.add_file(path))
            except NotFoundError:
                continue  # deleted while scanning
        return updates

    def add_file(self, path: Path, *, loader: PushLoader = load_for_push) -> RegistryUpdate:
        """Load ``path`` and register it as a new version, or as refused (with the reason).

        ``path`` must name a file of the catalog; a symlink pointing outside it, or
        anything but a regular file, is refused without being opened. ``loader`` does
        the parsing and checks (pass a ``ProcessLoader`` to keep them off this process's
        GIL). Raises NotFoundError when the file is gone (deleted or renamed away).
        """
        path = Path(path)
        model_id = model_id_for(path)
        if self._catalog is not None:
            try:
                source = resolve_in_catalog(self._catalog, path.name)
            except InvalidInputError as exc:
                return self._refuse(model_id, path.name, b"", f"refusing to read it: {exc}")
        else:
            source = path
        if source.exists() and not source.is_file():
            return self._refuse(model_id, path.name, b"", f"{path.name} is not a regular file")
        try:
            data = source.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"{path} disappeared before it could be read") from None
        except OSError as exc:
            return self._refuse(model_id, path.name, b"", f"cannot read {path.name}: {exc}")
        sha256 = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._missing = False
            latest = self._models.get(model_id)
            if latest is not None and self._raw_sha.get(model_id) == sha256:
                self._refused.pop(model_id, None)
                return RegistryUpdate(model_id, model=latest, unchanged=True)
            gone = self._removed.get(model_id)
            if latest is None and gone is not None and self._raw_sha.get(model_id) == sha256:
                # The same bytes back (folder re-created, file restored): same version.
                del self._removed[model_id]
                self._models[model_id] = gone.model
                self._refused.pop(model_id, None)
                _log.info("registry: %s v%d is back", model_id, gone.model.ref.version)
                return RegistryUpdate(model_id, model=gone.model, unchanged=True)
        recipe, size = self._manifest_facts(path.name)
        try:
            facts = self._load(source, path.name, data, size, loader)
        except StyleBridgeError as exc:
            return self._refuse(model_id, path.name, data, str(exc))
        push_bytes = data if facts.push is None else facts.push
        push_sha = sha256 if facts.push is None else hashlib.sha256(push_bytes).hexdigest()
        return self._register(
            model_id, path.name, sha256, push_sha, push_bytes, facts, recipe, size
        )

    def remove_file(self, path: Path, reason: str = "") -> RegistryUpdate | None:
        """``path`` left the catalog: its model is marked removed (None when the file is
        still there or was never registered)."""
        path = Path(path)
        if path.exists():
            return None
        model_id = model_id_for(path)
        with self._lock:
            self._refused.pop(model_id, None)
            model = self._models.get(model_id)
            if model is None or model.file != path.name:
                return None
            del self._models[model_id]
            removed = RemovedModel(model, now_us(), reason or f"{path.name} was deleted")
            self._removed[model_id] = removed
        _log.warning("registry: %s removed (%s)", model_id, removed.reason)
        return RegistryUpdate(model_id, removed=removed)

    def mark_catalog_missing(self) -> list[RegistryUpdate]:
        """The catalog folder is gone: every model is removed until it comes back."""
        with self._lock:
            self._missing = True
            self._refused.clear()
            files = [m.file for m in self._models.values()]
        _log.warning("catalog %s is missing (deleted?); clients keep their models", self._catalog)
        updates = []
        for file in files:
            if self._catalog is None:
                break
            update = self.remove_file(self._catalog / file, "the catalog folder was deleted")
            if update is not None:
                updates.append(update)
        return updates

    def mark_catalog_present(self) -> None:
        """The catalog folder is there (again)."""
        with self._lock:
            self._missing = False

    def _load(
        self, source: Path, file: str, data: bytes, size: tuple[int, int], loader: PushLoader
    ) -> PushFacts:
        """The model as a client would load it. Weights beside the file are embedded
        (locations checked to stay inside the catalog before anything is opened); its
        memory is judged at the recommended size (else its own) before any session."""
        if len(data) > self._max_bytes:
            raise InvalidInputError(
                f"{file} is {len(data)} bytes, over the server's max_model_bytes "
                f"({self._max_bytes}); raise the limit or make the model smaller"
            )
        folder = self._catalog if self._catalog is not None else source.parent
        check_size = size if size != (0, 0) else None
        return loader(
            data, str(folder), max_bytes=self._max_bytes, name=file, check_size=check_size
        )

    def _register(
        self,
        model_id: str,
        file: str,
        raw_sha: str,
        sha256: str,
        data: bytes,
        loaded: PushFacts,
        recipe: str,
        size: tuple[int, int],
    ) -> RegistryUpdate:
        if loaded.fixed_size is not None:
            size = loaded.fixed_size
        metadata = PushMetadata(
            input_name=loaded.input_name,
            output_name=loaded.output_name,
            input_layout=NCHW,
            input_range=loaded.input_range,
            recommended_size=size,
            opset=loaded.opset,
            pixel=loaded.pixel,
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
            self._removed.pop(model_id, None)
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
        from stylebridge.catalog import load_manifest

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
