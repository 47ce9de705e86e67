"""Perf runs in the store (tables perf_runs and perf_cases, store migration 4).

The store is opened once with ``stylebridge.store.Store`` so that it is created or
migrated as every other writer does; the harness then writes with its own connection of
the store's engine (SQLite or PostgreSQL), one transaction per call. A run is a handful
of rows, written in one ``BEGIN IMMEDIATE`` transaction (the write lock on SQLite, the
store's advisory lock on PostgreSQL), so many perf-test runs and servers can share one
database; a baseline label is looked up across every writer's runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

from stylebridge.errors import NotFoundError, StoreError
from stylebridge.harness.results import (
    CaseResult,
    CaseStatus,
    GateResult,
    RunResult,
    RunStatus,
)
from stylebridge.store.location import StoreLocation, is_postgres_url

_RUN_COLUMNS = (
    "run_id",
    "label",
    "started_at_us",
    "finished_at_us",
    "status",
    "player",
    "engine",
    "plan_json",
    "error",
)
_CASE_COLUMNS = (
    "run_id",
    "model_id",
    "width",
    "height",
    "status",
    "engine",
    "timing_method",
    "engine_ms_json",
    "python_ms_json",
    "summary_json",
    "error",
)


def _placeholders(columns: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in columns)


class PerfHistory:
    """Read and write perf runs of one store file; a context manager."""

    def __init__(self, path: Path | str | StoreLocation, password: str | None = None) -> None:
        from stylebridge.store import Store
        from stylebridge.store.engine import open_engine

        location = (
            path
            if isinstance(path, StoreLocation)
            else StoreLocation(path if is_postgres_url(path) else Path(path), password)
        )
        Store(location).close()  # creates / migrates; raises StoreError
        self._engine = engine = open_engine(location)
        self._path = engine.where
        try:
            self._conn: Any = engine.connect()
        except engine.errors as exc:
            raise StoreError(f"cannot open store {self._path}: {exc}") from exc

    def _transaction(self, statements: list[tuple[str, tuple[object, ...]]]) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for sql, params in statements:
                self._conn.execute(sql, params)
            self._conn.execute("COMMIT")
        except self._engine.errors as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise StoreError(
                f"cannot write the perf run to {self._path}: {exc}; check that the disk is not "
                f"full and no other program locks the file"
            ) from exc

    def save_run(self, run: RunResult) -> None:
        """Insert or replace the run and all its cases, atomically."""
        run_row = (
            run.run_id,
            run.label,
            run.started_at_us,
            run.finished_at_us,
            run.status.value,
            run.player,
            run.engine,
            json.dumps(run.plan | {"player_info": run.player_info, "baseline": run.baseline}),
            run.error,
        )
        statements: list[tuple[str, tuple[object, ...]]] = [
            (
                f"INSERT OR REPLACE INTO perf_runs ({', '.join(_RUN_COLUMNS)}) "
                f"VALUES ({_placeholders(_RUN_COLUMNS)})",
                run_row,
            ),
            ("DELETE FROM perf_cases WHERE run_id = ?", (run.run_id,)),
        ]
        for case in run.cases:
            summary = {
                k: v
                for k, v in asdict(case).items()
                if k
                not in {
                    "model_id",
                    "width",
                    "height",
                    "status",
                    "engine",
                    "timing_method",
                    "engine_ms",
                    "python_ms",
                    "error",
                }
            }
            row = (
                run.run_id,
                case.model_id,
                case.width,
                case.height,
                case.status.value,
                case.engine,
                case.timing_method,
                json.dumps(list(case.engine_ms)),
                json.dumps(list(case.python_ms)),
                json.dumps(summary, default=str),
                case.error,
            )
            statements.append(
                (
                    f"INSERT INTO perf_cases ({', '.join(_CASE_COLUMNS)}) "
                    f"VALUES ({_placeholders(_CASE_COLUMNS)})",
                    row,
                )
            )
        self._transaction(statements)

    def latest_run(self, label: str, *, exclude_run_id: str = "") -> RunResult:
        """The newest run with ``label`` that measured something; NotFoundError otherwise."""
        row = self._conn.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM perf_runs r WHERE label = ? AND run_id != ? "
            "AND EXISTS (SELECT 1 FROM perf_cases c WHERE c.run_id = r.run_id "
            "AND c.engine_ms_json != '[]') ORDER BY started_at_us DESC LIMIT 1",
            (label, exclude_run_id),
        ).fetchone()
        if row is None:
            known = [
                r[0]
                for r in self._conn.execute(
                    "SELECT DISTINCT label FROM perf_runs ORDER BY label"
                ).fetchall()
            ]
            raise NotFoundError(
                f"no perf run labelled {label!r} in {self._path} "
                f"(labels: {', '.join(known) or 'none'}); run perf-test with --label {label} first"
            )
        return self._run(row)

    def _run(self, row: tuple[object, ...]) -> RunResult:
        data = dict(zip(_RUN_COLUMNS, row, strict=True))
        plan = json.loads(str(data["plan_json"]))
        cases = [
            self._case(dict(zip(_CASE_COLUMNS, r, strict=True)))
            for r in self._conn.execute(
                f"SELECT {', '.join(_CASE_COLUMNS)} FROM perf_cases WHERE run_id = ?",
                (data["run_id"],),
            ).fetchall()
        ]
        return RunResult(
            run_id=str(data["run_id"]),
            label=str(data["label"]),
            started_at_us=int(data["started_at_us"]),
            finished_at_us=data["finished_at_us"],
            status=RunStatus(data["status"]),
            player=str(data["player"]),
            engine=str(data["engine"]),
            player_info=plan.pop("player_info", {}),
            baseline=plan.pop("baseline", ""),
            plan=plan,
            cases=tuple(cases),
            error=str(data["error"]),
        )

    @staticmethod
    def _case(data: dict[str, object]) -> CaseResult:
        summary = json.loads(str(data["summary_json"]))
        gate = summary.pop("gate", None)
        psnr = summary.pop("parity_psnr_db", None)
        return CaseResult(
            model_id=str(data["model_id"]),
            width=int(data["width"]),
            height=int(data["height"]),
            status=CaseStatus(data["status"]),
            engine=str(data["engine"]),
            timing_method=str(data["timing_method"]),
            engine_ms=tuple(json.loads(str(data["engine_ms_json"]))),
            python_ms=tuple(json.loads(str(data["python_ms_json"]))),
            error=str(data["error"]),
            gate=GateResult(**gate) if gate else None,
            parity_psnr_db=None if psnr is None else float(psnr),
            **summary,
        )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PerfHistory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
