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

from lossdb.cli.options import DATASET_HELP, DbOption, PlainCommand, choice, experiment_option, format_option

if TYPE_CHECKING:
    from lossdb.core.analysis import Listing
    from lossdb.core.store import Store

FORMATS = ("table", "csv", "json", "jsonl")
NEWEST = 50  # the table's default --limit: the newest runs


def runs(
    experiment: Annotated[str | None, experiment_option("Only this experiment.")] = None,
    loss: Annotated[str | None, typer.Option(metavar="LOSS", help="Only this loss.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", metavar="DATA", help=f"{DATASET_HELP}. Only its runs.")] = None,
    status: Annotated[str | None, typer.Option(
        metavar="STATUS", help="Only this status: running, finished, diverged, failed or interrupted.")] = None,
    sort: Annotated[str | None, typer.Option(
        metavar="COLUMN", help="Sort by a column, a setting or a final metric (test_accuracy); "
                               "-COLUMN sorts in descending order [default: id].")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=0, metavar="N",
                                              help=f"At most N runs (after sorting); 0 for all [default: the "
                                                   f"newest {NEWEST} in the table, all in the other formats].")] = None,
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
    from lossdb.core.analysis import list_runs
    from lossdb.core.engine import LOSSES
    from lossdb.core.store import STATUSES, describe, open_store, run_as_dict

    status = choice(status, tuple(STATUSES), "status")
    loss = choice(loss, tuple(LOSSES), "loss")
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns is not None else None
    if chosen == []:
        from lossdb.core.errors import ConfigError

        raise ConfigError("--columns names no column: list them separated by commas, e.g. --columns id,arm,seed")
    with open_store(db, create=False, read_only=True) as store:
        if experiment is not None:
            stored = [e["name"] for e in store.experiments()]
            experiment = choice(experiment, tuple(stored), "experiment",
                                f"no experiment named {experiment!r} in {describe(store.url)}; "
                                f"stored: {', '.join(stored) or 'none'}")
        if dataset is not None:
            from lossdb.core.experiments import resolve_dataset

            dataset = resolve_dataset(dataset, store.datasets())
        records = store.list_runs(experiment=experiment, loss=loss, dataset=dataset, status=status)
        note = _set_aside(store)
    total = len(records)
    if limit is None and fmt == "table":
        limit = NEWEST
        if sort is None:  # the newest runs, in the order they were made
            records = sorted(records, key=lambda r: r.id)[-NEWEST:]
    shown = list_runs(records, sort=sort, limit=limit or None, columns=chosen)
    if fmt in ("json", "jsonl"):
        by_id = {r.id: r for r in records}
        picked = [run_as_dict(by_id[row["id"]]) for row in shown.rows]
        typer.echo(jsontext.dumps(picked, indent=2) if fmt == "json"
                   else "\n".join(jsontext.dumps(r) for r in picked))
    elif fmt == "csv":
        _csv(shown, chosen is not None)
    else:
        _table(shown, total - len(shown.rows))
    if note:
        typer.echo(note, err=True)


def _set_aside(store: Store) -> str | None:
    """The sentence on stored runs of another engine version (listed here, judged nowhere)."""
    import lossdb.core as core
    from lossdb.core.analysis import set_aside
    from lossdb.core.present import set_aside_text

    return set_aside_text(set_aside(store), core.ENGINE_VERSION)


def _csv(shown: Listing, chosen: bool) -> None:

    identity = ["id", "experiment", "dataset", "arm", "loss", "head", "lr", "seed", "status", "epochs",
                "wall_seconds"]
    cols = list(shown.columns) if chosen else [*identity, *shown.settings, *shown.metrics]
    from lossdb.core.present import csv_cell

    w = csv.writer(sys.stdout)
    w.writerow([csv_cell(c) for c in cols])
    for r in shown.rows:
        w.writerow(["" if r.get(c) is None else csv_cell(r.get(c)) for c in cols])


def _table(shown: Listing, hidden: int) -> None:
    """The listing as a table that fits the terminal (long text folds, numbers stay whole); piped,
    at the width it needs; then on stderr how many runs, how many more, and what they share."""
    from lossdb.core.analysis import HEADERS, cell
    from lossdb.core.present import plural, terminal

    numeric = ("id", "lr", "seed", *shown.metrics, "wall_seconds")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), collapse_padding=True)
    for c in shown.columns:
        table.add_column(HEADERS.get(c, c), no_wrap=c in numeric, overflow="fold",
                         justify="right" if c in numeric else "left")
    for r in shown.rows:
        table.add_row(*(Text(terminal(cell(r.get(c)), markup=False)) for c in shown.columns))  # never markup
    out, err = Console(), Console(stderr=True)
    needed = Console(width=100_000).measure(table).maximum
    if not out.is_terminal:  # piped: every row on one line, however wide
        out = Console(width=max(needed, 20))
    out.print(table)
    same = terminal(", ".join(f"{k} {cell(v)}" for k, v in shown.constant.items()), markup=False)
    more = f"; … {hidden:,} more (--limit 0 for all)" if hidden > 0 else ""
    err.print(plural(len(shown.rows), "run") + more + (f"; all with {same}" if same else ""),
              highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command(cls=PlainCommand)(runs)
