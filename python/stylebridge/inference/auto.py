"""``--backend auto``: measure the installed backends on the model at load, keep the fastest.

Which backend is fastest depends on the model, the frame size and the CPU (OpenVINO
in bf16 on a CPU with AVX-512 BF16; ONNX Runtime on others; a GPU provider where one
is lent), so it is measured, not guessed. Each candidate is built, warmed up and
timed on a built-in frame at ``probe_size``; its output is compared with the float
reference (the first float32 candidate that loads, ONNX Runtime where it can) and a
candidate below ``PARITY_MIN_PSNR_DB`` is never kept, however fast. A candidate that
is not installed or fails to load is skipped with its reason, never a crash; only
when none loads is loading an error.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylebridge.errors import BackendError, StyleBridgeError
from stylebridge.frame_sources import builtin_frames
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.inference.tuning import cpu_has_bf16

_log = logging.getLogger(__name__)

# Lowest PSNR (dB) to the float reference a backend may have and still be chosen. 40 dB
# is a mean error of about 2.5 levels of 255 at most; f32 backends differ from each
# other by rounding only (> 70 dB), bf16 lands around 50 dB on the style models.
PARITY_MIN_PSNR_DB = 40.0
DEFAULT_PROBE_SIZE = (640, 360)
DEFAULT_REPEATS = 3
CHECKPOINT_SUFFIXES = frozenset({".pth", ".pt"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to run the model: a library and the precision it computes in."""

    kind: BackendKind
    precision: str = "f32"

    @property
    def label(self) -> str:
        return self.kind.value if self.precision == "f32" else f"{self.kind.value}/{self.precision}"


@dataclass(frozen=True, slots=True)
class Trial:
    """What measuring one candidate found (``ms`` None when it did not load or run)."""

    candidate: Candidate
    name: str = ""
    ms: float | None = None
    psnr_db: float | None = None
    note: str = ""

    @property
    def within_parity(self) -> bool:
        return self.psnr_db is not None and self.psnr_db >= PARITY_MIN_PSNR_DB


@dataclass(frozen=True, slots=True)
class AutoChoice:
    """The chosen candidate, every trial, and why in one sentence."""

    chosen: Candidate
    trials: tuple[Trial, ...]
    reason: str
    probe_size: tuple[int, int] = DEFAULT_PROBE_SIZE


Builder = Callable[[Candidate], InferenceBackend]


def candidates_for(path: Path) -> list[Candidate]:
    """The candidates that can run ``path`` here, reference (ONNX Runtime f32) first.

    bf16 candidates only where the CPU computes bf16 natively (elsewhere they are
    emulated and slower); torch only for checkpoints (it does not run ONNX files).
    """
    bf16 = cpu_has_bf16()
    out = [Candidate(BackendKind.ONNXRUNTIME), Candidate(BackendKind.OPENVINO)]
    if bf16:
        out.append(Candidate(BackendKind.OPENVINO, "bf16"))
    if path.suffix.lower() in CHECKPOINT_SUFFIXES:
        out.append(Candidate(BackendKind.TORCH))
        if bf16:
            out.append(Candidate(BackendKind.TORCH, "bf16"))
    return out


class AutoBackend:
    """The backend ``auto`` chose, under a name that says so; ``choice`` says why."""

    def __init__(self, inner: InferenceBackend, choice: AutoChoice) -> None:
        self._inner = inner
        self.choice = choice

    @property
    def name(self) -> str:
        return f"auto:{self._inner.name}"

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def inner(self) -> InferenceBackend:
        return self._inner

    def run(self, frame: np.ndarray) -> np.ndarray:
        return self._inner.run(frame)

    def close(self) -> None:
        self._inner.close()


def choose(
    build: Builder,
    candidates: Sequence[Candidate],
    *,
    probe_size: tuple[int, int] = DEFAULT_PROBE_SIZE,
    repeats: int = DEFAULT_REPEATS,
) -> tuple[InferenceBackend, AutoChoice]:
    """Build and time every candidate; the fastest within parity, open, and the choice.

    Raises BackendError naming every candidate's failure when none loads and runs.
    """
    frame = np.ascontiguousarray(builtin_frames(probe_size).frame(0))
    reference: np.ndarray | None = None
    trials: list[Trial] = []
    best: tuple[float, InferenceBackend, Candidate] | None = None
    for candidate in candidates:
        trial, backend, out = _measure(build, candidate, frame, repeats)
        if backend is None or out is None or trial.ms is None:
            trials.append(trial)
            continue
        if reference is None and candidate.precision == "f32":
            reference = out
        if reference is None:
            trial = Trial(candidate, trial.name, trial.ms, None, "no float reference loaded")
        else:
            trial = Trial(candidate, trial.name, trial.ms, _psnr_db(reference, out), trial.note)
        trials.append(trial)
        if trial.within_parity and (best is None or trial.ms < best[0]):
            if best is not None:
                best[1].close()
            best = (trial.ms, backend, candidate)
        else:
            backend.close()
    if best is None:
        failures = "; ".join(f"{t.candidate.label}: {t.note or 'outside parity'}" for t in trials)
        raise BackendError(f"auto: no backend could run the model ({failures})")
    ms, backend, chosen = best
    reason = _reason(chosen, ms, trials)
    choice = AutoChoice(chosen, tuple(trials), reason, probe_size)
    _log.info("%s", reason)
    return backend, choice


