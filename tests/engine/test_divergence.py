"""Divergence is its own outcome: a real `lossdb run` stores no metric computed from non-finite outputs."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.store import open_store

# Two runs on iris: mse/linear at rate 10⁴ overflows during training, ce/softmax at 0.5 finishes.
# (A start already non-finite, init_scale 1e39, is refused by validation: init_scale ≤ 100.)
DIVERGING = """
[experiment]
name = "diverging"
[data]
dataset = "iris"
[model]
hidden = [8]
activation = "tanh"
[train]
batch_size = 16
epochs = 10
seeds = 1
[[arms]]
loss = "mse"
head = "linear"
lr = 10000.0
[[arms]]
loss = "ce"
head = "softmax"
lr = 0.5
"""


@pytest.fixture(scope="module")
def diverged_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database holding the two runs of DIVERGING (trained once for the module)."""
    tmp_path = tmp_path_factory.mktemp("diverging")
    (tmp_path / "diverging.toml").write_text(DIVERGING)
    url = f"sqlite:///{tmp_path / 'lossdb.db'}"
    result = CliRunner().invoke(app, ["run", "--config", str(tmp_path / "diverging.toml"), "--db", url])
    assert result.exit_code == 0, result.output
    return url


def _stored(url: str):
    """Every run of the database with its long-format metrics."""
    with open_store(url) as store:
        runs = store.list_runs(experiment="diverging")
        return runs, store.metrics_frame([r.id for r in runs])


def test_a_run_that_overflows_in_training_stores_no_metric_at_its_non_finite_epoch(diverged_db):
    runs, metrics = _stored(diverged_db)
    run = next(r for r in runs if r.loss == "mse")
    assert run.status == "diverged" and run.diverged_epoch >= 1
    mine = metrics[metrics.run_id == run.id]
    assert mine.epoch.max() == run.diverged_epoch - 1 == run.epochs
    accuracy = mine[mine.name == "test_accuracy"]
    assert list(accuracy.epoch) == list(range(run.diverged_epoch))
    assert np.isfinite(mine.value).all()


def test_a_diverged_runs_final_values_are_those_of_its_last_finite_epoch(diverged_db):
    runs, metrics = _stored(diverged_db)
    run = next(r for r in runs if r.loss == "mse")
    last = metrics[(metrics.run_id == run.id) & (metrics.epoch == run.diverged_epoch - 1)]
    assert set(run.summary) == set(last.name)
    for name, value in zip(last.name, last.value, strict=True):
        assert run.summary[name] == value, name


def test_a_diverging_run_leaves_its_stack_mates_finished(diverged_db):
    runs, metrics = _stored(diverged_db)
    good = next(r for r in runs if r.loss == "ce" and r.config["model"]["init_scale"] == 1.0)
    assert good.status == "finished" and good.diverged_epoch is None and good.epochs == 10
    assert metrics[(metrics.run_id == good.id) & (metrics.name == "test_accuracy")].epoch.max() == 10
