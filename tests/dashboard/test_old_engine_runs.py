"""The dashboard on a database that also holds runs of an older engine: they are not drawn or judged,
and the summary and runs pages say so in the same sentence as `lossdb compare` (AppTest, real runs)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lossdb.cli.main import app
from lossdb.core import ENGINE_VERSION
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from tests.cli.test_old_engine_runs import TINY

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
NOTE = f"2 stored runs of engine 2 are set aside (this lossdb is engine {ENGINE_VERSION}"

pytestmark = pytest.mark.slow  # each AppTest run takes a few seconds


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory) -> Path:
    """Six runs of the tiny iris experiment, seed 0's two then relabelled as engine 2's."""
    folder = tmp_path_factory.mktemp("mixed")
    (folder / "tiny.toml").write_text(TINY)
    db = folder / "mixed.db"
    result = CliRunner().invoke(app, ["run", "--config", str(folder / "tiny.toml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET engine_version = '2' WHERE seed = 0")
    return db


def page(monkeypatch: pytest.MonkeyPatch, db: Path, name: str) -> AppTest:
    monkeypatch.setenv("LOSSDB_DB", str(db))
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_summary_says_how_many_runs_are_set_aside(monkeypatch, mixed_db):
    at = page(monkeypatch, mixed_db, "summary")
    assert any(NOTE in c.value for c in at.caption)


def test_the_runs_page_lists_the_current_engines_runs_and_says_the_rest_are_set_aside(monkeypatch, mixed_db):
    at = page(monkeypatch, mixed_db, "runs")
    assert any(NOTE in c.value for c in at.caption)
    assert sorted(at.dataframe[0].value["seed"]) == [1, 1, 2, 2]
