"""What every command shares: how help is printed, and the option types several commands declare.

Help is plain text (no Rich markup), so a bracket such as "[default: all]" or "lossdb[distributed]"
prints as written; `-h` is `--help`; a short flag means the same long option in every command
(-e --experiment, -d --dataset, -f --format, -o --out, -c --config, -j --jobs, -y --yes).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

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

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """Usage pieces with "{RUN_ID}" written "RUN_ID"."""
        return [re.sub(r"^\{(.*)\}$", r"\1", piece) for piece in super().collect_usage_pieces(ctx)]

    def get_help(self, ctx: typer.Context) -> str:
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


def choice(value: str | None, valid: tuple[str, ...], what: str, problem: str | None = None) -> str | None:
    """`value` as one of `valid`, matched without regard to case; else a ConfigError saying
    `problem` [default: "unknown WHAT 'x'; valid: …"] and, for a near miss, "did you mean …?".
    None stays None."""
    import difflib

    from lossdb.core.errors import ConfigError

    if value is None:
        return None
    by_key = {v.casefold(): v for v in valid}
    if value.casefold() in by_key:
        return by_key[value.casefold()]
    near = difflib.get_close_matches(value.casefold(), list(by_key), n=3, cutoff=0.6)
    problem = problem or f"unknown {what} {value!r}; valid: {', '.join(valid)}"
    raise ConfigError(problem + (f"; did you mean {' or '.join(by_key[n] for n in near)}?" if near else ""))


# What -d/--dataset means in every command (run, compare, runs, report), in one sentence.
DATASET_HELP = ("One dataset: csv:PATH, the path of a .csv file, or a name (a built-in set such as iris, "
                "or a CSV's stem such as grain)")

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="LOSSDB_DB", show_envvar=True, metavar="URL",
                 help="Database: a file path or any SQLAlchemy URL [default: sqlite:///lossdb.db]."),
]


def experiment_option(help_text: str) -> Any:
    """The -e/--experiment option (repeatable where the parameter is a list)."""
    return typer.Option("--experiment", "-e", metavar="NAME", help=help_text)


# One vocabulary of output formats for every command: the canonical names, and the other spellings
# a reader may type for them. Each command accepts a subset (compare writes no PDF, show no CSV).
FORMAT_NAMES = ("table", "markdown", "csv", "json", "jsonl", "html", "pdf")
FORMAT_ALIASES = {"md": "markdown", "text": "table", "txt": "table", "ndjson": "jsonl", "htm": "html"}


def format_name(value: str, accepted: tuple[str, ...]) -> str:
    """The canonical format name for `value` (any case, aliases such as md for markdown), or a
    ConfigError naming the formats this command writes."""
    from lossdb.core.errors import ConfigError

    key = value.strip().lower()
    key = FORMAT_ALIASES.get(key, key)
    if key in accepted:
        return key
    raise ConfigError(f"unknown format {value!r}; valid: {format_list(accepted)}")


def format_list(accepted: tuple[str, ...]) -> str:
    """The formats as a reader reads them: "table, markdown (md), csv or json"."""
    shown = [name + (" (md)" if name == "markdown" else "") for name in accepted]
    return ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]


def format_option(choices: tuple[str, ...]) -> Any:
    """The -f/--format option: one of `choices` (canonical names from FORMAT_NAMES), aliases and
    any case accepted and turned into the canonical name, an unknown name refused in one sentence
    before the command runs."""
    unknown = [f for f in choices if f not in FORMAT_NAMES]
    assert not unknown, f"formats outside the vocabulary: {unknown}"

    def canonical(value: str) -> str:
        return format_name(value, choices)

    return typer.Option("--format", "-f", metavar="FORMAT", callback=canonical,
                        help=format_list(choices) + ".")
