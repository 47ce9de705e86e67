"""Every Python backend against the float reference, and ``--backend auto`` choosing by
measurement. Real models, real runtimes; small frames (160x90) keep it fast."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from stylebridge.errors import BackendError, InvalidInputError
from stylebridge.evaluate.fidelity import psnr
from stylebridge.frames import resize
from stylebridge.inference.auto import (
    PARITY_MIN_PSNR_DB,
    AutoBackend,
    Candidate,
    auto_factory,
    candidates_for,
    choose,
    followed_kind,
)
from stylebridge.inference.base import BackendKind, InferenceBackend
from stylebridge.inference.factory import create_backend
from stylebridge.inference.openvino_backend import OpenVinoBackend, openvino_available
from stylebridge.inference.ort import OrtBackend
from stylebridge.inference.simple import IdentityBackend, SlowBackend
from stylebridge.inference.tuning import cpu_has_bf16, physical_cores

SIZE = (160, 90)  # 90 rows: padding to a multiple of 4 is exercised
PROBE = (96, 64)
CPU = ["CPUExecutionProvider"]

needs_openvino = pytest.mark.skipif(
    openvino_available() is not None, reason=openvino_available() or ""
)


@pytest.fixture(scope="module")
def frame(small_frames: list[np.ndarray]) -> np.ndarray:
    return np.ascontiguousarray(resize(small_frames[0], SIZE))


@pytest.fixture(scope="module")
def mosaic_proto(models_dir: Path) -> onnx.ModelProto:
    return onnx.load(str(models_dir / "mosaic.onnx"))


@pytest.fixture(scope="module")
def reference(mosaic_proto: onnx.ModelProto, frame: np.ndarray) -> np.ndarray:
    """The float reference: ONNX Runtime, float32, on the CPU."""
    with OrtBackend(mosaic_proto, "mosaic", providers=CPU) as backend:
        return backend.run(frame)


def _kinds() -> Iterator[tuple[BackendKind, str, str]]:
    """(kind, precision, file) of every backend this machine can run."""
    yield BackendKind.ONNXRUNTIME, "f32", "mosaic.onnx"
    yield BackendKind.TORCH, "f32", "mosaic.pth"
    if cpu_has_bf16():
        yield BackendKind.TORCH, "bf16", "mosaic.pth"
    if openvino_available() is None:
        yield BackendKind.OPENVINO, "f32", "mosaic.onnx"
        if cpu_has_bf16():
            yield BackendKind.OPENVINO, "bf16", "mosaic.onnx"


@pytest.mark.parametrize(("kind", "precision", "file"), list(_kinds()))
def test_each_backend_matches_the_float_reference(
    models_dir: Path,
    frame: np.ndarray,
    reference: np.ndarray,
    kind: BackendKind,
    precision: str,
    file: str,
) -> None:
    backend = create_backend(models_dir / file, kind, precision=precision)
    try:
        assert isinstance(backend, InferenceBackend)
        out = backend.run(frame)
        again = backend.run(frame)  # buffers reused inside must not leak into results
    finally:
        backend.close()
    assert out.shape == frame.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, again)
    score = psnr(reference, out)
    assert score >= PARITY_MIN_PSNR_DB, f"{backend.name}: {score:.1f} dB"
    if precision == "f32":
        # Same weights in float32, another summation order: rounding flips only.
        assert np.abs(out.astype(int) - reference).max() <= 2, backend.name


@needs_openvino
def test_openvino_sizes_fixed_inputs_and_closing(
    models_dir: Path, mosaic_proto: onnx.ModelProto, frame: np.ndarray
) -> None:
    backend = OpenVinoBackend(mosaic_proto, "mosaic", device="CPU")
    assert backend.name == "openvino/CPU/f32" and backend.precision == "f32"
    small = np.ascontiguousarray(frame[:45, :70])
    assert backend.run(small).shape == small.shape  # a second size: compiled on demand
    backend.close()
    backend.close()
    with pytest.raises(BackendError, match="closed"):
        backend.run(frame)
    with pytest.raises(InvalidInputError, match="precision"):
        OpenVinoBackend(mosaic_proto, "mosaic", precision="int3")
    fixed = create_backend(models_dir / "ingame-small.onnx", BackendKind.OPENVINO)
    assert fixed.run(frame).shape == frame.shape
    fixed.close()


def test_tuned_thread_count_is_the_physical_cores() -> None:
    assert 1 <= physical_cores() <= len(os.sched_getaffinity(0))


# --- auto -------------------------------------------------------------------------


def test_auto_keeps_the_measured_fastest_within_parity(models_dir: Path) -> None:
    path = models_dir / "ingame-small.onnx"
    backend = create_backend(path, BackendKind.AUTO, probe_size=PROBE)
    try:
        assert isinstance(backend, AutoBackend)
        choice = backend.choice
        measured = [t for t in choice.trials if t.ms is not None and t.within_parity]
        assert {t.candidate for t in choice.trials} == set(candidates_for(path))
        fastest = min(measured, key=lambda t: t.ms or 0.0)
        assert choice.chosen == fastest.candidate
        assert backend.name == f"auto:{fastest.name}"
        assert choice.chosen.label in choice.reason and "dB" in choice.reason
        # The reference is the first float candidate: ONNX Runtime, identical to itself.
        assert choice.trials[0].candidate.kind is BackendKind.ONNXRUNTIME
        assert choice.trials[0].psnr_db == 100.0
    finally:
        backend.close()


def test_auto_prefers_speed_but_never_outside_parity(
    models_dir: Path, mosaic_proto: onnx.ModelProto
) -> None:
    """Real backends made slow by SlowBackend; identity is fastest but no style model."""
    slow = Candidate(BackendKind.ONNXRUNTIME)
    quick = Candidate(BackendKind.OPENVINO)  # labels only: the builder decides what runs
    identity = Candidate(BackendKind.IDENTITY)
    built: list[InferenceBackend] = []

    def build(candidate: Candidate) -> InferenceBackend:
        if candidate == identity:
            backend: InferenceBackend = IdentityBackend("mosaic")
        else:
            inner = OrtBackend(mosaic_proto, "mosaic", providers=CPU)
            backend = SlowBackend(inner, 0.06 if candidate == slow else 0.0)
        built.append(backend)
        return backend

    backend, choice = choose(build, [slow, quick, identity], probe_size=PROBE, repeats=2)
    assert choice.chosen == quick
    by_label = {t.candidate: t for t in choice.trials}
    assert by_label[identity].ms is not None and not by_label[identity].within_parity
    assert by_label[identity].ms < by_label[quick].ms < by_label[slow].ms
    assert "outside parity" in choice.reason
    backend.close()


def test_auto_skips_what_does_not_load_or_run(mosaic_proto: onnx.ModelProto) -> None:
    """A provider that is not installed fails at load; a device OpenVINO lacks fails at
    compile (first run): both are skipped with their reason, the next one is kept."""
    missing = Candidate(BackendKind.ONNXRUNTIME, "f32")
    no_device = Candidate(BackendKind.OPENVINO, "f32")
    works = Candidate(BackendKind.TORCH)  # a label: the builder runs ORT on the CPU

    def build(candidate: Candidate) -> InferenceBackend:
        if candidate == missing:
            return OrtBackend(mosaic_proto, "m", providers=["NoSuchExecutionProvider"])
        if candidate == no_device:
            if openvino_available() is not None:
                raise BackendError(openvino_available() or "")
            return OpenVinoBackend(mosaic_proto, "m", device="NO_SUCH_DEVICE")
        return OrtBackend(mosaic_proto, "m", providers=CPU)

    backend, choice = choose(build, [missing, no_device, works], probe_size=PROBE, repeats=1)
    assert choice.chosen == works
    notes = [t.note for t in choice.trials[:2]]
    assert "did not load" in notes[0] and "NoSuchExecutionProvider" in notes[0]
    assert notes[1].startswith(("did not load", "failed to run"))
    assert "skipped" in choice.reason
    backend.close()
    with pytest.raises(BackendError, match="no backend could run"):
        choose(build, [missing], probe_size=PROBE)


def test_auto_factory_measures_once_and_catalog_models_follow(models_dir: Path) -> None:
    build = auto_factory(models_dir / "ingame-small.pth", probe_size=PROBE)
    first, second = build(), build()
    try:
        assert isinstance(first, AutoBackend) and isinstance(second, AutoBackend)
        assert second.choice is first.choice and second.inner is not first.inner
        kind, precision = followed_kind(first, BackendKind.AUTO)
        assert kind is not BackendKind.TORCH  # catalog models are ONNX
        if first.choice.chosen.kind is not BackendKind.TORCH:
            assert (kind, precision) == (first.choice.chosen.kind, first.choice.chosen.precision)
    finally:
        first.close()
        second.close()
    assert followed_kind(IdentityBackend(), BackendKind.TORCH) == (BackendKind.TORCH, "f32")


# --- GPUs: only where one is lent -------------------------------------------------------


@pytest.mark.skipif(
    "CUDAExecutionProvider" not in ort.get_available_providers(),
    reason="no CUDA execution provider in this ONNX Runtime",
)
def test_ort_picks_the_gpu_first(mosaic_proto: onnx.ModelProto, frame: np.ndarray) -> None:
    with OrtBackend(mosaic_proto, "mosaic") as backend:
        assert backend.name == "onnxruntime/CUDAExecutionProvider"
        assert backend.run(frame).shape == frame.shape


def _openvino_gpu() -> bool:
    if openvino_available() is not None:
        return False
    import openvino as ov

    return any(d.startswith("GPU") for d in ov.Core().available_devices)


@pytest.mark.skipif(not _openvino_gpu(), reason="OpenVINO sees no GPU here")
def test_openvino_picks_the_gpu_first(mosaic_proto: onnx.ModelProto) -> None:
    assert OpenVinoBackend(mosaic_proto, "mosaic").name.startswith("openvino/GPU")
