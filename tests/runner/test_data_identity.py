"""A CSV is stored by its file name, not its folder: a moved file finds its stored runs, and old
stores whose runs kept absolute paths are renamed by migration 0006 and still read the same."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from lossdb.cli.main import app
from lossdb.core.data.identity import stored_names
from lossdb.core.store import head_revision, upgrade
from typer.testing import CliRunner

from tests.runner.test_fingerprint import TINY, grain

DATA = Path(__file__).resolve().parents[1] / "data"
SAVED_0005 = DATA / "schema_0005_csv.db"  # written at 0005 from /tmp/lossdb-schema-0005 (see its .toml)
SAVED_FOLDER = "/tmp/lossdb-schema-0005"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def datasets(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        out = {r[0] for r in conn.execute("SELECT dataset FROM runs")}
    conn.close()
    return out


def test_stored_names_are_file_names_with_folders_only_where_two_files_share_one():
    names = stored_names(["csv:/a/farm1/grain.csv", "csv:/b/farm2/grain.csv", "csv:/c/price.csv", "iris"])
    assert names == {"csv:/a/farm1/grain.csv": "csv:farm1/grain.csv", "csv:/b/farm2/grain.csv": "csv:farm2/grain.csv",
                     "csv:/c/price.csv": "csv:price.csv", "iris": "iris"}
    assert stored_names(["csv:/a/x/g.csv", "csv:/b/x/g.csv"]) == {"csv:/a/x/g.csv": "csv:a/x/g.csv",
                                                                 "csv:/b/x/g.csv": "csv:b/x/g.csv"}


def test_the_database_holds_no_trace_of_the_folder_the_csv_was_in(tmp_path: Path, monkeypatch):
    work = tmp_path / "somewhere-private"
    work.mkdir()
    (work / "grain.csv").write_text(grain())
    (work / "grain.toml").write_text(TINY)
    monkeypatch.chdir(work)
    assert invoke("run", "-c", "grain.toml", "--db", str(tmp_path / "g.db")).exit_code == 0
    assert invoke("run", "--dataset", "csv:grain.csv", "--target", "class", "calibration", "--seeds", "2",
                  "--epochs", "2", "--db", str(tmp_path / "g.db")).exit_code == 0
    assert datasets(tmp_path / "g.db") == {"csv:grain.csv"}
    with sqlite3.connect(tmp_path / "g.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert b"somewhere-private" not in (tmp_path / "g.db").read_bytes()


@pytest.mark.parametrize("how", ["experiment file", "--dataset"])
def test_a_moved_csv_finds_its_stored_runs_instead_of_retraining(tmp_path: Path, monkeypatch, how: str):
    first, second = tmp_path / "first", tmp_path / "second" / "deeper"
    first.mkdir()
    second.mkdir(parents=True)
    (first / "grain.csv").write_text(grain())
    (first / "grain.toml").write_text(TINY)
    db = str(tmp_path / "g.db")
    args = ["-c", "grain.toml"] if how == "experiment file" else \
        ["--dataset", "csv:grain.csv", "--target", "class", "calibration", "--seeds", "2", "--epochs", "2"]
    monkeypatch.chdir(first)
    made = invoke("run", *args, "--db", db)
    assert made.exit_code == 0 and " 0 skipped" in made.output, made.output
    shutil.move(first / "grain.csv", second / "grain.csv")
    shutil.move(first / "grain.toml", second / "grain.toml")
    monkeypatch.chdir(second)
    again = invoke("run", *args, "--db", db)
    assert again.exit_code == 0, again.output
    assert "Nothing to run" in again.output and "\n0 finished" in again.output


def test_a_moved_and_changed_csv_is_still_refused(tmp_path: Path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "grain.csv").write_text(grain())
    (tmp_path / "b" / "grain.csv").write_text(grain(flip=5))
    monkeypatch.chdir(tmp_path)
    common = ("--target", "class", "calibration", "--seeds", "2", "--epochs", "2", "--db", "g.db")
    assert invoke("run", "--dataset", "csv:a/grain.csv", *common).exit_code == 0
    refused = invoke("run", "--dataset", "csv:b/grain.csv", *common)
    assert refused.exit_code == 1 and "grain.csv changed since its 36 stored runs" in refused.output


@pytest.fixture
def saved_0005(tmp_path: Path) -> Path:
    """A copy of the saved schema-0005 database (runs on two grain.csv files by absolute path)."""
    db = tmp_path / "old.db"
    shutil.copyfile(SAVED_0005, db)
    return db


def test_upgrade_0006_names_each_csv_by_its_file_name_and_keeps_every_run(saved_0005: Path):
    with sqlite3.connect(saved_0005) as conn:
        before = conn.execute("SELECT id, seed, status, data_digest, wall_seconds FROM runs ORDER BY id").fetchall()
    conn.close()
    assert all(d.startswith(f"csv:{SAVED_FOLDER}/") for d in datasets(saved_0005))
    assert upgrade(str(saved_0005))[:2] == ("0005", head_revision())
    with sqlite3.connect(saved_0005) as conn:
        after = conn.execute("SELECT id, seed, status, data_digest, wall_seconds FROM runs ORDER BY id").fetchall()
        specs = dict(conn.execute("SELECT name, spec FROM experiments").fetchall())
        configs = [json.loads(c)["data"]["dataset"] for (c,) in conn.execute("SELECT config FROM runs")]
    conn.close()
    assert after == before
    assert datasets(saved_0005) == {"csv:farm1/grain.csv", "csv:farm2/grain.csv", "csv:grain.csv"}
    assert SAVED_FOLDER not in "".join(configs)
    user = json.loads(specs["schema-0005-csv"])
    assert user["data"]["dataset"] == ["csv:farm1/grain.csv", "csv:farm2/grain.csv"]
    assert set(user["csv"]) == {"csv:farm1/grain.csv", "csv:farm2/grain.csv"}
    retargeted = json.loads(specs["calibration@grain"])
    assert retargeted["data"]["dataset"] == "csv:grain.csv"
    assert retargeted["origin"] == {"data": f"{SAVED_FOLDER}/farm1/grain.csv"}  # the hint, kept


def test_an_upgraded_0005_store_reads_the_same_and_a_rerun_from_another_folder_trains_nothing(
        saved_0005: Path, tmp_path: Path, monkeypatch):
    refused = invoke("runs", "--db", str(saved_0005))
    assert refused.exit_code == 1 and "lossdb db upgrade --db" in refused.output  # the store's rule for any old schema
    upgrade(str(saved_0005))
    listed = json.loads(invoke("runs", "--format", "json", "--db", str(saved_0005)).output)
    assert len(listed) == 44 and SAVED_FOLDER not in json.dumps(listed)
    table = invoke("compare", "--db", str(saved_0005)).output.split("Effects are")[0]  # the rows themselves
    assert "dataset=farm1-grain" in table and "dataset=grain" in table and SAVED_FOLDER not in table
    elsewhere = tmp_path / "moved"
    shutil.copytree(DATA / "schema_0005_csv", elsewhere)
    shutil.copyfile(DATA / "schema_0005_csv.toml", elsewhere / "schema_0005.toml")
    monkeypatch.chdir(elsewhere)
    for args in (("-c", "schema_0005.toml"),
                 ("--dataset", "csv:farm1/grain.csv", "--target", "class", "calibration", "--seeds", "2",
                  "--epochs", "2")):
        result = invoke("run", *args, "--db", str(saved_0005))
        assert result.exit_code == 0 and "Nothing to run" in result.output, result.output
