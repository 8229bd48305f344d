"""Store benchmark: metric values per second through Store.save_runs against bare sqlite3 inserting
the long format, the size of each, then export; and, with --layouts DB, the size each candidate
layout of the per-epoch series would take for the series of a real database.

Run: python -m bench.store [--runs 2000] [--epochs 100] [--metrics 12]
     python -m bench.store --layouts lossdb.db     (e.g. after `lossdb run --preset quick`)
Prints figures; asserts nothing. The default load is 2,000 runs × 100 epochs × 12 metrics = 2.4 M values.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path

import numpy as np

from lossdb.core.store import NewRun, open_store

BATCH = 50  # runs per save_runs call, about one stack of a quick experiment


def synthetic_runs(n_runs: int, epochs: int, n_metrics: int) -> list[NewRun]:
    """`n_runs` finished runs of `n_metrics` random series with `epochs` values each (some NaN)."""
    rng = np.random.default_rng(0)
    now = datetime.now(UTC)
    base = NewRun(
        experiment="bench", arm_hash="", seed=0, engine_version="bench", config={"loss": "ce"},
        loss="ce", head="softmax", dataset="digits", lr=0.1, status="finished", error=None,
        diverged_epoch=None, epochs=epochs, started_at=now, finished_at=now, wall_seconds=1.0,
        lossdb_version="bench", numpy_version=np.__version__, python_version=sys.version.split()[0],
        git_commit=None,
    )  # fmt: skip
    runs = []
    for i in range(n_runs):
        values = rng.random((n_metrics, epochs))
        values[0, -1] = np.nan
        metrics = {f"metric_{m:02d}": values[m] for m in range(n_metrics)}
        runs.append(replace(base, arm_hash=f"arm{i % 40}", seed=i // 40, metrics=metrics))
    return runs


def bench_store(runs: list[NewRun], path: Path) -> float:
    """Seconds to store every run (runs, metrics, summaries) through Store.save_runs in stacks."""
    with open_store(str(path)) as store:
        store.upsert_experiment("bench", "store benchmark", {})
        start = time.perf_counter()
        for i in range(0, len(runs), BATCH):
            store.save_runs(runs[i : i + BATCH])
        return time.perf_counter() - start


LONG_TABLE = ("CREATE TABLE metrics (run_id INTEGER, name VARCHAR(64), epoch INTEGER, value FLOAT, "
              "PRIMARY KEY (run_id, name, epoch)) WITHOUT ROWID")


def long_rows(run_id: int, series: dict[str, np.ndarray]) -> list[tuple[int, str, int, float | None]]:
    """The long-format rows of one run's series (NULL for NaN, as schema 0002 stored them)."""
    rows: list[tuple[int, str, int, float | None]] = []
    for name, values in series.items():
        listed = [None if v != v else v for v in values.tolist()]
        rows.extend(zip(repeat(run_id), repeat(name), range(len(listed)), listed))
    return rows


