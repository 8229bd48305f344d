"""`lossdb export`: runs and long-format metrics streamed to CSV or JSON lines through the Store's paging iterators."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lossdb.core import jsontext
from lossdb.core.errors import ConfigError, StoreError
from lossdb.core.outfiles import atomic_open

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
        "error": r.error, "arm_hash": r.arm_hash, "data_digest": r.data_digest,
        "engine_version": r.engine_version,
        "lossdb_version": r.lossdb_version, "numpy_version": r.numpy_version,
        "python_version": r.python_version, "git_commit": r.git_commit,
        "config": r.config, "extras": r.extras,
        "metrics": {k: json_number(v) for k, v in sorted(r.summary.items())},
    }  # fmt: skip


def iter_runs(store: Store, experiment: str | None = None) -> Iterator[RunRecord]:
    """Every stored run (of one experiment, if given) by id, fetched a page at a time."""
    return store.iter_runs(experiment, page=RUNS_PAGE)


def iter_metrics(
    store: Store, experiment: str | None = None
) -> Iterator[list[tuple[int, str, int, float]]]:
    """Batches of (run_id, name, epoch, value) in key order (NaN kept), streamed."""
    return store.iter_metrics(experiment, batch=METRICS_PAGE)


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
    names = store.metric_names()
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
        rows = batch
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
