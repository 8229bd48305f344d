"""`lossdb report`: the comparison as a file to send, attach or print (HTML, Markdown, PDF, JSON)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from lossdb.cli.options import DATASET_HELP, DbOption, format_option
from lossdb.cli.progress import steps

FORMATS = ("html", "markdown", "pdf", "json")  # the report's own keys are core.report.FORMATS (md for markdown)


def report(
    experiment: Annotated[list[str] | None, typer.Option(
        "--experiment", "-e", metavar="NAME",
        help="Only this experiment and the claims it tests (repeatable).")] = None,
    fmt: Annotated[str, format_option(FORMATS)] = "html",
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="PATH", help="The file to write, or a folder [default: ./lossdb-report.EXT].")] = None,
    interactive: Annotated[bool, typer.Option(
        "--interactive", help="HTML only: embed the Vega runtime once so charts zoom and show tooltips.")] = False,
    title: Annotated[str | None, typer.Option("--title", metavar="TEXT", help="The report's title.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", metavar="DATA",
        help=f"{DATASET_HELP}. Only the experiments run on it.")] = None,
    db: DbOption = None,
) -> None:
    """Write the comparison report to a file.

    Prints the path of the file written.

    The same content in every format: abstract, summary comparison table, a section per experiment
    (protocol, convergence charts, final metrics as mean ± sd, notable runs) and provenance.

    Example: lossdb run --preset quick && lossdb report --format pdf --out report.pdf
    """
    from lossdb.core import report as reports  # imported on use: Altair and Typst would slow every command
    from lossdb.core.judging import check_experiments
    from lossdb.core.outfiles import check_target
    from lossdb.core.present import terminal
    from lossdb.core.store import open_store, resolve_url, sqlite_path

    command = command_line(experiment or [], fmt, out, interactive, title, resolve_url(db))
    fmt = "md" if fmt == "markdown" else fmt
    protected = (sqlite_path(resolve_url(db)),)
    check_target(reports.target(fmt, out), force=force, protected=protected)
    store = open_store(db, create=False, read_only=True)
    try:
        check_experiments(store, experiment)
        if dataset is not None:
            from lossdb.core.judging import dataset_experiments

            experiment = [*(experiment or []), *dataset_experiments(store, dataset)]
            command = command_line(experiment, fmt, out, interactive, title, resolve_url(db))
        with steps("reading the runs and computing the verdicts") as shown:
            data = reports.build(store, experiment or None, title=title, command=command)
            shown.step(f"drawing {len(data.charts)} charts and writing the {fmt.upper()} file")
            path = reports.write(data, fmt, out, interactive, force=force, protected=protected)
    finally:
        store.close()
    typer.echo(terminal(path, markup=False))


def command_line(experiments: list[str], fmt: str, out: Path | None, interactive: bool, title: str | None,
                 url: str) -> str:
    """The command that makes this report again (the database URL with its password masked)."""
    from lossdb.core import report as reports
    from lossdb.core.store import mask_url

    args = ["lossdb", "report"]
    for name in experiments:
        args += ["--experiment", name]
    args += ["--format", fmt, "--out", str(reports.target("md" if fmt == "markdown" else fmt, out))]
    if interactive:
        args.append("--interactive")
    if title:
        args += ["--title", title]
    args += ["--db", mask_url(url)]
    return shlex.join(args)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(report)
