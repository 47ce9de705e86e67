"""optimize --ray: the same catalog on a real local Ray, retries from checkpoints, fast failures.

Every run here is the real command in a child process (``stylebridge optimize``), which
starts its own local Ray (2 CPUs on this machine) and shuts it down; the kill test
SIGKILLs the real worker process that is training, as an out-of-memory kill or a lost
node would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stylebridge.catalog import load_manifest
from stylebridge.errors import InvalidInputError
from stylebridge.optimize.pipeline import optimize
from stylebridge.optimize.ray_settings import RaySettings
from stylebridge.optimize.recipes import load_recipes

STYLEBRIDGE = Path(sys.executable).with_name("stylebridge")

HEADER = """
[evaluation]
width = 160
height = 90
frames = 2

[latency]
resolutions = ["160x90"]
runs = 3
"""

SMALL = HEADER + """
[[recipe]]
kind = "fp16-weights"

[[recipe]]
kind = "int8-weights"

[[recipe]]
kind = "quantize-dynamic"

[[recipe]]
kind = "prune-unstructured"
amount = 0.5

[[recipe]]
kind = "distill"
widths = [8, 16, 32]
residual_blocks = 1
steps = 4
batch_size = 1
crop = 64

[[recipe]]
kind = "fp16-weights"
parent = "distill-8-16-32-r1"
"""

# Long enough to be killed after its first checkpoint (every steps // 4).
LONG_DISTILL = HEADER + """
[[recipe]]
kind = "distill"
widths = [8, 16, 32]
residual_blocks = 1
steps = 120
batch_size = 1
crop = 64
"""


@pytest.fixture(scope="module")
def frames(three_frames: Path) -> Path:
    return three_frames


def _toml(folder: Path, text: str, dashboard: bool = False) -> Path:
    """A recipe file; Ray's dashboard stays off (two fewer processes on 2 cores) unless asked."""
    path = folder / "recipes.toml"
    if "[ray]" not in text:
        text += f"\n[ray]\ndashboard = {str(dashboard).lower()}\n"
    path.write_text(text)
    return path


