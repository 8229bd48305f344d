"""core.runner.Session: one `lossdb run` as an object, options in and a report out, on a real SQLite file."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
from lossdb.core.errors import ConfigError
from lossdb.core.runner import RunOptions, Session, cpu_count
from lossdb.core.store import open_store


def _session(options: RunOptions) -> tuple[Session, list[str], list[tuple[int, int]]]:
    """A session that keeps what it says and, per batch, (total, runs advanced)."""
    said: list[str] = []
    batches: list[tuple[int, int]] = []

    @contextmanager
    def training(total: int):
        done = [0]

        def advance(n: int) -> None:
            done[0] += n

        yield advance
        batches.append((total, done[0]))

    return Session(options, say=said.append, training=training), said, batches


def test_a_session_trains_stores_and_reports_then_skips_what_is_stored(tiny_experiment, db_path: Path) -> None:
    config = tiny_experiment("sess", lr="0.5", epochs=2, seeds=2, hidden="[4]")
    options = RunOptions(configs=(config,), db=str(db_path))
    session, said, batches = _session(options)
    report = session.run()
    assert (report.planned, report.to_run, report.summary.finished + report.summary.diverged) == (4, 4, 4)
    assert report.summary.failed == 0 and report.rounds is None and report.seconds > 0
    assert batches == [(4, 4)]  # the progress display saw every run
    assert said and said[0].startswith("4 runs planned in 1 experiment; 0 already stored, 4 to run on 1 worker")
    with open_store(str(db_path), read_only=True) as store:
        assert store.counts(metric_rows=False)["runs"] == 4

    again, said, batches = _session(options)
    second = again.run()
    assert (second.planned, second.to_run, second.summary.skipped, second.summary.finished) == (4, 0, 4, 0)
    assert batches == [(0, 0)]


def test_a_bad_experiment_name_is_refused_before_the_database_is_made(db_path: Path) -> None:
    session, said, batches = _session(RunOptions(experiments=("no-such-experiment",), db=str(db_path)))
    with pytest.raises(ConfigError, match="no-such-experiment"):
        session.run()
    assert not db_path.exists() and not batches


def test_jobs_beyond_the_cpus_are_capped_and_said(tiny_experiment, db_path: Path) -> None:
    cpus = cpu_count()
    config = tiny_experiment("capped", lr="0.5", epochs=1, seeds=1, hidden="[4]", arms=(("ce", "softmax"),))
    session, said, _ = _session(RunOptions(configs=(config,), jobs=cpus + 7, db=str(db_path)))
    session.run()
    assert any(s.startswith(f"--jobs {cpus + 7} is more than the") for s in said), said
