"""The Store facade: experiments, runs, per-epoch metrics and summaries, in one transaction per call."""

from __future__ import annotations

import json

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Engine,
    Text,
    delete,
    func,
    insert,
    null,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lossdb.core.errors import StoreError

from .engine import connection, describe
from .models import DONE_STATUSES, STATUSES, Experiment, Run, RunSummary, Series, StoreVersion
from .packing import pack, summarise
from .records import NewRun, RunRecord, checked_series, from_db, refuse_duplicates, to_utc
from .rows import CHUNK, chunks, insert_sql, record, run_row
from .series import long_frame, series_dict, series_rows, stream_long_rows, summaries_frame

if TYPE_CHECKING:
    import pandas as pd

# A run's identity inside the database: (experiment id, arm hash, seed, engine version).
Key = tuple[int, str, int, str]
# INSERT … ON CONFLICT DO UPDATE, so concurrent writers of one experiment cannot collide.
UPSERTS: dict[str, Any] = {"sqlite": sqlite_insert, "postgresql": pg_insert}


class Store:
    """A lossdb database: every method is one transaction; results are plain records."""

    def __init__(self, engine: Engine, url: str, *, read_only: bool = False) -> None:
        """Wrap an engine whose schema has been checked (use `open_store`)."""
        self.url = url
        self.read_only = read_only
        self._engine = engine

    def __enter__(self) -> Self:
        """Use the store in a `with` block that closes it."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store at the end of a `with` block."""
        self.close()

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        """An ORM Session inside one transaction that commits, or rolls back and raises StoreError."""
        with connection(self._engine, self.url, write=write) as conn, Session(bind=conn) as session:
            if write:  # every write transaction moves the store's version (the caches' fingerprint)
                session.execute(update(StoreVersion).values(version=StoreVersion.version + 1))
            yield session
            session.flush()

    def upsert_experiment(self, name: str, description: str, spec: dict[str, Any]) -> int:
        """Create the experiment or update its description and spec; returns its id. An experiment
        stored exactly so already is left alone: no write, so the store's version (the caches'
        fingerprint) does not move when a rerun has nothing new."""
        with self._session() as session:
            found = session.execute(select(Experiment.id, Experiment.description, Experiment.spec)
                                    .where(Experiment.name == name)).one_or_none()
        if found is not None and found.description == description and found.spec == json.loads(json.dumps(spec)):
            return int(found.id)
        with self._session(write=True) as session:
            dialect = session.connection().dialect.name
            if dialect not in UPSERTS:
                found = session.execute(
                    select(Experiment).where(Experiment.name == name)
                ).scalar_one_or_none()
                if found is None:
                    found = Experiment(
                        name=name, description=description, spec=spec, created_at=datetime.now(UTC)
                    )
                    session.add(found)
                found.description, found.spec = description, spec
                session.flush()
                return found.id
            stmt = UPSERTS[dialect](Experiment).values(
                name=name, description=description, spec=spec, created_at=datetime.now(UTC)
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[Experiment.name],
                set_={"description": stmt.excluded.description, "spec": stmt.excluded.spec},
            )
            return int(session.execute(stmt.returning(Experiment.id)).scalar_one())

    def experiment_spec(self, name: str) -> dict[str, Any] | None:
        """The stored spec of experiment `name`, or None if it is not stored."""
        with self._session() as session:
            return session.execute(select(Experiment.spec).where(Experiment.name == name)).scalar_one_or_none()

    def finished_keys(self, experiment: str, engine_version: str) -> set[tuple[str, int]]:
        """{(arm_hash, seed)} of the experiment's runs that finished or diverged under this engine."""
        stmt = (
            select(Run.arm_hash, Run.seed)
            .join(Experiment, Run.experiment_id == Experiment.id)
            .where(Experiment.name == experiment, Run.engine_version == engine_version)
            .where(Run.status.in_(DONE_STATUSES))
        )
        with self._session() as session:
            return {(arm, seed) for arm, seed in session.execute(stmt)}

    def runs_by_engine(self) -> dict[str, int]:
        """{engine_version: number of stored runs}, a backend's runs apart ("3", "3+torch-cuda")."""
        stmt = select(Run.engine_version, func.count()).group_by(Run.engine_version)
        with self._session() as session:
            return {str(version): int(n) for version, n in session.execute(stmt)}

    def datasets(self) -> list[str]:
        """Every distinct dataset value the stored runs trained on (a name, or csv:PATH), sorted."""
        with self._session() as session:
            return sorted(session.execute(select(Run.dataset).distinct()).scalars())

    def finished_digests(self, experiment: str, engine_version: str) -> dict[tuple[str, int], str | None]:
        """{(arm_hash, seed): data digest} of the experiment's runs that finished or diverged under
        this engine (digest None for runs stored before digests were kept)."""
        stmt = (
            select(Run.arm_hash, Run.seed, Run.data_digest)
            .join(Experiment, Run.experiment_id == Experiment.id)
            .where(Experiment.name == experiment, Run.engine_version == engine_version)
            .where(Run.status.in_(DONE_STATUSES))
        )
        with self._session() as session:
            return {(arm, seed): digest for arm, seed, digest in session.execute(stmt)}

    def save_runs(
        self, runs: Sequence[NewRun], *, replace: bool = False, skip_done: bool = False
    ) -> list[int]:
        """Store runs with their metrics and summaries in ONE transaction; returns their ids in order.

        A stored run with the same identity is replaced (keeping its id) when it did not finish
        (running, failed, interrupted) or when `replace` is true. A finished or diverged one is
        kept as it is with `skip_done` (another process got there first), and refused otherwise.
        """
        series = [checked_series(run) for run in runs]
        refuse_duplicates(runs)
        if not runs:
            return []
        with self._session(write=True) as session:
            keys, existing = self._identities(session, runs)
            ids: list[int | None] = []
            write: list[bool] = []
            for run, key in zip(runs, keys, strict=True):
                old = existing.get(key)
                done = old is not None and old[1] in DONE_STATUSES
                if done and not replace and not skip_done:
                    raise StoreError(
                        f"run (experiment {run.experiment}, arm {run.arm_hash}, seed {run.seed}, engine {run.engine_version}) "
                        f"is already stored as {old[1]}: pass --force to replace it"
                    )
                ids.append(None if old is None else old[0])
                write.append(replace or not done)
            stale = [run_id for run_id, w in zip(ids, write, strict=True) if w and run_id is not None]
            for chunk in chunks(stale):
                session.execute(
                    delete(Run).where(Run.id.in_(chunk)),
                    execution_options={"synchronize_session": False},
                )
            rows = [
                run_row(run, key[0], run_id)
                for run, key, run_id, w in zip(runs, keys, ids, write, strict=True)
                if w
            ]
            kept = [row for row in rows if row["id"] is not None]
            if kept:
                session.execute(insert(Run), kept)
            fresh = [
                {k: v for k, v in row.items() if k != "id"} for row in rows if row["id"] is None
            ]
            if fresh:
                stmt = insert(Run).returning(Run.id, sort_by_parameter_order=True)
                new_ids = iter(session.execute(stmt, fresh).scalars().all())
                ids = [run_id if run_id is not None else next(new_ids) for run_id in ids]
            final_ids = [int(run_id) for run_id in ids if run_id is not None]
            written = [(i, s) for i, s, w in zip(final_ids, series, write, strict=True) if w]
            self._insert_series(session, [i for i, _ in written], [s for _, s in written])
        return final_ids

    def mark_running(self, runs: Sequence[NewRun]) -> int:
        """Record runs about to train as `running`, without metrics; finished ones are left alone.

        A new identity gets a row; an unfinished one (failed, interrupted, running) is reset to
        running. Returns how many rows now say running.
        """
        refuse_duplicates(runs)
        with self._session(write=True) as session:
            keys, existing = self._identities(session, runs)
            now = datetime.now(UTC)
            reset = [old[0] for old in existing.values() if old[1] not in DONE_STATUSES]
            for chunk in chunks(reset):
                for table in (Series, RunSummary):  # a failed run's partial series go with it
                    session.execute(
                        delete(table).where(table.run_id.in_(chunk)),
                        execution_options={"synchronize_session": False},
                    )
                session.execute(
                    update(Run)
                    .where(Run.id.in_(chunk), Run.status.not_in(DONE_STATUSES))
                    .values(status="running", error=None, started_at=now, finished_at=None),
                    execution_options={"synchronize_session": False},
                )
            fresh = [
                {k: v for k, v in run_row(run, key[0], None).items() if k != "id"}
                for run, key in zip(runs, keys, strict=True)
                if key not in existing
            ]
            if fresh:
                session.execute(insert(Run), fresh)
        return len(reset) + len(fresh)

    def mark_interrupted(self, runs: Sequence[NewRun]) -> int:
        """Set the given runs that still say `running` to `interrupted`; returns how many changed."""
        changed = 0
        with self._session(write=True) as session:
            _, existing = self._identities(session, runs)
            running = [old[0] for old in existing.values() if old[1] == "running"]
            for chunk in chunks(running):
                result = session.execute(
                    update(Run)
                    .where(Run.id.in_(chunk), Run.status == "running")
                    .values(status="interrupted", finished_at=datetime.now(UTC)),
                    execution_options={"synchronize_session": False},
                )
                changed += result.rowcount  # type: ignore[attr-defined]
        return changed

    def _identities(
        self, session: Session, runs: Sequence[NewRun]
    ) -> tuple[list[Key], dict[Key, tuple[int, str]]]:
        """The identity keys of `runs` (experiment as id) and {key: (id, status)} of those stored."""
        experiment_ids = self._experiment_ids(session, {run.experiment for run in runs})
        keys = [
            (experiment_ids[r.experiment], r.arm_hash, int(r.seed), r.engine_version) for r in runs
        ]
        return keys, self._existing(session, keys)

    def _experiment_ids(self, session: Session, names: set[str]) -> dict[str, int]:
        """Map experiment names to ids; an unknown name is an error."""
        stmt = select(Experiment.name, Experiment.id).where(Experiment.name.in_(names))
        found = {name: exp_id for name, exp_id in session.execute(stmt)}
        missing = sorted(names - found.keys())
        if missing:
            raise StoreError(
                f"experiment {missing[0]} is no longer in {describe(self.url)} (deleted while this command ran?): "
                "run the command again to store it anew"
            )
        return found

    def _existing(self, session: Session, keys: list[Key]) -> dict[Key, tuple[int, str]]:
        """{identity: (id, status)} of stored runs among `keys`."""
        identity = tuple_(Run.experiment_id, Run.arm_hash, Run.seed, Run.engine_version)
        out: dict[Key, tuple[int, str]] = {}
        for chunk in chunks(keys, CHUNK // 4):
            stmt = select(
                Run.id, Run.experiment_id, Run.arm_hash, Run.seed, Run.engine_version, Run.status
            )
            for row in session.execute(stmt.where(identity.in_(chunk))):
                out[(row.experiment_id, row.arm_hash, row.seed, row.engine_version)] = (
                    row.id,
                    row.status,
                )
        return out

    def _insert_series(
        self, session: Session, ids: list[int], series: list[dict[str, np.ndarray]]
    ) -> None:
        """Bulk-insert packed series and their summaries through the driver's executemany."""
        series_rows_: list[tuple[int, str, int, str, bytes]] = []
        summary_rows: list[tuple[Any, ...]] = []
        for run_id, by_name in zip(ids, series, strict=True):
            for name, values in by_name.items():
                series_rows_.append((run_id, name, int(values.size), *pack(values)))
                if values.size:
                    summary_rows.append((run_id, name, *summarise(values)))
        conn = session.connection()
        for table, rows in ((Series.__table__, series_rows_), (RunSummary.__table__, summary_rows)):
            if rows:
                conn.exec_driver_sql(insert_sql(table, conn.dialect.paramstyle), rows)  # type: ignore[arg-type]

    def list_runs(
        self,
        *,
        experiment: str | None = None,
        loss: str | None = None,
        dataset: str | None = None,
        status: str | None = None,
        ids: Iterable[int] | None = None,
        extras: bool = True,
    ) -> list[RunRecord]:
        """Stored runs matching every given filter, by id, each with its summary (and its extras,
        unless extras=False leaves them empty: a verdict never reads them)."""
        conds: list[ColumnElement[bool]] = []
        for column, wanted in (
            (Experiment.name, experiment),
            (Run.loss, loss),
            (Run.dataset, dataset),
            (Run.status, status),
        ):
            if wanted is not None:
                conds.append(column == wanted)
        with self._session() as session:
            if ids is None:
                return self._records(session, conds, extras=extras)
            records: list[RunRecord] = []
            for chunk in chunks(sorted(set(ids))):
                records += self._records(session, [*conds, Run.id.in_(chunk)], extras=extras)
            return records

    def _records(
        self, session: Session, conds: list[ColumnElement[bool]], limit: int | None = None,
        extras: bool = True,
    ) -> list[RunRecord]:
        """Runs (the first `limit`, if given) matching `conds` with their summaries, ordered by id."""
        # Plain column rows, not ORM entities: building thousands of Run objects costs ~5x more.
        raw = ("config", "extras", "started_at", "finished_at")  # decoded by rows.record, faster
        columns = [null().label(c.name) if c.name == "extras" and not extras else
                   type_coerce(c, Text).label(c.name) if c.name in raw else c for c in Run.__table__.columns]
        stmt = (
            select(*columns, Experiment.name.label("experiment_name"))
            .join(Experiment, Run.experiment_id == Experiment.id)
            .where(*conds)
            .order_by(Run.id)
            .limit(limit)
        )
        found = session.connection().execute(stmt).all()
        sums = select(RunSummary.run_id, RunSummary.name, RunSummary.value)
        if limit is None:
            sums = sums.join(Run, RunSummary.run_id == Run.id).join(
                Experiment, Run.experiment_id == Experiment.id
            ).where(*conds)
        else:
            sums = sums.where(RunSummary.run_id.in_([row.id for row in found]))
        summaries: dict[int, dict[str, float]] = {}
        for run_id, name, value in session.connection().execute(sums).fetchall():
            summaries.setdefault(run_id, {})[name] = from_db(value)
        configs: dict[str, Any] = {}
        return [record(row, row.experiment_name, summaries.get(row.id, {}), configs) for row in found]

    def iter_runs(self, experiment: str | None = None, *, page: int = 500) -> Iterator[RunRecord]:
        """Every stored run (of one experiment, if given) by id, read `page` runs per transaction."""
        last = 0
        while True:
            conds: list[ColumnElement[bool]] = [Run.id > last]
            if experiment is not None:
                conds.append(Experiment.name == experiment)
            with self._session() as session:
                found = self._records(session, conds, limit=page)
            yield from found
            if len(found) < page:
                return
            last = found[-1].id

    def iter_metrics(
        self, experiment: str | None = None, *, batch: int = 20_000
    ) -> Iterator[list[tuple[int, str, int, float]]]:
        """Batches of about `batch` long rows (run_id, name, epoch, value; NaN kept) in key order,
        unpacked from one streaming query (memory stays flat however many runs)."""
        stmt = select(Series.run_id, Series.name, Series.encoding, Series.data)
        if experiment is not None:
            stmt = stmt.join(Run, Series.run_id == Run.id).join(
                Experiment, Run.experiment_id == Experiment.id
            ).where(Experiment.name == experiment)
        with connection(self._engine, self.url) as conn:
            yield from stream_long_rows(conn, stmt.order_by(Series.run_id, Series.name), batch)

    def get_run(self, run_id: int) -> RunRecord:
        """One stored run; an unknown id is an error that names it."""
        found = self.list_runs(ids=[run_id])
        if not found:
            raise StoreError(
                f"no run with id {run_id} in {describe(self.url)}: `lossdb runs` lists the stored runs"
            )
        return found[0]

    def metrics_frame(
        self, run_ids: Iterable[int], names: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Long-format metrics (columns run_id, name, epoch, value; NaN kept), sorted by those keys."""
        with connection(self._engine, self.url) as conn:
            return long_frame(series_rows(conn, [int(i) for i in run_ids], names))

    def series(self, run_ids: Iterable[int] | None, name: str) -> dict[int, np.ndarray]:
        """{run_id: float64 values of metric `name` at epochs 0..E} for those of the runs (None:
        every run) that have it."""
        return self.series_by_name(run_ids, [name]).get(name, {})

    def series_by_name(
        self, run_ids: Iterable[int] | None, names: Sequence[str]
    ) -> dict[str, dict[int, np.ndarray]]:
        """{name: {run_id: float64 series (E+1,)}} of the given metrics of the given runs (None: all)."""
        ids = None if run_ids is None else [int(i) for i in run_ids]
        with connection(self._engine, self.url) as conn:
            return series_dict(series_rows(conn, ids, names))

    def summaries(
        self, run_ids: Iterable[int] | None, names: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per run (None: every run) and metric (of `names`, if given), sorted by run_id and
        name: columns run_id, name, final, min, max, min_epoch, max_epoch, mean, epochs.

        min/max and their first epochs are over the finite values (NaN when there is none); mean
        is over every epoch 0..E (the normalised area under the curve); NaN where a value is NaN.
        """
        ids = None if run_ids is None else [int(i) for i in run_ids]
        with connection(self._engine, self.url) as conn:
            return summaries_frame(conn, ids, names)

    def metric_names(self) -> list[str]:
        """The names of every metric stored for at least one run, sorted."""
        with self._session() as session:
            return sorted(session.execute(select(RunSummary.name).distinct()).scalars())

    def experiments(self) -> list[dict[str, Any]]:
        """Stored experiments by name: name, description, spec (dict), created_at, n_runs, and
        seconds: the measured training seconds of its runs that have one (timed: how many)."""
        stmt = (
            select(
                Experiment.name, Experiment.description, Experiment.created_at, func.count(Run.id),
                Experiment.spec, func.sum(Run.wall_seconds), func.count(Run.wall_seconds),
            )
            .outerjoin(Run, Run.experiment_id == Experiment.id)
            .group_by(Experiment.id, Experiment.name, Experiment.description, Experiment.created_at)
            .order_by(Experiment.name)
        )
        with self._session() as session:
            return [
                {"name": name, "description": desc, "spec": spec or {}, "created_at": to_utc(created),
                 "n_runs": int(n), "seconds": float(seconds or 0.0), "timed": int(timed)}
                for name, desc, created, n, spec, seconds, timed in session.execute(stmt)
            ]

    def delete_runs(self, ids: Iterable[int]) -> int:
        """Delete runs (their metrics and summaries cascade); returns how many existed."""
        deleted = 0
        with self._session(write=True) as session:
            for chunk in chunks(sorted(set(ids))):
                result = session.execute(
                    delete(Run).where(Run.id.in_(chunk)),
                    execution_options={"synchronize_session": False},
                )
                deleted += result.rowcount  # type: ignore[attr-defined]
        return deleted

    def delete_experiment(self, name: str) -> int:
        """Delete an experiment and all its runs; returns the number of runs deleted."""
        with self._session(write=True) as session:
            exp_id = session.execute(
                select(Experiment.id).where(Experiment.name == name)
            ).scalar_one_or_none()
            if exp_id is None:
                raise StoreError(
                    f"no experiment named {name} in {describe(self.url)}: `lossdb runs` shows the stored ones"
                )
            n_runs = session.execute(
                select(func.count(Run.id)).where(Run.experiment_id == exp_id)
            ).scalar_one()
            session.execute(
                delete(Experiment).where(Experiment.id == exp_id),
                execution_options={"synchronize_session": False},
            )
        return int(n_runs)

    def version(self) -> tuple[str, int]:
        """(identity, version): the database's random id and the counter every write transaction bumps."""
        with self._session() as session:
            identity, version = session.execute(select(StoreVersion.identity, StoreVersion.version)).one()
        return str(identity), int(version)

    def fingerprint(self, version: tuple[str, int] | None = None) -> str:
        """A digest that changes whenever anything stored changes: the URL, the SQLite file's
        identity (device and inode), the store's (identity, version), read now or given, and the
        experiments' specs (which an edit by hand, outside lossdb, would change without a version)."""
        import hashlib
        import json

        from .engine import file_identity

        identity, count = version if version is not None else self.version()
        with self._session() as session:
            specs = session.execute(select(Experiment.name, Experiment.spec).order_by(Experiment.name)).all()
        text = json.dumps([self.url, file_identity(self.url), identity, count, [[*e] for e in specs]],
                          sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def counts(self, *, metric_rows: bool = True) -> dict[str, Any]:
        """experiments, runs, runs_by_status (every status, zeros included) and metric_rows (None
        with metric_rows=False: counting them reads every series row, ~0.4 s per 100 k runs)."""
        with self._session() as session:
            n_experiments = session.execute(
                select(func.count()).select_from(Experiment)
            ).scalar_one()
            by_status = dict.fromkeys(STATUSES, 0)
            for status, n in session.execute(select(Run.status, func.count()).group_by(Run.status)):
                by_status[status] = int(n)
            n_metrics = (
                session.execute(select(func.coalesce(func.sum(Series.epochs), 0))).scalar_one()
                if metric_rows
                else None
            )
        return {
            "experiments": int(n_experiments),
            "runs": sum(by_status.values()),
            "runs_by_status": by_status,
            "metric_rows": None if n_metrics is None else int(n_metrics),
        }
