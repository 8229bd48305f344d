"""The one place where lossdb's exceptions become a one-sentence message and an exit code."""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

from lossdb.core.errors import ConfigError, LossdbError
from lossdb.core.present import terminal
from lossdb.core.runner import Terminated


class LossdbGroup(TyperGroup):
    """Runs a command and turns any LossdbError into `Error: …` on stderr and exit 1."""

    def invoke(self, ctx: typer.Context):
        try:
            _check_utf8([*getattr(ctx, "_protected_args", []), *ctx.args])
            return super().invoke(ctx)
        except LossdbError as e:
            typer.echo(f"Error: {terminal(e, markup=False)}", err=True)  # paths and names are the user's
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated) during `lossdb run`
            typer.echo("Interrupted: finished runs are stored; run the same command again to do the rest.", err=True)
            sys.exit(143 if isinstance(e, Terminated) else 130)


def _check_utf8(args: list[str]) -> None:
    """Refuse an argument holding bytes that are not UTF-8 (names, paths, titles): none could be stored or written."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise ConfigError(f"the argument '{shown}' holds bytes that are not UTF-8 text: "
                              "pass names, paths and titles as UTF-8") from None
