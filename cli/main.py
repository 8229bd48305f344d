"""The `lossdb` command: a thin Typer layer over core."""

from __future__ import annotations

from typing import Annotated

import typer

import lossdb.core as core
from lossdb.cli import (
    commands_compare,
    commands_dashboard,
    commands_report,
    commands_run,
    commands_runs,
    commands_store,
)
from lossdb.cli.errors import LossdbGroup
from lossdb.cli.options import HELP_SETTINGS, MARKUP, plain_help

app = typer.Typer(cls=LossdbGroup, no_args_is_help=True, add_completion=False,
                  help="Measure when to train with MSE and when with cross-entropy.",
                  pretty_exceptions_enable=False, rich_markup_mode=MARKUP, context_settings=HELP_SETTINGS)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lossdb {core.__version__} (engine {core.ENGINE_VERSION})")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Measure when to train with MSE and when with cross-entropy.

    Example: lossdb run --preset quick && lossdb compare
    """


commands_run.register(app)
commands_runs.register(app)
commands_store.register(app)
commands_compare.register(app)
commands_dashboard.register(app)
commands_report.register(app)
plain_help(app)


def main() -> None:
    """Console-script entry point."""
    app()
