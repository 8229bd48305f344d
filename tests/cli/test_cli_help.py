"""Every command's help as a newcomer reads it: text as written, readable value names, `-h`, and
short flags that mean the same long option everywhere."""

from __future__ import annotations

import re

import click
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.cli.options import SHORT_FLAGS

ROOT = get_command(app)
# `lossdb compare -c` means --claim while `lossdb run -c` means --config: the lead's call (compare is
# theirs); nothing else is exempt.
PENDING_SHORT: set[tuple[str, str]] = set()
CONFLICT_PENDING: dict[str, set[str]] = {}  # no short flag means two things


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out += _commands(command, (*prefix, name))
        else:
            out.append(((*prefix, name), command))
    return out


COMMANDS = _commands(ROOT)  # type: ignore[arg-type]
IDS = [" ".join(path) for path, _ in COMMANDS]


def help_text(*path: str, flag: str = "--help") -> str:
    """The help a user sees, at 80 columns."""
    result = CliRunner().invoke(app, [*path, flag], terminal_width=80, prog_name="lossdb")
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_names_values_as_a_user_types_them(path, command):
    text = help_text(*path)
    assert not re.search(r"<(bool|str|int|float|list\[[^\]]*\]|Path|path)>", text), text
    assert not re.search(r"\{[a-z_]+\}", text), text


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_dash_h_prints_the_same_help_as_dash_dash_help(path, command):
    assert help_text(*path, flag="-h") == help_text(*path)


@pytest.mark.parametrize(("path", "expected"), [
    (("run",), "[default: all]"),
    (("run",), "lossdb[distributed]"),
    (("runs",), "any SQLAlchemy URL [default: sqlite:///lossdb.db]"),
    (("report",), "[default: ./lossdb-report.EXT]"),
], ids=["run default", "run extra", "db default", "report out"])
def test_bracketed_text_in_help_is_printed_as_written(path, expected):
    assert re.sub(r"\s+", "", expected) in re.sub(r"\s+", "", help_text(*path))


def test_the_usage_line_names_a_required_argument_in_capitals():
    assert "Usage: lossdb show [OPTIONS] RUN_ID\n" in help_text("show")


def test_a_short_flag_means_the_same_long_option_in_every_command():
    meaning: dict[str, set[str]] = {}
    for _, command in COMMANDS:
        for p in command.params:
            longs = [o for o in p.opts if o.startswith("--")]
            for short in (o for o in p.opts if o.startswith("-") and not o.startswith("--")):
                meaning.setdefault(short, set()).update(longs)
    assert all(len(longs) == 1 or CONFLICT_PENDING.get(short) == longs for short, longs in meaning.items()), meaning


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_shared_long_option_has_its_short_flag(path, command):
    for p in command.params:
        for long, short in SHORT_FLAGS.items():
            if long in p.opts and (path[-1], long) not in PENDING_SHORT:
                assert short in p.opts, f"lossdb {' '.join(path)} {long} lacks {short}"
