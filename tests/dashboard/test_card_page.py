"""The dashboard's "Your data" page: the recommendation card of each of the user's datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lossdb.cli.main import app
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"

pytestmark = pytest.mark.slow  # AppTest runs the whole app: a few seconds a test


MINE = """[experiment]
name = "zz-mine"
[data]
dataset = "csv:seeds.csv"
target = "kind"
[train]
epochs = 2
seeds = 2
[[arms]]
loss = "ce"
head = "softmax"
[[arms]]
loss = "mse"
head = "softmax"
"""


@pytest.fixture(scope="module")
def users_only_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding only the user's data: the catalogue's calibration question on seeds.csv and
    the user's own experiment file zz-mine on it."""
    folder = tmp_path_factory.mktemp("cardpage")
    rng = np.random.default_rng(3)
    rows = ["a,b,kind"] + [f"{i % 2 + rng.normal(scale=0.5):.3f},{rng.normal():.3f},{'x' if i % 2 else 'y'}"
                           for i in range(50)]
    (folder / "seeds.csv").write_text("\n".join(rows) + "\n")
    db = folder / "u.db"
    result = CliRunner().invoke(app, ["run", "--dataset", f"csv:{folder / 'seeds.csv'}", "--target", "kind",
                                      "calibration", "--seeds", "2", "--epochs", "2", "--db", str(db)])
    assert result.exit_code == 0, result.output
    (folder / "mine.toml").write_text(MINE)
    result = CliRunner().invoke(app, ["run", "-c", str(folder / "mine.toml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def test_a_database_of_only_the_users_data_opens_on_its_card(monkeypatch, users_only_db: Path):
    from lossdb.core.present.card import card_of

    monkeypatch.setenv("LOSSDB_DB", str(users_only_db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Which loss for your data?"
    assert at.selectbox(key="card_dataset").value == "seeds"
    shown = [t.value for t in at.text]
    card = card_of(str(users_only_db), "seeds")
    assert shown == [line.text for line in (*card.answers, *card.bottom_line, *card.still_open)]


def test_a_database_with_the_catalogue_still_opens_on_the_summary(monkeypatch, newcomer_db: Path):
    monkeypatch.setenv("LOSSDB_DB", str(newcomer_db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "The claims, measured"
    at.switch_page("app_pages/card.py")
    at.run()
    assert not at.exception and "No experiment ran on your own data yet" in at.info[0].value


def test_the_run_pages_open_on_the_users_own_experiment(monkeypatch, users_only_db: Path):
    monkeypatch.setenv("LOSSDB_DB", str(users_only_db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/convergence.py")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="conv_experiment").value == "zz-mine"


def test_the_summary_of_only_the_users_data_has_no_catalogue_rows_and_says_how_to_run_it(
        monkeypatch, users_only_db: Path):
    from lossdb.core.judging.claims import CLAIMS
    from lossdb.core.present.card import CATALOGUE_HINT

    monkeypatch.setenv("LOSSDB_DB", str(users_only_db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/summary.py")
    at.run()
    assert not at.exception, at.exception
    assert CATALOGUE_HINT in [c.value for c in at.caption]
    claims = list(at.dataframe[0].value["claim"])
    assert claims and not set(claims) & set(CLAIMS)
    assert at.selectbox(key="sum_claim").value in claims


def test_the_card_page_gives_the_time_of_the_runs_that_would_decide_it(monkeypatch, users_only_db: Path):
    from lossdb.core.present.card import card_of

    monkeypatch.setenv("LOSSDB_DB", str(users_only_db))
    card = card_of(str(users_only_db), "seeds")
    if not card.command:
        pytest.skip("every question on seeds is decided")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert f"To decide what is open ({card.cost_text}):" in captions
    assert "more runs, about " in card.cost_text and f"on {card.workers} worker" in card.cost_text


def test_a_not_run_row_of_an_experiment_file_shows_the_command_that_adds_its_runs(
        monkeypatch, users_only_db: Path, tmp_path: Path):
    import shutil
    import sqlite3

    db = tmp_path / "copy.db"
    shutil.copyfile(users_only_db, db)
    with sqlite3.connect(db) as conn:
        ids = [str(i) for (i,) in conn.execute(
            "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id "
            "WHERE e.name = 'zz-mine' AND r.loss = 'mse'")]
    conn.close()
    assert CliRunner().invoke(app, ["delete", *ids, "--yes", "--db", str(db)]).exit_code == 0
    monkeypatch.setenv("LOSSDB_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/summary.py")
    at.run()
    at.selectbox(key="sum_claim").set_value("zz-mine:mse/softmax-vs-ce/softmax").run()
    assert not at.exception, at.exception
    mine = users_only_db.parent / "mine.toml"
    assert f"lossdb run --config {mine}" in [c.value for c in at.code]
    assert not any("lossdb run zz-mine" in c.value for c in at.code)
