"""`lossdb show`, `lossdb export`, `lossdb delete` and `lossdb db upgrade|current`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lossdb.core.present import terminal as escape

from lossdb.cli.options import DbOption, PlainCommand, experiment_option, format_option
from lossdb.cli.progress import steps

SHOW_FORMATS = ("table", "json")
EXPORT_FORMATS = ("csv", "jsonl")  # core.store.EXPORT_FORMATS, named here so that --help imports no store
SHOWN_ABOVE = {"dataset", "lr", "epochs", "loss", "head", "label", "experiment", "seed"}
PROVENANCE = ("engine_version", "lossdb_version", "numpy_version", "python_version", "git_commit")

db_app = typer.Typer(no_args_is_help=True, help="Show or upgrade the database's schema.\n\n"
                     "Example: lossdb db current --db lossdb.db && lossdb db upgrade --db lossdb.db")


def show(
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="The run's id, as `lossdb runs` lists it.")],
    fmt: Annotated[str, format_option(SHOW_FORMATS)] = "table",
    db: DbOption = None,
) -> None:
    """Show one run: settings, metrics, provenance.

    Final metrics are rounded to 4 significant digits; --format json has every digit and the
    reliability bins.

    Example: lossdb show 12 --format json
    """
    from lossdb.core import jsontext
    from lossdb.core.analysis import cell, flat_config, flat_row, short
    from lossdb.core.store import (
        open_store,
        run_as_dict,
    )
    from lossdb.core.experiments import check_run_ids

    check_run_ids([run_id])
    with open_store(db, create=False, read_only=True) as store:
        record = store.get_run(run_id)
    data = run_as_dict(record)
    if fmt == "json":
        typer.echo(jsontext.dumps(data, indent=2))
        return
    out = Console(highlight=False)
    out.print(f"run {data['id']} · {escape(data['experiment'])} · {escape(flat_row(record)['arm'])} "
              f"lr={data['lr']:g} seed={data['seed']} · [bold]{data['status']}[/bold]")
    out.print(_two_columns(_facts(data)))
    if data["error"]:
        out.print(f"[red]error:[/red] {escape(data['error'])}")
    out.print("\n[bold]final metrics[/bold] (4 significant digits; --format json has every digit)")
    out.print(_two_columns([(name, cell(value)) for name, value in data["metrics"].items()]))
    out.print("\n[bold]settings[/bold]")
    settings = flat_config(data["config"])
    out.print(_two_columns([(k, cell(short(v))) for k, v in settings.items()
                            if v is not None and k not in SHOWN_ABOVE]))
    for name, value in (data["extras"] or {}).items():
        out.print(f"\n[bold]{escape(name)}[/bold]: {escape(_extra_text(name, value))}")


def _facts(data: dict) -> list[tuple[str, str]]:
    """The run's status, timing and provenance as (field, value) rows, rounded and explained."""
    rows = [("dataset", data["dataset"]), ("epochs", str(data["epochs"]))]
    if data["diverged_epoch"] is not None:
        rows.append(("diverged at epoch", str(data["diverged_epoch"])))
    if data["wall_seconds"] is not None:
        rows.append(("training time", f"{data['wall_seconds']:.3g} s, its share of the stack of models "
                     "trained with it (the metric wall_time is the whole stack's)"))
    for key in ("started_at", "finished_at"):
        if data[key]:
            rows.append((key.replace("_", " "), data[key][:19].replace("T", " ") + " UTC"))
    rows.append(("arm hash", data["arm_hash"]))
    rows.append(("data digest", data["data_digest"] or "unknown (stored before lossdb kept data digests)"))
    rows += [(key.replace("_", " "), str(data[key])) for key in PROVENANCE if data[key] is not None]
    return rows


def _two_columns(rows: list[tuple[str, str]]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 1))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(escape(key), escape(value))
    return table


def _extra_text(name: str, value: object) -> str:
    """A run's extra as one line: the reliability diagram's bins are summarised, not listed."""
    from lossdb.core import jsontext

    if name == "reliability" and isinstance(value, dict):
        counts = [c for c in value.get("count", []) if c]
        return (f"{len(value.get('count', []))} confidence bins, {len(counts)} holding "
                f"{sum(counts)} test samples (the bins are in --format json)")
    text = jsontext.dumps(value)
    return text if len(text) <= 200 else text[:200] + "… (all of it in --format json)"