def _measure(
    build: Builder, candidate: Candidate, frame: np.ndarray, repeats: int
) -> tuple[Trial, InferenceBackend | None, np.ndarray | None]:
    """Build ``candidate``, run it once to warm up, then time ``repeats`` runs."""
    try:
        backend = build(candidate)
    except (StyleBridgeError, ImportError, OSError, RuntimeError) as exc:
        _log.info("auto: skipping %s: %s", candidate.label, exc)
        return Trial(candidate, note=f"did not load: {exc}"), None, None
    try:
        out = backend.run(frame)
        times = []
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            out = backend.run(frame)
            times.append((time.perf_counter() - start) * 1000.0)
    except (StyleBridgeError, RuntimeError) as exc:
        backend.close()
        _log.info("auto: skipping %s: %s", candidate.label, exc)
        return Trial(candidate, backend.name, note=f"failed to run: {exc}"), None, None
    return Trial(candidate, backend.name, statistics.median(times)), backend, out


def _psnr_db(reference: np.ndarray, out: np.ndarray) -> float:
    """PSNR of ``out`` to ``reference`` (uint8 images), capped at 100 dB for identical ones.

    Here, not from ``evaluate``: inference sits below evaluate in the layering.
    """
    diff = reference.astype(np.float64) - out.astype(np.float64)
    mse = float(np.mean(diff * diff))
    return 100.0 if mse == 0.0 else min(100.0, 10.0 * float(np.log10(255.0 * 255.0 / mse)))


def _reason(chosen: Candidate, ms: float, trials: Sequence[Trial]) -> str:
    parts = []
    for trial in trials:
        if trial.ms is None:
            parts.append(f"{trial.candidate.label} skipped ({trial.note})")
            continue
        fidelity = "" if trial.psnr_db is None else f", {trial.psnr_db:.1f} dB"
        flag = "" if trial.within_parity else f" [outside parity < {PARITY_MIN_PSNR_DB:.0f} dB]"
        parts.append(f"{trial.candidate.label} {trial.ms:.1f} ms{fidelity}{flag}")
    return (
        f"auto chose {chosen.label} ({ms:.1f} ms per frame): the fastest within "
        f"{PARITY_MIN_PSNR_DB:.0f} dB PSNR of the float reference; measured " + "; ".join(parts)
    )


def auto_factory(
    path: Path, *, model_id: str | None = None, probe_size: tuple[int, int] | None = None
) -> Callable[[], InferenceBackend]:
    """A factory of ``auto`` backends for ``path`` that measures once.

    The first call measures and keeps the choice; later calls (one backend per
    inference worker) build the chosen candidate directly.
    """
    from stylebridge.inference.factory import create_backend

    chosen: list[AutoChoice] = []

    def build() -> InferenceBackend:
        if not chosen:
            backend = create_backend(
                path, BackendKind.AUTO, model_id=model_id, probe_size=probe_size
            )
            if isinstance(backend, AutoBackend):
                chosen.append(backend.choice)
            return backend
        choice = chosen[0]
        inner = create_backend(
            path, choice.chosen.kind, model_id=model_id, precision=choice.chosen.precision
        )
        return AutoBackend(inner, choice)

    return build


def followed_kind(backend: InferenceBackend, kind: BackendKind) -> tuple[BackendKind, str]:
    """(kind, precision) to run models pushed from the catalog with, beside ``backend``.

    Catalog models are ONNX: where ``auto`` chose torch for a checkpoint, they run in
    ONNX Runtime; otherwise in what ``auto`` chose.
    """
    if isinstance(backend, AutoBackend):
        chosen = backend.choice.chosen
        if chosen.kind is BackendKind.TORCH:
            return BackendKind.ONNXRUNTIME, "f32"
        return chosen.kind, chosen.precision
    if kind is BackendKind.AUTO:
        return BackendKind.ONNXRUNTIME, "f32"
    return kind, "f32"
