"""The store version: a counter every write transaction bumps, with a random identity per database,
which is the caches' fingerprint and the dashboard's change token (migration 0004)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

from lossdb.core.store import Store, head_revision, open_store, upgrade

from .test_migrations import SAVED
from .test_store import make_run


def _replace_with_an_experiment_of_equal_size(store: Store) -> None:
    store.delete_experiment("A")
    store.upsert_experiment("B", "the other", {"arms": ["ce", "mse"]})
    store.save_runs([make_run("B", seed=s) for s in range(3)])


def test_every_write_transaction_bumps_the_version(store: Store) -> None:
    identity, first = store.version()
    uuid.UUID(identity)  # a real random id
    store.upsert_experiment("A", "d", {})
    store.save_runs([make_run("A", seed=0)])
    store.delete_runs([store.list_runs()[0].id])
    assert store.version() == (identity, first + 3)
    store.list_runs()  # reads move nothing
    assert store.version() == (identity, first + 3)


def test_delete_and_replace_of_equal_size_changes_the_fingerprint(store: Store) -> None:
    store.upsert_experiment("A", "one", {"arms": ["ce", "mse"]})
    store.save_runs([make_run("A", seed=s) for s in range(3)])
    before, counts = store.fingerprint(), store.counts()
    _replace_with_an_experiment_of_equal_size(store)
    assert store.counts() == counts  # the counts the dashboard used to compare are all equal
    assert store.fingerprint() != before


def test_another_database_moved_over_the_file_is_a_different_store(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for path in (a, b):
        with open_store(str(path)) as s:
            s.upsert_experiment("A", "same", {})
    with open_store(str(a), create=False, read_only=True) as s:
        before = s.fingerprint()
    os.replace(b, a)  # `mv b.db a.db`: same path, same size and version, another database
    with open_store(str(a), create=False, read_only=True) as s:
        assert s.fingerprint() != before


def test_each_new_database_gets_its_own_identity(tmp_path: Path) -> None:
    ids = set()
    for name in ("x.db", "y.db"):
        with open_store(str(tmp_path / name)) as s:
            ids.add(s.version()[0])
    assert len(ids) == 2


@pytest.mark.parametrize("revision", sorted(SAVED))
def test_saved_databases_upgrade_to_a_versioned_store(revision: str, tmp_path: Path) -> None:
    db = tmp_path / f"schema_{revision}.db"
    shutil.copyfile(SAVED[revision], db)
    assert upgrade(str(db))[1] == head_revision()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id, version FROM store_version").fetchall() == [(1, 1)]
    with open_store(str(db), create=False) as s:
        runs = s.list_runs()
        assert runs
        s.delete_runs([runs[0].id])
        assert s.version()[1] == 2


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_run_refuses_an_in_memory_database_before_training(url: str) -> None:
    from typer.testing import CliRunner

    from lossdb.cli.main import app

    for args in (["run", "margin", "--preset", "quick", "--epochs", "1", "--seeds", "1"], ["compare"], ["runs"]):
        result = CliRunner().invoke(app, [*args, "--db", url])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: an in-memory database (sqlite://) keeps nothing")
        assert "finished" not in result.output and "lossdb run --db sqlite" not in result.output


def test_storing_an_experiment_exactly_as_stored_moves_no_version(store: Store) -> None:
    store.upsert_experiment("same", "a description", {"arms": [{"loss": "ce"}], "lr": [0.1, 0.5]})
    before = store.version()
    store.upsert_experiment("same", "a description", {"arms": [{"loss": "ce"}], "lr": [0.1, 0.5]})
    assert store.version() == before  # a rerun with nothing new keeps every cache entry valid
    store.upsert_experiment("same", "a description", {"arms": [{"loss": "mse"}], "lr": [0.1, 0.5]})
    assert store.version()[1] > before[1]
