"""Conversions between records and rows, and the chunking of long parameter lists."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table

from lossdb.core.errors import StoreError

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


def record(run: Any, experiment: str, summary: dict[str, float],
           configs: dict[str, Any] | None = None) -> RunRecord:
    """A RunRecord from a row of the runs table, datetimes in UTC.

    The row's JSON and datetime columns may come as the driver's text (`Store._records` reads them
    raw): JSON is parsed here, each distinct config text once when `configs` is given (the runs of
    one arm share a config, so their records share one dict: treat it as read-only)."""
    values = {name: getattr(run, name) for name in RUN_COLUMNS}
    values.update(
        config=_config(run.config, int(run.seed), configs),
        started_at=to_utc(_moment(run.started_at)),
        finished_at=to_utc(_moment(run.finished_at)),
        extras=_json(run.extras, None) or {},
    )
    return RunRecord(id=run.id, experiment=experiment, summary=summary, **values)


def _config(value: Any, seed: int, cache: dict[str, Any] | None) -> Any:
    """A run's config: its arm's settings, parsed once per arm, plus its own seed (the last key)."""
    tail = f', "seed": {seed}}}'
    if cache is None or not isinstance(value, str) or not value.endswith(tail):
        return _json(value, cache)
    return {**_json(value[: -len(tail)] + "}", cache), "seed": seed}


def _json(value: Any, cache: dict[str, Any] | None) -> Any:
    if not isinstance(value, str):
        return value  # already decoded (PostgreSQL's driver decodes JSON itself), or None
    if cache is None:
        return json.loads(value)
    got = cache.get(value)
    if got is None:
        got = cache[value] = json.loads(value)
    return got


def _moment(value: Any) -> datetime | None:
    # SQLite keeps datetimes as ISO text; fromisoformat is ~10x faster than SQLAlchemy's regex
    return datetime.fromisoformat(value) if isinstance(value, str) else value


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