def bench_bare(runs: list[NewRun], path: Path) -> float:
    """Seconds for sqlite3.executemany of the same values as long rows (schema 0002's layout)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(LONG_TABLE)
    sql = "INSERT INTO metrics (run_id, name, epoch, value) VALUES (?, ?, ?, ?)"
    start = time.perf_counter()
    for i in range(0, len(runs), BATCH):
        rows = [row for j, run in enumerate(runs[i : i + BATCH], start=i) for row in long_rows(j, run.metrics)]
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return elapsed


def layout_sizes(db: str) -> dict[str, float]:
    """MB each candidate layout takes for every series of `db` (each built alone, then VACUUMed)."""
    import zlib

    from lossdb.core.store import open_store as open_db
    from lossdb.core.store.packing import pack

    with open_db(db, create=False, read_only=True) as store:
        ids = [r.id for r in store.list_runs()]
        by_name = store.series_by_name(ids, store.metric_names())
    names = sorted(by_name)
    per_run: dict[int, dict[str, np.ndarray]] = {}
    for name in names:
        for run_id, values in by_name[name].items():
            per_run.setdefault(run_id, {})[name] = values
    layouts = {
        "long, name text, WITHOUT ROWID (schema 0002)": (LONG_TABLE, lambda r, s: long_rows(r, s)),
        "long, integer metric id, WITHOUT ROWID": (
            "CREATE TABLE m (run_id INTEGER, metric INTEGER, epoch INTEGER, value FLOAT, "
            "PRIMARY KEY (run_id, metric, epoch)) WITHOUT ROWID",
            lambda r, s: [(a, names.index(b), c, d) for a, b, c, d in long_rows(r, s)]),
        "packed float64, WITHOUT ROWID": (
            "CREATE TABLE p (run_id INTEGER, name TEXT, data BLOB, PRIMARY KEY (run_id, name)) WITHOUT ROWID",
            lambda r, s: [(r, n, v.tobytes()) for n, v in s.items()]),
        "packed float64, rowid table": (
            "CREATE TABLE p (run_id INTEGER, name TEXT, data BLOB, PRIMARY KEY (run_id, name))",
            lambda r, s: [(r, n, v.tobytes()) for n, v in s.items()]),
        "packed float32 when exact else float64, rowid table": (
            "CREATE TABLE p (run_id INTEGER, name TEXT, data BLOB, PRIMARY KEY (run_id, name))",
            lambda r, s: [(r, n, pack(v)[1] if not pack(v)[0].endswith("z") else
                           zlib.decompress(pack(v)[1])) for n, v in s.items()]),
        "the same, zlib when smaller (chosen: schema 0003)": (
            "CREATE TABLE p (run_id INTEGER, name TEXT, data BLOB, PRIMARY KEY (run_id, name))",
            lambda r, s: [(r, n, pack(v)[1]) for n, v in s.items()]),
    }
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="lossdb-layouts-") as folder:
        for i, (label, (ddl, rows_of)) in enumerate(layouts.items()):
            path = Path(folder) / f"{i}.db"
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute(ddl)
            table = ddl.split()[2]
            conn.execute("BEGIN")
            for run_id, series in per_run.items():
                rows = rows_of(run_id, series)
                conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
            conn.execute("COMMIT")
            conn.execute("VACUUM")
            conn.close()
            out[label] = path.stat().st_size / 2**20
    return out


EXPORT_CHILD = """
import json, resource, sys, time
from pathlib import Path
from lossdb.core.store import export, open_store
store = open_store(sys.argv[1], create=False, read_only=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = export(store, Path(sys.argv[2]), sys.argv[3])
elapsed = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": result.metric_rows, "runs": result.runs, "seconds": elapsed,
                  "rss_before_kb": before, "rss_after_kb": after}))
"""


def bench_export(db: Path, out: Path, fmt: str) -> dict[str, float]:
    """Export in a fresh process: seconds, rows and its peak resident memory before and after."""
    done = subprocess.run([sys.executable, "-c", EXPORT_CHILD, str(db), str(out), fmt],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    """Parse the load's size, run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=12)
    parser.add_argument("--layouts", metavar="DB", help="size each series layout for this database's series")
    args = parser.parse_args()
    if args.layouts:
        values = 0
        with open_store(args.layouts, create=False, read_only=True) as store:
            values = store.counts()["metric_rows"]
        print(f"series of {args.layouts}: {values:,} values")
        for label, mb in layout_sizes(args.layouts).items():
            print(f"{label:<55} {mb:7.1f} MB  {mb * 2**20 / values:5.1f} bytes a value")
        return
    runs = synthetic_runs(args.runs, args.epochs, args.metrics)
    n_rows = args.runs * args.epochs * args.metrics
    print(f"load: {args.runs} runs × {args.epochs} epochs × {args.metrics} metrics = {n_rows:,} values")
    with tempfile.TemporaryDirectory(prefix="lossdb-bench-") as folder:
        tmp = Path(folder)
        bare = bench_bare(runs, tmp / "bare.db")
        lossdb = bench_store(runs, tmp / "lossdb.db")
        print(f"bare sqlite3 executemany, long rows : {n_rows / bare:12,.0f} values/s ({bare:.2f} s); "
              f"{(tmp / 'bare.db').stat().st_size / 2**20:.0f} MB")
        print(f"Store.save_runs, packed series      : {n_rows / lossdb:12,.0f} values/s ({lossdb:.2f} s, "
              f"with runs rows, summaries and checks); {db_mb(tmp / 'lossdb.db'):.0f} MB")
        print(f"ratio lossdb / bare                 : {bare / lossdb:.2f}  (target ≥ 0.5)")
        del runs
        for fmt in ("csv", "jsonl"):
            figures = bench_export(tmp / "lossdb.db", tmp / f"export-{fmt}", fmt)
            grew = (figures["rss_after_kb"] - figures["rss_before_kb"]) / 1024
            print(f"export {fmt:5s}                        : {figures['rows'] / figures['seconds']:12,.0f} rows/s "
                  f"({figures['seconds']:.2f} s); peak RSS {figures['rss_after_kb'] / 1024:.0f} MB, "
                  f"+{grew:.0f} MB during the export")
        print(f"this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
              "(random values: they compress worse than real curves)")


def db_mb(path: Path) -> float:
    """MB of a SQLite database with its WAL."""
    wal = path.with_name(path.name + "-wal")
    return (path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 2**20


if __name__ == "__main__":
    main()
