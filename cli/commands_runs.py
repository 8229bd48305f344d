"""`lossdb runs`: list stored runs as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated

import typer

from cli.options import DbOption
from core.errors import ConfigError

FORMATS = ("table", "json", "csv")


def runs(
    experiment: Annotated[str | None, typer.Option(help="Only this experiment.")] = None,
    loss: Annotated[str | None, typer.Option(help="Only this loss.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    status: Annotated[str | None, typer.Option(
        help="Only this status: running, finished, diverged, failed or interrupted.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    db: DbOption = None,
) -> None:
    """List stored runs.

    Example: lossdb runs --experiment convergence --loss ce --format json
    """
    from core.losses import LOSSES
    from core.store import STATUSES, open_store, run_as_dict

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    if status is not None and status not in STATUSES:
        raise ConfigError(f"unknown status {status!r}; valid: {', '.join(STATUSES)}")
    if loss is not None and loss not in LOSSES:
        raise ConfigError(f"unknown loss {loss!r}; valid: {', '.join(LOSSES)}")
    with open_store(db, create=False, read_only=True) as store:
        records = store.list_runs(experiment=experiment, loss=loss, dataset=dataset, status=status)
    rows = [run_as_dict(r) for r in records]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        _csv(rows)
    else:
        _table(rows)


def _csv(rows: list[dict]) -> None:
    metric_names = sorted({m for r in rows for m in r["metrics"]})
    cols = ["id", "experiment", "dataset", "loss", "head", "lr", "seed", "status", "epochs", "wall_seconds"]
    w = csv.writer(sys.stdout)
    w.writerow(cols + metric_names)
    for r in rows:
        w.writerow([r[c] for c in cols] + [r["metrics"].get(m, "") for m in metric_names])


def _table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "experiment", "dataset", "arm", "lr", "seed", "status", "test acc / rmse", "wall s")
    for r in rows:
        m = r["metrics"]
        score = m.get("test_accuracy", m.get("test_rmse"))
        table.add_row(str(r["id"]), r["experiment"], r["dataset"], r["config"].get("label", f"{r['loss']}/{r['head']}"),
                      f"{r['lr']:g}", str(r["seed"]), r["status"],
                      "" if score is None else (f"{score:.4g}" if isinstance(score, float) else score),
                      f"{r['wall_seconds']:.2f}" if r["wall_seconds"] is not None else "")
    Console().print(table)
    typer.echo(f"{len(rows)} runs", err=True)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(runs)
