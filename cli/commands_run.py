"""`lossdb run` and `lossdb experiments`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from lossdb.cli.options import DATASET_HELP, DbOption, PlainCommand
from lossdb.core.present import plural
from lossdb.core.present import terminal as escape

err = Console(stderr=True)
DEFAULT_MAX_SEEDS = 50


def run(
    experiments: Annotated[list[str] | None, typer.Argument(
        metavar="EXPERIMENT", help="Catalogue experiments to run [default: all].")] = None,
    config: Annotated[list[Path] | None, typer.Option(
        "--config", "-c", metavar="FILE", help="An experiment TOML file (repeatable).")] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", metavar="DATA",
        help=f"{DATASET_HELP}. Runs the catalogue experiments that apply to it (stored as EXPERIMENT@NAME); "
             "a name here is a bundled set: digits, breast_cancer, wine, iris or diabetes.")] = None,
    target: Annotated[str | None, typer.Option(
        metavar="COLUMN", help="The target column of --dataset [default: target].")] = None,
    task: Annotated[str | None, typer.Option(
        metavar="TASK",
        help="classification or regression, for --dataset [default: inferred from the target column].")] = None,
    drop_missing: Annotated[bool, typer.Option(
        "--drop-missing", help="Drop the rows of --dataset with a missing value (else they are refused).")] = False,
    preset: Annotated[str, typer.Option(
        metavar="PRESET", help="quick (about a minute) or full (the README's numbers).")] = "quick",
    seeds: Annotated[int | None, typer.Option(metavar="N", help="Override the number of seeds.")] = None,
    epochs: Annotated[int | None, typer.Option(metavar="N", help="Override the number of epochs.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Redo runs that are already stored; replace a stored experiment's changed definition.")] = False,
    no_limits: Annotated[bool, typer.Option(
        "--no-limits", help="Lift the limits on runs, epochs, model size, samples and memory per command.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", metavar="N", help="Train stacks in N local processes.")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        metavar="ADDRESS",
        help="Train on the Dask cluster at this address (tcp://HOST:8786); needs lossdb[distributed].")] = None,
    until_decided: Annotated[bool, typer.Option(
        "--until-decided", help="Add rounds of seeds to experiments whose verdicts are still inconclusive, "
                                "judged group-sequentially, until decided or --max-seeds.")] = False,
    max_seeds: Annotated[int | None, typer.Option(
        "--max-seeds", metavar="N", help="With --until-decided: at most N seeds [default: 50].")] = None,
    round_size: Annotated[int | None, typer.Option(
        "--round", metavar="K", help="With --until-decided: K seeds added per round [default: as many again, at least 3].")] = None,
    all_conditions: Annotated[bool, typer.Option(
        "--all-conditions", help="With --until-decided: wait for every comparison, not only the headlines.")] = False,
    device: Annotated[str, typer.Option(
        metavar="DEVICE", help="cpu (numpy), cuda (PyTorch on an NVIDIA GPU; needs lossdb[cuda]) or auto "
                               "(cuda when there is one). Runs of each are stored and judged apart.")] = "cpu",
    db: DbOption = None,
) -> None:
    """Train the experiments' runs and store them.

    Every run is stored with every per-epoch metric. Finished runs are skipped, so after Ctrl-C or a
    crash the same command does the rest. With --dataset the catalogue's claims are tested on your
    own CSV (csv:PATH or its path) or on a bundled set.

    Example: lossdb run convergence --preset quick --seeds 5 --jobs 2

    Example: lossdb run --dataset csv:mydata.csv --target label --preset quick
    """
    from lossdb.core.runner import RunOptions, Session

    max_seeds = sequential_options(until_decided, max_seeds, round_size, all_conditions)
    options = RunOptions(tuple(experiments or ()), tuple(config or ()), dataset, target, task, drop_missing, preset,
                         seeds, epochs, force, no_limits, jobs, scheduler, until_decided, max_seeds, round_size,
                         all_conditions, db, device)
    report = Session(options, say=_say, training=_training).run()
    s = report.summary
    if report.rounds is not None:
        typer.echo(f"{plural(len(report.rounds), 'round')}; {s.finished} finished, {s.diverged} diverged, "
                   f"{s.failed} failed, in {report.seconds:.1f} s.")
    else:
        if not report.to_run:
            typer.echo(f"Nothing to run: all {report.planned} planned runs are already stored (--force redoes them).")
        typer.echo(f"{s.finished} finished, {s.diverged} diverged, {s.failed} failed, "
                   f"{s.skipped} skipped (already stored), in {report.seconds:.1f} s.")
        for e in s.errors:
            err.print(f"[red]failed:[/red] {escape(e)}")
        if dataset is not None:
            _next_steps(report.experiments, report.runs_per_experiment, dataset, db)
    if s.failed:
        raise typer.Exit(code=1)


def _say(text: str) -> None:
    """A line from the session, on stderr."""
    err.print(escape(text, markup=False), markup=False, highlight=False)


@contextmanager
def _training(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar for one batch of `total` runs; the session advances it by each stack's runs."""
    with Progress(TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False, disable=not total) as bar:
        task = bar.add_task("runs", total=total)
        yield lambda n: bar.advance(task, n)


