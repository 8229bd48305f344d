"""The dashboard never shows a database it no longer reads: the store version and the SQLite
file's identity are compared on every rerun (SQLite and PostgreSQL, through AppTest)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lossdb.core.store import Store, open_store

from ..store.test_store import make_run

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"

pytestmark = pytest.mark.slow  # each AppTest run takes a few seconds


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def _fill(store: Store, experiment: str, n: int = 3) -> None:
    store.upsert_experiment(experiment, f"experiment {experiment}", {"arms": ["ce", "mse"]})
    store.save_runs([make_run(experiment, seed=s) for s in range(n)])


def _runs_page(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("LOSSDB_DB", url)
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/runs.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _experiments(at: AppTest) -> set[str]:
    return set(at.dataframe[0].value["experiment"])


def test_an_experiment_deleted_and_replaced_by_one_of_equal_size_shows_on_the_next_rerun(
        monkeypatch, db_url: str) -> None:
    with open_store(db_url) as store:
        _fill(store, "A")
    at = _runs_page(monkeypatch, db_url)
    assert _experiments(at) == {"A"}
    with open_store(db_url) as store:
        store.delete_experiment("A")
        _fill(store, "B")
    at.run()
    assert not at.exception
    assert _experiments(at) == {"B"}


def test_another_database_moved_over_the_file_is_read_on_the_next_rerun(monkeypatch, tmp_path: Path) -> None:
    shown, other = tmp_path / "lossdb.db", tmp_path / "other.db"
    for path, name in ((shown, "A"), (other, "B")):
        with open_store(str(path)) as store:
            _fill(store, name)
    at = _runs_page(monkeypatch, str(shown))
    assert _experiments(at) == {"A"}
    os.replace(other, shown)  # `mv other.db lossdb.db` while the dashboard runs
    at.run()
    assert not at.exception
    assert _experiments(at) == {"B"}


@pytest.fixture(scope="module")
def one_experiment_db(tmp_path_factory) -> Path:
    """Real runs of the convergence and saturation experiments (1 seed, 2 epochs): charts to draw."""
    from typer.testing import CliRunner

    from lossdb.cli.main import app

    db = tmp_path_factory.mktemp("links") / "q.db"
    for name in ("convergence", "saturation"):
        result = CliRunner().invoke(app, ["run", name, "--seeds", "1", "--epochs", "2", "--db", str(db)])
        assert result.exit_code == 0, result.output
    return db


@pytest.mark.parametrize(("page", "query", "shown"), [("convergence", {"smooth": "99"}, 25),
                                                      ("gradients", {"smooth": "-3"}, 1)])
def test_a_link_with_a_value_outside_its_widget_is_clamped_with_a_notice(
        monkeypatch, one_experiment_db: Path, page: str, query: dict, shown: int) -> None:
    monkeypatch.setenv("LOSSDB_DB", str(one_experiment_db))
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    sliders = [s for s in at.slider if s.key and s.key.endswith("_smooth")]
    assert len(sliders) == 1 and sliders[0].value == shown
    assert any("outside 1–25" in i.value for i in at.info)


def test_a_link_with_impossible_values_falls_back_without_an_error(monkeypatch, one_experiment_db):
    query = {"band": "zzz", "run": "999999", "smooth": "nan", "log": "maybe"}
    monkeypatch.setenv("LOSSDB_DB", str(one_experiment_db))
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    for page in ("convergence", "runs"):
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.query_params.update(query)
        at.run()
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not at.exception, (page, at.exception)


def test_verdicts_from_a_frame_read_before_a_change_are_never_filed_under_the_new_state(
        monkeypatch, tmp_path: Path) -> None:
    from lossdb.core import cache as verdictcache
    from lossdb.dashboard import loaders

    cache = tmp_path / "cache"
    monkeypatch.setenv("LOSSDB_CACHE_DIR", str(cache))
    db = tmp_path / "lossdb.db"
    url = f"sqlite:///{db}"
    with open_store(url) as store:
        _fill(store, "A")
    old = loaders.token(url)
    loaders.runs(url, old)  # the frame of state A, kept under A's fingerprint
    with open_store(url) as store:
        store.delete_experiment("A")
        _fill(store, "B")
    kept = set((cache / "verdicts").glob("*.json"))
    loaders.verdicts(url, old)  # a rerun that started before the change: computed from A's frame
    assert set((cache / "verdicts").glob("*.json")) == kept  # nothing filed, under either state
    new = loaders.token(url)
    assert new != old
    with open_store(url, create=False, read_only=True) as store:
        fresh = verdictcache.key(store.fingerprint(), ("runs_frame",))
    assert not (cache / "verdicts" / f"{fresh}.json").exists()
    assert set(loaders.runs(url, new)["experiment"]) == {"B"}
