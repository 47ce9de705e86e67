"""Load and soak: N clients x F fps streaming at once, Python inference off then on.

Each phase starts its own server (``python -m stylebridge serve`` in a subprocess, so its
CPU and memory are its own, sampled with psutil every 0.5 s) and one client process
running all clients (``load_clients.py``: asyncio, one channel per client, frames
encoded once). Phases:

* ``off``: no model (``--off-mode record``: frames are recorded and answered RECORDED;
  ``identity``: the identity backend copies the pixels through the pipeline);
* ``on``: the built-in style (818 KB student) in ONNX Runtime, with a watched catalog;
  every ``--swap-every`` seconds the bench renames a new version of ``live.onnx`` into
  it (two variants of the built-in model, alternating), so each client gets a push,
  takes it at its next frame and acks, and Python follows it.

Per phase: throughput (sent / answered / processed per second, total and per client),
drops and the newest-frame-wins checks (see ``load_clients``), the store's rows against
the answers, p50/p95/p99 added latency, server CPU and RSS over time, and RSS growth from
after the warm-up to the end of sending. Writes ``out/bench-load/load.{json,md,png}``.
Exits 1 on any violation, lost store row, client or server failure, or RSS growth >= 5 %
in a phase that reached the issue's size (>= 10 000 frames, and >= 100 swaps when on).
Loopback only; each phase has a hard timeout; servers, clients and temp dirs are cleaned
up on any exit, Ctrl+C included.

``--store sqlite|postgresql|both`` picks the server's store: PostgreSQL phases run against
a throwaway cluster the bench starts (tests/pg_cluster.py, a fresh database per phase);
with ``both`` each phase runs on SQLite then PostgreSQL and the added latency of the two
is compared. The server reports its commit timings (rows per second, commit p50/p99)
through ``STYLEBRIDGE_STORE_STATS_FILE``. ``--pg-restart-at S`` adds a PostgreSQL phase
whose database server is restarted S seconds into the stream: frames must keep flowing,
the gap must be recorded, and every missing row must be a write the gap counted as lost.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

sys.path.insert(0, str(HERE.parent))

from _common import machine  # noqa: E402
from load_report import (  # noqa: E402
    PhaseData,
    Sample,
    analyse_phase,
    compare_stores,
    markdown,
    plot,
)

ROOT = HERE.parents[1]
DEFAULT_OUT = ROOT / "out" / "bench-load"
HOST = "127.0.0.1"
LIVE_MODEL = "live"
SAMPLE_EVERY_S = 0.5
SERVER_START_TIMEOUT_S = 90.0
# Beyond the streaming time: client start-up, the drain, and a margin.
PHASE_SLACK_S = 120.0


class Phase(Enum):
    OFF = "off"
    ON = "on"


class OffMode(Enum):
    """What "Python inference off" runs: nothing (record) or the identity backend."""

    RECORD = "record"
    IDENTITY = "identity"


@dataclass(frozen=True)
class BenchConfig:
    """Everything one bench run needs (the command line, parsed)."""

    duration_s: float = 300.0
    clients: int = 8
    fps: float = 30.0
    size: tuple[int, int] = (640, 360)
    phases: tuple[Phase, ...] = (Phase.OFF, Phase.ON)
    warmup_s: float | None = None
    swap_every_s: float = 2.0
    off_mode: OffMode = OffMode.RECORD
    workers: int = 1
    window: int = 4
    want_pixels: bool = True
    model: Path | None = None
    out_dir: Path = DEFAULT_OUT
    growth_limit: float = 0.05
    min_frames: int = 10_000
    min_swaps: int = 100
    stores: tuple[str, ...] = ("sqlite",)
    pg_restart_at_s: float | None = None

    @property
    def warmup(self) -> float:
        """Seconds of streaming before the memory baseline (default: 20 %, at most 30 s)."""
        if self.warmup_s is not None:
            return self.warmup_s
        return min(30.0, 0.2 * self.duration_s)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def builtin_model() -> Path:
    from stylebridge.style import builtin_style_onnx

    return builtin_style_onnx()


def model_variants(model: Path) -> tuple[bytes, bytes]:
    """Two versions of ``model`` that differ only in their doc string: same graph and
    cost, different sha256 (and different from the server's own file, so every rename
    is a real push)."""
    import onnx

    variants = []
    for name in ("a", "b"):
        proto = onnx.load(str(model))
        proto.doc_string = f"stylebridge load bench: variant {name}"
        variants.append(proto.SerializeToString())
    return variants[0], variants[1]


def _server_command(
    config: BenchConfig, phase: Phase, port: int, tmp: Path, store: str
) -> list[str]:
    command = [
        sys.executable, "-m", "stylebridge", "serve",
        "--host", HOST, "--port", str(port),
        "--store", store,
        "--workers", str(config.workers),
    ]  # fmt: skip
    if phase is Phase.ON:
        model = config.model or builtin_model()
        command += ["--model", str(model), "--backend", "onnxruntime"]
        command += ["--catalog", str(tmp / "catalog")]
    elif config.off_mode is OffMode.IDENTITY:
        command += ["--backend", "identity"]
    return command


def _wait_ready(process: subprocess.Popen[bytes], address: str, log: Path) -> None:
    import grpc

    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    with grpc.insecure_channel(address) as channel:
        future = grpc.channel_ready_future(channel)
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited at start:\n{_tail(log)}")
            try:
                future.result(timeout=0.5)
                return
            except grpc.FutureTimeoutError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the server did not listen within {SERVER_START_TIMEOUT_S:.0f} s"
                    ) from None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(process: subprocess.Popen[bytes], grace_s: float = 30.0) -> None:
    """SIGTERM (the server stops cleanly on it), then SIGKILL after ``grace_s``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextlib.contextmanager
