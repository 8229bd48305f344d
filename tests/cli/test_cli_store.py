"""`lossdb show`, `export`, `delete`, `db upgrade|current`, `runs` filters and every command's help."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import shutil
import tracemalloc
from pathlib import Path

import click
import numpy as np
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.store import NewRun, export, head_revision, open_store
from tests.conftest import tiny_toml
from tests.store.test_store import make_run

SAVED_0001 = Path(__file__).resolve().parents[1] / "data" / "schema_0001.db"
TINY = tiny_toml("tiny", description="two arms, a diverging learning rate", hidden="[4]", lr="[0.5, 1e6]",
                 batch_size=32)


def sha256(path: Path) -> str:
    """The checksum of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(*args: str, input: str | None = None) -> click.testing.Result:
    """Run the real app in-process."""
    return CliRunner().invoke(app, list(args), input=input)


@pytest.fixture
def stored_db(tmp_path: Path) -> Path:
    """A SQLite database holding the 8 runs of a tiny experiment (2 diverged, with NaN metrics)."""
    config, db = tmp_path / "tiny.toml", tmp_path / "stored.db"
    config.write_text(TINY)
    result = invoke("run", "--config", str(config), "--db", str(db))
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    """A copy of the saved schema-0001 database."""
    target = tmp_path / "old.db"
    shutil.copyfile(SAVED_0001, target)
    return target


def long_run(seed: int, epochs: int, n_metrics: int) -> NewRun:
    """A stored-shape run with `n_metrics` series of `epochs` + 1 values."""
    values = np.linspace(0.0, 1.0, epochs + 1)
    return dataclasses.replace(
        make_run(seed=seed), epochs=epochs, metrics={f"m{i:02d}": values + i for i in range(n_metrics)}
    )


def runs_json(db: Path, *filters: str) -> list[dict]:
    """`lossdb runs --format json` parsed."""
    result = invoke("runs", "--db", str(db), "--format", "json", *filters)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_show_prints_config_status_final_metrics_and_provenance(stored_db: Path) -> None:
    result = invoke("show", "1", "--db", str(stored_db))
    assert result.exit_code == 0, result.output
    for text in ("run 1", "finished", "test_accuracy", "numpy version", "settings", "hidden"):
        assert text in result.stdout


