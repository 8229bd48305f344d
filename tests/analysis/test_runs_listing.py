"""`lossdb runs`, `lossdb show` and the progress of long commands, as a newcomer meets them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import click
import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app


def invoke(*args: str, env: dict[str, str] | None = None) -> click.testing.Result:
    """The real app in-process, at 80 columns."""
    return CliRunner().invoke(app, list(args), terminal_width=80, env={"COLUMNS": "80", **(env or {})})


@pytest.fixture
def grid_db(newcomer_db: Path) -> Path:
    """The saturation experiment and the tiny iris grid (conftest.newcomer_db)."""
    return newcomer_db


def grid_run(db: Path) -> str:
    """The id of the first run of the grid experiment (a classification run with reliability bins)."""
    rows = json.loads(invoke("runs", "--db", str(db), "-e", "grid", "-f", "json").stdout)
    return str(rows[0]["id"])


def table_rows(text: str) -> list[list[str]]:
    """The data rows of a printed table, split into cells (at two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip())
            for line in text.splitlines() if re.match(r"^\s*\d+\s", line)]


def test_runs_shows_the_grid_setting_that_tells_runs_apart(grid_db):
    result = invoke("runs", "--db", str(grid_db), "-e", "grid")
    assert result.exit_code == 0, result.output
    header = re.split(r"\s{2,}", next(line for line in result.stdout.splitlines() if "seed" in line).strip())
    assert "hidden" in header
    assert sorted(r[header.index("hidden")] for r in table_rows(result.stdout)) == ["4"] * 4 + ["8"] * 4


def test_runs_table_fits_80_columns_without_cutting_a_value(grid_db):
    result = invoke("runs", "--db", str(grid_db), "-e", "grid")
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80
    assert "…" not in result.stdout
    assert "mse/softmax" in result.stdout and "**ce** _not bold_ [x](y)" in result.stdout


def test_runs_says_which_columns_hold_one_value_for_every_run(grid_db):
    result = invoke("runs", "--db", str(grid_db), "-e", "grid")
    assert "all with experiment grid, dataset iris, lr 0.5, status finished" in result.stderr


def test_runs_csv_has_a_column_per_varying_setting(grid_db):
    result = invoke("runs", "--db", str(grid_db), "-e", "grid", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["hidden"] for r in rows) == ["4"] * 4 + ["8"] * 4


def test_runs_sort_descending_and_limit_keep_the_best_runs(grid_db):
    every = json.loads(invoke("runs", "--db", str(grid_db), "-e", "grid", "-f", "json").stdout)
    best = sorted(every, key=lambda r: -r["metrics"]["test_accuracy"])[:2]
    result = invoke("runs", "--db", str(grid_db), "-e", "grid", "-f", "json", "--sort", "-test_accuracy", "--limit", "2")
    assert [r["id"] for r in json.loads(result.stdout)] == [r["id"] for r in best]


def test_runs_columns_prints_exactly_the_chosen_columns(grid_db):
    result = invoke("runs", "--db", str(grid_db), "--columns", "id,hidden,test_accuracy", "-f", "csv")
    assert result.stdout.splitlines()[0] == "id,hidden,test_accuracy"


@pytest.mark.parametrize(("args", "names"), [
    (("--experiment", "nope"), ("'nope'", "grid")),
    (("--sort", "colour"), ("'colour'", "test_accuracy")),
    (("--columns", "id,colour"), ("'colour'", "hidden")),
], ids=["experiment", "sort", "columns"])
def test_runs_refuses_an_unknown_name_in_one_sentence_naming_the_valid_ones(grid_db, args, names):
    before = hashlib.sha256(grid_db.read_bytes()).hexdigest()
    result = invoke("runs", "--db", str(grid_db), *args)
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and result.output.count("\n") == 1
    assert all(n in result.output for n in names)
    assert hashlib.sha256(grid_db.read_bytes()).hexdigest() == before


def test_show_rounds_numbers_and_lists_no_reliability_bins(grid_db):
    result = invoke("show", grid_run(grid_db), "--db", str(grid_db))
    assert result.exit_code == 0, result.output
    assert "null" not in result.stdout
    digits = [len(n.replace(".", "").lstrip("0")) for n in re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", result.stdout)]
    assert digits and max(digits) <= 4, result.stdout
    assert re.search(r"training time\s+[\d.e-]+ s, its share of the stack", result.stdout)
    assert "15 confidence bins" in result.stdout


def test_show_fits_80_columns(grid_db):
    result = invoke("show", grid_run(grid_db), "--db", str(grid_db))
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80


def test_show_json_keeps_the_reliability_bins(grid_db):
    data = json.loads(invoke("show", grid_run(grid_db), "--db", str(grid_db), "-f", "json").stdout)
    assert len(data["extras"]["reliability"]["count"]) == 15


def test_export_piped_prints_only_its_result(grid_db, tmp_path):
    result = invoke("export", "--db", str(grid_db), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("wrote 16 runs")


def test_export_on_a_terminal_shows_what_it_is_doing(grid_db, tmp_path):
    result = invoke("export", "--db", str(grid_db), "--out", str(tmp_path), env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 0, result.output
    assert "exporting runs and metrics" in result.stderr


def test_report_piped_prints_only_the_path(grid_db, tmp_path):
    result = invoke("report", "--db", str(grid_db), "-e", "grid", "-f", "json", "-o", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.strip() == str(tmp_path / "r.json")


def test_report_on_a_terminal_names_its_steps(grid_db, tmp_path):
    result = invoke("report", "--db", str(grid_db), "-e", "grid", "-f", "json", "-o", str(tmp_path / "r.json"),
                    env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 0, result.output
    assert "computing the verdicts" in result.stderr
    assert result.stdout.strip() == str(tmp_path / "r.json")
