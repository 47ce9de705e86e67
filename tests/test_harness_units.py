"""The harness's pure parts: the regression gate's statistics, plans, results, store, outputs."""

from __future__ import annotations

import itertools
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.harness.gate import GateConfig, apply_gate, compare, mann_whitney_greater
from stylebridge.harness.history import PerfHistory
from stylebridge.harness.outputs import markdown_table, write_all
from stylebridge.harness.plan import DEFAULT_RESOLUTIONS, Plan, load_plan, resolve_models
from stylebridge.harness.results import (
    CaseResult,
    CaseStatus,
    RunResult,
    RunStatus,
    run_from_dict,
    run_to_dict,
)


def _brute_force_p(x: np.ndarray, y: np.ndarray) -> float:
    joined = np.concatenate([x, y])
    u_obs = sum(a > b for a in x for b in y)
    hits = total = 0
    for picked in itertools.combinations(range(joined.size), x.size):
        rest = np.delete(joined, list(picked))
        u = sum(a > b for a in joined[list(picked)] for b in rest)
        hits += u >= u_obs
        total += 1
    return hits / total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_mann_whitney_matches_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(1.1, 0.2, 5), rng.normal(1.0, 0.2, 6)
    _, p = mann_whitney_greater(x, y)
    assert p == pytest.approx(_brute_force_p(x, y))


def test_normal_approximation_is_close_for_large_samples() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(0.2, 1, 40), rng.normal(0, 1, 40)
    # Reference from the exact null's moments: same z as scipy's mannwhitneyu(asymptotic).
    u, p = mann_whitney_greater(x, y)
    z = (u - 800 - 0.5) / np.sqrt(40 * 40 * 81 / 12)
    assert p == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)))
    # Shifted far apart: tiny p; identical samples: no evidence.
    assert mann_whitney_greater(x + 10, y)[1] < 1e-10
    assert mann_whitney_greater(np.ones(30), np.ones(30))[1] == 1.0


def test_gate_needs_both_a_big_and_a_significant_slowdown() -> None:
    rng = np.random.default_rng(4)
    base = tuple(rng.normal(10.0, 0.5, 30))
    config = GateConfig()
    slow = compare(tuple(np.asarray(base) * 1.3 + rng.normal(0, 0.1, 30)), base, "b", config)
    assert slow.regressed and slow.median_ratio > 1.2 and slow.ci_low > 1.1
    small = compare(tuple(np.asarray(base) * 1.05), base, "b", config)
    assert not small.regressed  # significant but under the 10 % threshold
    # One slow frame in a noisy sample is not a regression.
    noisy = list(base)
    noisy[0] = 100.0
    assert not compare(tuple(noisy), base, "b", config).regressed
    # Two frames each cannot be significant at alpha 0.01: said, not failed.
    few = compare((20.0, 21.0), (10.0, 10.5), "b", config)
    assert not few.regressed and "measure more frames" in few.note


def test_apply_gate_marks_only_matching_measured_cases() -> None:
    fast = CaseResult("m", 64, 64, CaseStatus.OK, engine_ms=tuple(np.linspace(10, 11, 12)))
    slow = CaseResult("m", 96, 64, CaseStatus.OK, engine_ms=tuple(np.linspace(20, 21, 12)))
    new = CaseResult("n", 64, 64, CaseStatus.OK, engine_ms=(1.0,))
    baseline = {fast.key: fast.engine_ms, slow.key: tuple(np.linspace(10, 11, 12))}
    gated = apply_gate((fast, slow, new), baseline, "b", GateConfig())
    assert [c.status for c in gated] == [CaseStatus.OK, CaseStatus.REGRESSED, CaseStatus.OK]
    assert gated[1].gate.change_percent == pytest.approx(95.24, abs=0.01)
    assert gated[2].gate is None
    with pytest.raises(InvalidInputError):
        GateConfig(threshold=-0.1)


def test_plan_defaults_toml_and_errors(tmp_path: Path) -> None:
    assert load_plan(None).resolutions == DEFAULT_RESOLUTIONS
    path = tmp_path / "plan.toml"
    path.write_text('resolutions = ["64X48"]\nmeasured_frames = 5\n[engine]\nquality_level = 2\n')
    plan = load_plan(path)
    assert plan.sizes == ((64, 48),) and plan.measured_frames == 5
    assert plan.engine.quality_level == 2
    path.write_text('resolutions = ["64by48"]\n')
    with pytest.raises(InvalidInputError, match="resolutions"):
        load_plan(path)
    path.write_text("measured_frames = 0\n")
    with pytest.raises(InvalidInputError, match="measured_frames"):
        load_plan(path)
    path.write_text("colour = 'red'\n")
    with pytest.raises(InvalidInputError, match="colour"):
        load_plan(path)
    with pytest.raises(NotFoundError):
        load_plan(tmp_path / "missing.toml")
    with pytest.raises(NotFoundError, match="nope"):
        resolve_models(Plan(models=("nope",)), None)
    with pytest.raises(InvalidInputError, match="no models"):
        resolve_models(Plan(), None)


def _run() -> RunResult:
    ok = CaseResult(
        "m",
        64,
        64,
        CaseStatus.OK,
        engine="e",
        timing_method="synchronous",
        engine_ms=(1.0, 2.0, 3.0),
        python_ms=(2.0, 2.0),
        parity_psnr_db=float("inf"),
        memory_bytes=2**20,
        quality_level=5,
    )
    broken = CaseResult("m", 96, 64, CaseStatus.ERROR, error="the player stopped")
    return RunResult(
        run_id="r1",
        label="b1",
        started_at_us=1,
        finished_at_us=2_000_001,
        status=RunStatus.ERROR,
        engine="e",
        cases=(ok, broken),
        error="the player stopped",
        plan={"warmup_frames": 1},
    )


