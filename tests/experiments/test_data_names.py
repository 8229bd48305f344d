"""One data name everywhere: a CSV is its file's stem in run, compare, runs, report and labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lossdb.cli.main import app
from lossdb.core.errors import ConfigError
from lossdb.core.experiments.retarget import data_names, resolve_dataset
from typer.testing import CliRunner


def test_a_csv_is_named_by_its_stem_and_a_built_in_set_by_its_own_name():
    assert data_names(["csv:/x/grain.csv", "iris"]) == {"csv:/x/grain.csv": "grain", "iris": "iris"}


def test_two_files_sharing_a_stem_are_told_apart_by_their_folder():
    names = data_names(["csv:/a/farm1/grain.csv", "csv:/b/farm2/grain.csv", "csv:/c/price.csv"])
    assert names == {"csv:/a/farm1/grain.csv": "farm1-grain", "csv:/b/farm2/grain.csv": "farm2-grain",
                     "csv:/c/price.csv": "price"}
    same = data_names(["csv:/a/x/grain.csv", "csv:/b/x/grain.csv"])
    assert sorted(same.values()) == ["grain-1", "grain-2"]


@pytest.mark.parametrize("given", ["grain", "grain.csv", "csv:/x/grain.csv", "csv:/x/../x/grain.csv"])
def test_every_spelling_of_a_dataset_resolves_to_its_stored_value(given):
    assert resolve_dataset(given, ["csv:/x/grain.csv", "iris"]) == "csv:/x/grain.csv"


def test_an_unknown_data_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"no stored runs on the data 'grian'; valid: grain, iris"):
        resolve_dataset("grian", ["csv:/x/grain.csv", "iris"])


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def grain_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The calibration question run on the user's grain.csv (2 seeds, 2 epochs): the folder."""
    folder = tmp_path_factory.mktemp("names")
    rng = np.random.default_rng(1)
    rows = ["a,b,kind"] + [f"{i % 2 + rng.normal(scale=0.5):.3f},{rng.normal():.3f},{'x' if i % 2 else 'y'}"
                           for i in range(40)]
    (folder / "grain.csv").write_text("\n".join(rows) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        invoke("run", "--dataset", "csv:grain.csv", "--target", "kind", "calibration", "--seeds", "2",
               "--epochs", "2", "--db", "g.db")
    return folder


@pytest.mark.parametrize("given", ["grain", "grain.csv", "csv:grain.csv"])
def test_runs_compare_and_report_take_every_spelling_of_the_name(grain_db: Path, given: str, monkeypatch):
    monkeypatch.chdir(grain_db)
    ids = [r["id"] for r in json.loads(invoke("runs", "--dataset", given, "--format", "json", "--db", "g.db"))]
    assert ids and ids == [r["id"] for r in json.loads(invoke("runs", "--format", "json", "--db", "g.db"))]
    assert invoke("compare", "--dataset", given, "--db", "g.db").startswith("Which loss for grain?")
    out = invoke("report", "--dataset", given, "--format", "json", "--out", f"r-{given}.json", "--force",
                 "--db", "g.db")
    report = json.loads(Path(out.strip()).read_text())
    assert report["experiments_selected"] == ["calibration@grain"]


def test_labels_name_the_data_never_its_absolute_path(grain_db: Path):
    out = invoke("compare", "--db", str(grain_db / "g.db")).split("Effects are")[0]  # the table itself
    assert "dataset=grain" in out and str(grain_db) not in out
    table = invoke("runs", "--db", str(grain_db / "g.db"))
    assert str(grain_db) not in table


def test_an_unknown_name_in_runs_and_report_lists_the_valid_ones(grain_db: Path):
    for args in (("runs", "--dataset", "nope"), ("report", "--dataset", "nope", "--out", str(grain_db / "x.md"))):
        result = CliRunner().invoke(app, [*args, "--db", str(grain_db / "g.db")])
        assert result.exit_code == 1 and "valid: grain" in result.output and "Traceback" not in result.output
