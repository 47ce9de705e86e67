"""What the history page shows, read from the store with plain SQL (both engines).

Reads go through one connection of the store's engine, serialized by a lock (the web
server answers on several threads); a PostgreSQL connection lost meanwhile comes back
on the next read (``store.postgres``).
"""

from __future__ import annotations

import json
import statistics
import threading
from dataclasses import dataclass
from typing import Any

from stylebridge.store import OPEN_STATES, Store, StoreLocation
from stylebridge.store.engine import open_engine


@dataclass(frozen=True)
class PerfPoint:
    """One perf case of one run: a point on the history plot."""

    run_id: str
    label: str
    started_at_us: int
    model_id: str
    width: int
    height: int
    device: str
    status: str
    engine_median_ms: float | None
    python_median_ms: float | None
    regressed: bool
    change_percent: float | None

    @property
    def series(self) -> str:
        """model × resolution × device: one line of the plot."""
        return f"{self.model_id} {self.width}×{self.height} on {self.device}"


@dataclass(frozen=True)
class LiveSession:
    session_id: str
    state: str
    started_at_us: int
    engine: str
    gpu: str
    client_name: str
    python_model_id: str
    frames: int
    server_id: str


@dataclass(frozen=True)
class SwapRow:
    session_id: str
    requested_at_us: int
    to_model_id: str
    result: str
    trigger: str
    total_ms: float | None


def _median(text: str) -> float | None:
    values = json.loads(text or "[]")
    return float(statistics.median(values)) if values else None


class HistoryReader:
    """The page's queries on one store; a context manager."""

    def __init__(self, location: StoreLocation) -> None:
        Store(location).close()  # created or migrated, as every writer does; StoreError
        self._engine = open_engine(location)
        self._conn: Any = self._engine.connect()
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return self._engine.where

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def perf_points(self, limit_runs: int = 500) -> list[PerfPoint]:
        """Every case of the newest ``limit_runs`` runs, oldest first."""
        rows = self._rows(
            "SELECT r.run_id, r.label, r.started_at_us, r.plan_json, r.player, c.model_id, "
            "c.width, c.height, c.status, c.engine_ms_json, c.python_ms_json, c.summary_json "
            "FROM perf_cases c JOIN (SELECT * FROM perf_runs ORDER BY started_at_us DESC "
            "LIMIT ?) r ON r.run_id = c.run_id ORDER BY r.started_at_us, c.model_id",
            (limit_runs,),
        )
        points = []
        for run_id, label, started, plan_json, player, model, w, h, status, eng, py, summ in rows:
            info = json.loads(plan_json or "{}").get("player_info", {})
            gate = json.loads(summ or "{}").get("gate") or {}
            ratio = gate.get("median_ratio")
            points.append(
                PerfPoint(
                    run_id=str(run_id),
                    label=str(label),
                    started_at_us=int(started),
                    model_id=str(model),
                    width=int(w),
                    height=int(h),
                    device=str(info.get("gpu") or player or "unknown device"),
                    status=str(status),
                    engine_median_ms=_median(eng),
                    python_median_ms=_median(py),
                    regressed=bool(gate.get("regressed", False)),
                    change_percent=None if ratio is None else (float(ratio) - 1.0) * 100.0,
                )
            )
        return points

    def live_sessions(self) -> list[LiveSession]:
        """Sessions still open (connected or streaming), newest first."""
        marks = ", ".join("?" for _ in OPEN_STATES)
        rows = self._rows(
            "SELECT s.session_id, s.state, s.started_at_us, s.engine, s.gpu, s.client_name, "
            "s.python_model_id, (SELECT count(*) FROM frames f WHERE f.session_id = "
            f"s.session_id), s.server_id FROM sessions s WHERE s.state IN ({marks}) "
            "ORDER BY s.started_at_us DESC LIMIT 200",
            tuple(OPEN_STATES),
        )
        return [LiveSession(*(r[:7]), int(r[7]), str(r[8])) for r in rows]  # type: ignore[arg-type]

    def last_swaps(self, session_ids: list[str], per_session: int = 5) -> list[SwapRow]:
        """The newest swaps of these sessions, newest first."""
        if not session_ids:
            return []
        marks = ", ".join("?" for _ in session_ids)
        rows = self._rows(
            "SELECT session_id, requested_at_us, to_model_id, result, trigger, push_ms, "
            "import_ms, warmup_ms FROM swaps WHERE session_id IN "
            f"({marks}) ORDER BY requested_at_us DESC",
            tuple(session_ids),
        )
        kept: dict[str, int] = {}
        swaps = []
        for sid, at, model, result, trigger, push, load, warm in rows:
            if kept.get(sid, 0) >= per_session:
                continue
            kept[sid] = kept.get(sid, 0) + 1
            parts = [p for p in (push, load, warm) if p is not None]
            total = float(sum(parts)) if parts else None
            swaps.append(SwapRow(str(sid), int(at), str(model), str(result), str(trigger), total))
        return swaps

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