def _optimize(model: Path, frames: Path, out: Path, recipe: Path, *extra: str,
              wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    argv = [str(STYLEBRIDGE), "optimize", str(model), "--frames", str(frames), "--out", str(out),
            "--recipe", str(recipe), *extra]
    if not wait:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def _recipes(manifest: object) -> dict[str, tuple[str, str]]:
    return {v.id: (v.recipe.kind.value, json.dumps(v.recipe.params, sort_keys=True))
            for v in manifest.variants}  # type: ignore[attr-defined]


def test_ray_local_builds_the_same_catalog_as_a_local_run(
        tmp_path: Path, models_dir: Path, frames: Path) -> None:
    recipe = _toml(tmp_path, SMALL, dashboard=True)
    local = optimize(models_dir / "mosaic.pth", frames, tmp_path / "local", recipe)
    done = _optimize(models_dir / "mosaic.pth", frames, tmp_path / "ray", recipe, "--ray", "local")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Ray started on this machine" in done.stdout
    assert "dashboard: http://" in done.stdout
    on_ray = load_manifest(tmp_path / "ray")
    assert _recipes(on_ray) == _recipes(local)
    for variant in on_ray.variants:
        twin = local.get(variant.id)
        assert variant.fidelity is not None and twin.fidelity is not None
        # Same seed, same steps; only float sums in another thread count differ.
        assert variant.fidelity.ssim_mean == pytest.approx(twin.fidelity.ssim_mean, abs=0.01)
        assert (tmp_path / "ray" / variant.file).is_file()
        if variant.id == on_ray.teacher:
            assert variant.built_on == "local"  # the driver exports and measures the teacher
        else:
            assert variant.built_on.startswith("ray: node "), variant.built_on
    assert {v.built_on for v in local.variants} == {"local"}
    # The driver cleans the checkpoints of finished builds.
    assert not list((tmp_path / "ray" / ".work").glob("*/distill-checkpoint.pt"))


def test_a_killed_worker_is_retried_from_its_checkpoint(
        tmp_path: Path, models_dir: Path, frames: Path) -> None:
    recipe = _toml(tmp_path, LONG_DISTILL)
    out = tmp_path / "catalog"
    run = _optimize(models_dir / "mosaic.pth", frames, out, recipe, "--ray", "local", wait=False)
    assert isinstance(run, subprocess.Popen)
    killed = None
    deadline = time.monotonic() + 240
    while killed is None and run.poll() is None and time.monotonic() < deadline:
        for checkpoint in (out / ".work").glob("*/distill-checkpoint.pt"):
            pid = int((checkpoint.parent / "worker.pid").read_text())
            os.kill(pid, signal.SIGKILL)
            killed = pid
        time.sleep(0.05)
    output, _ = run.communicate(timeout=600)
    assert killed is not None, "no checkpoint appeared to kill after:\n" + output
    assert run.returncode == 0, output
    manifest = load_manifest(out)
    (variant,) = [v for v in manifest.variants if v.id == "distill-8-16-32-r1"]
    assert "resumed from the checkpoint at step 30" in variant.notes, variant.notes
    assert f"pid {killed}" not in variant.built_on
    raw = json.loads((out / "manifest.json").read_text())
    ids = [v["id"] for v in raw["variants"]]
    assert sorted(ids) == sorted(set(ids)) == ["distill-8-16-32-r1", "mosaic"]


def test_an_interrupted_driver_resumes_on_the_next_run(
        tmp_path: Path, models_dir: Path, frames: Path) -> None:
    recipe = _toml(tmp_path, HEADER + """
[[recipe]]
kind = "fp16-weights"
""" + LONG_DISTILL.removeprefix(HEADER))
    out = tmp_path / "catalog"
    run = _optimize(models_dir / "mosaic.pth", frames, out, recipe, "--ray", "local", wait=False)
    assert isinstance(run, subprocess.Popen)
    deadline = time.monotonic() + 240
    while run.poll() is None and time.monotonic() < deadline:
        built = (out / "manifest.json").is_file() and "fp16-weights" in {
            v.id for v in load_manifest(out).variants}
        if built and list((out / ".work").glob("*/distill-checkpoint.pt")):
            run.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    output, _ = run.communicate(timeout=120)
    assert run.returncode != 0, "the run finished before it could be interrupted:\n" + output
    assert "distill-8-16-32-r1" not in {v.id for v in load_manifest(out).variants}
    again = _optimize(models_dir / "mosaic.pth", frames, out, recipe, "--ray", "local")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reused fp16-weights" in again.stdout
    variant = load_manifest(out).get("distill-8-16-32-r1")
    assert "resumed from the checkpoint at step" in variant.notes, variant.notes


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_cluster_fails_fast_with_a_clear_message(
        tmp_path: Path, models_dir: Path, frames: Path) -> None:
    port = _closed_port()
    recipe = _toml(tmp_path, SMALL)
    done = _optimize(models_dir / "mosaic.pth", frames, tmp_path / "c", recipe,
                     "--ray", f"ray://127.0.0.1:{port}")
    assert done.returncode == 2, done.stdout + done.stderr
    message = " ".join(done.stderr.split())
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in message
    assert "ray start --head" in message
    assert not (tmp_path / "c" / "manifest.json").exists()  # nothing was started


def test_a_bad_address_is_refused_before_anything_runs(tmp_path: Path, models_dir: Path,
                                                       frames: Path) -> None:
    recipe = _toml(tmp_path, SMALL)
    done = _optimize(models_dir / "mosaic.pth", frames, tmp_path / "c", recipe,
                     "--ray", "my-laptop")
    assert done.returncode == 2
    assert "is not 'local', 'auto'" in " ".join(done.stderr.split())


def test_ray_settings_come_from_the_recipe_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, SMALL + """
[ray]
address = "ray://farm.example:10001"
cpus = 4
gpus = 1
memory_gb = 8
storage = "/mnt/farm/stylebridge"
""")
    ray = load_recipes(path).ray
    assert ray == RaySettings(address="ray://farm.example:10001", cpus=4, gpus=1, memory_gb=8,
                              storage="/mnt/farm/stylebridge")
    assert ray.endpoint() == ("farm.example", 10001)
    with pytest.raises(InvalidInputError, match="gpu"):
        load_recipes(_toml(tmp_path, SMALL + "[ray]\ngpu = 1\n"))