def test_show_as_json_is_the_runs_json_shape(stored_db: Path) -> None:
    result = invoke("show", "2", "--db", str(stored_db), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == runs_json(stored_db)[1]


def test_show_of_an_unknown_run_names_it(stored_db: Path) -> None:
    result = invoke("show", "99", "--db", str(stored_db))
    assert result.exit_code == 1
    assert "Error: no run with id 99 in" in result.output


@pytest.mark.parametrize("status", ["finished", "diverged"])
def test_runs_filter_by_status(stored_db: Path, status: str) -> None:
    rows = runs_json(stored_db, "--status", status)
    assert len(rows) == (6 if status == "finished" else 2)
    assert {r["status"] for r in rows} == {status}


def test_runs_refuses_an_unknown_status_listing_the_valid_ones(stored_db: Path) -> None:
    result = invoke("runs", "--db", str(stored_db), "--status", "done")
    assert result.exit_code == 1
    assert "Error: unknown status 'done'; valid: running, finished, diverged, failed, interrupted" in result.output


def test_export_csv_writes_one_row_per_run_and_per_metric_value(stored_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = invoke("export", "--format", "csv", "--out", str(out), "--db", str(stored_db))
    assert result.exit_code == 0, result.output
    with (out / "runs.csv").open() as fh:
        runs = list(csv.DictReader(fh))
    with (out / "metrics.csv").open() as fh:
        metrics = list(csv.DictReader(fh))
    expected = runs_json(stored_db)
    assert [int(r["id"]) for r in runs] == [r["id"] for r in expected]
    assert [json.loads(r["config"]) for r in runs] == [r["config"] for r in expected]
    with open_store(str(stored_db), create=False, read_only=True) as store:
        frame = store.metrics_frame([r["id"] for r in expected])
    assert len(metrics) == len(frame) and f"{len(frame)} metric rows" in result.stdout
    values = np.array([float(m["value"]) for m in metrics])
    assert np.array_equal(values, frame.value.to_numpy(), equal_nan=True)
    assert np.isnan(values).any()


def test_export_jsonl_runs_equal_runs_as_json(stored_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = invoke("export", "--format", "jsonl", "--out", str(out), "--db", str(stored_db))
    assert result.exit_code == 0, result.output
    lines = (out / "runs.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == runs_json(stored_db)
    first = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    assert set(first) == {"run_id", "name", "epoch", "value"}


def test_export_refuses_an_unknown_format(stored_db: Path, tmp_path: Path) -> None:
    result = invoke("export", "--format", "xlsx", "--out", str(tmp_path / "x"), "--db", str(stored_db))
    assert result.exit_code == 1
    assert "Error: unknown format 'xlsx'; valid: csv or jsonl" in result.output
    assert not (tmp_path / "x").exists()


def export_peak(tmp_path: Path, n_runs: int) -> tuple[int, int]:
    """(metric rows, peak traced bytes) of exporting a new database of `n_runs` × 12 × 201 values."""
    db = tmp_path / f"{n_runs}.db"
    with open_store(str(db)) as store:
        store.upsert_experiment("exp", "", {})
        store.save_runs([long_run(i, epochs=200, n_metrics=12) for i in range(n_runs)])
        tracemalloc.start()
        try:
            result = export(store, tmp_path / f"out-{n_runs}", "csv")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return result.metric_rows, peak


@pytest.mark.slow
def test_export_memory_stays_flat_however_many_metric_rows(tmp_path: Path) -> None:
    small_rows, small_peak = export_peak(tmp_path, 20)
    large_rows, large_peak = export_peak(tmp_path, 80)
    assert (small_rows, large_rows) == (20 * 12 * 201, 80 * 12 * 201)
    # Four times the rows, about the same peak: only a page of rows is held at a time.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_delete_runs_asks_first_and_deletes_on_yes(stored_db: Path) -> None:
    result = invoke("delete", "1", "2", "--db", str(stored_db), input="y\n")
    assert result.exit_code == 0, result.output
    assert "Delete 2 runs from" in result.output and "deleted 2 runs" in result.stdout
    assert [r["id"] for r in runs_json(stored_db)] == [3, 4, 5, 6, 7, 8]


def test_delete_answered_no_changes_nothing(stored_db: Path) -> None:
    before = sha256(stored_db)
    result = invoke("delete", "1", "--db", str(stored_db), input="n\n")
    assert result.exit_code == 1
    assert sha256(stored_db) == before


def test_delete_of_an_unknown_run_names_it_and_deletes_nothing(stored_db: Path) -> None:
    result = invoke("delete", "1", "42", "--yes", "--db", str(stored_db))
    assert result.exit_code == 1
    assert "Error: no run with id 42 in" in result.output
    assert len(runs_json(stored_db)) == 8


def test_delete_an_experiment_with_yes_removes_all_its_runs(stored_db: Path) -> None:
    result = invoke("delete", "--experiment", "tiny", "--yes", "--db", str(stored_db))
    assert result.exit_code == 0, result.output
    assert runs_json(stored_db) == []


def test_delete_needs_runs_or_an_experiment(stored_db: Path) -> None:
    result = invoke("delete", "--db", str(stored_db))
    assert result.exit_code == 1
    assert "Error: name the runs to delete" in result.output


def test_opening_an_old_schema_from_the_cli_names_the_upgrade_command(old_db: Path) -> None:
    before = sha256(old_db)
    result = invoke("runs", "--db", str(old_db))
    assert result.exit_code == 1
    assert f"run `lossdb db upgrade --db {old_db}`" in result.output
    assert sha256(old_db) == before


def test_db_upgrade_backs_up_then_upgrades_and_db_current_reports_it(old_db: Path) -> None:
    assert invoke("db", "current", "--db", str(old_db)).stdout.startswith("0001 (this lossdb needs")
    result = invoke("db", "upgrade", "--db", str(old_db))
    assert result.exit_code == 0, result.output
    assert f"upgraded from schema 0001 to {head_revision()}; backup: {old_db}.bak-" in result.stdout
    assert invoke("db", "current", "--db", str(old_db)).stdout == f"{head_revision()} (up to date)\n"
    assert len(runs_json(old_db)) == 8


def test_db_upgrade_of_a_current_database_says_nothing_to_do(stored_db: Path) -> None:
    result = invoke("db", "upgrade", "--db", str(stored_db))
    assert result.exit_code == 0, result.output
    assert "nothing to do" in result.stdout


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the app, groups included."""
    out = [prefix] if prefix else []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out += _commands(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


@pytest.mark.parametrize("path", _commands(get_command(app)), ids=" ".join)  # type: ignore[arg-type]
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
