"""Arms at their own fixed rates: two labelled arms of one loss at different rates are compared by seed."""

from __future__ import annotations

import json
from pathlib import Path

from lossdb.cli.main import app
from typer.testing import CliRunner

RATES = """[experiment]
name = "resolution-check"
[data]
dataset = "iris"
[train]
epochs = 2
seeds = 3
[[arms]]
loss = "ce"
head = "softmax"
lr = 0.5
label = "fast"
[[arms]]
loss = "ce"
head = "softmax"
lr = 0.15
label = "slow"
[[arms]]
loss = "mse"
head = "softmax"
lr = 1.0
[[comparisons]]
favoured = "fast"
other = "slow"
"""


def test_arms_of_one_loss_at_their_own_rates_are_paired_by_seed_and_say_so(tmp_path: Path):
    (tmp_path / "rates.toml").write_text(RATES)
    db = str(tmp_path / "r.db")
    result = CliRunner().invoke(app, ["run", "-c", str(tmp_path / "rates.toml"), "--db", db])
    assert result.exit_code == 0, result.output
    out = CliRunner().invoke(app, ["compare", "-e", "resolution-check", "--format", "json", "--db", db]).output
    rows = {r["claim"]: r for r in json.loads(out)}
    fast = rows["resolution-check:fast-vs-slow"]
    assert fast["verdict"] != "not run" and fast["n"] == 3 and fast["arms"] == ["fast", "slow"]
    assert fast["arm_lr"] == {"fast": 0.5, "slow": 0.15} and fast["lr"] == "fixed (0.5 vs 0.15)"
    assert "fast at 0.5 vs slow at 0.15" in fast["finding"]
    mse = rows["resolution-check:mse/softmax-vs-fast"]  # in no comparison: the default against the first
    assert mse["verdict"] != "not run" and mse["n"] == 3 and mse["arm_lr"] == {"mse/softmax": 1.0, "fast": 0.5}
