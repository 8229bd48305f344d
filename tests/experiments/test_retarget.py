"""The user's own data: experiment files with a CSV elsewhere, and the catalogue's claims on a CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.experiments import spec as ex
from lossdb.core.experiments import retarget as rt
from lossdb.core.experiments.comparisons import comparisons_of
from lossdb.core.data.prepare import prepare
from lossdb.core.store import open_store

USER_FILE = """[experiment]
name = "mine"
[data]
dataset = "csv:../data/flowers.csv"
target = "kind"
[train]
epochs = 2
seeds = 2
[[arms]]
loss = "ce"
head = "softmax"
[[arms]]
loss = "focal"
head = "softmax"
label = "focal"

[[comparisons]]
claim = "Focal loss gives better balanced accuracy than CE on my data"
favoured = "focal"
other = "ce/softmax"
metric = "test_balanced_accuracy"
"""


def flowers(n: int = 40, labels: tuple[str, ...] = ("setosa", "versicolor"), gap_rows: tuple[int, ...] = (),
            numeric: bool = False) -> str:
    """A CSV of two noisy features and a target 'kind': string classes, or a real number."""
    rng = np.random.default_rng(0)
    rows = ["x,z,kind"]
    for i in range(n):
        c = i % len(labels)
        kind = f"{c + rng.normal():.4f}" if numeric else labels[c]
        z = "" if i + 1 in gap_rows else f"{rng.normal():.4f}"
        rows.append(f"{c + rng.normal(scale=0.5):.4f},{z},{kind}")
    return "\n".join(rows) + "\n"


def invoke(*args: str) -> str:
    """Run lossdb; the output of a successful command."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def mydata_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A database after `lossdb run --dataset csv:mydata.csv --target kind --preset quick` (2 seeds,
    2 epochs) from the CSV's folder, and that folder."""
    folder = tmp_path_factory.mktemp("mydata")
    (folder / "mydata.csv").write_text(flowers())
    db = folder / "lossdb.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        invoke("run", "--dataset", "csv:mydata.csv", "--target", "kind", "--preset", "quick",
               "--seeds", "2", "--epochs", "2", "--db", str(db))
    return db, folder


def test_an_experiment_file_finds_its_csv_from_its_own_folder_when_run_from_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for sub in ("exp", "data", "elsewhere"):
        (tmp_path / sub).mkdir()
    (tmp_path / "exp" / "mine.toml").write_text(USER_FILE)
    (tmp_path / "data" / "flowers.csv").write_text(flowers())
    monkeypatch.chdir(tmp_path / "elsewhere")
    invoke("run", "-c", "../exp/mine.toml", "--db", "results.db")
    with open_store(str(tmp_path / "elsewhere" / "results.db"), create=False, read_only=True) as store:
        (stored,) = store.experiments()
        runs = store.list_runs()
    csv = "csv:flowers.csv"  # stored by its file name, found from the experiment file's folder
    assert {r.dataset for r in runs} == {csv} and len(runs) == 4 and {r.status for r in runs} == {"finished"}
    assert comparisons_of(stored["spec"]) == ex.load_file(tmp_path / "exp" / "mine.toml").comparisons
    assert stored["spec"]["csv"][csv]["classes"] == ["setosa", "versicolor"]


def test_an_absolute_csv_path_in_an_experiment_file_is_kept_as_given(tmp_path: Path):
    text = USER_FILE.replace("../data/flowers.csv", str(tmp_path / "flowers.csv"))
    (tmp_path / "flowers.csv").write_text(flowers())
    exp = ex.parse(text, "mine.toml", "/somewhere/else")
    assert exp.raw["data"]["dataset"] == f"csv:{tmp_path / 'flowers.csv'}"


def test_run_on_a_csv_stores_every_applicable_catalogue_experiment_under_its_stem(mydata_db):
    db, _ = mydata_db
    with open_store(str(db), create=False, read_only=True) as store:
        stored = {e["name"]: e for e in store.experiments()}
    expected = [f"{name}@mydata" for name in rt.applicable("classification", 2)]
    assert rt.experiments_of_dataset(stored, "mydata") == expected == [
        "convergence@mydata", "binary@mydata", "calibration@mydata", "label-noise@mydata",
        "imbalance@mydata", "lr-sensitivity@mydata", "margin@mydata", "softmax-init@mydata",
        "symmetric-noise@mydata", "feature-outliers@mydata"]
    assert all(e["n_runs"] > 0 for e in stored.values())
    assert stored["label-noise@mydata"]["spec"]["experiment"]["claims"] == ["label-noise"]


def test_the_experiments_of_a_dataset_are_found_by_stem_file_name_or_csv_path(mydata_db):
    db, folder = mydata_db
    names = ["convergence", "margin@mydata", "convergence@mydata", "convergence@other", "mine"]
    for given in ("mydata", "mydata.csv", f"csv:{folder / 'mydata.csv'}"):
        assert rt.experiments_of_dataset(names, given) == ["convergence@mydata", "margin@mydata"]


def test_lossdb_experiments_lists_the_stored_experiments_beside_the_catalogue(mydata_db):
    db, _ = mydata_db
    out = invoke("experiments", "--db", str(db))
    assert "saturation" in out and "stored in" in out and "label-noise@mydata" in out


