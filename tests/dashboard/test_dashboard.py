"""The dashboard through Streamlit's AppTest on every page, against real databases."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from lossdb.cli.commands_dashboard import app_path, streamlit_command
from lossdb.cli.main import app as cli
from lossdb.core.present import display
from lossdb.core.judging.claims import CLAIMS
from lossdb.core.store import open_store
from lossdb.core.judging.verdicts import evaluate
from lossdb.core.judging.headlines import summary as summary_of

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = ("summary", "convergence", "gradients", "calibration", "runs", "report")
QUICK = ["run", "convergence", "--seeds", "2", "--epochs", "5"]

pytestmark = pytest.mark.slow


def fill(db: Path, *args: str) -> None:
    """Store real runs in `db` with `lossdb run` (the quick convergence experiment by default)."""
    result = CliRunner().invoke(cli, [*(args or QUICK), "--db", str(db)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def quick_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding a real quick run of the convergence experiment (24 runs)."""
    db = tmp_path_factory.mktemp("dashboard") / "quick.db"
    fill(db)
    return db


def open_app(monkeypatch: pytest.MonkeyPatch, db: Path | str, page: str | None = None) -> AppTest:
    """The dashboard on `db`, run once (on `page` when given)."""
    monkeypatch.setenv("LOSSDB_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    return at


@pytest.fixture
def summary(monkeypatch: pytest.MonkeyPatch, quick_db: Path) -> AppTest:
    """The Summary page on the quick database."""
    return open_app(monkeypatch, quick_db)


@pytest.fixture
def convergence(monkeypatch: pytest.MonkeyPatch, quick_db: Path) -> AppTest:
    """The Convergence page on the quick database."""
    return open_app(monkeypatch, quick_db, "convergence")


def specs(at: AppTest) -> list[dict]:
    """The Vega-Lite specs of the charts on the page, in order."""
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def chart_data(at: AppTest, index: int = 0) -> pd.DataFrame:
    """The rows a chart on the page sends to the browser (all its datasets, stacked)."""
    chart = at.get("vega_lite_chart")[index]
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(monkeypatch, quick_db, page):
    at = open_app(monkeypatch, quick_db, page)
    assert not at.exception
    assert not at.error


def test_summary_table_has_one_row_per_claim_with_the_computed_verdicts(summary, quick_db):
    with open_store(str(quick_db), create=False, read_only=True) as store:
        expected = summary_of(evaluate(store))
    table = summary.dataframe[0].value
    assert list(table["claim"]) == [v.claim for v in expected] == list(CLAIMS)
    assert list(table["verdict"]) == [v.verdict for v in expected]


def test_summary_filter_by_experiment_keeps_only_its_claims(summary):
    summary.multiselect(key="sum_experiment").set_value(["convergence"]).run()
    tested = [c.id for c in CLAIMS.values() if "convergence" in c.experiments]
    assert list(summary.dataframe[0].value["claim"]) == tested


def test_choosing_a_claim_shows_its_evidence_chart(summary):
    summary.selectbox(key="sum_claim").set_value("classification-accuracy").run()
    assert "final test accuracy" in [h.value for h in summary.subheader]
    evidence = specs(summary)[0]
    assert evidence["layer"][1]["encoding"]["x2"]["field"] == "ci_high"


def test_a_claim_not_run_yet_shows_the_command_that_runs_it(summary):
    summary.selectbox(key="sum_claim").set_value("calibration").run()
    assert "lossdb run calibration" in [c.value for c in summary.code]


def test_convergence_draws_the_mean_and_band_of_each_arm(convergence):
    chart = specs(convergence)[0]
    marks = [layer["mark"]["type"] for layer in chart["layer"]]
    assert marks == ["area", "line"]
    assert chart["layer"][1]["encoding"]["y"]["title"] == display.title("test_accuracy")


def test_convergence_metric_choice_changes_the_chart(convergence):
    convergence.selectbox(key="conv_metric").set_value("train_loss").run()
    assert specs(convergence)[0]["layer"][1]["encoding"]["y"]["title"] == display.title("train_loss")


def test_convergence_band_choice_changes_the_subtitle(convergence):
    convergence.radio(key="conv_band").set_value("range").run()
    assert "min–max" in specs(convergence)[0]["title"]["subtitle"]


def test_convergence_log_toggle_sets_a_log_axis(convergence):
    convergence.selectbox(key="conv_metric").set_value("test_accuracy").run()
    convergence.toggle(key="conv_log").set_value(True).run()
    assert specs(convergence)[0]["layer"][1]["encoding"]["y"]["scale"]["type"] == "log"


def test_convergence_seeds_toggle_adds_a_line_per_run(convergence):
    convergence.toggle(key="conv_seeds").set_value(True).run()
    layer = specs(convergence)[0]["layer"][0]
    assert layer["encoding"]["detail"]["field"] == "run_id"


def test_convergence_learning_rate_choice_narrows_the_runs(convergence):
    convergence.selectbox(key="conv_lr").set_value("all").run()
    assert chart_data(convergence)["series"].str.contains("lr=0.1").any()
    convergence.selectbox(key="conv_lr").set_value("1").run()
    assert set(chart_data(convergence)["series"]) == {"ce/softmax", "mse/linear", "mse/sigmoid", "mse/softmax"}


def test_runs_filter_narrows_the_table(monkeypatch, quick_db):
    at = open_app(monkeypatch, quick_db, "runs")
    every = len(at.dataframe[0].value)
    at.multiselect(key="runs_loss").set_value(["ce"]).run()
    table = at.dataframe[0].value
    assert 0 < len(table) < every and set(table["loss"]) == {"ce"}


def test_runs_overlay_draws_the_chosen_runs(monkeypatch, quick_db):
    at = open_app(monkeypatch, quick_db, "runs")
    ids = [int(i) for i in at.dataframe[0].value["id"]]
    at.multiselect(key="runs_overlay").set_value(ids[:5]).run()
    assert specs(at)[0]["encoding"]["color"]["field"] == "run"
    assert sorted(chart_data(at)["run_id"].unique()) == ids[:5]


def test_runs_detail_shows_the_chosen_runs_config(monkeypatch, quick_db):
    at = open_app(monkeypatch, quick_db, "runs")
    at.selectbox(key="runs_detail").set_value(1).run()
    assert at.json[0].value and '"loss"' in at.json[0].value


def test_an_empty_database_shows_the_command_to_run(monkeypatch, tmp_path):
    db = tmp_path / "empty.db"
    open_store(str(db)).close()
    at = open_app(monkeypatch, db)
    assert not at.exception
    assert at.code[0].value.startswith("lossdb run")


def test_a_missing_database_is_one_sentence(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path / "missing.db")
    assert not at.exception
    assert len(at.error) == 1 and "does not exist" in at.error[0].value


def test_a_file_that_is_not_a_database_is_one_sentence(monkeypatch, tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_text("not a database\n" * 100)
    at = open_app(monkeypatch, junk)
    assert not at.exception
    assert len(at.error) == 1 and "not a SQLite database" in at.error[0].value


def test_an_old_schema_names_the_upgrade_command(monkeypatch, tmp_path):
    old = tmp_path / "old.db"
    shutil.copy(Path(__file__).resolve().parents[1] / "data" / "schema_0001.db", old)
    at = open_app(monkeypatch, old)
    assert not at.exception
    assert len(at.error) == 1 and "lossdb db upgrade" in at.error[0].value


def test_new_runs_appear_on_refresh(monkeypatch, tmp_path):
    db = tmp_path / "growing.db"
    fill(db, "run", "convergence", "--seeds", "1", "--epochs", "2")
    at = open_app(monkeypatch, db, "runs")
    before = len(at.dataframe[0].value)
    fill(db, "run", "convergence", "--seeds", "2", "--epochs", "2")
    at.run()
    assert len(at.dataframe[0].value) > before


def test_dashboard_command_refuses_a_missing_database_in_one_sentence(tmp_path):
    result = CliRunner().invoke(cli, ["dashboard", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "Traceback" not in result.output


def test_dashboard_command_serves_the_installed_app_on_the_given_address():
    command = streamlit_command(app_path(), "127.0.0.1", 8555)
    assert app_path() == APP
    assert command[1:5] == ["-m", "lossdb.dashboard.serve", "run", str(APP)]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8555"
    assert "--db" not in command  # the URL (and its password) goes through $LOSSDB_DB, never argv


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Each test starts with empty Streamlit caches, as a new server would."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def test_summary_filter_by_verdict_keeps_only_those_verdicts(summary):
    verdicts = list(summary.dataframe[0].value["verdict"])
    chosen = verdicts[0]
    summary.multiselect(key="sum_verdict").set_value([chosen]).run()
    assert set(summary.dataframe[0].value["verdict"]) == {chosen}


def test_report_page_shows_every_download_at_once_and_builds_none(monkeypatch, quick_db):
    at = open_app(monkeypatch, quick_db, "report")
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "HTML (one file, opens offline)", "HTML, interactive charts", "PDF",
        "Markdown with its charts (.zip)", "JSON (machine-readable)"]
    assert all(b.proto.deferred_file_id for b in buttons)  # the bytes come only on a click


def test_a_report_download_builds_its_format_when_asked(quick_db):
    from lossdb.core import report as reports
    from lossdb.dashboard import loaders

    url = f"sqlite:///{quick_db}"
    request = loaders.ReportRequest(url, loaders.token(url), ("convergence",), "Mine")
    with open_store(url, create=False, read_only=True) as store:
        document = json.loads(loaders.report_file(store, request, "json"))
        html = loaders.report_file(store, request, "html").decode()
    reports.validate(document)
    assert document["title"] == "Mine" and "<svg" in html and "Mine" in html


def test_the_step_record_is_never_offered_as_a_metric_against_epochs():
    from lossdb.dashboard import loaders

    frame = pd.DataFrame({"id": [1, 2], "train_accuracy": [0.9, 0.8], "step": [120.0, 120.0],
                          "step_train_accuracy": [0.91, 0.79], "step_train_loss": [0.2, 0.3]})
    assert loaders.metric_columns(frame) == ["train_accuracy"]