def _started(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    try:
        yield process
    finally:
        _stop(process)


@dataclass
class _Swapper:
    """Renames a new version of ``live.onnx`` into the catalog (temp name, then rename)."""

    catalog: Path
    variants: tuple[bytes, bytes]
    renamed_at: list[float] = field(default_factory=list)

    def swap(self) -> None:
        data = self.variants[len(self.renamed_at) % 2]
        tmp = self.catalog / f".{LIVE_MODEL}.onnx.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.catalog / f"{LIVE_MODEL}.onnx")
        self.renamed_at.append(time.time())


def _sample(server: psutil.Process, client: psutil.Process | None) -> Sample:
    def read(process: psutil.Process | None) -> tuple[float, float]:
        if process is None:
            return 0.0, 0.0
        try:
            return process.cpu_percent(None), process.memory_info().rss / 2**20
        except psutil.Error:
            return 0.0, 0.0

    server_cpu, server_rss = read(server)
    client_cpu, client_rss = read(client)
    return Sample(time.time(), server_cpu, server_rss, client_cpu, client_rss)


def _monitor(
    config: BenchConfig,
    client: subprocess.Popen[bytes],
    server: psutil.Process,
    swapper: _Swapper | None,
    restart: _Restart | None = None,
) -> tuple[list[Sample], list[str]]:
    """Sample both processes and write the swaps until the clients exit (or time out);
    restart the database once when asked."""
    samples: list[Sample] = []
    failures: list[str] = []
    client_ps = psutil.Process(client.pid)
    client_ps.cpu_percent(None)
    started = time.monotonic()
    deadline = started + config.duration_s + PHASE_SLACK_S
    # Streaming starts ~1-2 s after the client process (imports, Hello); the last swap
    # comes about a second before it ends, so no push is cut off by the end.
    swaps_until = started + 1.0 + config.duration_s
    next_swap = started + 1.5
    next_sample = started
    while client.poll() is None:
        now = time.monotonic()
        if now > deadline:
            failures.append(
                f"the clients did not finish within {config.duration_s:.0f} + "
                f"{PHASE_SLACK_S:.0f} s (hard timeout): killed"
            )
            break
        if now >= next_sample:
            samples.append(_sample(server, client_ps))
            next_sample += SAMPLE_EVERY_S
        if restart is not None and restart.due(now - started):
            restart.run()
        if swapper is not None and next_swap <= now < swaps_until:
            swapper.swap()
            next_swap += config.swap_every_s
        wake = min(next_sample, next_swap if swapper is not None else next_sample)
        time.sleep(max(0.01, min(0.25, wake - time.monotonic())))
    return samples, failures


@dataclass
class _Restart:
    """Restart the PostgreSQL server once, ``at_s`` seconds into the stream."""

    cluster: Any
    at_s: float
    times: dict[str, float] | None = None

    def due(self, elapsed_s: float) -> bool:
        # The stream starts ~1.5 s after the client process (imports, Hello).
        return self.times is None and elapsed_s >= 1.5 + self.at_s

    def run(self) -> None:
        down = time.time()
        self.cluster.stop("fast")
        self.cluster.start()
        self.times = {"down_at": down, "up_at": time.time()}


def _read_store(
    location: str, clients: dict[str, Any] | None
) -> tuple[dict[str, dict[str, int]], dict[str, int], list[dict[str, Any]]]:
    """Frame rows per status of each client's session, swap rows per result, the gaps."""
    from stylebridge.store import Store

    store_counts: dict[str, dict[str, int]] = {}
    swap_results: dict[str, int] = {}
    with Store(location) as store:
        for report in (clients or {}).get("clients", []):
            if report["session_id"]:
                store_counts[report["session_id"]] = store.frame_counts(report["session_id"])
        for record in store.swaps():
            swap_results[record.result] = swap_results.get(record.result, 0) + 1
        gaps = [asdict(g) for g in store.gaps()]
    return store_counts, swap_results, gaps


def run_phase(
    config: BenchConfig,
    phase: Phase,
    engine: str = "sqlite",
    cluster: Any = None,
    restart_at_s: float | None = None,
) -> PhaseData:
    """One phase: server, clients, sampling and swaps, then the store read back."""
    with tempfile.TemporaryDirectory(prefix=f"bench-load-{phase.value}-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "catalog").mkdir()
        port = _free_port()
        address = f"{HOST}:{port}"
        store = str(tmp / "store.sqlite") if engine == "sqlite" else cluster.database()
        command = _server_command(config, phase, port, tmp, store)
        env = {**os.environ, "STYLEBRIDGE_STORE_STATS_FILE": str(tmp / "store-stats.json")}
        if cluster is not None:
            env["PGPASSWORD"] = cluster.password
            os.environ["PGPASSWORD"] = cluster.password  # for reading the store back
        restart = _Restart(cluster, restart_at_s) if restart_at_s is not None else None
        phase_started = time.time()
        server_log = tmp / "server.log"
        model_id, model_sha = "", ""
        swapper = None
        if phase is Phase.ON:
            model = config.model or builtin_model()
            model_id, model_sha = model.stem, hashlib.sha256(model.read_bytes()).hexdigest()
            swapper = _Swapper(tmp / "catalog", model_variants(model))
        with _started(command, server_log, env) as server:
            _wait_ready(server, address, server_log)
            server_ps = psutil.Process(server.pid)
            server_ps.cpu_percent(None)
            client_cmd = [
                sys.executable, str(HERE / "load_clients.py"),
                "--server", address, "--out", str(tmp / "clients.json"),
                "--clients", str(config.clients), "--fps", str(config.fps),
                "--size", f"{config.size[0]}x{config.size[1]}",
                "--duration", str(config.duration_s), "--window", str(config.window),
                "--model-id", model_id, "--model-sha256", model_sha,
            ]  # fmt: skip
            if not config.want_pixels:
                client_cmd.append("--timings-only")
            with _started(client_cmd, tmp / "clients.log") as client:
                samples, failures = _monitor(config, client, server_ps, swapper, restart)
            samples.append(_sample(server_ps, None))
            if client.returncode not in (0, None):
                failures.append(
                    f"the client process exited with {client.returncode}:\n"
                    f"{_tail(tmp / 'clients.log')}"
                )
            server_alive = server.poll() is None
            _stop(server)
            if not server_alive:
                failures.append(
                    f"the server died during the phase (exit {server.returncode}):\n"
                    f"{_tail(server_log)}"
                )
            elif server.returncode not in (0, -signal.SIGTERM):
                failures.append(
                    f"the server did not stop cleanly (exit {server.returncode}):\n"
                    f"{_tail(server_log)}"
                )
        clients_path = tmp / "clients.json"
        clients = json.loads(clients_path.read_text()) if clients_path.is_file() else None
        if clients is None:
            failures.append("the client process wrote no results")
        store_counts, swap_results, gaps = _read_store(store, clients)
        stats_path = tmp / "store-stats.json"
        store_stats = json.loads(stats_path.read_text()) if stats_path.is_file() else {}
        if not store_stats:
            failures.append("the server wrote no store timings (did it stop cleanly?)")
        restart_times = None
        if restart is not None:
            if restart.times is None:
                failures.append(f"the stream ended before the restart at {restart_at_s:g} s")
            else:
                restart_times = {**restart.times, "phase_started_at": phase_started}
        log_text = server_log.read_text(errors="replace")
        return PhaseData(
            phase=phase.value,
            server_command=" ".join(command),
            description=_describe(config, phase),
            config={**asdict(config), "warmup_s": config.warmup},
            clients=clients,
            samples=samples,
            renamed_at=list(swapper.renamed_at) if swapper is not None else [],
            store_counts=store_counts,
            swap_results=swap_results,
            server_log_errors=[
                line for line in log_text.splitlines() if "Traceback" in line or "ERROR" in line
            ][:20],
            failures=failures,
            store_engine=engine,
            store_stats=store_stats,
            gaps=gaps,
            restart=restart_times,
        )


def _describe(config: BenchConfig, phase: Phase) -> str:
    if phase is Phase.ON:
        model = (config.model or builtin_model()).name
        return (
            f"Python inference on: {model} in ONNX Runtime ({config.workers} worker), "
            f"catalog swap every {config.swap_every_s:g} s"
        )
    if config.off_mode is OffMode.IDENTITY:
        return "Python inference off: identity backend (pixels copied, no model)"
    return "Python inference off: record only (no --model; frames answered RECORDED)"


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r}: use WxH, e.g. 640x360") from None
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError(f"size {text!r}: width and height must be > 0")
    return width, height


def _parse_phases(text: str) -> tuple[Phase, ...]:
    try:
        return tuple(Phase(p.strip()) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"phases {text!r}: use off, on or off,on") from None


def parse_args(argv: list[str] | None = None) -> BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=8, help="clients, one process")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second per client")
    parser.add_argument("--size", type=_parse_size, default=(640, 360), help="WxH")
    parser.add_argument(
        "--phases", type=_parse_phases, default=(Phase.OFF, Phase.ON), help="off,on (default)"
    )
    parser.add_argument("--warmup", type=float, default=None, help="s before the RSS baseline")
    parser.add_argument("--swap-every", type=float, default=2.0, help="s between swaps (on)")
    parser.add_argument(
        "--off-mode",
        choices=[m.value for m in OffMode],
        default=OffMode.RECORD.value,
        help="off: record only (no model) or the identity backend",
    )
    parser.add_argument("--workers", type=int, default=1, help="server inference threads")
    parser.add_argument("--window", type=int, default=4, help="frames in flight per client")
    parser.add_argument("--timings-only", action="store_true", help="no stylized pixels back")
    parser.add_argument("--model", type=Path, default=None, help="on: the server's model")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    parser.add_argument(
        "--store",
        choices=["sqlite", "postgresql", "both"],
        default="sqlite",
        help="the server's store (postgresql: a throwaway cluster the bench starts)",
    )
    parser.add_argument(
        "--pg-restart-at",
        type=float,
        default=None,
        help="also run a PostgreSQL phase whose server restarts this many s into the stream",
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.clients <= 0 or args.fps <= 0 or args.swap_every <= 0:
        parser.error("--duration, --clients, --fps and --swap-every must be > 0")
    return BenchConfig(
        duration_s=args.duration,
        clients=args.clients,
        fps=args.fps,
        size=args.size,
        phases=args.phases,
        warmup_s=args.warmup,
        swap_every_s=args.swap_every,
        off_mode=OffMode(args.off_mode),
        workers=args.workers,
        window=args.window,
        want_pixels=not args.timings_only,
        model=args.model,
        out_dir=args.out,
        stores=("sqlite", "postgresql") if args.store == "both" else (args.store,),
        pg_restart_at_s=args.pg_restart_at,
    )


def _runs(config: BenchConfig) -> list[tuple[Phase, str, float | None]]:
    """(phase, store engine, restart time) of every phase to run, in order."""
    runs = [(phase, engine, None) for phase in config.phases for engine in config.stores]
    if config.pg_restart_at_s is not None:
        runs.append((config.phases[0], "postgresql", config.pg_restart_at_s))
    return runs


@contextlib.contextmanager
def _cluster(needed: bool) -> Iterator[Any]:
    if not needed:
        yield None
        return
    from pg_cluster import Cluster

    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.close()


def run(config: BenchConfig) -> tuple[dict[str, object], list[str]]:
    """Every phase, analysed and written out; returns the results and the failures."""
    phases = []
    runs = _runs(config)
    with _cluster(any(engine == "postgresql" for _, engine, _ in runs)) as cluster:
        for phase, engine, restart_at in runs:
            phases.append(_one(config, phase, engine, cluster, restart_at))
    failures = [f"{p['phase']}: {f}" for p in phases for f in p["failures"]]  # type: ignore[union-attr]
    results: dict[str, object] = {
        "benchmark": "load",
        "machine": machine(),
        "phases": phases,
        "store_comparison": compare_stores(phases),
        "failures": failures,
        "ok": not failures,
    }
    config.out_dir.mkdir(parents=True, exist_ok=True)
    (config.out_dir / "load.json").write_text(json.dumps(results, indent=2, default=str))
    (config.out_dir / "load.md").write_text(markdown(results))
    plot(phases, config.out_dir / "load.png")
    return results, failures


def _one(
    config: BenchConfig, phase: Phase, engine: str, cluster: Any, restart_at: float | None
) -> dict[str, Any]:
    restart = "" if restart_at is None else f", PostgreSQL restarted at {restart_at:g} s"
    print(
        f"phase {phase.value} ({engine} store{restart}): {_describe(config, phase)}, "
        f"{config.clients} clients x {config.fps:g} fps at {config.size[0]}x{config.size[1]} "
        f"for {config.duration_s:g} s",
        flush=True,
    )
    try:
        data = run_phase(config, phase, engine, cluster, restart_at)
    except RuntimeError as exc:  # the server did not start: the other phases still run
        data = PhaseData(
            phase=phase.value, server_command="", description=_describe(config, phase),
            config={}, clients=None, samples=[], renamed_at=[], store_counts={},
            swap_results={}, server_log_errors=[], failures=[str(exc)], store_engine=engine,
        )  # fmt: skip
    return analyse_phase(data, config)


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds: servers, clients and temp dirs go

    signal.signal(signal.SIGTERM, terminated)
    _, failures = run(config)
    print((config.out_dir / "load.md").read_text())
    print(f"written: {config.out_dir}/load.{{json,md,png}}")
    if failures:
        print("FAILED:\n" + "\n".join(f"- {f}" for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # servers, clients and temp dirs are gone by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)