def test_task_resources_follow_the_recipe() -> None:
    from stylebridge.optimize.ray_runner import task_options
    from stylebridge.optimize.recipes import DistillSpec, Fp16WeightsSpec, StudentsSpec

    ray = RaySettings(address="local", cpus=2, gpus=1, memory_gb=4)
    train = task_options(DistillSpec(), ray)
    assert (train["num_cpus"], train["num_gpus"], train["memory"]) == (2, 1, 4 * 1024**3)
    assert train["max_retries"] == 2 and train["retry_exceptions"] is False
    assert "num_gpus" not in task_options(Fp16WeightsSpec(), ray)
    assert task_options(StudentsSpec(), ray)["num_cpus"] == 0  # its trials hold the CPUs


def test_auto_joins_a_running_cluster_or_says_there_is_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """'auto' looks for a Ray on this machine (a gcs_server process, or the last `ray
    start`); with none, a clear error at once. Another suite's Ray may be running here, so
    the test asks the process table which answer is right."""
    import psutil

    from stylebridge.optimize.ray_cluster import ClusterUnreachableError, connected

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    running = any(p.info["name"] == "gcs_server" for p in psutil.process_iter(["name"]))
    if running:
        with connected(RaySettings(address="auto")) as cluster:
            assert not cluster.started_here and cluster.cpus > 0
        return
    with (pytest.raises(ClusterUnreachableError, match="no running cluster was found"),
          connected(RaySettings(address="auto"))):
        pass


def test_joining_a_cluster_started_with_ray_start(tmp_path: Path, models_dir: Path,
                                                 frames: Path) -> None:
    """The multi-machine way, on one machine: `ray start --head`, then optimize joins it by
    the head's GCS address, as a driver on any machine of the cluster does; `ray stop` ends
    it. (Joining over Ray Client, ray://, worked here alone but dropped its data channel
    under the load of the whole suite: Ray Client's reconnect, not ours; see the notes.)"""
    ray_cli = Path(sys.executable).with_name("ray")
    gcs = _closed_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    subprocess.run([str(ray_cli), "start", "--head", f"--port={gcs}", "--num-cpus=2",
                    "--include-dashboard=false", "--disable-usage-stats"],
                   check=True, capture_output=True, timeout=180, env=env)
    try:
        recipe = _toml(tmp_path, HEADER + '[[recipe]]\nkind = "fp16-weights"\n')
        done = _optimize(models_dir / "mosaic.pth", frames, tmp_path / "c", recipe,
                         "--ray", f"127.0.0.1:{gcs}")
    finally:
        subprocess.run([str(ray_cli), "stop", "--force"], capture_output=True, timeout=180,
                       env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"joined 127.0.0.1:{gcs}" in done.stdout
    variant = load_manifest(tmp_path / "c").get("fp16-weights")
    assert variant.built_on.startswith("ray: node ") and variant.fidelity is not None


def test_auto_resolving_to_a_dead_address_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """RAY_ADDRESS (or a stale /tmp/ray/ray_current_cluster) naming a dead head: ray.init
    would wait minutes for its GCS; the probe says so within connect_timeout_s."""
    from stylebridge.optimize.ray_cluster import ClusterUnreachableError, connected

    port = _closed_port()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    with (pytest.raises(ClusterUnreachableError, match=f"cannot reach .* 127.0.0.1:{port}"),
          connected(RaySettings(address="auto", connect_timeout_s=5))):
        pass
