"""Fast reads of packed series and summaries through the driver's own cursor, for many runs at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, Select, select

from .models import RunSummary, Series
from .packing import unpack
from .rows import chunks

if TYPE_CHECKING:
    import pandas as pd

# The columns of `summaries_frame` after run_id and name, in order, with the table's column of each.
SUMMARY_FIELDS = {
    "final": RunSummary.value,
    "min": RunSummary.min_value,
    "max": RunSummary.max_value,
    "min_epoch": RunSummary.min_epoch,
    "max_epoch": RunSummary.max_epoch,
    "mean": RunSummary.mean_value,
    "epochs": RunSummary.epochs,
}


def raw_rows(conn: Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of `stmt` as plain tuples from the DBAPI cursor (~3x faster than SQLAlchemy rows).

    Only integers and metric names are bound in our statements, so literal binds are safe.
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(stmt.compile(conn, compile_kwargs={"literal_binds": True})))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _by_ids(stmt: Select[Any], column: Any, ids: Sequence[int] | None) -> Iterator[Select[Any]]:
    """`stmt` restricted to `ids` (None: no restriction), one statement per chunk of ids."""
    if ids is None:
        yield stmt
        return
    for chunk in chunks(sorted({int(i) for i in ids})):
        yield stmt.where(column.in_(chunk))


def series_rows(
    conn: Connection, run_ids: Sequence[int] | None, names: Sequence[str] | None
) -> list[tuple[int, str, int, str, bytes]]:
    """(run_id, name, epochs, encoding, data) of the given runs' series (of `names`, if given), by run and name."""
    stmt = select(Series.run_id, Series.name, Series.epochs, Series.encoding, Series.data)
    if names is not None:
        stmt = stmt.where(Series.name.in_([str(n) for n in names]))
    stmt = stmt.order_by(Series.run_id, Series.name)
    out: list[tuple[int, str, int, str, bytes]] = []
    for part in _by_ids(stmt, Series.run_id, run_ids):
        out += raw_rows(conn, part)
    return out


def series_dict(rows: list[tuple[int, str, int, str, bytes]]) -> dict[str, dict[int, np.ndarray]]:
    """{name: {run_id: float64 series (epochs,)}} of series rows."""
    out: dict[str, dict[int, np.ndarray]] = {}
    for run_id, name, _, encoding, data in rows:
        out.setdefault(name, {})[int(run_id)] = unpack(encoding, bytes(data))
    return out


def long_frame(rows: list[tuple[int, str, int, str, bytes]]) -> pd.DataFrame:
    """The long format (run_id, name, epoch, value) of series rows, in their order."""
    import pandas as pd

    lengths = np.array([int(r[2]) for r in rows], dtype=np.int64)
    total = int(lengths.sum())
    values = (
        np.concatenate([unpack(r[3], bytes(r[4])) for r in rows])
        if total
        else np.empty(0, dtype=np.float64)
    )
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    names = np.array([r[1] for r in rows], dtype=object)
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.array([int(r[0]) for r in rows], dtype=np.int64), lengths),
            "name": pd.Series(np.repeat(names, lengths), dtype=object),
            "epoch": np.arange(total, dtype=np.int64) - starts,
            "value": values,
        }
    )


def summaries_frame(
    conn: Connection, run_ids: Sequence[int] | None, names: Sequence[str] | None
) -> pd.DataFrame:
    """The summary rows of the given runs (and metrics) as a frame; see Store.summaries."""
    import pandas as pd

    stmt = select(RunSummary.run_id, RunSummary.name, *SUMMARY_FIELDS.values())
    if names is not None:
        stmt = stmt.where(RunSummary.name.in_([str(n) for n in names]))
    stmt = stmt.order_by(RunSummary.run_id, RunSummary.name)
    rows: list[tuple[Any, ...]] = []
    for part in _by_ids(stmt, RunSummary.run_id, run_ids):
        rows += raw_rows(conn, part)
    # numpy turns the tuples into floats in C, and None (NULL: NaN or no finite value) into nan
    numbers = np.array([r[2:] for r in rows], dtype=np.float64).reshape(-1, len(SUMMARY_FIELDS))
    frame = pd.DataFrame(
        {
            "run_id": np.array([r[0] for r in rows], dtype=np.int64),
            "name": pd.Series([r[1] for r in rows], dtype=object),
        }
    )
    for i, column in enumerate(SUMMARY_FIELDS):
        frame[column] = numbers[:, i]
    frame["epochs"] = frame["epochs"].fillna(0).astype(np.int64)
    return frame


def stream_long_rows(
    conn: Connection, stmt: Select[Any], batch: int
) -> Iterator[list[tuple[int, str, int, float]]]:
    """Batches of about `batch` long rows unpacked from `stmt`'s (run_id, name, encoding, data)."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    raw: Any = conn.connection.driver_connection
    # On PostgreSQL a named (server-side) cursor streams; SQLite's cursor always does.
    postgres = conn.dialect.name == "postgresql"
    cursor = raw.cursor(name="lossdb_export") if postgres else raw.cursor()
    try:
        cursor.execute(sql)
        rows: list[tuple[int, str, int, float]] = []
        while found := cursor.fetchmany(64):
            for run_id, name, encoding, data in found:
                values = unpack(encoding, bytes(data)).tolist()
                rows += zip(repeat(run_id), repeat(name), range(len(values)), values)
                if len(rows) >= batch:  # yield as soon as a batch is full: two batches at most alive
                    yield rows
                    rows = []
        if rows:
            yield rows
    finally:
        cursor.close()
