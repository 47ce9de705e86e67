"""The catalog report on a small real catalog made here, measured here.

The catalog: mosaic.onnx as the teacher, an fp16-weights variant of it (fp16
initializers + Cast, made with onnx.numpy_helper), a dynamic-int8 variant
(onnxruntime.quantization: cannot run in Barracuda), and an untrained tiny student
exported with stylebridge.models.export. Every number in the manifest is measured
in this test with ONNX Runtime at 64x64 on real game frames.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from conftest import load_rgb
from onnx import TensorProto, helper, numpy_helper

from stylebridge.catalog import (
    EngineVerdict,
    Fidelity,
    Latency,
    Manifest,
    Recipe,
    RecipeKind,
    Variant,
    save_manifest,
    sha256_file,
)
from stylebridge.engines.checker import check_model
from stylebridge.engines.findings import Verdict
from stylebridge.engines.targets import Engine
from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.evaluate.fidelity import psnr
from stylebridge.inference.base import BackendKind
from stylebridge.inference.factory import create_backend
from stylebridge.models import TransformerNetConfig, count_onnx_parameters, untrained_model
from stylebridge.models.export import ExportConfig, export_onnx
from stylebridge.report import (
    BarracudaSupport,
    ReportOptions,
    choose_latency_key,
    pareto_front,
    report_link,
    summarize,
    write_report,
)
from stylebridge.report.plots import PARETO_LABEL, latency_fidelity_figure, size_figure

pytestmark = pytest.mark.timeout(120)

SIZE = (64, 64)
SHEET = ReportOptions(sheet_size=(64, 48), sheet_frames=3)


# --- pareto_front (pure) -------------------------------------------------------------


def test_pareto_front_keeps_the_non_dominated_points_fastest_first() -> None:
    points = [(10.0, 0.95), (5.0, 0.90), (20.0, 0.99), (12.0, 0.80), (2.0, 0.50), (30.0, 0.98)]
    assert pareto_front(points) == [4, 1, 0, 2]
    assert pareto_front([]) == []
    assert pareto_front([(1.0, 0.0)]) == [0]


def test_pareto_front_ties() -> None:
    # Exact duplicates are both on the front (neither beats the other).
    assert pareto_front([(5.0, 0.9), (5.0, 0.9)]) == [0, 1]
    # Same latency: only the higher fidelity; same fidelity: only the faster.
    assert pareto_front([(5.0, 0.8), (5.0, 0.9)]) == [1]
    assert pareto_front([(7.0, 0.9), (5.0, 0.9)]) == [1]
    # A duplicate of a dominated point stays dominated.
    assert pareto_front([(1.0, 1.0), (2.0, 0.5), (2.0, 0.5)]) == [0]


def test_pareto_front_refuses_nan() -> None:
    with pytest.raises(InvalidInputError, match="point 1"):
        pareto_front([(1.0, 0.5), (float("nan"), 0.4)])


# --- a real catalog ------------------------------------------------------------------


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Gaussian-window SSIM (Wang et al. 2004), channels averaged: test-side measurement."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float(np.mean(num / den))


def _fp16_weights(src: Path, dst: Path) -> None:
    """Conv weights stored as fp16 initializers, Cast back to float in the graph."""
    model = onnx.load(str(src))
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT or len(init.dims) < 4:
            continue
        half = numpy_helper.from_array(
            numpy_helper.to_array(init).astype(np.float16), f"{init.name}_fp16"
        )
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def _dynamic_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QUInt8)


def _student(dst: Path) -> None:
    model = untrained_model(TransformerNetConfig(widths=(8, 16, 32), residual_blocks=1), seed=3)
    export_onnx(model, dst, ExportConfig(engine=Engine.BARRACUDA_3, sample_size=(64, 64)))


def _verdict(path: Path, engine: Engine) -> EngineVerdict:
    report = check_model(path, engine)
    worst = report.verdict
    reason = fix = ""
    if worst is not Verdict.RUNS:
        bad = next(v for v in report.verdicts if v.verdict is worst)
        reason, fix = bad.reason, bad.fix
    return EngineVerdict(engine=engine.value, verdict=worst.value, reason=reason, fix=fix)


def _measure(
    catalog: Path,
    variant_id: str,
    kind: RecipeKind,
    frames: list[np.ndarray],
    teacher_out: list[np.ndarray] | None,
    *,
    with_fidelity: bool = True,
    parent: str | None = "mosaic",
) -> tuple[Variant, list[np.ndarray]]:
    path = catalog / f"{variant_id}.onnx"
    backend = create_backend(path, BackendKind.ONNXRUNTIME, model_id=variant_id)
    outputs = [backend.run(f) for f in frames]
    backend.run(frames[0])  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter()
        backend.run(frames[0])
        times.append((time.perf_counter() - start) * 1000.0)
    backend.close()
    fidelity = None
    if teacher_out is not None and with_fidelity:
        psnrs = [min(psnr(o, t), 99.0) for o, t in zip(outputs, teacher_out, strict=True)]
        ssims = [_ssim(o, t) for o, t in zip(outputs, teacher_out, strict=True)]
        fidelity = Fidelity(
            psnr_mean_db=statistics.fmean(psnrs),
            psnr_min_db=min(psnrs),
            ssim_mean=statistics.fmean(ssims),
            ssim_min=min(ssims),
            frames=len(frames),
            width=SIZE[0],
            height=SIZE[1],
        )
    proto = onnx.load(str(path))
    params = count_onnx_parameters(proto)
    conv_weights = sum(int(np.prod(i.dims)) for i in proto.graph.initializer if len(i.dims) == 4)
    recipe = Recipe(kind=kind)
    variant = Variant(
        id=variant_id,
        parent=None if kind is RecipeKind.TEACHER else parent,
        recipe=recipe,
        recipe_key=recipe.key(parent),
        file=path.name,
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        params=params,
        nonzero_params=params,
        # Test-side estimate: 2 x weights x output pixels (an upper bound; no strides).
        flops={f"{SIZE[0]}x{SIZE[1]}": 2 * conv_weights * SIZE[0] * SIZE[1]},
        fidelity=fidelity,
        latency=(
            Latency(
                backend=backend.name,
                width=SIZE[0],
                height=SIZE[1],
                median_ms=statistics.median(times),
                p90_ms=float(np.percentile(times, 90)),
                runs=len(times),
                warmup=1,
            ),
        ),
        engines=tuple(
            _verdict(path, e)
            for e in (Engine.BARRACUDA_3, Engine.BARRACUDA_2, Engine.SENTIS_2)
        ),
    )
    return variant, outputs


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, frame_paths: list[Path]):
    """A four-variant catalog with real measurements (the student has no fidelity)."""
    root = tmp_path_factory.mktemp("catalog")
    shutil.copyfile(models_dir / "mosaic.onnx", root / "mosaic.onnx")
    _fp16_weights(root / "mosaic.onnx", root / "mosaic-fp16w.onnx")
    _dynamic_int8(root / "mosaic.onnx", root / "mosaic-int8dyn.onnx")
    _student(root / "student-8-16-32x1.onnx")
    frames = [load_rgb(p, SIZE) for p in frame_paths[:2]]
    teacher, teacher_out = _measure(root, "mosaic", RecipeKind.TEACHER, frames, None)
    variants = [teacher]
    for vid, kind, fid in (
        ("mosaic-fp16w", RecipeKind.FP16_WEIGHTS, True),
        ("mosaic-int8dyn", RecipeKind.QUANTIZE_DYNAMIC, True),
        ("student-8-16-32x1", RecipeKind.DISTILL, False),
    ):
        variants.append(_measure(root, vid, kind, frames, teacher_out, with_fidelity=fid)[0])
    save_manifest(root, Manifest(teacher="mosaic", source="mosaic.onnx", variants=tuple(variants)))
    return root


def test_summary_derives_speedup_size_ratio_and_barracuda_support(catalog: Path) -> None:
    from stylebridge.catalog import load_manifest

    manifest = load_manifest(catalog)
    summary = summarize(manifest)
    rows = {r.id: r for r in summary.rows}
    assert summary.rows[0].id == "mosaic" and rows["mosaic"].is_teacher
    assert rows["mosaic"].speedup == pytest.approx(1.0) and rows["mosaic"].ssim_mean == 1.0
    fp16 = rows["mosaic-fp16w"]
    assert fp16.size_ratio is not None and 0.45 < fp16.size_ratio < 0.55
    assert fp16.ssim_mean is not None and fp16.ssim_mean > 0.99
    # Whatever the checker says about the Cast-expanded weights, the row follows it.
    fp16_verdict = manifest.get("mosaic-fp16w").engines[0]
    assert fp16_verdict.engine == "barracuda-3"
    assert (fp16.barracuda is BarracudaSupport.CANNOT_RUN) == (fp16_verdict.verdict == "cannot-run")
    assert rows["mosaic"].barracuda is BarracudaSupport.RUNS
    assert rows["mosaic-int8dyn"].barracuda is BarracudaSupport.CANNOT_RUN
    assert rows["student-8-16-32x1"].ssim_mean is None and not rows["student-8-16-32x1"].plotted
    assert summary.latency_key == choose_latency_key(manifest)
    assert summary.latency_key is not None and summary.latency_key.width == 64
    # The front is what pareto_front says about the plotted points.
    plotted = [r for r in summary.rows if r.plotted]
    points = [(r.latency.median_ms, r.ssim_mean) for r in plotted]  # type: ignore[union-attr]
    assert {plotted[i].id for i in pareto_front(points)} == {r.id for r in summary.rows if r.pareto}
    with pytest.raises(InvalidInputError, match="no variant has a latency"):
        choose_latency_key(manifest, backend="torch/cpu")


def test_plots_have_the_expected_series(catalog: Path) -> None:
    from stylebridge.catalog import load_manifest

    summary = summarize(load_manifest(catalog))
    figure = latency_fidelity_figure(summary)
    ax = figure.axes[0]
    scatters = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    # One series per Barracuda answer, three points in all: the student is not plotted.
    expected = Counter(r.barracuda.value for r in summary.rows if r.plotted)
    assert scatters == dict(expected) and sum(scatters.values()) == 3
    assert scatters[BarracudaSupport.RUNS.value] >= 1  # the teacher
    assert scatters[BarracudaSupport.CANNOT_RUN.value] >= 1  # dynamic int8
    (front,) = [line for line in ax.get_lines() if line.get_label() == PARETO_LABEL]
    front_ids = [r.id for r in summary.rows if r.pareto]
    assert len(front.get_xdata()) == len(front_ids) >= 1
    assert list(front.get_xdata()) == sorted(front.get_xdata())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert PARETO_LABEL in legend and BarracudaSupport.CANNOT_RUN.value in legend
    assert "not plotted: student-8-16-32x1 (no fidelity)" in ax.get_xlabel()

    sizes = size_figure(summary).axes[0]
    assert len(sizes.patches) == 4
    widths = [p.get_width() for p in sizes.patches]
    assert widths[1] < 0.6 * widths[0]  # fp16 about half the teacher


def test_write_report_files_json_contact_sheet_and_link(
    catalog: Path, tmp_path: Path, frames_dir: Path
) -> None:
    files = write_report(catalog, frames=frames_dir, options=SHEET)
    assert files.folder == catalog / "report"
    for path in (
        files.markdown,
        files.html,
        files.json,
        files.latency_plot,
        files.size_plot,
        files.contact_sheet,
    ):
        assert path.is_file() and path.stat().st_size > 0, path
    data = json.loads(files.json.read_text())
    variants = {v["id"]: v for v in data["variants"]}
    assert set(variants) == {"mosaic", "mosaic-fp16w", "mosaic-int8dyn", "student-8-16-32x1"}
    assert all(isinstance(v["pareto"], bool) for v in variants.values())
    assert (
        data["pareto_front"] == [v for v in data["pareto_front"] if variants[v]["pareto"]]
        and data["pareto_front"]
    )
    assert variants["student-8-16-32x1"]["pareto"] is False
    assert variants["mosaic"]["speedup_vs_teacher"] == pytest.approx(1.0)
    assert 0.45 < variants["mosaic-fp16w"]["size_ratio"] < 0.55
    assert variants["mosaic-int8dyn"]["barracuda"] == "cannot_run"
    assert len(data["manifest"]["variants"]) == 4 and data["manifest"]["teacher"] == "mosaic"
    assert data["contact_sheet_failures"] == []

    markdown = files.markdown.read_text()
    assert "| mosaic (teacher) |" in markdown and "n/a" in markdown
    assert "![Latency vs fidelity](latency_vs_fidelity.png)" in markdown
    assert "`mosaic-int8dyn` on barracuda-3: cannot-run" in markdown
    page = files.html.read_text()
    assert page.count('src="data:image/png;base64,') == 3 and "mosaic-fp16w" in page

    sheet = cv2.imread(str(files.contact_sheet))
    # Input row + 4 variants, 3 tiles of 64x48 each (plus gaps and the label column).
    assert sheet.shape[0] == 5 * (48 + 2)
    assert sheet.shape[1] > 3 * 64

    # The demo report links here, relative to its own folder.
    demo = tmp_path / "demo"
    demo.mkdir()
    line = report_link(catalog, relative_to=demo)
    target = line[line.index("](") + 2 : -1]
    assert not Path(target).is_absolute()
    assert (demo / target).resolve() == files.markdown.resolve()


def test_missing_fidelity_and_broken_variant_still_render(catalog: Path, tmp_path: Path) -> None:
    from stylebridge.catalog import load_manifest

    broken = tmp_path / "broken"
    shutil.copytree(catalog, broken)
    (broken / "mosaic-int8dyn.onnx").write_bytes(b"not an onnx file")
    manifest = load_manifest(broken)
    bare = manifest.get("mosaic-fp16w").model_copy(update={"fidelity": None, "latency": ()})
    save_manifest(broken, manifest.upsert(bare))
    files = write_report(broken, frames=None, options=SHEET)
    assert files.folder == broken / "report"
    data = json.loads(files.json.read_text())
    failures = {f["id"] for f in data["contact_sheet_failures"]}
    assert failures == {"mosaic-int8dyn"}
    fp16 = next(v for v in data["variants"] if v["id"] == "mosaic-fp16w")
    assert fp16["ssim_mean"] is None and fp16["pareto"] is False
    assert fp16["latency_median_ms"] is None
    row = next(
        line for line in files.markdown.read_text().splitlines() if "| mosaic-fp16w |" in line
    )
    assert row.count("n/a") >= 4  # PSNR, SSIM, latency, speed-up


def test_missing_catalog_is_refused_and_unlinked(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no manifest\.json"):
        write_report(tmp_path / "nothing")
    assert "not written yet" in report_link(tmp_path / "nothing")


def test_cli_report(catalog: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stylebridge.cli import app

    out = tmp_path / "cli-report"
    result = CliRunner().invoke(
        app,
        ["report", str(catalog), "--out", str(out), "--sheet-size", "64x48", "--sheet-frames", "1"],
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and (out / "contact_sheet.png").is_file()
    refused = CliRunner().invoke(app, ["report", str(catalog), "--size", "1x1", "--out", str(out)])
    assert isinstance(refused.exception, InvalidInputError)
