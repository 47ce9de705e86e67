"""A finished Ray Tune student search read back: rung histories, the frontier, failures.

Each trial's last checkpoint carries the metrics of every rung it trained (see
``ray_students.student_trial``), so the histories come from there, not from Tune's
result logs: after a worker was killed and the trial restored, ``metrics_dataframe``
held only the rungs reported since (measured: rungs [1, 2], rung 0 gone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stylebridge.catalog import FrontierPoint
from stylebridge.errors import StateError

STATE_FILE = "trainer.pt"


def describe_failure(result: Any) -> str:
    """``shape: ErrorType: first line (trial folder)``; the whole traceback is in the folder."""
    error = result.error
    lines = [line for line in str(error).splitlines() if line.strip()]
    # Ray's task errors start with the traceback; the cause is on the last line.
    cause = lines[-1].strip() if lines else ""
    return (f"{result.config.get('shape', '?')}: {type(error).__name__}: {cause[:300]} "
            f"({result.path})")


def rung_history(result: Any) -> list[dict[str, float]]:
    """The rungs of a trial, from its last checkpoint, which carries the metrics of every
    rung it holds. Not ``result.metrics_dataframe``: after a worker was killed and the
    trial restored, that held only the rungs reported since (measured: [1, 2], rung 0
    gone), and a driver restarted from an older experiment state could replay a rung."""
    if result.checkpoint is None:
        raise StateError(f"trial {result.config['shape']} reported no rung ({result.path})")
    rows = list(read_checkpoint(result.checkpoint)["history"])
    rungs = [int(r["rung"]) for r in rows]
    if rungs != list(range(len(rows))):
        raise StateError(f"trial {result.config['shape']} holds rungs {rungs}: every rung "
                         f"from 0, once, was expected ({result.path})")
    return rows


def read_checkpoint(checkpoint: Any) -> dict[str, Any]:
    """A trial checkpoint's contents: trainer state, last rung, metrics of every rung."""
    with checkpoint.as_directory() as folder:
        return dict(torch.load(Path(folder) / STATE_FILE, map_location="cpu",
                               weights_only=True))


def frontier_of(histories: dict[str, list[dict[str, float]]], names: list[str]
                ) -> tuple[list[FrontierPoint], str]:
    """Every (shape, rung) reported; kept = went on to the next rung, or, on the top rung
    reached, the winner (the best score there)."""
    top = max((len(h) - 1 for h in histories.values()), default=-1)
    if top < 0:
        raise StateError("no student trial reported a single rung")
    at_top = [n for n in names if len(histories.get(n, [])) == top + 1]
    winner = max(at_top, key=lambda n: histories[n][top]["score"])
    points = []
    for rung in range(top + 1):
        for name in names:
            rows = histories.get(name, [])
            if len(rows) <= rung:
                continue
            row = rows[rung]
            kept = len(rows) > rung + 1 or (rung == top and name == winner)
            points.append(FrontierPoint(
                shape=name, rung=rung, train_seconds=float(row["train_seconds"]),
                steps=int(row["steps"]), speedup=float(row["speedup"]),
                ssim_mean=float(row["ssim_mean"]), ssim_min=float(row["ssim_min"]),
                kept=kept))
    return points, winner
