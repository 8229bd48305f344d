"""Dashboard pages as a newcomer meets them (issue 16): text written from what is shown, views that a
link reopens, user strings shown as text, pooled reliability diagrams, no empty metric panels."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
LABEL = "**ce** _not bold_ [x](y)"  # the grid experiment's first arm (conftest.newcomer_db)

pytestmark = pytest.mark.slow


@pytest.fixture
def small_db(newcomer_db: Path) -> Path:
    """The saturation experiment and a tiny iris grid (conftest.newcomer_db)."""
    return newcomer_db


def page(monkeypatch: pytest.MonkeyPatch, db: Path, name: str, **query: str) -> AppTest:
    """Page `name` of the dashboard on `db`, opened with the URL's query parameters `query`."""
    monkeypatch.setenv("LOSSDB_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, shape: str) -> tuple[dict, pd.DataFrame]:
    """The spec and rows (all datasets) of the page's first chart whose spec has key `shape`
    ("vconcat", "facet", "layer")."""
    found = next(c for c in at.get("vega_lite_chart") if shape in json.loads(c.proto.spec))
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in found.proto.datasets]
    return json.loads(found.proto.spec), pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("w", "b"), [(0.6, 0.9), (2.0, 2.0)], ids=["book start", "saturated start"])
def test_gradients_neuron_caption_states_the_shown_start(monkeypatch, small_db, w, b):
    at = page(monkeypatch, small_db, "gradients", neuron_condition=f"dataset=neuron, w={w:g}, b={b:g}")
    caption = next(c.value for c in at.caption if c.value.startswith("One sigmoid neuron"))
    y0 = 1 / (1 + math.exp(-(w + b)))  # the neuron's output for input 1 before any step
    assert f"started at w = {w:g}, b = {b:g} (ŷ = {y0:.2f} at epoch 0)" in caption


def test_a_link_with_query_parameters_reopens_the_same_view(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "convergence", experiment="grid", condition="dataset=iris, hidden=8",
              lr="0.5", metric="test_nll", log="1")
    assert at.selectbox(key="conv_experiment").value == "grid"
    assert at.selectbox(key="conv_condition").value == "dataset=iris, hidden=8"
    assert at.selectbox(key="conv_metric").value == "test_nll"
    assert at.toggle(key="conv_log").value is True


def test_changing_a_selection_puts_it_in_the_url(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "convergence", experiment="grid")
    at.selectbox(key="conv_metric").set_value("train_accuracy").run()
    assert at.query_params["metric"] == "train_accuracy"
    assert at.query_params["experiment"] == "grid"


def test_a_link_naming_something_no_longer_stored_falls_back_to_the_default(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "runs", experiment="gone,grid", run="99999")
    assert at.multiselect(key="runs_experiment").value == ["grid"]
    assert at.selectbox(key="runs_detail").value != 99999


def test_runs_page_shows_a_user_label_as_text_not_markdown(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "runs", experiment="grid")
    ids = list(at.dataframe[0].value.query("label == @LABEL")["id"])
    at.selectbox(key="runs_detail").set_value(int(ids[0])).run()
    assert any(LABEL in t.value for t in at.text)
    assert not any(LABEL in m.value for m in at.markdown)


def test_runs_metric_grid_draws_only_series_that_change(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "runs", experiment="saturation")
    _, grid = chart(at, "facet")
    assert len(grid) and (grid.groupby("metric")["value"].nunique() > 1).all()


def test_reliability_diagram_draws_one_pooled_line_per_arm(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "calibration", experiment="grid", condition="dataset=iris, hidden=8",
              lr="0.5")
    spec, data = chart(at, "vconcat")
    lines = spec["vconcat"][0]["layer"][1]
    assert lines["encoding"]["color"]["field"] == "label" and "detail" not in lines["encoding"]
    assert "run_id" not in data.columns and set(data["label"].dropna()) == {LABEL, "mse/softmax"}


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Each test starts with empty Streamlit caches, as a new server would."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def test_metric_pickers_show_display_names(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "convergence", experiment="grid")
    options = at.selectbox(key="conv_metric").options
    assert "test accuracy" in options and not [o for o in options if "_" in o]


def test_the_summary_keeps_its_filters_and_claim_in_the_url(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "summary")
    claims = list(at.dataframe[0].value["claim"])
    chosen = claims[-1]
    at.selectbox(key="sum_claim").set_value(chosen).run()
    assert at.query_params["claim"] == chosen
    again = AppTest.from_file(str(APP), default_timeout=60)
    again.query_params["claim"] = chosen  # a copied link opens the app on the Summary page
    again.run()
    assert not again.exception and again.selectbox(key="sum_claim").value == chosen


def test_the_report_page_keeps_its_experiments_and_title_in_the_url(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "report", experiment="grid", title="For Ana")
    assert at.multiselect(key="report_experiments").value == ["grid"]
    assert at.text_input(key="report_title").value == "For Ana"
    at.multiselect(key="report_experiments").set_value(["grid", "saturation"]).run()
    assert at.query_params["experiment"] in (["grid", "saturation"], "grid,saturation")
    assert at.query_params["title"] == "For Ana"


@pytest.mark.parametrize(("name", "query", "named"), [
    ("runs", {"experiment": "gone,grid"}, "experiment=gone"),
    ("convergence", {"experiment": "vanished"}, "experiment=vanished"),
    ("report", {"experiment": "old"}, "experiment=old"),
], ids=["runs", "convergence", "report"])
def test_a_link_with_unknown_values_says_which_it_could_not_show(monkeypatch, small_db, name, query, named):
    at = page(monkeypatch, small_db, name, **query)
    notices = [i.value for i in at.info if "This link names" in i.value]
    assert len(notices) == 1 and named in notices[0]


def test_a_link_whose_values_all_exist_shows_no_notice(monkeypatch, small_db):
    at = page(monkeypatch, small_db, "convergence", experiment="grid", lr="0.5")
    assert not [i.value for i in at.info if "This link names" in i.value]


def test_a_chart_at_each_arms_best_rate_names_those_rates_and_how_a_verdicts_differ(monkeypatch, small_db):
    from lossdb.dashboard.widgets import TUNED

    at = page(monkeypatch, small_db, "convergence", experiment="saturation")
    at.selectbox(key="conv_lr").set_value(TUNED).run()
    notes = [c.value for c in at.caption if c.value.startswith("Drawn at the rate each arm did best")]
    assert len(notes) == 1 and "other half" in notes[0]
    assert "ce/sigmoid " in notes[0] and "mse/sigmoid " in notes[0]
