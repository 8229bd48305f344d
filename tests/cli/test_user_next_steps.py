"""What lossdb suggests for a user's data: a "not run" row's command really adds the runs (or says the
file is gone), and `run --dataset` takes csv:PATH, a .csv path or a bundled set's name."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from lossdb.cli.main import app
from lossdb.cli.options import DATASET_HELP
from typer.testing import CliRunner

from tests.runner.test_fingerprint import TINY, grain


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def not_run_rows(db: str) -> list[dict]:
    return [r for r in json.loads(ok("compare", "--format", "json", "--db", db)) if r["verdict"] == "not run"]


def run_ids_of(db: Path, loss: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        ids = [i for (i,) in conn.execute("SELECT id FROM runs WHERE loss = ? ORDER BY id", (loss,))]
    conn.close()
    return ids


@pytest.fixture
def interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """exp/grain.toml run from tmp_path, then its mse arm's runs deleted (as if never trained)."""
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "grain.csv").write_text(grain())
    (tmp_path / "exp" / "grain.toml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    ok("run", "-c", "exp/grain.toml", "--db", "g.db")
    ok("delete", *map(str, run_ids_of(tmp_path / "g.db", "mse")), "--yes", "--db", "g.db")
    return tmp_path


def test_a_not_run_row_of_an_experiment_file_suggests_a_command_that_adds_its_runs(interrupted: Path):
    (row,) = not_run_rows("g.db")
    assert row["command"] == "lossdb run --config exp/grain.toml"
    assert "lossdb run grain-check" not in json.dumps(row)
    ok(*row["command"].split()[1:], "--db", "g.db")  # the suggestion, run as printed
    assert len(run_ids_of(interrupted / "g.db", "mse")) == 2
    assert not not_run_rows("g.db")


def test_a_not_run_row_whose_experiment_file_is_gone_says_so_in_one_sentence(interrupted: Path):
    (interrupted / "exp" / "grain.toml").rename(interrupted / "exp" / "renamed.toml")
    (row,) = not_run_rows("g.db")
    assert row["command"] is None
    wide = " ".join(ok("compare", "--wide", "--db", "g.db").replace("│", " ").split())
    assert ("Its experiment file exp/grain.toml is not there from this folder: restore it, or go to the folder it "
            "was given from, and run `lossdb run --config exp/grain.toml`.") in wide
    markdown = ok("compare", "--format", "markdown", "--db", "g.db")
    assert "exp/grain.toml is not there" in markdown and "Traceback" not in markdown


@pytest.mark.slow  # trains and judges twice
def test_a_not_run_row_on_your_data_suggests_the_run_on_that_data(tmp_path: Path, monkeypatch):
    (tmp_path / "grain.csv").write_text(grain())
    monkeypatch.chdir(tmp_path)
    ok("run", "--dataset", "grain.csv", "--target", "class", "calibration", "--seeds", "2", "--epochs", "2",
       "--db", "g.db")
    with sqlite3.connect(tmp_path / "g.db") as conn:
        ids = [str(i) for (i,) in conn.execute("SELECT id FROM runs")]
    conn.close()
    ok("delete", *ids, "--yes", "--db", "g.db")  # every run gone, the experiment's definition kept
    rows = not_run_rows("g.db")
    assert rows and {r["command"] for r in rows} == {"lossdb run calibration --dataset csv:grain.csv --target class"}
    ok(*rows[0]["command"].split()[1:], "--seeds", "2", "--epochs", "2", "--db", "g.db")  # as printed, kept small
    assert not not_run_rows("g.db")


@pytest.mark.parametrize("spelling", ["grain.csv", "./grain.csv", "csv:grain.csv"])
def test_run_dataset_takes_csv_path_or_the_path_of_a_csv_file(tmp_path: Path, monkeypatch, spelling: str):
    (tmp_path / "grain.csv").write_text(grain())
    monkeypatch.chdir(tmp_path)
    out = ok("run", "--dataset", spelling, "--target", "class", "calibration", "--seeds", "2", "--epochs", "2",
             "--db", "g.db")
    assert "Planned: calibration@grain (36 runs)." in out and "Next: lossdb compare --dataset grain" in out
    assert ok("compare", "--dataset", spelling, "--db", "g.db").startswith("Which loss for grain?")


@pytest.mark.slow
def test_run_dataset_takes_a_bundled_sets_name(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = ok("run", "--dataset", "iris", "calibration", "--seeds", "2", "--epochs", "2", "--db", "i.db")
    assert "Planned: calibration@iris (36 runs)." in out
    with sqlite3.connect(tmp_path / "i.db") as conn:
        assert {d for (d,) in conn.execute("SELECT DISTINCT dataset FROM runs")} == {"iris"}
    conn.close()
    card = ok("compare", "--dataset", "iris", "--db", "i.db")
    assert card.startswith("Which loss for iris?")
    assert "lossdb run calibration --dataset iris --until-decided" in " ".join(card.split())


@pytest.mark.parametrize(("spelling", "problem"), [
    ("grian", "'grian' is neither a CSV file nor a bundled dataset"),
    ("missing.csv", "'missing.csv': there is no such file from"),
    ("csv:", "'csv:' names no file"),
])
def test_run_dataset_refuses_an_unknown_spelling_in_one_sentence_listing_the_valid_ones(
        tmp_path: Path, monkeypatch, spelling: str, problem: str):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--dataset", spelling, "--db", "x.db")
    assert result.exit_code == 1 and problem in result.output
    assert "give csv:PATH, the path of an existing .csv file, or a bundled dataset (digits, breast_cancer, wine, " \
           "iris, diabetes)" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def test_a_bundled_set_refuses_a_target_column(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--dataset", "iris", "--target", "kind", "--db", "x.db")
    assert result.exit_code == 1 and "--target applies to a CSV file only" in result.output


@pytest.mark.parametrize("command", ["run", "compare", "runs", "report"])
def test_dataset_means_one_thing_in_every_commands_help(command: str):
    text = " ".join(ok(command, "--help").split())
    assert "-d, --dataset DATA" in text and " ".join(DATASET_HELP.split()) in text


@pytest.mark.slow  # renders two reports
def test_the_report_suggests_the_same_command_and_says_when_the_file_is_gone(interrupted: Path):
    ok("report", "--format", "md", "--out", "r.md", "--db", "g.db")
    assert "lossdb run --config exp/grain.toml" in (interrupted / "r.md").read_text()
    assert "lossdb run grain-check" not in (interrupted / "r.md").read_text()
    (interrupted / "exp" / "grain.toml").unlink()
    ok("report", "--format", "md", "--out", "r2.md", "--db", "g.db")  # the cached report, files checked again
    assert "exp/grain.toml is not there from this folder" in " ".join((interrupted / "r2.md").read_text().split())
