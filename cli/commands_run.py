"""`lossdb run` and `lossdb experiments`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cli.options import DbOption


def run(
    experiments: Annotated[list[str] | None, typer.Argument(help="Catalogue experiments to run [default: all].")] = None,
    config: Annotated[list[Path] | None, typer.Option("--config", "-c", help="An experiment TOML file (repeatable).")] = None,
    preset: Annotated[str, typer.Option(help="quick (about a minute) or full (the quoted numbers).")] = "quick",
    seeds: Annotated[int | None, typer.Option(help="Override the number of seeds.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Override the number of epochs.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo runs that are already stored.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Train stacks in N local processes.")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Train on the Dask cluster at this address (tcp://HOST:8786); needs lossdb[distributed].")] = None,
    db: DbOption = None,
) -> None:
    """Train the experiments' runs and store them with every per-epoch metric.

    Finished runs are skipped, so after Ctrl-C or a crash the same command does the rest.

    Example: lossdb run convergence --preset quick --seeds 5 --jobs 2
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core import experiments as ex
    from core import runner
    from core.executors import open_executor
    from core.store import mask_url, open_store

    err = Console(stderr=True)
    started = time.perf_counter()
    exps = ex.resolve(experiments or [], config or [])
    plans = runner.plan(exps, preset, seeds, epochs)
    runner.check_data(plans)
    with open_executor(jobs, scheduler) as (executor, workers), open_store(db) as store:
        todo = runner.pending(store, plans, force)
        skipped = len(plans) - len(todo)
        err.print(f"{len(plans)} runs planned in {len(exps)} experiment(s); {skipped} already stored, "
                  f"{len(todo)} to run on {workers} worker(s) → {mask_url(store.url)}")
        with Progress(TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=False, disable=not todo) as bar:
            task = bar.add_task("runs", total=len(todo))
            summary = runner.execute(store, exps, todo, force=force, executor=executor, workers=workers,
                                     on_stack=lambda n: bar.advance(task, n))
    summary.skipped = skipped
    typer.echo(f"{summary.finished} finished, {summary.diverged} diverged, {summary.failed} failed, "
               f"{summary.skipped} skipped (already stored), in {time.perf_counter() - started:.1f} s.")
    for e in summary.errors:
        err.print(f"[red]failed:[/red] {e}")
    if summary.failed:
        raise typer.Exit(code=1)


def experiments(
    db: DbOption = None,
) -> None:
    """List the built-in experiments and the claims each tests.

    Example: lossdb experiments
    """
    from rich.console import Console
    from rich.table import Table

    from core import experiments as ex

    table = Table("experiment", "claims", "runs (quick)", "runs (full)", "description")
    for e in ex.catalogue().values():
        table.add_row(e.name, ", ".join(e.claims), str(len(ex.expand(e, "quick"))),
                      str(len(ex.expand(e, "full"))), e.description)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(run)
    app.command()(experiments)
