"""The store's behaviour on real databases: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from lossdb.core import ENGINE_VERSION
from lossdb.core.errors import StoreError
from lossdb.core.store import (
    DEFAULT_URL,
    NewRun,
    Store,
    current,
    head_revision,
    iter_metrics,
    iter_runs,
    mask_url,
    open_store,
    resolve_url,
)

T0 = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def make_run(
    experiment: str = "exp", arm_hash: str = "arm-ce", seed: int = 0, **changes: object
) -> NewRun:
    """A finished run with two short metric series; keyword arguments override any field."""
    run = NewRun(
        experiment=experiment,
        arm_hash=arm_hash,
        seed=seed,
        engine_version=ENGINE_VERSION,  # what a run of this lossdb stores
        config={"loss": "ce", "head": "softmax", "dataset": "digits", "lr": 0.5, "hidden": [64]},
        loss="ce",
        head="softmax",
        dataset="digits",
        lr=0.5,
        status="finished",
        error=None,
        diverged_epoch=None,
        epochs=3,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=2.5),
        wall_seconds=2.5,
        lossdb_version="0.1.0",
        numpy_version="2.4.6",
        python_version="3.11.7",
        git_commit="abc123",
        metrics={
            "train_loss": np.array([2.3, 1.0, 0.5, 0.25]),
            "test_accuracy": np.array([0.1, 0.5, 0.8, 0.9]),
        },
    )
    return dataclasses.replace(run, **changes)  # type: ignore[arg-type]


@pytest.fixture
def stored_experiment(store: Store) -> Store:
    """A store holding the empty experiment `exp`."""
    store.upsert_experiment("exp", "CE against MSE", {"arms": ["ce", "mse"]})
    return store


def sha256(path: Path) -> str:
    """The checksum of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sql_count(url: str, table: str) -> int:
    """Rows in `table`, counted with a connection of the test's own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
    finally:
        engine.dispose()


def test_new_database_is_created_at_head_and_reopens(db_url: str) -> None:
    open_store(db_url).close()
    with open_store(db_url, create=False) as reopened:
        assert reopened.counts()["runs"] == 0
    assert current(db_url) == head_revision()


def test_run_round_trips_with_every_field(stored_experiment: Store) -> None:
    run = make_run()
    (run_id,) = stored_experiment.save_runs([run])
    record = stored_experiment.get_run(run_id)
    expected = {
        f.name: getattr(run, f.name) for f in dataclasses.fields(run) if f.name != "metrics"
    }
    assert {name: getattr(record, name) for name in expected} == expected
    assert record.summary == {"train_loss": 0.25, "test_accuracy": 0.9}


def test_nan_and_infinities_round_trip_exactly(stored_experiment: Store) -> None:
    values = np.array([1.5, np.nan, np.inf, -np.inf, 0.0])
    (run_id,) = stored_experiment.save_runs(
        [make_run(status="diverged", diverged_epoch=4, metrics={"train_loss": values})]
    )
    frame = stored_experiment.metrics_frame([run_id])
    np.testing.assert_array_equal(frame["value"].to_numpy(), values)
    assert frame["value"].dtype == np.float64
    summary = stored_experiment.get_run(run_id).summary["train_loss"]
    assert summary == 0.0
    (nan_id,) = stored_experiment.save_runs(
        [make_run(seed=1, metrics={"train_loss": np.array([1.0, np.nan])})]
    )
    assert math.isnan(stored_experiment.get_run(nan_id).summary["train_loss"])


SPECIAL = {
    "float32_exact": np.array([0.5, -0.0, np.inf, 0.25, np.nan, 3.0]),
    "float64_only": np.array([0.1, 1 / 3, -np.inf, 1e300, 2.0**-1074]),
    "all_nan": np.array([np.nan, np.nan]),
}


def test_series_reads_every_value_back_bit_for_bit(stored_experiment: Store) -> None:
    (run_id,) = stored_experiment.save_runs([make_run(metrics=SPECIAL)])
    read = stored_experiment.series_by_name([run_id], list(SPECIAL))
    for name, values in SPECIAL.items():
        got = read[name][run_id]
        assert got.dtype == np.float64 and got.tobytes() == values.tobytes(), name
    assert stored_experiment.series([run_id, 999], "float64_only").keys() == {run_id}


def test_summaries_equal_the_values_recomputed_from_the_series(stored_experiment: Store) -> None:
    (run_id,) = stored_experiment.save_runs([make_run(status="diverged", metrics=SPECIAL)])
    frame = stored_experiment.summaries([run_id]).set_index("name")
    expected = {  # final, min, max, min_epoch, max_epoch, mean, epochs: by hand
        "all_nan": (np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 2),
        "float32_exact": (3.0, -0.0, 3.0, 1, 5, np.nan, 6),
        "float64_only": (2.0**-1074, 2.0**-1074, 1e300, 4, 3, -np.inf, 5),
    }
    for name, row in expected.items():
        got = tuple(frame.loc[name, ["final", "min", "max", "min_epoch", "max_epoch", "mean", "epochs"]])
        np.testing.assert_array_equal(np.array(got, dtype=float), np.array(row, dtype=float), err_msg=name)
    assert list(frame.index) == sorted(SPECIAL)


def test_summaries_of_chosen_metrics_come_one_row_per_run_and_metric(
    stored_experiment: Store,
) -> None:
    ids = stored_experiment.save_runs([make_run(seed=s) for s in range(3)])
    frame = stored_experiment.summaries(ids, ["test_accuracy"])
    assert frame["run_id"].tolist() == ids and set(frame["name"]) == {"test_accuracy"}
    assert frame["final"].tolist() == [0.9] * 3 and frame["max_epoch"].tolist() == [3] * 3
    assert frame["mean"].tolist() == [pytest.approx(0.575)] * 3
    assert stored_experiment.summaries(None, ["test_accuracy"]).equals(frame)
    assert stored_experiment.series(None, "train_loss").keys() == set(ids)


def test_metric_index_is_the_epoch_starting_at_zero(stored_experiment: Store) -> None:
    (run_id,) = stored_experiment.save_runs([make_run()])
    frame = stored_experiment.metrics_frame([run_id], names=["train_loss"])
    assert list(frame.columns) == ["run_id", "name", "epoch", "value"]
    assert frame["epoch"].tolist() == [0, 1, 2, 3]
    assert frame["value"].tolist() == [2.3, 1.0, 0.5, 0.25]


def test_numpy_scalars_in_a_run_are_stored_as_plain_numbers(stored_experiment: Store) -> None:
    run = make_run(
        seed=np.int64(3),
        lr=np.float32(0.25),
        epochs=np.int64(3),
        config={"lr": np.float32(0.25), "hidden": np.array([64, 32])},
    )
    (run_id,) = stored_experiment.save_runs([run])
    record = stored_experiment.get_run(run_id)
    assert (record.seed, record.lr, record.epochs) == (3, 0.25, 3)
    assert record.config == {"lr": 0.25, "hidden": [64, 32]}


def test_upsert_experiment_updates_and_keeps_its_id(store: Store) -> None:
    first = store.upsert_experiment("exp", "old", {"v": 1})
    second = store.upsert_experiment("exp", "new", {"v": 2})
    assert first == second
    assert [(e["name"], e["description"]) for e in store.experiments()] == [("exp", "new")]


def test_save_runs_is_atomic_when_a_run_of_the_batch_is_already_finished(
    stored_experiment: Store,
) -> None:
    stored_experiment.save_runs([make_run(seed=0)])
    with pytest.raises(StoreError, match="already stored as finished: pass --force"):
        stored_experiment.save_runs([make_run(seed=1), make_run(seed=0)])
    assert [run.seed for run in stored_experiment.list_runs()] == [0]
    assert stored_experiment.counts()["metric_rows"] == 8


def _install_failing_trigger(url: str) -> None:
    """Make the database itself reject any metric named `boom`, as a failing disk would."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON series WHEN NEW.name = 'boom' "
                "BEGIN SELECT RAISE(ABORT, 'boom refused'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.name = 'boom' THEN "
                "RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON series FOR EACH ROW EXECUTE FUNCTION boom()"
            )
    engine.dispose()


