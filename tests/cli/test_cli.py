"""The real Typer app through CliRunner, against real SQLite files."""

import json

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.store import open_store
from tests.conftest import tiny_toml

SMALL = tiny_toml("iris-small")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "runs.db"


def test_run_with_a_config_file_stores_every_run_with_its_metrics(runner, config_file, db_path):
    result = runner.invoke(app, ["run", "--config", str(config_file), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "8 finished" in result.output
    store = open_store(str(db_path), create=False)
    runs = store.list_runs(experiment="iris-small")
    assert len(runs) == 8 and {r.status for r in runs} == {"finished"}
    assert {(r.loss, r.head, r.lr, r.seed) for r in runs} == {
        (loss, head, lr, s) for loss, head in (("ce", "softmax"), ("mse", "linear")) for lr in (0.1, 0.5) for s in (0, 1)}
    frame = store.metrics_frame([runs[0].id])
    acc = frame[frame.name == "test_accuracy"].sort_values("epoch")
    assert acc.epoch.tolist() == [0, 1, 2, 3]
    assert runs[0].summary["test_accuracy"] == acc.value.iloc[-1]


def test_a_second_run_skips_what_is_stored_and_force_redoes_it(runner, config_file, db_path):
    args = ["run", "--config", str(config_file), "--db", str(db_path)]
    runner.invoke(app, args)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "0 finished" in again.output and "8 skipped" in again.output
    forced = runner.invoke(app, [*args, "--force"])
    assert "8 finished" in forced.output
    assert len(open_store(str(db_path)).list_runs()) == 8


def test_the_same_command_twice_stores_identical_metrics(runner, config_file, tmp_path):
    frames = []
    for name in ("a.db", "b.db"):
        runner.invoke(app, ["run", "--config", str(config_file), "--db", str(tmp_path / name)])
        store = open_store(str(tmp_path / name))
        ids = [r.id for r in store.list_runs()]
        f = store.metrics_frame(ids)
        frames.append(f[f.name != "wall_time"].sort_values(["run_id", "name", "epoch"]).reset_index(drop=True))
    assert frames[0].equals(frames[1])


def test_runs_as_json_lists_the_fields_scripts_rely_on(runner, config_file, db_path):
    runner.invoke(app, ["run", "--config", str(config_file), "--db", str(db_path)])
    result = runner.invoke(app, ["runs", "--db", str(db_path), "--format", "json", "--loss", "ce"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4
    for row in rows:
        assert {"id", "experiment", "dataset", "loss", "head", "lr", "seed", "status", "config", "metrics"} <= row.keys()
        assert row["config"]["model"]["hidden"] == [8] and row["config"]["seed"] == row["seed"]
        assert 0 <= row["metrics"]["test_accuracy"] <= 1


def test_an_unknown_experiment_is_one_sentence_and_exit_1(runner, db_path):
    result = runner.invoke(app, ["run", "nope", "--db", str(db_path)])
    assert result.exit_code == 1
    assert "Error: unknown experiment 'nope'; valid:" in result.output
    assert "Traceback" not in result.output
    assert not db_path.exists()


def test_experiments_lists_the_catalogue_with_its_claims(runner):
    result = runner.invoke(app, ["experiments"])
    assert result.exit_code == 0, result.output
    assert "convergence" in result.output


def test_version_prints_the_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and "lossdb 0.1.0" in result.output
