"""The student search on a real local Ray Tune (ASHA): same frontier as the local
halving, a SIGKILLed trial resumes from its checkpoint, and no Ray is a clear error.

Real mosaic teacher, real frames, tiny views (64x40, one per frame) and two shapes.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
import torch
from ray_cluster import local_ray

from stylebridge.errors import StateError
from stylebridge.evaluate.variant_eval import teacher_outputs
from stylebridge.frames import load_image, resize
from stylebridge.models import load_checkpoint
from stylebridge.models.export import export_onnx
from stylebridge.models.transformer_net import TransformerNet
from stylebridge.optimize.fast_distill import TrainConfig
from stylebridge.optimize.ray_students import (
    RayNotStartedError,
    TrialResources,
    milestone,
    scheduler,
    tune_students,
)
from stylebridge.optimize.student_nets import StudentNet
from stylebridge.optimize.student_search import (
    SearchInputs,
    SearchSettings,
    parse_shape,
    successive_halving,
)
from stylebridge.optimize.teacher_cache import ViewSpec
from stylebridge.optimize.tune_results import frontier_of

SHAPES = tuple(parse_shape(n) for n in ("s8-16-32-r1", "s8-16-32-r1dw-k3"))
VIEWS = ViewSpec(width=64, height=40, views_per_frame=1)


@pytest.fixture(scope="module")
def teacher(models_dir: Path) -> TransformerNet:
    return load_checkpoint(models_dir / "mosaic.pth").model


@pytest.fixture(scope="module")
def inputs(teacher: TransformerNet, frame_paths: list[Path],
           tmp_path_factory: pytest.TempPathFactory) -> SearchInputs:
    onnx_path = tmp_path_factory.mktemp("teacher") / "teacher.onnx"
    export_onnx(teacher, onnx_path)
    evaluation = tuple(resize(load_image(p), (160, 90)) for p in frame_paths[:2])
    return SearchInputs(teacher_onnx=onnx_path, train_frames=tuple(frame_paths[:2]),
                        eval_frames=evaluation,
                        eval_reference=tuple(teacher_outputs(onnx_path, evaluation)),
                        latency_frame=evaluation[0], latency_size=(160, 90), latency_runs=3)


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, float]]:
    with local_ray(num_cpus=2) as resources:
        yield resources


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as each 1-CPU trial does: same arithmetic, same SSIM
    yield
    torch.set_num_threads(before)


def test_without_ray_the_search_says_to_start_it(teacher: TransformerNet, inputs: SearchInputs,
                                                 tmp_path: Path) -> None:
    assert not ray.is_initialized()
    settings = SearchSettings(shapes=SHAPES, budgets=(1.0,), views=VIEWS)
    with pytest.raises(RayNotStartedError, match=r"ray\.init"):
        tune_students(teacher, inputs, settings, tmp_path, TrialResources())


def test_asha_has_a_rung_at_every_budget() -> None:
    # On training_iteration, ASHA's rungs would be at 1, 2, 4: no cut after budget 3 of 4.
    for keep, budgets in ((0.5, 4), (0.4, 5), (1 / 3, 3)):
        settings = SearchSettings(shapes=SHAPES, budgets=(1.0,) * budgets, keep=keep)
        rungs = sorted(m for m, _ in scheduler(settings)._brackets[0]._rungs)  # type: ignore[attr-defined]
        assert rungs[: budgets - 1] == [milestone(settings, r) for r in range(budgets - 1)]


def test_the_frontier_keeps_who_went_on_and_only_the_winner_on_top() -> None:
    def rungs(*scores: float) -> list[dict[str, float]]:
        return [{"score": v, "ssim_mean": v, "ssim_min": v, "steps": 10 * (r + 1),
                 "train_seconds": 1.0 + r, "speedup": 8.0, "rung": r}
                for r, v in enumerate(scores)]

    histories = {"a": rungs(0.3, 0.4, 0.5), "b": rungs(0.2), "c": rungs(0.35, 0.45, 0.6),
                 "d": rungs(0.5, 0.1)}
    points, winner = frontier_of(histories, ["a", "b", "c", "d"])
    assert winner == "c"
    assert [(p.shape, p.rung, p.kept) for p in points] == [
        ("a", 0, True), ("b", 0, False), ("c", 0, True), ("d", 0, True),
        ("a", 1, True), ("c", 1, True), ("d", 1, False),
        ("a", 2, False), ("c", 2, True)]


def test_tune_gives_the_local_frontier_for_the_same_steps_and_a_rerun_reuses_it(
        cluster: dict[str, float], teacher: TransformerNet, inputs: SearchInputs,
        tmp_path: Path) -> None:
    steps = 12  # per rung; the budgets are long enough that the step count always stops
    settings = SearchSettings(shapes=SHAPES, budgets=(30.0, 30.0), min_speedup=1.0,
                              views=VIEWS, train=TrainConfig(steps=steps, warmup_steps=2))
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()  # like a progress display: it does not pickle

    def on_result(shape: str, metrics: dict[str, float]) -> None:
        with lock:
            seen.append((shape, int(metrics["rung"])))

    result = tune_students(teacher, inputs, settings, tmp_path / "ray", TrialResources(),
                           on_result=on_result)
    local = successive_halving(teacher, inputs, settings, tmp_path / "local")

    assert isinstance(result.student, StudentNet) and not result.student.training
    points = {(p.shape, p.rung): p for p in result.frontier}
    assert len(points) == len(result.frontier)  # one point per (shape, rung)
    assert sorted(points) == sorted(seen)  # every reported rung reached on_result
    assert {s for s, r in points if r == 0} == {s.name for s in SHAPES}
    top = max(r for _, r in points)
    assert [p.shape for p in result.frontier if p.rung == top and p.kept] == \
        [result.winner.shape]
    assert all(p.steps == steps * (p.rung + 1) for p in result.frontier)
    assert set(result.steps_per_s) == {s.name for s in SHAPES}
    # Same seed, same steps: the same students as the local halving, rung for rung.
    for mine in local.frontier:
        theirs = points[(mine.shape, mine.rung)]
        assert theirs.steps == mine.steps
        assert theirs.ssim_mean == pytest.approx(mine.ssim_mean, abs=1e-4)
    # ASHA keeps at least what the local halving keeps; its winner is the best on top.
    assert {p.shape for p in local.frontier if p.rung == 1} <= \
        {s for s, r in points if r == 1}
    winner = result.winner
    assert winner.ssim_mean == max(p.ssim_mean for p in result.frontier if p.rung == top)
    # A re-run of the same search restores the finished experiment: nothing trains again.
    seen.clear()
    again = tune_students(teacher, inputs, settings, tmp_path / "ray", TrialResources(),
                          on_result=on_result)
    assert seen == []
    assert again.frontier == result.frontier
    assert torch.equal(again.student.head.conv2d.weight, result.student.head.conv2d.weight)


def test_a_killed_trial_resumes_from_its_last_rung(
        cluster: dict[str, float], teacher: TransformerNet, inputs: SearchInputs,
        tmp_path: Path) -> None:
    settings = SearchSettings(shapes=SHAPES, budgets=(4.0, 4.0, 4.0), min_speedup=1.0,
                              views=VIEWS, train=TrainConfig(warmup_steps=2))
    work = tmp_path / "work"
    reports: list[tuple[str, dict[str, float]]] = []
    killed: list[tuple[str, int]] = []

    def kill(shape: str) -> None:  # 1.5 s into rung 1: rung 0's checkpoint is in
        pid = int((work / "pids" / f"{shape}.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append((shape, pid))

    def on_result(shape: str, metrics: dict[str, float]) -> None:
        reports.append((shape, metrics))
        if metrics["rung"] == 0 and not killed and len(reports) == 1:
            # The first arrival at a rung always goes on under ASHA.
            threading.Timer(1.5, kill, args=(shape,)).start()

    result = tune_students(teacher, inputs, settings, work, TrialResources(), max_failures=2,
                           on_result=on_result)
    assert len(killed) == 1
    victim = killed[0][0]
    history = [m for s, m in reports if s == victim]
    rungs = [int(m["rung"]) for m in history]
    assert rungs == list(range(len(rungs))) and len(rungs) >= 2  # no rung twice, none lost
    assert [int(m["restored_from_rung"]) for m in history] == [-1] + [0] * (len(rungs) - 1)
    # It went on from rung 0's trainer: two budgets of training in it, not one.
    assert history[1]["train_seconds"] >= sum(settings.budgets[:2])
    assert history[1]["steps"] > history[0]["steps"]
    assert {(p.shape, p.rung) for p in result.frontier if p.shape == victim} == \
        {(victim, r) for r in rungs}
    assert len({(p.shape, p.rung) for p in result.frontier}) == len(result.frontier)
    assert result.winner.rung == 2
    assert isinstance(result.student, StudentNet)


def test_a_trial_failing_beyond_its_retries_is_named(
        cluster: dict[str, float], teacher: TransformerNet, inputs: SearchInputs,
        tmp_path: Path) -> None:
    settings = SearchSettings(shapes=SHAPES[1:], budgets=(2.0,), min_speedup=1.0,
                              views=VIEWS, train=TrainConfig(warmup_steps=2))
    victim = SHAPES[1].name
    pid_file = tmp_path / "pids" / f"{victim}.pid"

    def kill_when_training() -> None:
        for _ in range(600):
            if pid_file.is_file():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
                return
            threading.Event().wait(0.1)

    killer = threading.Thread(target=kill_when_training, daemon=True)
    killer.start()
    with pytest.raises(StateError, match=f"1 student trial.*{victim}: ActorDiedError"):
        tune_students(teacher, inputs, settings, tmp_path, TrialResources(), max_failures=0)
    killer.join(timeout=1)