def test_save_runs_rolls_back_everything_when_the_database_fails_midway(
    stored_experiment: Store, db_url: str
) -> None:
    (kept_id,) = stored_experiment.save_runs([make_run(seed=0)])
    _install_failing_trigger(db_url)
    failing = make_run(seed=1, metrics={"train_loss": np.ones(3), "boom": np.ones(3)})
    with pytest.raises(StoreError, match="boom refused"):
        stored_experiment.save_runs(
            [make_run(seed=0, wall_seconds=9.0), make_run(seed=2), failing], replace=True
        )
    assert [(run.id, run.wall_seconds) for run in stored_experiment.list_runs()] == [(kept_id, 2.5)]
    assert stored_experiment.counts()["metric_rows"] == 8
    assert sql_count(db_url, "run_summaries") == 2


def test_replace_overwrites_a_finished_run_and_keeps_its_id(stored_experiment: Store) -> None:
    (first,) = stored_experiment.save_runs([make_run()])
    (second,) = stored_experiment.save_runs(
        [make_run(wall_seconds=7.0, metrics={"train_loss": np.zeros(2)})], replace=True
    )
    assert second == first
    (record,) = stored_experiment.list_runs()
    assert (record.wall_seconds, record.summary) == (7.0, {"train_loss": 0.0})
    assert stored_experiment.metrics_frame([first])["name"].unique().tolist() == ["train_loss"]


