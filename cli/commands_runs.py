"""`lossdb runs`: list stored runs as a table, JSON or CSV."""

from __future__ import annotations

import csv
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lossdb.cli.options import DbOption, PlainCommand, experiment_option, format_option

if TYPE_CHECKING:
    from lossdb.core.analysis.listing import Listing

FORMATS = ("table", "json", "csv")
HEADERS = {"wall_seconds": "wall s", "test_accuracy": "test acc", "test_rmse": "test rmse"}


def runs(
    experiment: Annotated[str | None, experiment_option("Only this experiment.")] = None,
    loss: Annotated[str | None, typer.Option(metavar="LOSS", help="Only this loss.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", metavar="NAME", help="Only this dataset: its name (iris, or a CSV's stem such as grain) or csv:PATH.")] = None,
    status: Annotated[str | None, typer.Option(
        metavar="STATUS", help="Only this status: running, finished, diverged, failed or interrupted.")] = None,
    sort: Annotated[str | None, typer.Option(
        metavar="COLUMN", help="Sort by a column, a setting or a final metric (test_accuracy); "
                               "-COLUMN sorts in descending order [default: id].")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, metavar="N",
                                              help="At most N runs (after sorting).")] = None,
    columns: Annotated[str | None, typer.Option(
        metavar="A,B,...", help="The columns of the table or CSV, comma-separated (id,arm,seed,"
                                "test_accuracy) [default: what tells the runs apart].")] = None,
    fmt: Annotated[str, format_option(FORMATS)] = "table",
    db: DbOption = None,
) -> None:
    """List stored runs and what tells them apart.

    By default the table shows the columns that differ between the listed runs, including the grid's
    settings (hidden, init, label_noise, w, b ...) that vary within an experiment.

    Example: lossdb runs -e label-noise --sort -test_accuracy --limit 10
    """
    from lossdb.core import jsontext
    from lossdb.core.errors import ConfigError
    from lossdb.core.analysis.listing import listing
    from lossdb.core.engine.losses import LOSSES
    from lossdb.core.store import STATUSES, mask_url, open_store, run_as_dict

    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    if status is not None and status not in STATUSES:
        raise ConfigError(f"unknown status {status!r}; valid: {', '.join(STATUSES)}")
    if loss is not None and loss not in LOSSES:
        raise ConfigError(f"unknown loss {loss!r}; valid: {', '.join(LOSSES)}")
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns is not None else None
    if chosen == []:
        raise ConfigError("--columns names no column: list them separated by commas, e.g. --columns id,arm,seed")
    with open_store(db, create=False, read_only=True) as store:
        if experiment is not None:
            stored = [e["name"] for e in store.experiments()]
            if experiment not in stored:
                raise ConfigError(f"no experiment named {experiment!r} in {mask_url(store.url)}; "
                                  f"stored: {', '.join(stored) or 'none'}")
        if dataset is not None:
            from lossdb.core.experiments.retarget import resolve_dataset

            dataset = resolve_dataset(dataset, store.datasets())
        records = store.list_runs(experiment=experiment, loss=loss, dataset=dataset, status=status)
    shown = listing(records, sort=sort, limit=limit, columns=chosen)
    if fmt == "json":
        by_id = {r.id: r for r in records}
        typer.echo(jsontext.dumps([run_as_dict(by_id[row["id"]]) for row in shown.rows], indent=2))
    elif fmt == "csv":
        _csv(shown, chosen is not None)
    else:
        _table(shown)


def _csv(shown: Listing, chosen: bool) -> None:

    identity = ["id", "experiment", "dataset", "arm", "loss", "head", "lr", "seed", "status", "epochs",
                "wall_seconds"]
    cols = list(shown.columns) if chosen else [*identity, *shown.settings, *shown.metrics]
    from lossdb.core.present.safetext import csv_cell

    w = csv.writer(sys.stdout)
    w.writerow([csv_cell(c) for c in cols])
    for r in shown.rows:
        w.writerow(["" if r.get(c) is None else csv_cell(r.get(c)) for c in cols])


def _table(shown: Listing) -> None:
    from lossdb.core.analysis.listing import cell
    from lossdb.core.present.safetext import terminal

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for c in shown.columns:
        table.add_column(Text(terminal(HEADERS.get(c, c), markup=False)), no_wrap=True,
                         justify="right" if c in ("id", "lr", "seed", *shown.metrics, "wall_seconds") else "left")
    for r in shown.rows:
        table.add_row(*(Text(terminal(cell(r.get(c)), markup=False)) for c in shown.columns))  # never markup
    out, err = Console(), Console(stderr=True)
    needed = Console(width=100_000).measure(table).maximum
    if needed > out.width:  # never cut a value: a wide table is printed whole and said so
        err.print(f"The table is {needed} columns wide: --columns picks fewer, --format csv keeps all.",
                  highlight=False)
        out = Console(width=needed)
    out.print(table)
    same = terminal(", ".join(f"{k} {cell(v)}" for k, v in shown.constant.items()), markup=False)
    err.print(f"{len(shown.rows)} runs" + (f"; all with {same}" if same else ""), highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command(cls=PlainCommand)(runs)
