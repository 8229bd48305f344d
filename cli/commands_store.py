"""`lossdb show`, `lossdb export`, `lossdb delete` and `lossdb db upgrade|current`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.options import DbOption
from core.errors import ConfigError

SHOW_FORMATS = ("text", "json")
PROVENANCE = ("engine_version", "lossdb_version", "numpy_version", "python_version", "git_commit")

db_app = typer.Typer(no_args_is_help=True, help="Show or upgrade the database's schema.\n\n"
                     "Example: lossdb db current --db lossdb.db && lossdb db upgrade --db lossdb.db")


def show(
    run_id: Annotated[int, typer.Argument(help="The run's id, as `lossdb runs` lists it.")],
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    db: DbOption = None,
) -> None:
    """Show one run: config, status, final metrics and provenance.

    Example: lossdb show 12 --format json
    """
    from rich.console import Console
    from rich.table import Table

    from core.store import open_store, run_as_dict

    if fmt not in SHOW_FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(SHOW_FORMATS)}")
    with open_store(db, create=False, read_only=True) as store:
        data = run_as_dict(store.get_run(run_id))
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2))
        return
    out = Console()
    out.print(f"[bold]run {data['id']}[/bold] · {data['experiment']} · {data['loss']}/{data['head']} "
              f"lr={data['lr']:g} seed={data['seed']} · [bold]{data['status']}[/bold]")
    facts = Table("field", "value", show_header=False, box=None)
    for key in ("dataset", "epochs", "diverged_epoch", "wall_seconds", "started_at", "finished_at",
                "arm_hash", *PROVENANCE):
        facts.add_row(key, "" if data[key] is None else str(data[key]))
    out.print(facts)
    if data["error"]:
        out.print(f"[red]error:[/red] {data['error']}", markup=True, highlight=False)
    metrics = Table("final metric", "value")
    for name, value in data["metrics"].items():
        metrics.add_row(name, f"{value:.6g}" if isinstance(value, float) else str(value))
    out.print(metrics)
    out.print("config:", json.dumps(data["config"], indent=2), highlight=False)
    if data["extras"]:
        out.print("extras:", json.dumps(data["extras"], indent=2), highlight=False)


def export_runs(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write runs.* and metrics.* into.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    experiment: Annotated[str | None, typer.Option(help="Only this experiment.")] = None,
    db: DbOption = None,
) -> None:
    """Export every run (runs.*) and every per-epoch metric (metrics.*), streaming.

    Example: lossdb export --format jsonl --out exported/
    """
    from core.store import EXPORT_FORMATS, export, open_store

    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(EXPORT_FORMATS)}")
    with open_store(db, create=False, read_only=True) as store:
        result = export(store, out, fmt, experiment)
    typer.echo(f"wrote {result.runs} runs to {result.runs_path} and "
               f"{result.metric_rows} metric rows to {result.metrics_path}")


def delete(
    run_ids: Annotated[list[int] | None, typer.Argument(help="Ids of the runs to delete.")] = None,
    experiment: Annotated[str | None, typer.Option(help="Delete this experiment and all its runs.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Delete runs (with their metrics), or a whole experiment; asks first unless --yes.

    Example: lossdb delete 3 4 5 --yes   or   lossdb delete --experiment convergence
    """
    from core.store import mask_url, open_store

    if bool(run_ids) == (experiment is not None):
        raise ConfigError("name the runs to delete (lossdb delete 3 4) or an experiment "
                          "(lossdb delete --experiment NAME), not both or neither")
    with open_store(db, create=False) as store:
        where = mask_url(store.url)
        if experiment is not None:
            stored = {e["name"]: e["n_runs"] for e in store.experiments()}
            if experiment not in stored:
                raise ConfigError(f"no experiment named {experiment!r} in {where}; stored: "
                                  f"{', '.join(stored) or 'none'}")
            if not yes:
                typer.confirm(f"Delete experiment {experiment} and its {stored[experiment]} run(s) "
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
                typer.confirm(f"Delete {len(wanted)} run(s) from {where}?", abort=True, err=True)
            n = store.delete_runs(wanted)
    typer.echo(f"deleted {n} run(s)")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Upgrade the database to this lossdb's schema (a SQLite file is backed up first).

    Example: lossdb db upgrade --db lossdb.db
    """
    from core.store import upgrade

    result = upgrade(db)
    if result.before == result.after:
        typer.echo(f"already at schema {result.after}; nothing to do")
        return
    backup = f"; backup: {result.backup}" if result.backup else ""
    typer.echo(f"upgraded from schema {result.before or '(empty)'} to {result.after}{backup}")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the database's schema revision and whether it needs an upgrade.

    Example: lossdb db current --db lossdb.db
    """
    from core.store import current, head_revision, known_revisions

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
    app.command()(show)
    app.command("export")(export_runs)
    app.command()(delete)
    app.add_typer(db_app, name="db")
