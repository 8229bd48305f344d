"""One answer under every view: a verdict depends on the stored runs and the declared family only,
never on a filter or on an unrelated experiment (real runs through the real Typer app, real SQLite)."""

import json

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.judging.claims import CLAIMS

CATALOGUE_STAND_IN = """
[experiment]
name = "convergence"
description = "a tiny stand-in for the convergence experiment"
[data]
dataset = "iris"
[model]
hidden = [8]
[train]
lr = [0.1, 0.5]
batch_size = 16
epochs = 4
seeds = 4
[[arms]]
loss = "ce"
head = "softmax"
[[arms]]
loss = "mse"
head = "softmax"
"""

MINE = """
[experiment]
name = "mine"
description = "a user's own experiment, unrelated to the catalogue"
[data]
dataset = "wine"
[model]
hidden = [8]
[train]
lr = 0.3
batch_size = 16
epochs = 3
seeds = 3
[[arms]]
loss = "ce"
head = "softmax"
[[arms]]
loss = "mse"
head = "softmax"
[[arms]]
loss = "mae"
head = "softmax"
"""

pytestmark = pytest.mark.slow  # two real runs and a compare per claim: about 15 s on 2 busy cores

NUMBERS = ("verdict", "effect", "ci_low", "ci_high", "n", "alpha", "family", "family_size", "finding")


def _run(tmp_path, db, name: str, text: str) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["run", "--config", str(path), "--force", "--db", db])
    assert result.exit_code == 0, result.output


def _compare(db: str, *args: str) -> dict[str, dict]:
    result = CliRunner().invoke(app, ["compare", "--format", "json", *args, "--db", db])
    assert result.exit_code == 0, result.output
    return {r["claim"]: {k: r[k] for k in NUMBERS} for r in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def two_families(tmp_path_factory) -> tuple[str, dict[str, dict]]:
    """A store with a catalogue stand-in, judged before and after a user's unrelated experiment."""
    tmp = tmp_path_factory.mktemp("family")
    db = str(tmp / "runs.db")
    _run(tmp, db, "convergence", CATALOGUE_STAND_IN)
    before = _compare(db)
    _run(tmp, db, "mine", MINE)
    return db, before


def test_a_claim_reads_the_same_under_every_filter(two_families, monkeypatch):
    db, _ = two_families
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    everything = _compare(db)
    measured = {c: r for c, r in everything.items() if r["verdict"] != "not run"}
    assert len([c for c in measured if ":" not in c]) >= 2 and any(":" in c for c in measured)
    for claim, row in measured.items():
        assert _compare(db, "--claim", claim)[claim] == row, claim
    by_experiment = {**_compare(db, "-e", "convergence"), **_compare(db, "-e", "mine")}
    assert {c: by_experiment[c] for c in measured} == measured


def test_an_unrelated_experiment_changes_no_verdict(two_families):
    db, before = two_families
    after = _compare(db)
    assert {c: after[c] for c in before} == before
    mine = {c: r for c, r in after.items() if c.startswith("mine:")}
    assert mine and {r["family"] for r in mine.values()} == {"mine"}
    assert {r["family"] for c, r in after.items() if r["verdict"] != "not run" and c in CLAIMS} == {"catalogue"}
