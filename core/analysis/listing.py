"""The runs listing (`lossdb runs`): one flat row per run with the settings that tell runs apart.

Two runs of a grid may differ only in `hidden`, `init`, `label_noise` or `w`/`b`; the listing finds
the settings that vary among the listed runs and shows them as columns, leaves out the columns
that hold one value for every run (and says which), sorts, limits and picks columns.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lossdb.core.analysis.frame import flat_config
from lossdb.core.errors import ConfigError
from lossdb.core.store import RunRecord

IDENTITY = ("id", "experiment", "dataset", "arm", "lr", "seed", "status")
SCORES = ("test_accuracy", "test_rmse")
FIXED = (*IDENTITY, "loss", "head", "epochs", "wall_seconds")
NOT_SETTINGS = {"loss", "head", "label", "experiment", "seed", "lr", "dataset"}
HEADERS = {"wall_seconds": "wall s", "test_accuracy": "test acc", "test_rmse": "test rmse"}  # as the table shows them


@dataclass(frozen=True)
class Listing:
    """Runs as flat rows (every column), the columns to show, and those left out as constant."""

    rows: tuple[dict[str, Any], ...]
    columns: tuple[str, ...]
    constant: dict[str, Any]
    settings: tuple[str, ...]  # the config settings that vary among the runs
    metrics: tuple[str, ...]


def short(value: Any) -> Any:
    """A setting as one cell: [30] → 30, [16, 16] → "16,16", nested values as text."""
    if isinstance(value, list | tuple):
        return short(value[0]) if len(value) == 1 else ",".join(str(short(v)) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={short(v)}" for k, v in value.items())
    return value


def flat_row(r: RunRecord) -> dict[str, Any]:
    """One run as a flat row: identity, the run's settings from its config, and its final metrics."""
    settings = {k: short(v) for k, v in flat_config(r.config or {}).items() if k not in NOT_SETTINGS}
    from lossdb.core.experiments.retarget import data_name

    label = (r.config or {}).get("label") or f"{r.loss}/{r.head}"
    return {**settings, **r.summary, "id": r.id, "experiment": r.experiment, "dataset": data_name(r.dataset),
            "arm": label, "loss": r.loss, "head": r.head, "lr": r.lr, "seed": r.seed,
            "status": r.status, "epochs": r.epochs, "wall_seconds": r.wall_seconds}


def varying(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[str]:
    """The keys whose value differs between runs of one experiment (a setting that differs only
    between experiments, such as their batch sizes, tells no two runs of a grid apart)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["experiment"], []).append(r)
    return [k for k in keys if any(len({repr(r.get(k)) for r in g}) > 1 for g in groups.values())]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def sort_rows(rows: list[dict[str, Any]], column: str, descending: bool = False) -> list[dict[str, Any]]:
    """Rows sorted by one column, numbers before text, runs without a value last either way."""
    present = [r for r in rows if not _missing(r.get(column))]
    absent = [r for r in rows if _missing(r.get(column))]
    present.sort(key=lambda r: (isinstance(r[column], str), r[column]), reverse=descending)
    return present + absent


def listing(records: Sequence[RunRecord], *, sort: str | None = None, limit: int | None = None,
            columns: Sequence[str] | None = None) -> Listing:
    """The listing of `records`: sorted by `sort` (a column; "-column" descends), at most `limit`
    rows, showing `columns` or, by default, the identity columns and settings that vary, then the
    test score."""
    rows = [flat_row(r) for r in records]
    metrics = sorted({m for r in records for m in r.summary})
    settings_seen = list(dict.fromkeys(k for r in rows for k in r if k not in FIXED and k not in metrics))
    known = list(dict.fromkeys([*FIXED, *settings_seen, *metrics]))
    if sort is not None:
        name = column_name(sort.lstrip("-"), known, "cannot sort by")
        rows = sort_rows(rows, name, descending=sort.startswith("-"))
    if limit:
        rows = rows[:limit]
    settings = varying(rows, settings_seen)
    if columns:
        columns = [column_name(c, known, "unknown column") for c in columns]
        return Listing(tuple(rows), tuple(columns), {}, tuple(settings), tuple(metrics))
    constant = {c: rows[0].get(c) for c in ("experiment", "dataset", "lr", "status")
                if len(rows) > 1 and len({repr(r.get(c)) for r in rows}) == 1}
    shown = [c for c in IDENTITY if c not in constant] + settings
    shown += [m for m in SCORES if any(r.get(m) is not None for r in rows)]
    return Listing(tuple(rows), tuple(shown), constant, tuple(settings), tuple(metrics))


def _key(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


def column_name(name: str, known: Sequence[str], problem: str) -> str:
    """The stored column `name` means, written as stored (test_accuracy) or as the table heads it
    (test acc, Test Acc); else a ConfigError with the nearest names ("did you mean …?")."""
    spellings = {_key(k): k for k in known}
    spellings.update({_key(shown): k for k, shown in HEADERS.items() if k in known})
    if _key(name) in spellings:
        return spellings[_key(name)]
    near = difflib.get_close_matches(_key(name), list(spellings), n=3, cutoff=0.6)
    hint = (f"did you mean {' or '.join(dict.fromkeys(spellings[n] for n in near))}?" if near
            else f"valid: {', '.join(known)}")
    raise ConfigError(f"{problem} {name!r}: not a column of these runs; {hint}")


def cell(value: Any) -> str:
    """A value as table text: floats to 4 significant digits, None as empty, NaN as "—"."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
