"""Resumable, parallel and concurrent runs: real `lossdb run` processes, real SQLite files, a real Dask cluster."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.experiments import spec as ex
from lossdb.core.runner import execute as runner
from lossdb.core.store import open_store
from tests.conftest import tiny_toml

LOSSDB = str(Path(sys.executable).parent / "lossdb")
# Four stacks (one per hidden width) of 8 runs, about half a second each.
RESUME = tiny_toml("resume", description="four stacks of about half a second each", dataset="digits",
                   hidden="[[8], [12], [16], [20]]", batch_size=64, epochs=40, arms=(("ce", "softmax"), ("mse", "sigmoid")))
N_RUNS = 32
# Eight stacks: with two workers, work is still in flight when the first stacks are stored.
RESUME_LONG = RESUME.replace("[[8], [12], [16], [20]]", "[[8], [10], [12], [14], [16], [18], [20], [22]]")
# Two stacks of 4 quick runs, for the parallel paths.
SMALL = tiny_toml("small", description="two tiny stacks", hidden="[[4], [6]]", lr="[0.5]", batch_size=32, epochs=4)


@pytest.fixture
def resume_toml(tmp_path: Path) -> Path:
    """An experiment file of four half-second stacks."""
    path = tmp_path / "resume.toml"
    path.write_text(RESUME)
    return path


@pytest.fixture
def small_toml(tmp_path: Path) -> Path:
    """An experiment file of two tiny stacks (8 runs)."""
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def content(db: str) -> dict[tuple[str, int], tuple[object, ...]]:
    """Each run's identity → status, epochs, config, extras and every metric but wall time (NaN as 'nan')."""
    with open_store(db, create=False, read_only=True) as store:
        runs = store.list_runs()
        frame = store.metrics_frame([r.id for r in runs])
    frame = frame[frame.name != "wall_time"]
    series: dict[int, list[tuple[str, int, object]]] = {}
    for run_id, name, epoch, value in frame.itertuples(index=False):
        series.setdefault(run_id, []).append((name, epoch, "nan" if math.isnan(value) else value))
    return {
        (r.arm_hash, r.seed): (r.status, r.diverged_epoch, r.epochs, r.config, r.extras, series.get(r.id))
        for r in runs
    }


