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


@pytest.mark.parametrize("host", ["", "  ", "example.com", "my-laptop", "0"])
def test_a_host_that_is_not_an_address_is_refused_before_serving(tmp_path: Path, host: str) -> None:
    from typer.testing import CliRunner

    from lossdb.cli.main import app

    db = tmp_path / "d.db"
    with open_store(str(db)) as store:
        _fill(store, "A")
    result = CliRunner().invoke(app, ["dashboard", "--host", host, "--db", str(db)])
    assert result.exit_code == 1 and "is not an IP address" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_loopback_is_quiet_and_any_other_address_warns_that_the_data_is_readable() -> None:
    from lossdb.cli.commands_dashboard import exposure

    assert exposure("127.0.0.1", 8501) is None and exposure("localhost", 8501) is None and exposure("::1", 1) is None
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        warning = exposure(host, 8502)
        assert warning is not None and "anyone who can reach that port can read" in warning and "8502" in warning