def test_an_interrupted_run_is_replaced_without_force(stored_experiment: Store) -> None:
    (first,) = stored_experiment.save_runs(
        [make_run(status="interrupted", finished_at=None, metrics={})]
    )
    (second,) = stored_experiment.save_runs([make_run()])
    assert second == first
    assert [run.status for run in stored_experiment.list_runs()] == ["finished"]


def test_save_runs_refuses_a_batch_holding_one_run_twice(stored_experiment: Store) -> None:
    with pytest.raises(StoreError, match="twice"):
        stored_experiment.save_runs([make_run(), make_run()])
    assert stored_experiment.list_runs() == []


def test_save_runs_refuses_an_unknown_experiment(stored_experiment: Store) -> None:
    with pytest.raises(StoreError, match="experiment nope is no longer in"):
        stored_experiment.save_runs([make_run(experiment="nope")])


def test_finished_keys_are_finished_and_diverged_runs_of_that_engine(
    stored_experiment: Store,
) -> None:
    stored_experiment.save_runs(
        [
            make_run(seed=0),
            make_run(seed=1, status="diverged", diverged_epoch=2),
            make_run(seed=2, status="failed", error="boom"),
            make_run(seed=3, status="interrupted"),
            make_run(seed=4, engine_version="e2"),
        ]
    )
    assert stored_experiment.finished_keys("exp", ENGINE_VERSION) == {("arm-ce", 0), ("arm-ce", 1)}
    assert stored_experiment.finished_keys("other", ENGINE_VERSION) == set()


def test_runs_by_engine_counts_the_stored_runs_of_each_engine_version(stored_experiment: Store) -> None:
    stored_experiment.save_runs([make_run(seed=0), make_run(seed=1), make_run(seed=0, engine_version="e2"),
                                 make_run(seed=0, engine_version="e2+torch-cuda")])
    assert stored_experiment.runs_by_engine() == {ENGINE_VERSION: 2, "e2": 1, "e2+torch-cuda": 1}


@pytest.mark.parametrize(
    ("filters", "expected_seeds"),
    [
        ({}, [0, 1, 2, 3]),
        ({"experiment": "exp2"}, [3]),
        ({"loss": "mse"}, [1]),
        ({"dataset": "wine"}, [2]),
        ({"status": "failed"}, [2]),
        ({"ids": [1, 2]}, [1, 2]),
        ({"experiment": "exp", "loss": "ce"}, [0, 2]),
    ],
    ids=["none", "experiment", "loss", "dataset", "status", "ids", "combined"],
)
def test_list_runs_filters(
    stored_experiment: Store, filters: dict[str, object], expected_seeds: list[int]
) -> None:
    stored_experiment.upsert_experiment("exp2", "", {})
    saved = stored_experiment.save_runs(
        [
            make_run(seed=0),
            make_run(seed=1, arm_hash="arm-mse", loss="mse"),
            make_run(seed=2, dataset="wine", status="failed", error="oops"),
            make_run(experiment="exp2", seed=3),
        ]
    )
    if "ids" in filters:  # positions in the saved batch
        filters = {"ids": [saved[i] for i in filters["ids"]]}  # type: ignore[attr-defined]
    assert [run.seed for run in stored_experiment.list_runs(**filters)] == expected_seeds  # type: ignore[arg-type]


