"""Runs stored by an older engine (a database of engine 2, whose test split was re-drawn per seed) are
set aside: never judged with the current engine's runs, counted in one sentence by `lossdb compare`
and `lossdb runs`, and trained again by a plain `lossdb run` (real runs, real SQLite, the real app)."""

import json
import sqlite3

import pytest
from lossdb.cli.main import app
from lossdb.core import ENGINE_VERSION
from typer.testing import CliRunner

from tests.conftest import tiny_toml

TINY = tiny_toml(description="two losses on iris, three seeds, two epochs", hidden="[4]", lr="0.3", epochs=2,
                 seeds=3, arms=(("ce", "softmax"), ("mse", "softmax")))

NOTE = f"6 stored runs of engine 2 are set aside (this lossdb is engine {ENGINE_VERSION}"


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _verdicts(db: str) -> list[dict]:
    return json.loads(_invoke("compare", "--format", "json", "--db", db).stdout)


def _engines(db: str) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT engine_version, count(*) FROM runs GROUP BY engine_version "
                            "ORDER BY engine_version").fetchall()


@pytest.fixture
def old_database(tmp_path, monkeypatch) -> tuple[str, str, list[dict]]:
    """(db, experiment file, the verdicts its runs gave): the runs then relabelled as engine 2's, as a
    database written by the previous lossdb holds them (the verdict cache is off: the relabelling
    happens behind the store's back)."""
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    config, db = tmp_path / "tiny.toml", str(tmp_path / "old.db")
    config.write_text(TINY)
    _invoke("run", "--config", str(config), "--db", db)
    judged = _verdicts(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET engine_version = '2'")
    return db, str(config), judged


def test_runs_of_an_older_engine_are_not_judged(old_database):
    db, _, judged = old_database
    assert judged[0]["verdict"] != "not run" and judged[0]["n"] == 3
    assert [(v["verdict"], v["n"]) for v in _verdicts(db)] == [("not run", 0)] * len(judged)


def test_compare_says_in_one_sentence_how_many_runs_are_set_aside_and_how_to_retrain_them(old_database):
    db, _, _ = old_database
    table = " ".join(_invoke("compare", "--db", db).stdout.split())
    assert NOTE in table and "`lossdb run` with the same experiments trains them again" in table
    as_json = _invoke("compare", "--format", "json", "--db", db)
    assert NOTE in " ".join(as_json.stderr.split()) and NOTE not in as_json.stdout  # stdout stays JSON


def test_runs_lists_the_old_runs_and_says_they_are_set_aside(old_database):
    db, _, _ = old_database
    result = _invoke("runs", "--format", "json", "--db", db)
    assert len(json.loads(result.stdout)) == 6
    assert NOTE in " ".join(result.stderr.split())


def test_a_plain_run_trains_the_current_engine_and_judges_only_its_runs(old_database):
    db, config, judged = old_database
    result = _invoke("run", "--config", config, "--db", db)
    assert _engines(db) == [("2", 6), (ENGINE_VERSION, 6)], result.output
    assert _verdicts(db) == judged  # the new runs alone, exactly as judged before the relabelling
    _invoke("run", "--config", config, "--db", db)  # and a second plain run has nothing left to do
    assert _engines(db) == [("2", 6), (ENGINE_VERSION, 6)]


def test_the_report_counts_and_judges_only_the_current_engines_runs(old_database, tmp_path):
    db, config, judged = old_database
    _invoke("run", "--config", config, "--db", db)
    out = tmp_path / "report.json"
    _invoke("report", "--format", "json", "--out", str(out), "--db", db)
    document = json.loads(out.read_text())
    assert document["provenance"]["runs"] == 6  # of the 12 stored, the 6 the verdicts use
