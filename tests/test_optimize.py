"""optimize.recipes and optimize.pipeline: the quick recipe set on mosaic.pth and three
real frames builds a catalog whose manifest validates, and a second run reuses it."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import pytest
from typer.testing import CliRunner

from stylebridge.catalog import Manifest, RecipeKind, is_barracuda_compatible, load_manifest
from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.optimize.pipeline import (
    EventKind,
    OptimizeEvent,
    optimize,
    split_frames,
)
from stylebridge.optimize.recipes import (
    DistillSpec,
    Fp16WeightsSpec,
    Int8WeightsSpec,
    RecipeSet,
    StudentsSpec,
    default_recipes,
    load_recipes,
    quick_recipes,
)

TORCH_KINDS = {RecipeKind.PRUNE_UNSTRUCTURED, RecipeKind.PRUNE_STRUCTURED, RecipeKind.DISTILL,
               RecipeKind.STUDENTS, RecipeKind.TORCH_INT8}


# ---- recipes -------------------------------------------------------------------------
def test_builtin_sets_have_every_kind_and_unique_ids() -> None:
    for recipes in (quick_recipes(), default_recipes()):
        kinds = {spec.to_recipe().kind for spec in recipes.recipes}
        assert kinds == set(RecipeKind) - {RecipeKind.TEACHER}
        ids = [spec.variant_id() for spec in recipes.recipes]
        assert len(ids) == len(set(ids))
    budgets = [s.time_budget_s for s in default_recipes().recipes if hasattr(s, "time_budget_s")]
    search = [s.training_seconds() for s in default_recipes().recipes
              if isinstance(s, StudentsSpec)]
    assert search == [4 * 150 + 2 * 300 + 600]
    assert all(b is not None for b in budgets)
    assert sum(budgets) + sum(search) <= 45 * 60  # training; measuring adds ~10 min


def test_recipe_keys_change_with_parameters_not_names() -> None:
    a = Int8WeightsSpec().to_recipe()
    assert a.key("t") == Int8WeightsSpec(name="renamed").to_recipe().key("t")
    assert a.key("t") != Int8WeightsSpec(scheme="asymmetric").to_recipe().key("t")
    assert a.key("t") != a.key("other-parent")
    distill = DistillSpec(widths=(8, 16, 32), residual_blocks=1).to_recipe()
    assert distill.params["widths"] == [8, 16, 32] and "name" not in distill.params


def test_recipes_load_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("""
[evaluation]
width = 160
height = 90
frames = 2

[latency]
resolutions = ["320x180", "640x360"]

[[recipe]]
kind = "distill"
widths = [8, 16, 32]
residual_blocks = 1
steps = 10

