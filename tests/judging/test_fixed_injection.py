"""A corruption lossdb injects is named in every finding and card line, whether it varies between an
experiment's runs (its condition) or is fixed for all of them (its spec)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lossdb.cli.main import app
from lossdb.core.judging.injected import fixed_corruptions
from typer.testing import CliRunner

PHRASE = "of the training targets replaced by gross outliers (injected by lossdb)"
EXPERIMENT = """[experiment]
name = "{name}"
[data]
dataset = "csv:yield.csv"
target = "y"
outliers = {outliers}
[train]
lr = 0.05
epochs = 2
seeds = 2
[[arms]]
loss = "mse"
head = "linear"
[[arms]]
loss = "mae"
head = "linear"
"""


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def yield_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """yield.csv (a regression target y) and two experiment files on it: outliers fixed at 0.2 for
    every run, and outliers varied over 0 and 0.2; both run (2 seeds, 2 epochs) into y.db."""
    folder = tmp_path_factory.mktemp("yield")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2))
    y = x @ [1.5, -0.5] + rng.normal(scale=0.3, size=40)
    rows = ["a,b,y"] + [f"{p:.4f},{q:.4f},{t:.4f}" for (p, q), t in zip(x, y, strict=True)]
    (folder / "yield.csv").write_text("\n".join(rows) + "\n")
    (folder / "fixed.toml").write_text(EXPERIMENT.format(name="fixed-outliers", outliers="0.2"))
    (folder / "varied.toml").write_text(EXPERIMENT.format(name="varied-outliers", outliers="[0.0, 0.2]"))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        invoke("run", "-c", "fixed.toml", "-c", "varied.toml", "--db", "y.db")
    return folder


def findings(folder: Path, experiment: str) -> list[dict]:
    out = invoke("compare", "-e", experiment, "--all-conditions", "--format", "json", "--db", str(folder / "y.db"))
    return [r for r in json.loads(out) if r["experiment"] == experiment]


def test_a_corruption_fixed_for_the_whole_file_is_named_in_every_finding(yield_folder: Path):
    rows = findings(yield_folder, "fixed-outliers")
    assert rows and all("outliers" not in r["condition"] for r in rows)  # not a condition: fixed
    assert all(f"20% {PHRASE}" in r["finding"] for r in rows), [r["finding"] for r in rows]


def test_a_varied_corruption_is_named_where_it_was_injected_only(yield_folder: Path):
    rows = findings(yield_folder, "varied-outliers")
    corrupted = [r for r in rows if r["condition_keys"].get("outliers") == 0.2]
    clean = [r for r in rows if r["condition_keys"].get("outliers") == 0.0]
    assert corrupted and clean
    assert all(f"20% {PHRASE}" in r["finding"] for r in corrupted)
    assert not any(PHRASE in r["finding"] for r in clean)


def test_the_terminal_table_names_a_fixed_corruption_too(yield_folder: Path):
    out = " ".join(invoke("compare", "-e", "fixed-outliers", "--format", "markdown", "--db",
                          str(yield_folder / "y.db")).split())
    assert f"20% {PHRASE}" in out


def test_a_card_names_the_corruption_a_catalogue_experiment_fixes(yield_folder: Path, monkeypatch):
    # huber-delta's [data] sets outliers = 0.1 for every run: no condition says so
    monkeypatch.chdir(yield_folder)
    invoke("run", "--dataset", "csv:yield.csv", "--target", "y", "huber-delta", "--seeds", "2", "--epochs", "2",
           "--db", "card.db")
    out = invoke("compare", "--dataset", "yield", "--db", "card.db")
    card = out.split("\n\n")[1]  # the answers
    assert card.strip() and all(f"10% {PHRASE}" in " ".join(line.split())
                                for line in " ".join(card.split()).split("Robustness to outliers:")[1:])
    assert f"10% {PHRASE}" in " ".join(card.split())


def test_fixed_corruptions_come_from_one_value_in_the_data_tables_only():
    spec = {"data": {"outliers": 0.2, "label_noise": [0.0, 0.4]}, "presets": {"quick": {"data": {"imbalance": 10}}}}
    assert fixed_corruptions([{"name": "e", "spec": spec}]) == {"e": (("outliers", 0.2), ("imbalance", 10.0))}
    clash = {"data": {"outliers": 0.2}, "presets": {"quick": {"data": {"outliers": 0.0}}}}
    assert fixed_corruptions([{"name": "e", "spec": clash}]) == {}  # which preset ran is not known
    assert fixed_corruptions([{"name": "e", "spec": {"data": {"outliers": 0.0}}}]) == {}