def test_a_regression_target_gets_the_regression_experiments_with_their_outliers(tmp_path: Path):
    (tmp_path / "prices.csv").write_text(flowers(numeric=True))
    exps = rt.retarget(tmp_path / "prices.csv", "kind")
    assert [e.name for e in exps] == ["regression@prices", "outliers@prices", "huber-delta@prices"]
    data = exps[1].raw["data"]
    assert data["outliers"] == [0, 0.05, 0.1, 0.2] and "noise_dist" not in data
    assert (data["task"], data["target"]) == ("regression", "kind")


def test_binary_applies_to_two_classes_only():
    assert "binary" in rt.applicable("classification", 2)
    assert "binary" not in rt.applicable("classification", 3)


def test_every_catalogue_experiment_either_applies_to_a_task_or_says_why_not():
    assert set(rt.APPLIES) | set(rt.NOT_DATA_DRIVEN) == set(ex.catalogue())
    assert not set(rt.APPLIES) & set(rt.NOT_DATA_DRIVEN)


def test_drop_missing_drops_the_rows_and_counts_them_in_the_stored_spec(tmp_path: Path):
    (tmp_path / "gaps.csv").write_text(flowers(gap_rows=(3, 8)))
    (exp,) = rt.retarget(tmp_path / "gaps.csv", "kind", ["convergence"], drop_missing=True)
    csv = "csv:gaps.csv"  # the stored spec names the file, not where it was
    assert exp.raw["data"]["drop_missing"] is True and exp.spec["data"]["dataset"] == csv
    assert exp.spec["notes"] == ["2 row(s) of gaps.csv with missing values dropped "
                                 "(drop_missing): data rows 3, 8."]
    assert exp.spec["csv"][csv]["rows"] == 38 and exp.spec["csv"][csv]["dropped_rows"] == [3, 8]
    plan = ex.expand(exp, "quick")[0]
    p = prepare(ex.data_spec(plan.arm), seed=0)
    assert len(p.y_train) + len(p.y_val) + len(p.y_test) == 38


def test_drop_missing_in_an_experiment_file_is_noted_too(tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "flowers.csv").write_text(flowers(gap_rows=(5,)))
    text = USER_FILE.replace('target = "kind"', 'target = "kind"\ndrop_missing = true')
    exp = ex.parse(text, "mine.toml", tmp_path / "exp")
    assert exp.notes == ("1 row(s) of flowers.csv with missing values dropped "
                         "(drop_missing): data rows 5.",)


@pytest.mark.parametrize(("path", "key"), [
    ("mydata.csv", "mydata"), ("csv:/data/My Data (v2).csv", "My-Data-v2"), ("/x/.hidden.csv", "hidden"),
    ("_x.CSV", "d_x"),
])
def test_a_dataset_key_is_the_file_stem_in_characters_an_experiment_name_allows(path: str, key: str):
    assert rt.dataset_key(path) == key


def test_a_retargeted_name_leads_back_to_its_catalogue_experiment():
    assert rt.base_experiment(rt.retargeted_name("label-noise", "csv:a/b/mydata.csv")) == "label-noise"
    assert rt.base_experiment("mine") == "mine"


def test_compare_dataset_gives_the_claims_verdicts_on_the_users_data(mydata_db):
    db, _ = mydata_db
    rows = __import__("json").loads(invoke("compare", "--dataset", "mydata", "--format", "json", "--db", str(db)))
    assert rows and all(r["claim"].endswith("@mydata") and r["experiment"].endswith("@mydata") for r in rows)
    assert {r["claim"] for r in rows} >= {"convergence@mydata", "classification-accuracy@mydata"}
    assert all(r["verdict"] in ("supported", "contradicted", "equivalent", "inconclusive", "not measurable")
               for r in rows if r["n"] > 0)


def test_compare_dataset_names_the_valid_data_when_the_name_is_unknown(mydata_db):
    db, _ = mydata_db
    result = CliRunner().invoke(app, ["compare", "--dataset", "nope", "--db", str(db)])
    assert result.exit_code == 1 and "valid: mydata" in result.output and "Traceback" not in result.output


def test_a_users_experiment_file_gets_verdicts_with_intervals_in_compare_and_the_report(tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "flowers.csv").write_text(flowers(60))
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "mine.toml").write_text(USER_FILE.replace("seeds = 2", "seeds = 4"))
    db = str(tmp_path / "u.db")
    invoke("run", "-c", str(tmp_path / "exp" / "mine.toml"), "--db", db)
    rows = __import__("json").loads(invoke("compare", "-e", "mine", "--format", "json", "--db", db))
    mine = next(r for r in rows if r["claim"] == "mine:focal-vs-ce/softmax")
    assert mine["verdict"] != "not run" and mine["n"] == 4 and mine["ci_low"] is not None
    assert mine["arms"] == ["focal", "ce/softmax"]
    assert "mine:focal-vs-ce/softmax" in invoke("compare", "--db", db)
    out = tmp_path / "r.md"
    invoke("report", "--format", "md", "--out", str(out), "--db", db)
    assert mine["effect_text"] in out.read_text(encoding="utf-8")
