"""The one presenter: the same verdict reads the same in compare (terminal, Markdown, CSV, JSON), the
dashboard and every report format."""

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from lossdb.core import ENGINE_VERSION
from lossdb.cli.main import app
from lossdb.core.experiments.arms import default_label
from lossdb.core.experiments.spec import arm_hash
from lossdb.core.judging.outcomes import Verdict
from lossdb.core.present.cells import SUMMARY_COLUMNS, effect_ci, summary_row
from lossdb.core.store import NewRun, open_store
from lossdb.core.judging.headlines import summary
from lossdb.core.judging.verdicts import evaluate

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def _verdict(**changes) -> Verdict:
    base = dict(claim="c", sentence="s", experiment="e", condition="dataset=x", metric="final test accuracy",
                arms=("ce/softmax", "mse/softmax"), values={"ce/softmax": 0.9, "mse/softmax": 0.8},
                verdict="supported", effect=0.1, ci_low=0.05, ci_high=0.15, n=10, command=None,
                headline=True, scale=100.0, unit=" points")
    return Verdict(**{**base, **changes})


def test_a_difference_in_points_is_signed_with_its_interval():
    assert effect_ci(_verdict()) == "+10.0 points [5.0, 15.0]"


def test_a_ratio_is_written_with_a_times_sign():
    v = _verdict(ratio=True, effect=2.73, ci_low=2.31, ci_high=3.23, scale=1.0, unit="")
    assert effect_ci(v) == "2.73× [2.31, 3.23]"


def test_a_deterministic_comparison_has_no_interval():
    v = _verdict(ratio=True, effect=28.3, ci_low=None, ci_high=None, n=1, deterministic=True, scale=1.0, unit="")
    assert effect_ci(v) == "28.3× (deterministic)"


def test_a_missing_effect_is_a_dash_never_nan():
    assert effect_ci(_verdict(effect=None, ci_low=None, ci_high=None, verdict="not run")) == "—"
    assert effect_ci(_verdict(effect=float("nan"))) == "—"


def test_a_summary_row_has_every_column():
    assert tuple(summary_row(_verdict())) == SUMMARY_COLUMNS


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """ce/sigmoid beats mse/sigmoid on breast_cancer by ten points over ten paired seeds."""
    path = tmp_path_factory.mktemp("present") / "p.db"
    rng = np.random.default_rng(0)
    runs, now = [], datetime.now(UTC)
    for seed in range(10):
        base = 0.8 + rng.normal(0, 0.02)
        for loss, acc in (("ce", base + 0.1 + rng.normal(0, 0.02)), ("mse", base + rng.normal(0, 0.02))):
            arm = {"loss": loss, "head": "sigmoid"}
            cfg = {"experiment": "binary", "data": {"dataset": "breast_cancer"}, "model": {"hidden": [8]},
                   "train": {"lr": 0.1, "epochs": 2}, **arm, "label": default_label(arm)}
            curve = np.array([0.5, (0.5 + acc) / 2, acc])
            runs.append(NewRun("binary", arm_hash(cfg), seed, ENGINE_VERSION, {**cfg, "seed": seed}, loss, "sigmoid",
                               "breast_cancer", 0.1, "finished", None, None, 2, now, now, 0.1, "0", "1", "3",
                               None, {"test_accuracy": curve, "val_accuracy": curve, "train_loss": 1 - curve}))
    store = open_store(str(path))
    store.upsert_experiment("binary", "", {})
    store.save_runs(runs)
    store.close()
    return path


@pytest.fixture(scope="module")
def headline(db) -> str:
    with open_store(str(db), create=False, read_only=True) as store:
        row = next(v for v in summary(evaluate(store)) if v.claim == "classification-accuracy")
    assert row.verdict == "supported"
    return effect_ci(row)


@pytest.mark.parametrize("args", [["compare"], ["compare", "--format", "markdown"], ["compare", "--format", "csv"]])
def test_compare_shows_the_presenters_effect_string(db, headline, args):
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert headline in result.output


def test_compare_json_carries_the_same_effect_string(db, headline):
    result = CliRunner().invoke(app, ["compare", "--format", "json", "--db", str(db)])
    rows = json.loads(result.output)
    assert next(r for r in rows if r["claim"] == "classification-accuracy")["effect_text"] == headline


def test_the_dashboard_summary_shows_the_same_effect_string(db, headline, monkeypatch):
    monkeypatch.setenv("LOSSDB_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert headline in list(table["effect [CI]"])


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["html", "md", "json", "pdf"])
def test_every_report_format_shows_the_same_effect_string(db, headline, tmp_path, fmt):
    if fmt == "pdf" and not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = tmp_path / f"r.{fmt}"
    result = CliRunner().invoke(app, ["report", "--format", fmt, "--out", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    if fmt == "pdf":
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
        text = " ".join(text.split())
    else:
        text = out.read_text(encoding="utf-8")
    assert headline in (text if fmt != "json" else json.loads(text)["summary"][2]["effect_text"])


def test_a_ratio_says_it_is_a_geometric_mean_of_per_seed_ratios():
    from lossdb.core.present.cells import as_json
    from lossdb.core.present.findings import finding

    v = _verdict(ratio=True, effect=2.0, ci_low=1.5, ci_high=2.7, method="paired t on log ratios", scale=1.0,
                 unit="", min_effect=1.1)
    assert "(10 seeds, geometric mean of per-seed ratios" in finding(v)
    assert as_json(v)["estimand"] == "geometric mean of per-seed ratios"
    assert as_json(_verdict(method="paired t"))["estimand"] == "mean of per-seed differences"


@pytest.mark.parametrize(("spending", "named"), [("pocock", "Pocock"), ("obrien-fleming", "O'Brien–Fleming")])
def test_a_sequential_finding_names_the_spending_its_design_used(spending, named):
    from lossdb.core.judging.outcomes import Look
    from lossdb.core.present.findings import finding

    looks = (Look(10, 0.004, -1.2, 0.6, "inconclusive", spending), Look(20, 0.004, -0.6, 0.4, "equivalent", spending))
    text = finding(_verdict(looks=looks, verdict="equivalent"))
    assert f"judged group-sequentially ({named} spending) at 2 looks" in text
