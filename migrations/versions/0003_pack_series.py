"""Pack each run's per-epoch series into one row of floats and summarise it for verdicts.

The long `metrics` table (one row per run, metric and epoch: ~35 bytes a value) becomes `series`
(one row per run and metric, the epochs packed as little-endian float32 when exact, else
float64, zlib-compressed when smaller), and `run_summaries` gains the min, max, their epochs, the mean
and the number of epochs of each series, backfilled here. Values are kept bit for bit, NaN and
±inf included. The functions below are frozen copies of core/store/packing.py at this revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

from lossdb.core.errors import StoreError

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000  # series written per executemany
SUMMARY_COLUMNS = ("min_value", "max_value", "min_epoch", "max_epoch", "mean_value", "epochs")
F32, F64 = np.dtype("<f4"), np.dtype("<f8")


def pack(v: np.ndarray) -> tuple[str, bytes]:
    """(encoding, bytes): float32 if every value survives the round trip, else float64; zlib if smaller."""
    with np.errstate(over="ignore"):
        narrow = v.astype(F32)
    exact = np.array_equal(narrow.astype(F64), v, equal_nan=True)
    kind, data = ("f4", narrow.tobytes()) if exact else ("f8", v.tobytes())
    squeezed = zlib.compress(data, 6)
    return (kind + "z", squeezed) if len(squeezed) < len(data) else (kind, data)


def unpack(encoding: str, data: bytes) -> np.ndarray:
    """The float64 values packed in `data` with `encoding`."""
    if encoding.endswith("z"):
        data = zlib.decompress(data)
    return np.frombuffer(data, dtype=F32 if encoding.startswith("f4") else F64).astype(F64)


def summary(run_id: int, name: str, v: np.ndarray) -> tuple[Any, ...]:
    """The run_summaries row of a series: final, finite min/max and first epochs, mean, epochs."""
    finite = np.isfinite(v)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = float(v.mean())
    extremes: tuple[Any, ...] = (None, None, None, None)
    if finite.any():
        lo = int(np.argmin(np.where(finite, v, np.inf)))
        hi = int(np.argmax(np.where(finite, v, -np.inf)))
        extremes = (float(v[lo]), float(v[hi]), lo, hi)
    final = float(v[-1])
    return (run_id, name, None if final != final else final, *extremes,
            None if mean != mean else mean, int(v.size))  # fmt: skip


def _mark() -> str:
    """The DBAPI parameter marker of this connection."""
    return "?" if op.get_bind().dialect.paramstyle == "qmark" else "%s"


def _stream(sql: str, name: str) -> Iterator[tuple[Any, ...]]:
    """The rows of `sql` one at a time (a server-side cursor on PostgreSQL)."""
    bind = op.get_bind()
    raw: Any = bind.connection.driver_connection
    cursor = raw.cursor(name=name) if bind.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(20_000):
            yield from rows
    finally:
        cursor.close()


def _insert(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """executemany INSERT of positional rows into `table`."""
    if rows:
        marks = ", ".join([_mark()] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        cursor = op.get_bind().connection.driver_connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()


def _series_of_metrics() -> Iterator[tuple[int, str, np.ndarray]]:
    """(run_id, name, float64 values) of every series in the long metrics table."""
    sql = "SELECT run_id, name, epoch, value FROM metrics ORDER BY run_id, name, epoch"
    key: tuple[int, str] | None = None
    values: list[float] = []
    for run_id, name, epoch, value in _stream(sql, "lossdb_pack"):
        if (run_id, name) != key:
            if key is not None:
                yield (*key, np.array(values, dtype=F64))
            key, values = (run_id, name), []
        if epoch != len(values):
            raise StoreError(
                f"run {run_id}'s metric {name} skips from epoch {len(values) - 1} to {epoch}: "
                "lossdb never writes such a series, so this database was edited by hand"
            )
        values.append(float("nan") if value is None else value)
    if key is not None:
        yield (*key, np.array(values, dtype=F64))


def upgrade() -> None:
    """Create series, fill it and the summaries from metrics, then drop metrics."""
    op.create_table(
        "series",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_series_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name=op.f("pk_series")),
    )
    with op.batch_alter_table("run_summaries") as batch:
        for column in SUMMARY_COLUMNS:
            kind = sa.Integer() if column.endswith("epoch") or column == "epochs" else sa.Double()
            batch.add_column(sa.Column(column, kind, nullable=True))
    # Every summary is recomputed from its series (the final value is the series' last one).
    op.execute("DELETE FROM run_summaries")
    series: list[tuple[Any, ...]] = []
    summaries: list[tuple[Any, ...]] = []
    for run_id, name, values in _series_of_metrics():
        series.append((run_id, name, int(values.size), *pack(values)))
        summaries.append(summary(run_id, name, values))
        if len(series) >= BATCH:
            _flush(series, summaries)
    _flush(series, summaries)
    op.drop_table("metrics")


def _flush(series: list[tuple[Any, ...]], summaries: list[tuple[Any, ...]]) -> None:
    """Insert and clear the pending series and summary rows."""
    _insert("series", ("run_id", "name", "epochs", "encoding", "data"), series)
    _insert("run_summaries", ("run_id", "name", "value", *SUMMARY_COLUMNS), summaries)
    series.clear()
    summaries.clear()


def downgrade() -> None:
    """Unpack series back into the long metrics table; the extra summary columns are dropped."""
    op.create_table(
        "metrics",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_metrics_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", "epoch", name=op.f("pk_metrics")),
        sqlite_with_rowid=False,
    )
    rows: list[tuple[Any, ...]] = []
    sql = "SELECT run_id, name, encoding, data FROM series ORDER BY run_id, name"
    for run_id, name, encoding, data in _stream(sql, "lossdb_unpack"):
        values = unpack(encoding, bytes(data)).tolist()
        rows += [(run_id, name, e, None if v != v else v) for e, v in enumerate(values)]
        if len(rows) >= 50 * BATCH:
            _insert("metrics", ("run_id", "name", "epoch", "value"), rows)
            rows = []
    _insert("metrics", ("run_id", "name", "epoch", "value"), rows)
    op.drop_table("series")
    with op.batch_alter_table("run_summaries") as batch:
        for column in reversed(SUMMARY_COLUMNS):
            batch.drop_column(column)
