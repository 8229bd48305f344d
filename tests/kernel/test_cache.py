"""core.cache: judged verdicts kept on disk until the database (or lossdb) changes."""

from __future__ import annotations

import json
import pickle
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core import cache as verdictcache
from lossdb.core.judging.judge import judge
from lossdb.core.store import open_store

RUN = ["run", "margin", "--preset", "quick", "--epochs", "3", "--seeds", "2"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("vc") / "built.db"
    result = CliRunner().invoke(app, [*RUN, "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def db(built: Path, tmp_path: Path) -> str:
    target = tmp_path / "copy.db"
    with sqlite3.connect(built) as a, sqlite3.connect(target) as b:
        a.backup(b)
    return str(target)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("LOSSDB_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "verdicts"


def _compare(db: str) -> list[dict]:
    result = CliRunner().invoke(app, ["compare", "--format", "json", "--db", db])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _fingerprint(db: str) -> str:
    with open_store(db, create=False, read_only=True) as store:
        return store.fingerprint()


def test_a_judgement_is_kept_and_read_back_unchanged(db, cache):
    first = _compare(db)
    assert len(list(cache.glob("*.pickle"))) == 1
    assert _compare(db) == first


def test_an_unchanged_database_is_answered_from_the_cache(db, cache):
    _compare(db)
    entry = next(cache.glob("*.pickle"))
    rows = pickle.loads(entry.read_bytes())
    entry.write_bytes(pickle.dumps([replace(v, sentence="read from the cache") for v in rows]))
    assert {r["sentence"] for r in _compare(db)} == {"read from the cache"}


def test_new_runs_change_the_fingerprint_and_the_verdicts_are_recomputed(db, cache):
    before, print_before = _fingerprint(db), _compare(db)
    assert CliRunner().invoke(app, ["run", "margin", "--preset", "quick", "--epochs", "3", "--seeds", "3",
                                    "--db", db]).exit_code == 0
    assert _fingerprint(db) != before
    after = _compare(db)
    head = next(r for r in after if r["claim"] == "margin")
    assert head["n"] > next(r for r in print_before if r["claim"] == "margin")["n"]
    assert len(list(cache.glob("*.pickle"))) == 2


def test_a_deleted_run_changes_the_fingerprint(db):
    before = _fingerprint(db)
    with open_store(db) as store:
        store.delete_runs([store.list_runs()[0].id])
    assert _fingerprint(db) != before


def test_a_redone_run_changes_the_fingerprint(db):
    before = _fingerprint(db)
    assert CliRunner().invoke(app, [*RUN, "--force", "--db", db]).exit_code == 0
    assert _fingerprint(db) != before


def test_an_edited_experiment_spec_changes_the_fingerprint(db):
    before = _fingerprint(db)
    with sqlite3.connect(db) as conn:
        spec = json.loads(conn.execute("SELECT spec FROM experiments WHERE name = 'margin'").fetchone()[0])
        spec["description"] = "edited"
        conn.execute("UPDATE experiments SET spec = ? WHERE name = 'margin'", (json.dumps(spec),))
    assert _fingerprint(db) != before


def test_a_copy_elsewhere_is_a_different_store(db, tmp_path):
    other = tmp_path / "elsewhere.db"
    shutil.copy(db, other)
    assert _fingerprint(str(other)) != _fingerprint(db)


def test_a_corrupt_entry_is_recomputed_and_replaced(db, cache):
    first = _compare(db)
    entry = next(cache.glob("*.pickle"))
    entry.write_bytes(b"not a pickle")
    assert _compare(db) == first
    assert pickle.loads(entry.read_bytes())


def test_an_empty_cache_setting_turns_the_cache_off(db, tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDB_CACHE_DIR", "")
    assert verdictcache.folder() is None
    assert judge(db) and not any(tmp_path.rglob("*.pickle"))


def test_the_code_version_digests_the_core_package():
    assert len(verdictcache.code_version()) == 64 and verdictcache.code_version() == verdictcache.code_version()


def test_a_run_into_a_large_store_leaves_its_verdicts_judged(built, cache, tmp_path, monkeypatch):
    monkeypatch.setattr(verdictcache, "WARM_MIN_RUNS", 1)  # the threshold, not the behaviour, is scaled down
    db = str(tmp_path / "warm.db")
    result = CliRunner().invoke(app, [*RUN, "--db", db])
    assert result.exit_code == 0 and "Judged every claim" in result.output
    entries = sorted(cache.glob("*.pickle"))
    assert len(entries) == 2  # the verdicts and the runs frame
    _compare(db)
    assert sorted(cache.glob("*.pickle")) == entries  # compare found the run's judgement


def test_a_small_store_is_not_judged_after_a_run(cache, tmp_path):
    result = CliRunner().invoke(app, [*RUN, "--db", str(tmp_path / "small.db")])
    assert result.exit_code == 0 and "Judged every claim" not in result.output
    assert not list(cache.glob("*.pickle"))


def test_a_cached_report_keeps_its_numbers_and_takes_the_new_title(db, cache):
    from lossdb.core import report as reports

    with open_store(db, create=False, read_only=True) as store:
        first = reports.build(store, title="first")
        second = reports.build(store, title="second")
    assert second.title == "second" and first.title == "first"
    assert second.summary == first.summary and second.provenance == first.provenance
    assert len(list(cache.glob("*.pickle"))) == 2  # the verdicts and the report


def test_a_report_after_new_runs_counts_them(db, cache):
    from lossdb.core import report as reports

    with open_store(db, create=False, read_only=True) as store:
        before = reports.build(store).provenance.runs
    assert CliRunner().invoke(app, ["run", "margin", "--preset", "quick", "--epochs", "3", "--seeds", "3",
                                    "--db", db]).exit_code == 0
    with open_store(db, create=False, read_only=True) as store:
        assert reports.build(store).provenance.runs > before


def test_the_cache_keeps_the_newest_entries_within_its_size(tmp_path):
    import os

    for i, size in enumerate((400, 300, 200, 100)):  # oldest first
        entry = tmp_path / f"{i}.pickle"
        entry.write_bytes(b"x" * size)
        os.utime(entry, ns=(i * 10**9, i * 10**9))
    verdictcache.prune(tmp_path, limit=350)
    assert sorted(p.name for p in tmp_path.glob("*.pickle")) == ["2.pickle", "3.pickle"]


def test_the_newest_entry_is_kept_even_when_alone_it_is_too_large(tmp_path):
    (tmp_path / "big.pickle").write_bytes(b"x" * 1000)
    verdictcache.prune(tmp_path, limit=10)
    assert (tmp_path / "big.pickle").exists()


def test_the_kept_runs_frame_equals_the_computed_one(db, cache):
    import pandas as pd

    from lossdb.core.analysis.frame import kept_runs_frame, runs_frame

    with open_store(db, create=False, read_only=True) as store:
        computed = runs_frame(store)
        first, again = kept_runs_frame(store), kept_runs_frame(store)
    pd.testing.assert_frame_equal(first, computed)
    pd.testing.assert_frame_equal(again, computed)
    assert len(list(cache.glob("*.pickle"))) == 1


def test_the_cache_folder_is_made_for_its_owner_only(db, cache):
    _compare(db)
    assert cache.stat().st_mode & 0o077 == 0