def export_runs(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FOLDER",
                                      help="Folder to write runs.* and metrics.* into.")],
    fmt: Annotated[str, format_option(EXPORT_FORMATS)] = "csv",
    experiment: Annotated[str | None, experiment_option("Only this experiment.")] = None,
    db: DbOption = None,
) -> None:
    """Export every run and every per-epoch metric.

    Writes runs.* and metrics.* into a folder, streaming, so a large database needs little memory.

    Example: lossdb export --format jsonl --out exported/
    """
    from lossdb.core.present import plural
    from lossdb.core.store import (
        export,
        open_store,
    )

    with open_store(db, create=False, read_only=True) as store, steps(f"exporting runs and metrics to {out}"):
        result = export(store, out, fmt, experiment)
    typer.echo(escape(f"wrote {plural(result.runs, 'run')} to {result.runs_path} and "
                      f"{plural(result.metric_rows, 'metric row')} to {result.metrics_path}", markup=False))


def delete(
    run_ids: Annotated[list[int] | None, typer.Argument(metavar="RUN_ID", help="Ids of the runs to delete.")] = None,
    experiment: Annotated[str | None, experiment_option("Delete this experiment and all its runs.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Delete runs, or a whole experiment.

    A run's metrics go with it; asks first unless --yes.

    Example: lossdb delete 3 4 5 --yes   or   lossdb delete --experiment convergence
    """
    from lossdb.core.errors import ConfigError
    from lossdb.core.present import plural
    from lossdb.core.store import (
        describe,
        open_store,
    )
    from lossdb.core.experiments import check_run_ids


    if bool(run_ids) == (experiment is not None):
        raise ConfigError("name the runs to delete (lossdb delete 3 4) or an experiment "
                          "(lossdb delete --experiment NAME), not both or neither")
    check_run_ids(run_ids or [])
    with open_store(db, create=False) as store:
        where = describe(store.url)
        if experiment is not None:
            stored = {e["name"]: e["n_runs"] for e in store.experiments()}
            if experiment not in stored:
                raise ConfigError(f"no experiment named {experiment!r} in {where}; stored: "
                                  f"{', '.join(stored) or 'none'}")
            if not yes:
                typer.confirm(f"Delete experiment {experiment} and its {plural(stored[experiment], 'run')} "
                              f"from {where}?", abort=True, err=True)
            n = store.delete_experiment(experiment)
        else:
            wanted = sorted(set(run_ids or []))
            found = {r.id for r in store.list_runs(ids=wanted)}
            missing = [str(i) for i in wanted if i not in found]
            if missing:
                raise ConfigError(f"no run with id {', '.join(missing)} in {where}: "
                                  "`lossdb runs` lists the stored runs (nothing was deleted)")
            if not yes:
                typer.confirm(f"Delete {plural(len(wanted), 'run')} from {where}?", abort=True, err=True)
            n = store.delete_runs(wanted)
    typer.echo(f"deleted {plural(n, 'run')}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Upgrade the database to this lossdb's schema (a SQLite file is backed up first).

    Example: lossdb db upgrade --db lossdb.db
    """
    from lossdb.core.store import (
        upgrade,
    )



    result = upgrade(db)
    if result.before == result.after:
        typer.echo(f"already at schema {result.after}; nothing to do")
        return
    backup = f"; backup: {result.backup}" if result.backup else ""
    typer.echo(escape(f"upgraded from schema {result.before or '(empty)'} to {result.after}{backup}", markup=False))


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the database's schema revision and whether it needs an upgrade.

    Example: lossdb db current --db lossdb.db
    """
    from lossdb.core.store import (
        current,
        head_revision,
        known_revisions,
    )



    revision, head = current(db), head_revision()
    if revision == head:
        typer.echo(f"{revision} (up to date)")
    elif revision is None:
        typer.echo(f"empty (this lossdb creates schema {head} on first use)")
    elif revision not in known_revisions():
        typer.echo(f"{revision} (unknown to this lossdb, which knows up to {head}: upgrade lossdb)")
    else:
        typer.echo(f"{revision} (this lossdb needs {head}: run `lossdb db upgrade`)")


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command(cls=PlainCommand)(show)
    app.command("export", cls=PlainCommand)(export_runs)
    app.command(cls=PlainCommand)(delete)
    app.add_typer(db_app, name="db")