def test_get_run_of_an_unknown_id_names_it(store: Store) -> None:
    with pytest.raises(StoreError, match="no run with id 42"):
        store.get_run(42)


def test_delete_runs_cascades_to_metrics_and_summaries(
    stored_experiment: Store, db_url: str
) -> None:
    ids = stored_experiment.save_runs([make_run(seed=0), make_run(seed=1)])
    assert stored_experiment.delete_runs([ids[0], 999]) == 1
    assert stored_experiment.metrics_frame([ids[0]]).empty
    assert stored_experiment.counts()["metric_rows"] == 8
    assert sql_count(db_url, "run_summaries") == 2


def test_delete_experiment_removes_its_runs_and_their_metrics(stored_experiment: Store) -> None:
    stored_experiment.save_runs([make_run(seed=0), make_run(seed=1)])
    assert stored_experiment.delete_experiment("exp") == 2
    assert stored_experiment.counts() == {
        "experiments": 0,
        "runs": 0,
        "runs_by_status": dict.fromkeys(
            ["running", "finished", "diverged", "failed", "interrupted"], 0
        ),
        "metric_rows": 0,
    }


def test_delete_experiment_of_an_unknown_name_names_it(store: Store) -> None:
    with pytest.raises(StoreError, match="no experiment named ghost"):
        store.delete_experiment("ghost")


def test_experiments_lists_names_descriptions_and_run_counts(stored_experiment: Store) -> None:
    stored_experiment.upsert_experiment("empty", "nothing yet", {})
    stored_experiment.save_runs([make_run(seed=0), make_run(seed=1)])
    listed = [(e["name"], e["description"], e["n_runs"]) for e in stored_experiment.experiments()]
    assert listed == [("empty", "nothing yet", 0), ("exp", "CE against MSE", 2)]


def test_counts_gives_runs_by_status_and_metric_rows(stored_experiment: Store) -> None:
    stored_experiment.save_runs(
        [make_run(seed=0), make_run(seed=1, status="diverged", diverged_epoch=3)]
    )
    counts = stored_experiment.counts()
    assert (counts["experiments"], counts["runs"], counts["metric_rows"]) == (1, 2, 16)
    assert (counts["runs_by_status"]["finished"], counts["runs_by_status"]["diverged"]) == (1, 1)


def test_read_only_store_reads_but_cannot_write(db_url: str) -> None:
    with open_store(db_url) as writer:
        writer.upsert_experiment("exp", "", {})
        writer.save_runs([make_run()])
    with open_store(db_url, read_only=True) as reader:
        assert len(reader.list_runs()) == 1
        with pytest.raises(StoreError, match="read-only"):
            reader.upsert_experiment("other", "", {})
        with pytest.raises(StoreError, match="read-only"):
            reader.delete_experiment("exp")
    with open_store(db_url) as writer:
        assert [e["name"] for e in writer.experiments()] == ["exp"]


