"""`lossdb run` and `lossdb experiments`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from lossdb.core.present.safetext import terminal as escape

from lossdb.cli.options import DbOption, PlainCommand

err = Console(stderr=True)
DEFAULT_MAX_SEEDS = 50


def run(
    experiments: Annotated[list[str] | None, typer.Argument(
        metavar="EXPERIMENT", help="Catalogue experiments to run [default: all].")] = None,
    config: Annotated[list[Path] | None, typer.Option(
        "--config", "-c", metavar="FILE", help="An experiment TOML file (repeatable).")] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", metavar="csv:PATH",
        help="Run the catalogue experiments that apply to your CSV on it (stored as NAME@FILE-STEM).")] = None,
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
    crash the same command does the rest. With --dataset csv:PATH the catalogue's claims are tested
    on your own data.

    Example: lossdb run convergence --preset quick --seeds 5 --jobs 2

    Example: lossdb run --dataset csv:mydata.csv --target label --preset quick
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from lossdb.core.experiments import retarget
    from lossdb.core.runner import execute as runner
    from lossdb.core.runner.executors import cpu_count, open_executor, sigterm_as_interrupt
    from lossdb.core.store import describe, open_store
    from lossdb.core.experiments.validate import LIMITS, NO_LIMITS


    from lossdb.core.engine.backend import resolve

    err = Console(stderr=True)
    started = time.perf_counter()
    max_seeds = sequential_options(until_decided, max_seeds, round_size, all_conditions)
    backend = resolve(device).name
    exps = retarget.experiments_to_run(experiments or [], config or [], dataset, target, task, drop_missing)
    runner.check_names(exps, force)
    plans = runner.plan(exps, preset, seeds, epochs, NO_LIMITS if no_limits else LIMITS)
    runner.check_data(plans)
    if not no_limits and scheduler is None and jobs > (cpus := cpu_count()):
        err.print(f"--jobs {jobs} is more than the {cpus} CPU(s) here: using {cpus} "
                  f"(--no-limits starts {jobs}).", markup=False, highlight=False)
        jobs = cpus
    if until_decided:
        with sigterm_as_interrupt():
            _until_decided(exps, plans, preset, epochs, force, jobs, scheduler, max_seeds, round_size,
                           all_conditions, db, started, backend)
        return
    with sigterm_as_interrupt(), open_executor(jobs, scheduler) as (executor, workers), open_store(db) as store:
        runner.check_specs(store, exps, force)
        todo = runner.pending(store, plans, force, backend)
        skipped = len(plans) - len(todo)
        err.print(f"{len(plans)} runs planned in {len(exps)} experiment(s); {skipped} already stored, "
                  f"{len(todo)} to run on {workers} worker(s) → {escape(describe(store.url), markup=False)}", markup=False)
        with Progress(TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=False, disable=not todo) as bar:
            task = bar.add_task("runs", total=len(todo))
            summary = runner.execute(store, exps, todo, force=force, executor=executor, workers=workers,
                                     on_stack=lambda n: bar.advance(task, n), backend=backend)
        if summary.finished:
            _warm(store, err)
    summary.skipped = skipped
    if not todo:
        typer.echo(f"Nothing to run: all {len(plans)} planned runs are already stored (--force redoes them).")
    typer.echo(f"{summary.finished} finished, {summary.diverged} diverged, {summary.failed} failed, "
               f"{summary.skipped} skipped (already stored), in {time.perf_counter() - started:.1f} s.")
    for e in summary.errors:
        err.print(f"[red]failed:[/red] {escape(e)}")
    if dataset is not None:
        _next_steps(exps, plans, dataset, db)
    if summary.failed:
        raise typer.Exit(code=1)


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


def _next_steps(exps, plans, dataset: str, db: str | None) -> None:
    """After `run --dataset`: the experiments it planned and the command that shows their card."""
    from collections import Counter

    from lossdb.core.experiments.retarget import dataset_key
    from lossdb.core.present.nextsteps import compare_command, planned_text

    typer.echo(planned_text([e.name for e in exps], Counter(p.experiment for p in plans)))
    typer.echo(compare_command(dataset_key(dataset), db))


def _warm(store, err) -> None:
    """Judge a large store once now, and tabulate its runs, so that the next compare, dashboard
    visit or report reads them from the cache (core.cache) instead of computing them."""
    from lossdb.core import cache as verdictcache
    from lossdb.core.judging.judge import judge_store

    if verdictcache.folder() is None or store.counts(metric_rows=False)["runs"] < verdictcache.WARM_MIN_RUNS:
        return
    from lossdb.core.analysis.frame import kept_runs_frame
    from lossdb.core.errors import LossdbError

    started = time.perf_counter()
    try:
        judge_store(store, frame=kept_runs_frame(store))  # the frame: what the dashboard's run pages read
    except LossdbError:
        return  # compare will say what is wrong; the runs themselves are stored
    err.print(f"Judged every claim in {time.perf_counter() - started:.1f} s (kept for compare, the dashboard "
              "and reports until the database changes).", markup=False, highlight=False)


def _until_decided(exps, plans, preset, epochs, force, jobs, scheduler, max_seeds, round_size, all_conditions,
                   db, started, backend="numpy") -> None:
    """`lossdb run --until-decided`: rounds of seeds through core.judging.adaptive, a progress bar per round."""
    from lossdb.core.experiments import spec as ex
    from lossdb.core.runner import execute as runner
    from lossdb.core.judging.adaptive import focus, until_decided
    from lossdb.core.runner.executors import open_executor
    from lossdb.core.judging.judge import claims_of, judge_store
    from lossdb.core.store import open_store

    start = {}
    for p in plans:
        start[p.experiment] = max(start.get(p.experiment, 0), p.seed + 1)
    totals = {"finished": 0, "diverged": 0, "failed": 0}
    with open_executor(jobs, scheduler) as (executor, workers), open_store(db) as store:
        runner.check_specs(store, exps, force)

        def train(todo_exps, seeds_of) -> None:
            todo_plans = focus([p for e in todo_exps for p in ex.expand(e, preset, seeds_of[e.name], epochs)],
                               claims_of(store), start, all_conditions)
            todo = runner.pending(store, todo_plans, force, backend)
            with Progress(TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=err, transient=False, disable=not todo) as bar:
                task = bar.add_task("runs", total=len(todo))
                done = runner.execute(store, todo_exps, todo, force=force, executor=executor, workers=workers,
                                      on_stack=lambda n: bar.advance(task, n), backend=backend)
            for k in totals:
                totals[k] += getattr(done, k)

        def judge(names):
            return judge_store(store, experiments=names, all_conditions=True)

        def report(r) -> None:
            seeds = ", ".join(f"{k} {n}" for k, n in r.seeds.items())
            err.print(escape(f"round {r.number} ({seeds} seeds): decided {', '.join(r.decided) or 'none'}; "
                             f"open {', '.join(r.open) or 'none'}", markup=False), markup=False)

        rounds = until_decided(exps, start, round_size, max_seeds, train, judge, all_conditions, report)
        if totals["finished"]:
            _warm(store, err)
    typer.echo(f"{len(rounds)} round(s); {totals['finished']} finished, {totals['diverged']} diverged, "
               f"{totals['failed']} failed, in {time.perf_counter() - started:.1f} s.")
    if totals["failed"]:
        raise typer.Exit(code=1)


def experiments(
    db: DbOption = None,
) -> None:
    """List the built-in experiments and the claims each tests, then those stored in the database
    (yours, and the catalogue's on your data) with what each tests.

    Example: lossdb experiments --db results.db
    """
    from lossdb.core.experiments import spec as ex

    from lossdb.core.present.safetext import terminal

    stored = _stored(db)  # first, so that a bad --db is refused before anything is printed
    # Names and claims whole at any width (the claims under the name); the description wraps.
    table = Table(title="catalogue", box=box.SIMPLE_HEAD, show_edge=False, show_lines=True)
    table.add_column("experiment\n  claims", no_wrap=True)
    table.add_column("runs\nquick/full", justify="right", no_wrap=True)
    table.add_column("description", ratio=1)
    for e in ex.catalogue().values():
        table.add_row(Text(terminal(e.name, markup=False) + "".join(f"\n  {c}" for c in e.claims)),
                      f"{len(ex.expand(e, 'quick'))}/{len(ex.expand(e, 'full'))}", Text(terminal(e.description, markup=False)))
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
    from lossdb.core.experiments.comparisons import comparisons_of

    comparisons = comparisons_of(spec)
    if comparisons:
        return "\n".join(c.name for c in comparisons)
    return ", ".join(spec.get("experiment", {}).get("claims", ()))


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command(cls=PlainCommand)(run)
    app.command()(experiments)