def statuses(db: Path) -> list[str]:
    """The status of every run row, read with plain sqlite3 (an independent reader)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return [row[0] for row in conn.execute("SELECT status FROM runs")]
    except sqlite3.OperationalError:  # the schema is not created yet
        return []
    finally:
        conn.close()


def lossdb(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    """Start the installed `lossdb` command in its own process group."""
    return subprocess.Popen([LOSSDB, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kwargs)  # type: ignore[call-overload]


def wait_for_finished_runs(proc: subprocess.Popen[str], db: Path, at_least: int) -> None:
    """Poll the database until `at_least` runs are finished (the process must still be running)."""
    deadline = time.monotonic() + 60
    while statuses(db).count("finished") < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no stack was stored within a minute"
        time.sleep(0.01)


def integrity(db: Path) -> str:
    """PRAGMA integrity_check of a SQLite file."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_stores_every_run_once_as_an_uninterrupted_run_would(
    resume_toml: Path, tmp_path: Path
) -> None:
    killed, clean = tmp_path / "killed.db", tmp_path / "clean.db"
    proc = lossdb("run", "--config", str(resume_toml), "--db", str(killed))
    wait_for_finished_runs(proc, killed, at_least=8)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    left = statuses(killed)
    assert proc.returncode == -signal.SIGKILL and 8 <= left.count("finished") < N_RUNS
    assert set(left) <= {"finished", "running"}
    rerun = subprocess.run([LOSSDB, "run", "--config", str(resume_toml), "--db", str(killed)],
                           capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{left.count('finished')} skipped" in rerun.stdout
    subprocess.run([LOSSDB, "run", "--config", str(resume_toml), "--db", str(clean)], check=True,
                   capture_output=True)
    assert integrity(killed) == "ok"
    assert statuses(killed) == ["finished"] * N_RUNS
    assert content(str(killed)) == content(str(clean))


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_marks_the_stacks_in_flight_interrupted_and_says_how_to_resume(
    tmp_path: Path, jobs: str
) -> None:
    db, config = tmp_path / "lossdb.db", tmp_path / "long.toml"
    config.write_text(RESUME_LONG)
    proc = lossdb("run", "--config", str(config), "--db", str(db), "--jobs", jobs)
    wait_for_finished_runs(proc, db, at_least=8)
    while "running" not in statuses(db):  # a stack is in flight (not between two stacks)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "run the same command again" in stderr
    left = statuses(db)
    assert "interrupted" in left and set(left) <= {"finished", "interrupted"}, left
    with open_store(str(db), create=False, read_only=True) as store:
        interrupted = [r.id for r in store.list_runs(status="interrupted")]
        assert store.metrics_frame(interrupted).empty
    again = subprocess.run([LOSSDB, "run", "--config", str(config), "--db", str(db)],
                           capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert statuses(db) == ["finished"] * 2 * N_RUNS


def test_a_stack_that_raises_stores_its_runs_as_failed_and_the_others_go_on(
    small_toml: Path, db_path: Path
) -> None:
    exp = ex.load_file(small_toml)
    plans = runner.plan([exp])
    first, second = runner.stacks(plans)
    gone = db_path.parent / "deleted.csv"  # a file that vanished after the experiment was checked
    broken = [ex.RunPlan(p.experiment, {**p.arm, "data": {**p.arm["data"], "dataset": f"csv:{gone}"}},
                         p.arm_hash, p.seed) for p in first]
    with open_store(str(db_path)) as store:
        summary = runner.execute(store, [exp], broken + second)
        runs = store.list_runs()
        failed = [r for r in runs if r.status == "failed"]
        assert store.metrics_frame([r.id for r in failed]).empty
    assert (summary.failed, summary.finished) == (4, 4)
    assert len(failed) == 4 and all("deleted.csv" in (r.error or "") for r in failed)
    assert {r.status for r in runs if r not in failed} == {"finished"}


def test_units_for_several_workers_cover_every_run_once_longest_first_and_none_too_large(
    small_toml: Path,
) -> None:
    from lossdb.core.runner.schedule import UNIT_OVERHEAD, cost

    plans = runner.plan([ex.load_file(small_toml)], seeds=5)
    whole = runner.stacks(plans)
    split = runner.stacks(plans, workers=6)
    assert len(split) >= 2
    assert sorted((p.arm_hash, p.seed) for g in split for p in g) == sorted(
        (p.arm_hash, p.seed) for p in plans)
    assert all(len({p.stack_key for p in g}) == 1 for g in split)
    costs = [cost(g) for g in split]
    assert costs == sorted(costs, reverse=True)
    assert max(costs) <= max(sum(cost(g) for g in whole) / 6, 2 * UNIT_OVERHEAD)


def test_longest_processing_time_first_fills_workers_within_a_tenth_of_ideal() -> None:
    from lossdb.core.runner.schedule import cost, makespan, schedule

    arms = [{"data": {"dataset": "digits"}, "train": {"epochs": e, "dtype": "float32", "batch_size": b},
             "model": {"hidden": h}}
            for e, h, b in [(50, [64, 64], 32), (5, [8], 10), (20, [32], "full"), (50, [64, 64], 32), (2, [], 64)]]
    groups = [[ex.RunPlan("x", arm, f"a{i}", s) for s in range(n)]
              for i, (arm, n) in enumerate(zip(arms, (400, 30, 120, 400, 20), strict=True))]
    units = schedule(groups, 16)
    ideal = sum(cost(g) for g in groups) / 16
    assert makespan([cost(u) for u in units], 16) <= 1.1 * ideal
    assert makespan([cost(g) for g in groups], 16) > 1.5 * ideal  # what whole stacks in plan order gave
    assert sum(cost(u) for u in units) <= 1.1 * sum(cost(g) for g in groups)  # cutting costs little


def test_makespan_is_when_the_last_greedy_worker_finishes() -> None:
    from lossdb.core.runner.schedule import makespan

    assert makespan([5, 4, 3, 3, 3], 2) == 10  # 5 | 4, then 4+3 = 7, 5+3 = 8, 7+3 = 10
    assert makespan([3, 3], 4) == 3 and makespan([], 3) == 0


def test_cost_grows_with_models_epochs_and_smaller_batches() -> None:
    from lossdb.core.runner.schedule import cost

    def arm(epochs=10, batch=32, hidden=(16,)):
        return {"data": {"dataset": "digits"}, "train": {"epochs": epochs, "batch_size": batch, "dtype": "float32"},
                "model": {"hidden": list(hidden)}}

    def c(n=4, **kw):
        return cost([ex.RunPlan("x", arm(**kw), "a", s) for s in range(n)])

    assert c(8) > c(4) and c(epochs=20) > c() and c(batch=10) > c() > c(batch="full") and c(hidden=(64, 64)) > c()


def test_jobs_must_be_at_least_one(small_toml: Path, db_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--config", str(small_toml), "--db", str(db_path), "--jobs", "0"])
    assert result.exit_code == 1
    assert "--jobs must be a whole number of processes ≥ 1, got 0" in result.output
    assert not db_path.exists()


@pytest.mark.slow
def test_jobs_2_stores_the_same_numbers_as_jobs_1(small_toml: Path, tmp_path: Path) -> None:
    for jobs in ("1", "2"):
        result = CliRunner().invoke(app, ["run", "--config", str(small_toml), "--db",
                                          str(tmp_path / f"j{jobs}.db"), "--jobs", jobs, "--seeds", "3"])
        assert result.exit_code == 0, result.output
        assert "12 finished" in result.output
    assert content(str(tmp_path / "j1.db")) == content(str(tmp_path / "j2.db"))


@pytest.mark.slow
def test_dask_local_cluster_stores_the_same_numbers_as_jobs_1(small_toml: Path, tmp_path: Path) -> None:
    from distributed import LocalCluster

    args = ["run", "--config", str(small_toml), "--seeds", "3"]
    local = CliRunner().invoke(app, [*args, "--db", str(tmp_path / "local.db")])
    assert local.exit_code == 0, local.output
    with LocalCluster(n_workers=1, threads_per_worker=3, processes=False, dashboard_address=None) as cluster:
        dask = CliRunner().invoke(app, [*args, "--db", str(tmp_path / "dask.db"),
                                        "--scheduler", cluster.scheduler_address])
    assert dask.exit_code == 0, dask.output
    assert "on 3 workers" in dask.output and "12 finished" in dask.output
    assert content(str(tmp_path / "local.db")) == content(str(tmp_path / "dask.db"))


def test_an_unreachable_scheduler_is_one_sentence_and_leaves_no_database(
    small_toml: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lossdb.core.runner import executors

    monkeypatch.setattr(executors, "SCHEDULER_TIMEOUT_S", 1)
    result = CliRunner().invoke(app, ["run", "--config", str(small_toml), "--db", str(db_path),
                                      "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "Error: cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in result.output
    assert "Traceback" not in result.output and not db_path.exists()


READER = """
import sys, time, sqlite3
from lossdb.core.store import open_store
db, stop = sys.argv[1], sys.argv[2]
import os
reads = 0
while not os.path.exists(stop):
    try:
        with open_store(db, create=False, read_only=True) as store:
            store.list_runs()
        reads += 1
    except Exception as exc:
        if "does not exist" not in str(exc) and "holds no lossdb data" not in str(exc):
            raise
    time.sleep(0.01)
print(reads)
"""


@pytest.mark.slow
def test_two_concurrent_runs_and_a_reader_store_every_run_once_without_error(
    resume_toml: Path, tmp_path: Path
) -> None:
    db, stop = tmp_path / "shared.db", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writers = [lossdb("run", "--config", str(resume_toml), "--db", str(db)) for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in writers]
    stop.touch()
    reads, reader_err = reader.communicate(timeout=60)
    for w, (_out, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err
        assert "Traceback" not in err
    assert reader.returncode == 0, reader_err
    assert int(reads) > 0
    assert statuses(db) == ["finished"] * N_RUNS
    assert integrity(db) == "ok"
    assert len(content(str(db))) == N_RUNS


NOISES = """
[experiment]
name = "noises"
description = "one network on xor at two noise levels, two scalings and two initial scales"
[data]
dataset = "xor"
n_samples = 120
noise = [0.1, 0.3]
scale = ["standard", "minmax"]
[model]
hidden = [[4], [6]]
init_scale = [1.0, 0.5]
[train]
lr = 0.5
batch_size = 32
epochs = 2
seeds = 2
[[arms]]
loss = "ce"
head = "softmax"
"""


def test_conditions_that_differ_only_in_data_content_or_init_share_a_stack_and_store_their_own_digests(
    tmp_path: Path,
) -> None:
    from lossdb.core.data.fingerprint import data_digest

    plans = runner.plan([ex.parse(NOISES, "noises.toml")])
    stacks = runner.stacks(plans, merge=True)
    assert len(plans) == 32 and len(stacks) == 2  # one per hidden width: noise, scale and init_scale merge
    assert {p.arm["model"]["hidden"][0] for g in stacks for p in g} == {4, 6}
    assert all(len({p.arm["model"]["hidden"][0] for p in g}) == 1 for g in stacks)
    assert len(runner.stacks(plans)) == 16  # numpy on a CPU: one stack per condition
    backend = "array-api-strict"  # not numpy: execute merges (as on an accelerator)
    with open_store(str(tmp_path / "n.db")) as store:
        done = runner.execute(store, [ex.parse(NOISES, "noises.toml")], plans, backend=backend)
        assert done.finished + done.diverged == 32
        digests = store.finished_digests("noises", runner._engine_version(backend))
    for p in plans:
        assert digests[(p.arm_hash, p.seed)] == data_digest(ex.data_spec(p.arm))
    assert len({digests[(p.arm_hash, p.seed)] for p in plans}) == 2  # one per noise level


def test_conditions_join_a_stack_only_while_its_estimated_memory_stays_within_the_merge_budget() -> None:
    from lossdb.core.experiments import validate

    wide = tiny_toml("wide", dataset="digits", hidden="[4096]", lr="0.5", seeds=4, arms=(("ce", "softmax"),),
                     extra="").replace('dataset = "digits"\n', 'dataset = "digits"\nlabel_noise = [0.0, 0.2, 0.4]\n')
    plans = runner.plan([ex.parse(wide, "wide.toml")])
    one = validate.stack_bytes(plans[0].arm, 4)  # one condition: 4 seeds
    assert 2 * one <= runner.MERGE_BYTES < 3 * one  # two conditions fit the budget, three do not
    sizes = sorted(len(g) for g in runner.stacks(plans, merge=True))
    assert sizes == [4, 8]
