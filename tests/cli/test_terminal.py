"""The CLI at the reader's terminal width: tables that fit, the newest runs first, names as shown,
case-insensitive choices with "did you mean", plurals, and one vocabulary of --format names."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.store import open_store
from tests.store.test_store import make_run


def invoke(*args: str, columns: int | None = 80) -> click.testing.Result:
    """The real app in-process; `columns` stands for the terminal's width ($COLUMNS), None for a pipe."""
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": ""}
    return CliRunner().invoke(app, list(args), env=env)


def widest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


@pytest.fixture(scope="module")
def many_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding 60 finished runs (seeds 0–59) of one experiment."""
    db = tmp_path_factory.mktemp("many") / "many.db"
    with open_store(str(db)) as store:
        store.upsert_experiment("exp", "", {})
        store.save_runs([make_run(seed=i) for i in range(60)])
    return db


def test_runs_shows_the_newest_50_and_says_how_many_more(many_runs):
    result = invoke("runs", "--db", str(many_runs))
    assert result.exit_code == 0, result.output
    ids = [int(line.split()[0]) for line in result.stdout.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert ids == list(range(11, 61))  # the 60 runs were stored with ids 1–60
    assert "50 runs; … 10 more (--limit 0 for all)" in result.stderr
    assert result.stdout.splitlines()[0].strip(), "no line of spaces above the table"


def test_runs_limit_0_lists_every_run_and_json_is_never_cut(many_runs):
    every = invoke("runs", "--db", str(many_runs), "--limit", "0")
    assert "60 runs" in every.stderr and "more" not in every.stderr
    assert len(json.loads(invoke("runs", "--db", str(many_runs), "-f", "json").stdout)) == 60


def test_one_run_is_one_run_not_1_runs(many_runs):
    result = invoke("runs", "--db", str(many_runs), "--limit", "1")
    assert result.stderr.startswith("1 run;") and "1 runs" not in result.stderr


@pytest.mark.parametrize("name", ["test acc", "Test Acc", "test_acc", "test_accuracy", "TEST_ACCURACY"])
def test_runs_sorts_by_a_column_as_shown_or_as_stored(many_runs, name):
    result = invoke("runs", "--db", str(many_runs), "--sort", f"-{name}", "--limit", "3", "-f", "csv")
    assert result.exit_code == 0, result.output


def test_a_near_miss_is_answered_with_did_you_mean(many_runs):
    result = invoke("runs", "--db", str(many_runs), "--sort", "test_acurracy")
    assert result.exit_code == 1 and "did you mean test_accuracy" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


@pytest.mark.parametrize(("option", "value"), [("--loss", "CE"), ("--status", "Finished")])
def test_choices_are_matched_without_regard_to_case(many_runs, option, value):
    result = invoke("runs", "--db", str(many_runs), option, value, "-f", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 60


def test_a_wrong_loss_suggests_the_nearest(many_runs):
    result = invoke("runs", "--db", str(many_runs), "--loss", "cee")
    assert result.exit_code == 1 and "did you mean ce" in result.output


def test_a_sqlite_database_is_named_by_its_path(many_runs):
    result = invoke("runs", "--db", f"sqlite:///{many_runs}", "-e", "nope")
    assert result.exit_code == 1 and f"in {many_runs};" in result.output and "sqlite:" not in result.output


@pytest.mark.parametrize(("command", "alias", "canonical_check"), [
    (["compare"], "md", lambda out: out.startswith("| claim |")),
    (["compare"], "MARKDOWN", lambda out: out.startswith("| claim |")),
    (["runs"], "JSONL", lambda out: all(json.loads(line)["id"] for line in out.splitlines())),
    (["show", "1"], "text", lambda out: out.startswith("run 1 ")),
    (["show", "1"], "table", lambda out: out.startswith("run 1 ")),
])
def test_every_command_takes_the_same_format_names_and_aliases(many_runs, command, alias, canonical_check):
    result = invoke(*command, "--format", alias, "--db", str(many_runs), columns=None)
    assert result.exit_code == 0, result.output
    assert canonical_check(result.stdout)


@pytest.mark.parametrize("command", [["compare"], ["runs"], ["show", "1"], ["report"], ["export", "-o", "x"]])
def test_an_unknown_format_is_one_sentence_listing_the_commands_formats(many_runs, command):
    result = invoke(*command, "--format", "docx", "--db", str(many_runs))
    assert result.exit_code == 1 and result.output.startswith("Error: unknown format 'docx'; valid: ")
    assert result.output.count("\n") == 1


def test_report_accepts_markdown_as_well_as_md(newcomer_db, tmp_path):
    result = invoke("report", "--format", "markdown", "--out", str(tmp_path / "r"), "--db", str(newcomer_db))
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == tmp_path / "r.md" and (tmp_path / "r.md").is_file()


@pytest.mark.parametrize("columns", [80, 120])
def test_experiments_keeps_every_name_whole_at_the_terminals_width(columns, tmp_path, monkeypatch):
    from lossdb.core.experiments import spec

    monkeypatch.chdir(tmp_path)  # no lossdb.db here: the catalogue only
    result = invoke("experiments", columns=columns)
    assert result.exit_code == 0, result.output
    assert widest(result.stdout) <= columns
    words = set(result.stdout.split())
    assert all(name in words for name in spec.catalogue())
    assert all(claim in words for e in spec.catalogue().values() for claim in e.claims)
