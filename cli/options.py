"""What every command shares: how help is printed, and the option types several commands declare.

Help is plain text (no Rich markup), so a bracket such as "[default: all]" or "lossdb[distributed]"
prints as written; `-h` is `--help`; a short flag means the same long option in every command
(-e --experiment, -d --dataset, -f --format, -o --out, -c --config, -j --jobs, -y --yes).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import click
import typer
from typer.core import TyperCommand

HELP_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}
MARKUP = None  # Typer's rich_markup_mode: None prints help as written, brackets and all
SHORT_FLAGS = {"--experiment": "-e", "--dataset": "-d", "--format": "-f", "--out": "-o", "--config": "-c",
               "--jobs": "-j", "--yes": "-y"}


class PlainCommand(TyperCommand):
    """A Typer command whose help names values the way a reader types them: "--format FORMAT",
    "lossdb show RUN_ID", never Typer's "<list[str]>", "<bool>" or "{run_id}"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:  # a declared metavar wins; otherwise the option's long name
            if param.metavar is None and not getattr(param, "is_flag", False) and param.name:
                longest = max(param.opts, key=len).lstrip("-") if param.opts else param.name
                param.metavar = longest.replace("-", "_").upper()

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """Usage pieces with "{RUN_ID}" written "RUN_ID"."""
        return [re.sub(r"^\{(.*)\}$", r"\1", piece) for piece in super().collect_usage_pieces(ctx)]

    def get_help(self, ctx: click.Context) -> str:
        """The help text with "RUN_ID <int>" in the arguments written "RUN_ID"."""
        return re.sub(r"^(  [A-Z_]+(?:\.\.\.)?) <[^>\s]+>", r"\1", super().get_help(ctx), flags=re.M)


def plain_help(app: typer.Typer) -> None:
    """Make every command of `app` and of its sub-apps a PlainCommand (those not declaring a class)."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = PlainCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)


DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="LOSSDB_DB", show_envvar=True, metavar="URL",
                 help="Database: a file path or any SQLAlchemy URL [default: sqlite:///lossdb.db]."),
]


def experiment_option(help_text: str) -> Any:
    """The -e/--experiment option (repeatable where the parameter is a list)."""
    return typer.Option("--experiment", "-e", metavar="NAME", help=help_text)


def format_option(choices: tuple[str, ...]) -> Any:
    """The -f/--format option listing its valid values."""
    return typer.Option("--format", "-f", metavar="FORMAT",
                        help=", ".join(choices[:-1]) + f" or {choices[-1]}.")