[[recipe]]
kind = "fp16-weights"
parent = "distill-8-16-32-r1"
""")
    recipes = load_recipes(path)
    assert recipes.name == "mine"
    assert recipes.latency.sizes() == ((320, 180), (640, 360))
    assert isinstance(recipes.recipes[1], Fp16WeightsSpec)
    assert recipes.recipes[1].variant_id() == "distill-8-16-32-r1.fp16-weights"
    assert load_recipes("quick").name == "quick"


@pytest.mark.parametrize(("text", "message"), [
    ('[[recipe]]\nkind = "sharpen"\n', "does not match any of the expected tags|sharpen"),
    ('[[recipe]]\nkind = "fp16-weights"\nparent = "nope"\n', "no earlier recipe builds"),
    ('[[recipe]]\nkind = "int8-weights"\n[[recipe]]\nkind = "int8-weights"\n', "distinct name"),
    ('[[recipe]]\nkind = "distill"\ncrop = 30\n', "multiple of 4"),
    ('[latency]\nresolutions = ["640"]\n', "WIDTHxHEIGHT"),
    ("not = [toml", "not valid TOML"),
])
def test_bad_recipe_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=message):
        load_recipes(path)


def test_unknown_recipe_name_lists_the_builtin_sets() -> None:
    with pytest.raises(NotFoundError, match="quick, default"):
        load_recipes("fastest")


def test_split_frames_holds_out_spread_frames() -> None:
    paths = [Path(f"{i:02d}.png") for i in range(13)]
    train, held = split_frames(paths, 4)
    assert held == [paths[0], paths[4], paths[8], paths[12]]
    assert not set(train) & set(held) and len(train) == 9


# ---- the pipeline --------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_catalog(tmp_path_factory: pytest.TempPathFactory, models_dir: Path,
                  three_frames: Path) -> tuple[Path, Manifest, list[OptimizeEvent]]:
    out = tmp_path_factory.mktemp("catalog")
    events: list[OptimizeEvent] = []
    manifest = optimize(models_dir / "mosaic.pth", three_frames, out, quick_recipes(),
                        progress=events.append)
    return out, manifest, events


def test_quick_catalog_manifest_validates(quick_catalog: tuple, three_frames: Path) -> None:
    out, manifest, events = quick_catalog
    assert load_manifest(out) == manifest
    assert manifest.teacher == "mosaic"
    failed = [e for e in events if e.kind is EventKind.FAILED]
    assert not failed, failed
    # Every quick recipe is built from a .pth teacher: nothing is skipped.
    assert not [e for e in events if e.kind is EventKind.SKIPPED]
    expected = {s.variant_id() for s in quick_recipes().recipes} | {"mosaic"}
    assert {v.id for v in manifest.variants} == expected
    assert Path(manifest.frames) == three_frames.resolve()
    runs = quick_recipes().latency.runs
    for variant in manifest.variants:
        # All variants timed together, interleaved, with an interval against the teacher.
        assert [(lat.interleaved, lat.runs) for lat in variant.latency] == [(True, runs)]
        if variant.id == "mosaic":
            assert variant.speedup is None
        else:
            up = variant.speedup
            assert up is not None and up.low <= up.ratio <= up.high and up.runs == runs
    for variant in manifest.variants:
        path = out / variant.file
        assert path.stat().st_size == variant.size_bytes
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert variant.fidelity is not None and variant.fidelity.width == 160
        assert variant.latency and variant.latency[0].median_ms > 0
        assert {e.engine for e in variant.engines} == {
            "barracuda-1.0", "barracuda-2", "barracuda-3", "sentis-1", "sentis-2"}
        assert set(variant.flops) == {"160x90"}
        assert variant.notes


def test_quick_catalog_verdicts_and_measures(quick_catalog: tuple) -> None:
    _, manifest, _ = quick_catalog
    teacher = manifest.get("mosaic")
    assert teacher.fidelity.ssim_mean == pytest.approx(1.0)
    assert is_barracuda_compatible(teacher)
    for vid in ("int8-dynamic", "int8-static"):
        variant = manifest.get(vid)
        assert all(e.verdict == "cannot-run" and e.fix for e in variant.engines)
        assert "Python inference only" in variant.notes
    fp16 = manifest.get("fp16-weights")
    assert is_barracuda_compatible(fp16) and fp16.fidelity.ssim_mean > 0.99
    assert fp16.size_bytes <= 0.55 * teacher.size_bytes
    int8 = manifest.get("int8-weights")
    verdicts = {e.engine: e.verdict for e in int8.engines}
    assert verdicts["barracuda-3"] == "cannot-run" and verdicts["sentis-2"] != "cannot-run"
    assert "cannot run on barracuda-2, barracuda-3" in int8.notes
    assert int8.size_bytes <= 0.30 * teacher.size_bytes and int8.fidelity.ssim_mean > 0.95
    assert int8.params == teacher.params and int8.flops["160x90"] >= teacher.flops["160x90"]
    student = manifest.get("distill-8-16-32-r1")
    assert student.flops["160x90"] < 0.1 * teacher.flops["160x90"]
    assert student.checkpoint and student.params < teacher.params
    pruned = manifest.get("prune-u50")
    assert pruned.flops == teacher.flops
    assert pruned.nonzero_params < 0.6 * pruned.params
    assert manifest.get("prune-s50").params < teacher.params


def test_rerun_reuses_every_variant(quick_catalog: tuple, models_dir: Path,
                                    three_frames: Path) -> None:
    out, first, _ = quick_catalog
    stamps = {v.id: ((out / v.file).stat().st_mtime_ns, v.sha256, v.created_at)
              for v in first.variants}
    events: list[OptimizeEvent] = []
    second = optimize(models_dir / "mosaic.pth", three_frames, out, quick_recipes(),
                      progress=events.append)
    assert {e.variant_id for e in events if e.kind is EventKind.REUSED} == set(stamps)
    assert not [e for e in events if e.kind is EventKind.BUILT]
    for variant in second.variants:
        assert ((out / variant.file).stat().st_mtime_ns, variant.sha256,
                variant.created_at) == stamps[variant.id]


def test_a_changed_file_is_rebuilt(quick_catalog: tuple, models_dir: Path,
                                   three_frames: Path, tmp_path: Path) -> None:
    out, _, _ = quick_catalog
    recipes = RecipeSet(name="one", recipes=(Int8WeightsSpec(),),
                        evaluation=quick_recipes().evaluation, latency=quick_recipes().latency)
    target = out / "int8-weights.onnx"
    target.write_bytes(target.read_bytes() + b"\0")  # corrupt: sha256 no longer matches
    events: list[OptimizeEvent] = []
    manifest = optimize(models_dir / "mosaic.pth", three_frames, out, recipes,
                        progress=events.append)
    assert ("int8-weights", EventKind.BUILT) in {(e.variant_id, e.kind) for e in events}
    assert manifest.get("int8-weights").sha256 != ""
    ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])


def test_an_onnx_teacher_skips_torch_recipes(tmp_path: Path, models_dir: Path,
                                             three_frames: Path) -> None:
    recipes = RecipeSet(name="mixed", recipes=(
        Fp16WeightsSpec(), DistillSpec(widths=(8, 16, 32), residual_blocks=1, steps=2)),
        evaluation=quick_recipes().evaluation, latency=quick_recipes().latency)
    events: list[OptimizeEvent] = []
    manifest = optimize(models_dir / "mosaic.onnx", three_frames, tmp_path, recipes,
                        progress=events.append)
    assert [v.id for v in manifest.variants] == ["mosaic", "fp16-weights"]
    skipped = [e for e in events if e.kind is EventKind.SKIPPED]
    assert skipped and ".pth" in skipped[0].detail


def test_optimize_command_refuses_a_missing_frames_folder(tmp_path: Path,
                                                          models_dir: Path) -> None:
    from stylebridge.cli import app

    result = CliRunner().invoke(app, ["optimize", str(models_dir / "mosaic.pth"),
                                      "--frames", str(tmp_path / "none"), "--out",
                                      str(tmp_path / "cat"), "--recipe", "quick"])
    assert result.exit_code == 2 and "frames folder" in result.output


def test_a_failing_recipe_fails_loudly_by_name(tmp_path: Path, models_dir: Path,
                                               three_frames: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """An injected bug (AttributeError) in pruning is a failure, never "skipped"."""
    from typer.testing import CliRunner

    from stylebridge.cli import app
    from stylebridge.optimize import prune

    def broken(*args: object, **kwargs: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'weight'")

    monkeypatch.setattr(prune, "prune_unstructured", broken)
    toml = tmp_path / "one.toml"
    toml.write_text('name = "one"\n[[recipe]]\nkind = "prune-unstructured"\namount = 0.5\n'
                    '[evaluation]\nwidth = 160\nheight = 90\nframes = 2\n'
                    '[latency]\nresolutions = ["160x90"]\nruns = 3\n')
    result = CliRunner().invoke(app, ["optimize", str(models_dir / "mosaic.pth"), "--frames",
                                      str(three_frames), "--out", str(tmp_path / "cat"),
                                      "--recipe", str(toml)])
    assert result.exit_code == 1, result.output
    assert "failed prune-u50" in result.output and "AttributeError" in result.output
    assert "recipe(s) failed: prune-u50" in result.output
    assert "skipped" not in result.output
