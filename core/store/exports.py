"""Streaming reads for export: runs in keyset pages, metrics through a streaming cursor; memory stays flat."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import ColumnElement, select

from core import jsontext
from core.errors import ConfigError, StoreError
from core.outfiles import atomic_open

from .models import Experiment, Metric, Run, RunSummary
from .records import RunRecord
from .store import Store

FORMATS = ("csv", "jsonl")
RUNS_PAGE = 500
METRICS_PAGE = 20_000
# The scalar fields of `run_as_dict`, in the column order of runs.csv (config follows as JSON).
RUN_FIELDS = (
    "id", "experiment", "dataset", "loss", "head", "lr", "seed", "status", "epochs",
    "diverged_epoch", "wall_seconds", "started_at", "finished_at", "error", "arm_hash",
    "engine_version", "lossdb_version", "numpy_version", "python_version", "git_commit",
)  # fmt: skip
METRIC_FIELDS = ("run_id", "name", "epoch", "value")


json_number = jsontext.number  # NaN and ±inf as "nan", "inf", "-inf": the export's documented form


def run_as_dict(r: RunRecord) -> dict[str, Any]:
    """The stable JSON shape of one run (`lossdb runs --format json`, `lossdb export`, `lossdb show`)."""
    return {
        "id": r.id, "experiment": r.experiment, "dataset": r.dataset, "loss": r.loss,
        "head": r.head, "lr": r.lr, "seed": r.seed, "status": r.status, "epochs": r.epochs,
        "diverged_epoch": r.diverged_epoch, "wall_seconds": r.wall_seconds,
        "started_at": r.started_at.isoformat() if r.started_at else None,
        "finished_at": r.finished_at.isoformat() if r.finished_at else None,
        "error": r.error, "arm_hash": r.arm_hash, "engine_version": r.engine_version,
        "lossdb_version": r.lossdb_version, "numpy_version": r.numpy_version,
        "python_version": r.python_version, "git_commit": r.git_commit,
        "config": r.config, "extras": r.extras,
        "metrics": {k: json_number(v) for k, v in sorted(r.summary.items())},
    }  # fmt: skip


def iter_runs(store: Store, experiment: str | None = None) -> Iterator[RunRecord]:
    """Every stored run (of one experiment, if given) by id, fetched a page at a time."""
    last = 0
    while True:
        conds: list[ColumnElement[bool]] = [Run.id > last]
        if experiment is not None:
            conds.append(Experiment.name == experiment)
        with store._session() as session:  # noqa: SLF001 (same package)
            page = store._records(session, conds, limit=RUNS_PAGE)  # noqa: SLF001
        yield from page
        if len(page) < RUNS_PAGE:
            return
        last = page[-1].id


def iter_metrics(
    store: Store, experiment: str | None = None
) -> Iterator[list[tuple[int, str, int, float | None]]]:
    """Batches of (run_id, name, epoch, value) in key order, NULL meaning NaN, from one streaming query."""
    stmt = select(Metric.run_id, Metric.name, Metric.epoch, Metric.value)
    if experiment is not None:
        stmt = stmt.join(Run, Metric.run_id == Run.id).join(
            Experiment, Run.experiment_id == Experiment.id
        ).where(Experiment.name == experiment)
    stmt = stmt.order_by(Metric.run_id, Metric.name, Metric.epoch)
    with store._session() as session:  # noqa: SLF001 (same package)
        conn = session.connection()
        sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        # The driver's own cursor: SQLAlchemy's Row objects would cost more than the query.
        # On PostgreSQL a named (server-side) cursor streams; SQLite's cursor always does.
        raw: Any = conn.connection.driver_connection
        postgres = conn.dialect.name == "postgresql"
        cursor = raw.cursor(name="lossdb_export") if postgres else raw.cursor()
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(METRICS_PAGE):
                yield batch
        finally:
            cursor.close()


def summary_names(store: Store) -> list[str]:
    """The names of every metric that has a final value, sorted."""
    with store._session() as session:  # noqa: SLF001 (same package)
        return sorted(session.execute(select(RunSummary.name).distinct()).scalars())


@dataclass(frozen=True)
class ExportResult:
    """What `export` wrote."""

    runs_path: Path
    metrics_path: Path
    runs: int
    metric_rows: int


def export(store: Store, out: Path, fmt: str, experiment: str | None = None) -> ExportResult:
    """Write runs.<fmt> and metrics.<fmt> into the folder `out` (created if missing), streaming."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    if experiment is not None and experiment not in {e["name"] for e in store.experiments()}:
        raise StoreError(
            f"no experiment named {experiment} in the database: `lossdb runs` shows the stored ones"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        runs_path, metrics_path = out / f"runs.{fmt}", out / f"metrics.{fmt}"
        with atomic_open(runs_path, "w", newline="", encoding="utf-8") as fh:
            n_runs = _write_runs(store, fh, fmt, experiment)
        with atomic_open(metrics_path, "w", newline="", encoding="utf-8") as fh:
            n_metrics = _write_metrics(store, fh, fmt, experiment)
    except OSError as exc:
        raise StoreError(f"cannot write the export to {out}: {exc.strerror or exc}") from None
    return ExportResult(runs_path, metrics_path, n_runs, n_metrics)


def _write_runs(store: Store, fh: TextIO, fmt: str, experiment: str | None) -> int:
    """runs.csv (scalar fields, config as JSON, one column per final metric) or runs.jsonl."""
    n = 0
    if fmt == "jsonl":
        for record in iter_runs(store, experiment):
            fh.write(jsontext.dumps(run_as_dict(record)) + "\n")
            n += 1
        return n
    names = summary_names(store)
    writer = csv.writer(fh)
    writer.writerow([*RUN_FIELDS, "config", "extras", *names])
    for record in iter_runs(store, experiment):
        row = run_as_dict(record)
        writer.writerow(
            [*(row[f] for f in RUN_FIELDS), jsontext.dumps(row["config"]), jsontext.dumps(row["extras"])]
            + [record.summary.get(name, "") for name in names]
        )
        n += 1
    return n


def _write_metrics(store: Store, fh: TextIO, fmt: str, experiment: str | None) -> int:
    """metrics.csv or metrics.jsonl: one row per run_id, name, epoch, value (NaN as nan)."""
    n = 0
    writer = csv.writer(fh)
    if fmt == "csv":
        writer.writerow(METRIC_FIELDS)
    for batch in iter_metrics(store, experiment):
        rows = [(r, name, e, float("nan") if v is None else v) for r, name, e, v in batch]
        if fmt == "csv":
            writer.writerows(rows)
        else:
            fh.writelines(
                json.dumps(
                    {"run_id": r, "name": name, "epoch": e, "value": json_number(v)},
                    allow_nan=False,
                )
                + "\n"
                for r, name, e, v in rows
            )
        n += len(rows)
    return n
