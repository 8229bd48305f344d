"""Conversions between records and rows, and the chunking of long parameter lists."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Table

from core.errors import StoreError

from .records import NewRun, RunRecord, to_utc

T = TypeVar("T")
# Bounds the bound parameters of one IN (...) list, well under SQLite's and PostgreSQL's limits.
CHUNK = 500
RUN_COLUMNS = tuple(
    f.name for f in fields(RunRecord) if f.name not in ("id", "experiment", "summary")
)


def run_row(run: NewRun, experiment_id: int, run_id: int | None) -> dict[str, Any]:
    """The `runs` row of a NewRun, keyed by attribute name."""
    row: dict[str, Any] = {name: getattr(run, name) for name in RUN_COLUMNS}
    row.update(
        id=run_id,
        experiment_id=experiment_id,
        seed=int(run.seed),
        lr=float(run.lr),
        epochs=int(run.epochs),
        diverged_epoch=None if run.diverged_epoch is None else int(run.diverged_epoch),
        wall_seconds=None if run.wall_seconds is None else float(run.wall_seconds),
        started_at=to_utc(run.started_at),
        finished_at=to_utc(run.finished_at),
        extras=run.extras or None,
    )
    return row


def record(run: Any, experiment: str, summary: dict[str, float]) -> RunRecord:
    """A RunRecord from a row of the runs table, datetimes in UTC."""
    values = {name: getattr(run, name) for name in RUN_COLUMNS}
    values.update(
        started_at=to_utc(run.started_at), finished_at=to_utc(run.finished_at), extras=run.extras or {}
    )
    return RunRecord(id=run.id, experiment=experiment, summary=summary, **values)


def insert_sql(table: Table, paramstyle: str) -> str:
    """A positional INSERT for the driver's executemany, in its parameter style."""
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(paramstyle)
    if mark is None:
        raise StoreError(f"the database driver's parameter style {paramstyle} is not supported")
    names = [column.name for column in table.columns]
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    )


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