def sequential_options(until_decided: bool, max_seeds: int | None, round_size: int | None,
                       all_conditions: bool) -> int:
    """The --max-seeds to use; ConfigError for an option of --until-decided given without it."""
    from lossdb.core.errors import ConfigError

    if not until_decided:
        given = [flag for flag, value in (("--max-seeds", max_seeds is not None), ("--round", round_size is not None),
                                          ("--all-conditions", all_conditions)) if value]
        if given:
            raise ConfigError(f"{given[0]} only applies with --until-decided: add --until-decided or leave "
                              f"{given[0]} out")
    return DEFAULT_MAX_SEEDS if max_seeds is None else max_seeds


def _next_steps(names, runs_per_experiment, dataset: str, db: str | None) -> None:
    """After `run --dataset`: the experiments it planned and the command that shows their card."""
    from collections import Counter

    from lossdb.core.experiments import dataset_key
    from lossdb.core.present import compare_command, planned_text

    typer.echo(planned_text(list(names), Counter(runs_per_experiment)))
    typer.echo(compare_command(dataset_key(dataset), db))


def experiments(
    db: DbOption = None,
) -> None:
    """List the built-in experiments and the claims each tests, then those stored in the database
    (yours, and the catalogue's on your data) with what each tests.

    Example: lossdb experiments --db results.db
    """
    from lossdb.core.experiments import catalogue, expand

    from lossdb.core.present import terminal

    stored = _stored(db)  # first, so that a bad --db is refused before anything is printed
    # Names and claims whole at any width (the claims under the name); the description wraps.
    table = Table(title="catalogue", box=box.SIMPLE_HEAD, show_edge=False, show_lines=True)
    table.add_column("experiment\n  claims", no_wrap=True)
    table.add_column("runs\nquick/full", justify="right", no_wrap=True)
    table.add_column("description", ratio=1)
    for e in catalogue().values():
        table.add_row(Text(terminal(e.name, markup=False) + "".join(f"\n  {c}" for c in e.claims)),
                      f"{len(expand(e, 'quick'))}/{len(expand(e, 'full'))}", Text(terminal(e.description, markup=False)))
    Console().print(table)
    if stored is None:
        return
    url, rows = stored
    table = Table(title=f"stored in {terminal(url)}", box=box.SIMPLE_HEAD, show_edge=False, show_lines=True)
    table.add_column("experiment\n  tests", no_wrap=True)
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("description", ratio=1)
    for e in rows:
        tests = terminal(_tests(e["spec"]), markup=False).replace(", ", "\n").splitlines()
        table.add_row(Text(terminal(e["name"], markup=False) + "".join(f"\n  {t}" for t in tests)), str(e["n_runs"]),
                      Text(terminal(e["description"], markup=False)))
    Console().print(table if rows else f"No experiments stored in {terminal(url)} yet.")


def _stored(db: str | None) -> tuple[str, list[dict]] | None:
    """The stored experiments and the masked URL; None when no --db is given and the default
    database does not exist."""
    from lossdb.core.errors import StoreError
    from lossdb.core.store import describe, open_store

    try:
        store = open_store(db, create=False, read_only=True)
    except StoreError:
        if db is None:
            return None
        raise
    with store:
        return describe(store.url), store.experiments()


def _tests(spec: dict) -> str:
    from lossdb.core.experiments import comparisons_of

    comparisons = comparisons_of(spec)
    if comparisons:
        return "\n".join(c.name for c in comparisons)
    return ", ".join(spec.get("experiment", {}).get("claims", ()))


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command(cls=PlainCommand)(run)
    app.command()(experiments)