def test_open_of_a_database_with_foreign_tables_raises_and_adds_nothing(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    engine.dispose()
    with pytest.raises(StoreError, match="not a lossdb store"):
        open_store(db_url)
    engine = sa.create_engine(db_url)
    assert sa.inspect(engine).get_table_names() == ["notes"]
    engine.dispose()


# --- opening things that are not (yet) a lossdb database: SQLite files --------------------------


def test_open_of_a_file_that_is_not_sqlite_raises_and_leaves_it_untouched(db_path: Path) -> None:
    db_path.write_bytes(b"name,value\nlr,0.5\n" * 100)
    before = sha256(db_path)
    with pytest.raises(StoreError, match="is not a SQLite database"):
        open_store(str(db_path))
    assert sha256(db_path) == before


def test_open_of_a_foreign_sqlite_database_raises_and_leaves_it_untouched(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.close()
    before = sha256(db_path)
    with pytest.raises(StoreError, match="not a lossdb store"):
        open_store(str(db_path))
    assert sha256(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]


def test_open_of_a_missing_file_without_create_raises_and_creates_nothing(db_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_store(str(db_path), create=False)
    assert not db_path.exists()


def test_read_only_open_of_a_missing_file_raises_and_creates_nothing(db_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_store(str(db_path), read_only=True)
    assert not db_path.exists()


def test_open_in_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder .* does not exist"):
        open_store(str(tmp_path / "absent" / "lossdb.db"))


@pytest.mark.parametrize(
    "url",
    ["notadb://x", "postgresql+psycopg://u@host:port/db", "sqlite://user@host/x.db", " "],
    ids=["unknown-backend", "bad-port", "sqlite-with-host", "blank"],
)
def test_open_of_a_malformed_url_raises_store_error(url: str) -> None:
    with pytest.raises(StoreError, match="URL|database type|empty"):
        open_store(url)


def test_open_of_an_unreachable_server_raises_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="cannot connect to") as info:
        open_store("postgresql+psycopg://lossdb:hunter2@127.0.0.1:1/lossdb")
    assert "hunter2" not in str(info.value)


def test_sqlite_database_is_in_wal_mode(db_path: Path) -> None:
    open_store(str(db_path)).close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


# --- URLs ---------------------------------------------------------------------------------------


def test_resolve_url_defaults_to_lossdb_db_in_the_current_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOSSDB_DB", raising=False)
    assert resolve_url(None) == DEFAULT_URL == "sqlite:///lossdb.db"


def test_resolve_url_reads_lossdb_db_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOSSDB_DB", "postgresql+psycopg://me@db/lossdb")
    assert resolve_url(None) == "postgresql+psycopg://me@db/lossdb"


def test_resolve_url_turns_a_path_into_an_absolute_sqlite_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_url("runs.db") == f"sqlite:///{tmp_path / 'runs.db'}"


def test_resolve_url_keeps_a_url_unchanged() -> None:
    assert resolve_url("sqlite:///rel/x.db") == "sqlite:///rel/x.db"


def test_mask_url_hides_the_password() -> None:
    assert (
        mask_url("postgresql+psycopg://me:s3cret@db:5432/lossdb")
        == "postgresql+psycopg://me:***@db:5432/lossdb"
    )
    assert mask_url("sqlite:///lossdb.db") == "sqlite:///lossdb.db"


def test_concurrent_opens_of_a_new_database_create_it_once(db_url: str) -> None:
    def open_and_save(seed: int) -> int:
        with open_store(db_url) as opened:
            opened.upsert_experiment("exp", "", {})
            return opened.save_runs([make_run(seed=seed)])[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(open_and_save, range(8)))
    assert len(set(ids)) == 8
    assert current(db_url) == head_revision()


def test_extras_round_trip_with_nan_and_infinity_as_null(stored_experiment: Store) -> None:
    extras = {"reliability": {"confidence": np.array([0.25, np.nan]), "count": [np.int64(3), 0]},
              "ece": float("inf")}
    (run_id,) = stored_experiment.save_runs([make_run(extras=extras)])
    assert stored_experiment.get_run(run_id).extras == {
        "reliability": {"confidence": [0.25, None], "count": [3, 0]}, "ece": None}


def test_a_run_without_extras_reads_back_an_empty_dict(stored_experiment: Store) -> None:
    (run_id,) = stored_experiment.save_runs([make_run()])
    assert stored_experiment.get_run(run_id).extras == {}


def test_skip_done_keeps_a_finished_run_and_stores_the_rest(stored_experiment: Store) -> None:
    (first,) = stored_experiment.save_runs([make_run(seed=0)])
    ids = stored_experiment.save_runs(
        [make_run(seed=0, wall_seconds=9.0), make_run(seed=1)], skip_done=True
    )
    assert ids[0] == first
    assert [(r.seed, r.wall_seconds) for r in stored_experiment.list_runs()] == [(0, 2.5), (1, 2.5)]
    assert stored_experiment.counts()["metric_rows"] == 16


def test_mark_running_stores_runs_without_metrics_and_leaves_finished_ones(
    stored_experiment: Store,
) -> None:
    stored_experiment.save_runs([make_run(seed=0), make_run(seed=1, status="failed", error="x")])
    marked = stored_experiment.mark_running([make_run(seed=s, status="running") for s in (0, 1, 2)])
    assert marked == 2
    assert [(r.seed, r.status, r.error) for r in stored_experiment.list_runs()] == [
        (0, "finished", None), (1, "running", None), (2, "running", None)]
    assert stored_experiment.counts()["metric_rows"] == 8


def test_mark_interrupted_changes_only_runs_that_say_running(stored_experiment: Store) -> None:
    stored_experiment.save_runs([make_run(seed=0)])
    stored_experiment.mark_running([make_run(seed=1, status="running")])
    changed = stored_experiment.mark_interrupted([make_run(seed=0), make_run(seed=1)])
    assert changed == 1
    assert [r.status for r in stored_experiment.list_runs()] == ["finished", "interrupted"]


def test_a_running_run_is_replaced_by_its_result_keeping_its_id(stored_experiment: Store) -> None:
    stored_experiment.mark_running([make_run(status="running")])
    (before,) = stored_experiment.list_runs()
    (after,) = stored_experiment.save_runs([make_run()])
    assert after == before.id
    assert stored_experiment.get_run(after).status == "finished"


def test_iter_runs_pages_through_every_run_in_id_order(
    stored_experiment: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lossdb.core.store import exports as export_module

    monkeypatch.setattr(export_module, "RUNS_PAGE", 3)
    stored_experiment.save_runs([make_run(seed=s) for s in range(7)])
    records = list(iter_runs(stored_experiment))
    assert [r.seed for r in records] == list(range(7))
    assert all(r.summary == {"train_loss": 0.25, "test_accuracy": 0.9} for r in records)


def test_iter_metrics_streams_every_value_in_key_order(stored_experiment: Store) -> None:
    stored_experiment.save_runs([make_run(seed=s) for s in range(3)])
    rows = [row for batch in iter_metrics(stored_experiment) for row in batch]
    assert len(rows) == 24 and rows == sorted(rows)


def test_concurrent_writers_of_the_same_runs_store_each_once(db_url: str) -> None:
    with open_store(db_url) as first:
        first.upsert_experiment("exp", "", {})
    runs = [make_run(seed=s) for s in range(20)]
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with open_store(db_url) as store:
                for run in runs:
                    store.mark_running([dataclasses.replace(run, status="running", metrics={})])
                    store.save_runs([run], skip_done=True)
        except BaseException as exc:  # collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with open_store(db_url) as store:
        assert [r.seed for r in store.list_runs()] == list(range(20))
        assert store.counts()["metric_rows"] == 160


def test_counts_can_leave_out_the_metric_rows_and_agree_on_the_rest(stored_experiment: Store) -> None:
    stored_experiment.save_runs([make_run(seed=s) for s in range(3)])
    full, light = stored_experiment.counts(), stored_experiment.counts(metric_rows=False)
    assert light["metric_rows"] is None and full["metric_rows"] > 0
    assert {k: v for k, v in light.items() if k != "metric_rows"} == {k: v for k, v in full.items() if k != "metric_rows"}


def test_the_fingerprint_moves_with_every_write_and_only_then(stored_experiment: Store) -> None:
    store = stored_experiment
    seen = [store.fingerprint()]
    store.save_runs([make_run(seed=s) for s in range(2)])
    seen.append(store.fingerprint())
    assert store.fingerprint() == seen[-1]  # reading changes nothing
    store.save_runs([make_run(seed=0, finished_at=T0 + timedelta(seconds=9))], replace=True)
    seen.append(store.fingerprint())
    store.delete_runs([store.list_runs()[0].id])
    seen.append(store.fingerprint())
    store.upsert_experiment("exp", "CE against MSE", {"arms": ["ce", "mse"], "edited": True})
    seen.append(store.fingerprint())
    assert len(set(seen)) == len(seen)