def test_results_round_trip_json_and_store(store_at: str | Path) -> None:
    run = _run()
    data = json.loads(json.dumps(run_to_dict(run)))
    assert data["cases"][0]["engine_stats"]["median_ms"] == 2.0
    assert run_from_dict(data, "x") == run
    with pytest.raises(InvalidInputError, match="not a perf-test result"):
        run_from_dict({"cases": []}, "x.json")
    with PerfHistory(store_at) as history:
        history.save_run(run)
        history.save_run(run)  # replacing is idempotent
        loaded = history.latest_run("b1")
        assert loaded.cases == run.cases and loaded.plan == run.plan
        with pytest.raises(NotFoundError, match="labels: b1"):
            history.latest_run("b0")
        with pytest.raises(NotFoundError):
            history.latest_run("b1", exclude_run_id="r1")


def test_outputs_name_errors_and_regressions(tmp_path: Path) -> None:
    paths = write_all(_run(), tmp_path / "out")
    suite = ET.parse(paths.junit).getroot().find("testsuite")
    assert suite.get("tests") == "2" and suite.get("errors") == "1"
    cases = suite.findall("testcase")
    assert cases[0].find("error") is None and cases[1].find("error") is not None
    assert "the player stopped" in cases[1].find("error").get("message")
    table = markdown_table(_run())
    assert "| m | 64×64 | 2.00 |" in table and "identical" in table and "Run error" in table
    assert paths.plot.read_bytes()[:4] == b"\x89PNG"


def test_baseline_file_is_a_previous_runs_json(tmp_path: Path) -> None:
    from stylebridge.harness.outputs import write_json
    from stylebridge.harness.perf_test import _baseline_from_file

    path = write_json(_run(), tmp_path / "perf.json")
    where, samples = _baseline_from_file(path)
    assert "b1" in where and samples == {("m", 64, 64): (1.0, 2.0, 3.0)}
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InvalidInputError, match="not JSON"):
        _baseline_from_file(tmp_path / "bad.json")
    with pytest.raises(NotFoundError):
        _baseline_from_file(tmp_path / "missing.json")


def test_plan_models_come_from_the_catalog_or_paths(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    from stylebridge.catalog import (
        Manifest,
        Recipe,
        RecipeKind,
        Variant,
        save_manifest,
        sha256_file,
    )

    graph = helper.make_graph(
        [helper.make_node("Identity", ["input"], ["output"])],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, None, None])],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    helper.set_model_props(proto, {"stylebridge.input_range": "1"})
    model = tmp_path / "teacher.onnx"
    onnx.save(proto, str(model))
    recipe = Recipe(kind=RecipeKind.TEACHER)
    variant = Variant(
        id="mosaic",
        recipe=recipe,
        recipe_key=recipe.key(None),
        file="teacher.onnx",
        sha256=sha256_file(model),
        size_bytes=model.stat().st_size,
        params=0,
        nonzero_params=0,
    )
    save_manifest(tmp_path, Manifest(variants=(variant,)))
    every = resolve_models(Plan(), tmp_path)
    assert [(m.model_id, m.path, m.sha256) for m in every] == [
        ("mosaic", model.resolve(), variant.sha256)
    ]
    # The player is told the range the model's metadata declares (0..1 here, not 0..255).
    assert every[0].input_range == 1.0
    both = resolve_models(Plan(models=("mosaic", "teacher.onnx")), tmp_path, tmp_path)
    assert [m.model_id for m in both] == ["mosaic", "teacher"]
    with pytest.raises(InvalidInputError, match="twice"):
        resolve_models(Plan(models=("teacher.onnx", str(model))), None, tmp_path)
    with pytest.raises(NotFoundError, match="catalog"):
        resolve_models(Plan(models=("candy",)), tmp_path)


def test_standin_player_answers_every_case_even_when_it_cannot_run_it(tmp_path: Path) -> None:
    import struct

    from stylebridge.harness import protocol
    from stylebridge.harness.standin_engine import Slowdown
    from stylebridge.harness.standin_player import StandinPlayer
    from stylebridge.v1 import perf_pb2

    def case(version: int, size: int, path: str = "") -> tuple[object, bytes]:
        request = perf_pb2.PerfRunCase(
            case_id=f"c{version}-{size}",
            width=size,
            height=size,
            model_path=path,
            measured_frames=1,
        )
        message = perf_pb2.PerfToPlayer(protocol_version=version, run_case=request)
        return protocol.PERF_CHANNEL_ID, message.SerializeToString()

    def replies(blob: bytes, reset: bool = False) -> list[perf_pb2.PerfFromPlayer]:
        data = player.handle(blob, reset=reset)
        return [perf_pb2.PerfFromPlayer.FromString(p) for _, p in protocol.split_side_channel(data)]

    player = StandinPlayer(Slowdown(), "builtin")
    got = replies(protocol.pack_side_channel([case(2, 64), case(1, 64)]), reset=True)
    assert [m.WhichOneof("body") for m in got] == ["case_result", "case_result", "player_info"]
    assert "perf protocol 2" in got[0].case_result.error
    assert "screen is 640x360" in got[1].case_result.error
    assert got[2].player_info.engine == protocol.STANDIN_ENGINE
    resolution = struct.pack("<iii", 0, 64, 64)
    blob = protocol.pack_side_channel(
        [(protocol.ENGINE_CONFIG_CHANNEL_ID, resolution), case(1, 64, str(tmp_path / "x.onnx"))]
    )
    (result,) = replies(blob)
    assert "cannot read model" in result.case_result.error
    assert result.case_result.config.width == 64
