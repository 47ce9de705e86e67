"""The stand-in player's command line: what ``tools/standin-player`` runs.

``UnityEnvironment`` launches it like a player build (see ``standin_player``); the
options that make it misbehave on purpose are for the harness's tests.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from stylebridge.harness import standin_player
from stylebridge.harness.standin_engine import Slowdown
from stylebridge.harness.standin_player import Misbehaviour, StandinPlayer, connect_and_run

_log = logging.getLogger("standin-player")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="standin-player",
        description=standin_player.__doc__.split("\n")[0] if standin_player.__doc__ else None,
    )
    parser.add_argument("--mlagents-port", type=int, default=5004)
    parser.add_argument("-logFile", "-logfile", dest="log_file", default=None)
    parser.add_argument("-nographics", action="store_true")
    parser.add_argument("-batchmode", action="store_true")
    parser.add_argument("--frames", default="builtin", help="default frames: builtin or a folder")
    parser.add_argument("--slowdown-ms", type=float, default=0.0)
    parser.add_argument("--slowdown-factor", type=float, default=1.0)
    parser.add_argument(
        "--slow-model",
        action="append",
        default=[],
        help="slow only this model id (repeatable; default: all)",
    )
    parser.add_argument("--crash-after-steps", type=int, default=None)
    parser.add_argument("--hang-after-steps", type=int, default=None)
    parser.add_argument("--never-connect", action="store_true")
    parser.add_argument(
        "--steps-per-frame", type=int, default=1, help="academy steps per rendered frame"
    )
    parser.add_argument(
        "--inference-on",
        choices=("step", "frame"),
        default="step",
        help="run a case's inference every academy step (the contract) or every rendered frame",
    )
    # Unity players accept many more arguments (-screen-width ...): ignore them.
    args, unknown = parser.parse_known_args(argv)
    args.unknown = unknown
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the stand-in executable; returns the process exit code."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    # gRPC's C core logs connection teardown at INFO on stderr; a player's log is enough.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if args.log_file:
        Path(args.log_file).parent.mkdir(parents=True, exist_ok=True)
    handler: logging.Handler = (
        logging.FileHandler(args.log_file, encoding="utf-8")
        if args.log_file
        else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=logging.INFO,
        handlers=[handler],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    _log.info("started (pid %d) with %s", os.getpid(), sys.argv[1:] if argv is None else argv)
    if args.unknown:
        _log.info("ignoring player arguments %s", args.unknown)
    if args.never_connect:
        _log.warning("--never-connect: not connecting to port %d", args.mlagents_port)
        while True:
            time.sleep(3600)
    if args.slowdown_factor < 1.0 or args.slowdown_ms < 0:
        _log.error("--slowdown-factor must be >= 1 and --slowdown-ms >= 0")
        return 2
    slowdown = Slowdown(args.slowdown_ms, args.slowdown_factor, tuple(args.slow_model))
    if args.steps_per_frame < 1:
        _log.error("--steps-per-frame must be >= 1")
        return 2
    player = StandinPlayer(slowdown, args.frames, args.steps_per_frame, args.inference_on)
    misbehave = Misbehaviour(args.crash_after_steps, args.hang_after_steps)
    return connect_and_run(args.mlagents_port, player, misbehave)


if __name__ == "__main__":
    sys.exit(main())
