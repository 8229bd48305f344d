"""Typer's command-line parsing as lossdb declares it, under whichever Typer and Click are installed:
`make test-oldest` runs this file with the lowest declared versions. Two failures it would have
caught: under typer 0.12.5 `lossdb run --preset quick saturation` printed the version and exited;
under typer 0.27.2 `--preset` was "No such option"."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from lossdb.cli.main import app


def parsed(name: str, *args: str) -> dict:
    """The parameters that the command `lossdb NAME ARGS` receives, parsed but not run."""
    group = get_command(app)
    root = group.context_class(group, info_name="lossdb")
    command = group.get_command(root, name)
    with command.make_context(name, list(args), parent=root) as ctx:
        return ctx.params


@pytest.mark.parametrize("args", [
    ("run", "--preset", "quick", "saturation"),
    ("run", "saturation", "--preset", "quick"),
    ("run", "-j", "2", "saturation", "convergence", "--preset", "full"),
], ids=["options-first", "options-after-names", "names-between-options"])
def test_run_takes_options_before_and_after_experiment_names(args):
    params = parsed(*args)
    assert params["preset"] == args[args.index("--preset") + 1]
    assert list(params["experiments"]) == [a for a in args[1:] if a in ("saturation", "convergence")]


def test_run_parses_numbers_and_flags():
    params = parsed("run", "saturation", "--seeds", "3", "--epochs", "2", "--force", "--jobs", "2")
    assert (params["seeds"], params["epochs"], params["force"], params["jobs"]) == (3, 2, True, 2)


def test_the_version_flag_alone_prints_the_version_and_nothing_else_does(tmp_path):
    runner = CliRunner()
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("lossdb ")
    result = runner.invoke(app, ["run", "--preset", "quick", "saturation", "--seeds", "1", "--epochs", "1",
                                 "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 0, result.output
    assert not result.stdout.startswith("lossdb "), "the version callback ran for a plain `run`"
    assert "runs planned in" in result.output and "finished" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("run", "--presett", "quick"), "No such option"),
    (("runs", "--limit", "many"), "--limit"),
    (("compare", "--format"), "requires an argument"),
])
def test_a_bad_command_line_is_a_usage_error_not_a_traceback(args, message):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output

