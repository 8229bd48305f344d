"""Store benchmark: metric rows per second through Store.save_runs against bare sqlite3, then export.

Run: python -m bench.store [--runs 2000] [--epochs 100] [--metrics 12]. Prints figures; asserts nothing.
The default load is the issue's: 2,000 runs × 100 epochs × 12 metrics = 2.4 M metric rows.
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

from core.store import NewRun, open_store

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


def bench_bare(runs: list[NewRun], path: Path) -> float:
    """Seconds for sqlite3.executemany of the same metric rows into the same schema, same pragmas."""
    with open_store(str(path)) as store:
        store.upsert_experiment("bench", "store benchmark", {})
        store.mark_running([replace(r, status="running", metrics={}) for r in runs])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    ids = [row[0] for row in conn.execute("SELECT id FROM runs ORDER BY id")]
    sql = "INSERT INTO metrics (run_id, name, epoch, value) VALUES (?, ?, ?, ?)"
    start = time.perf_counter()
    for i in range(0, len(runs), BATCH):
        rows: list[tuple[int, str, int, float | None]] = []
        for run_id, run in zip(ids[i : i + BATCH], runs[i : i + BATCH], strict=True):
            for name, series in run.metrics.items():
                values = [None if v != v else v for v in series.tolist()]
                rows.extend(zip(repeat(run_id), repeat(name), range(len(values)), values))
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


EXPORT_CHILD = """
import json, resource, sys, time
from pathlib import Path
from core.store import export, open_store
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
    """Parse the load's size, run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--metrics", type=int, default=12)
    args = parser.parse_args()
    runs = synthetic_runs(args.runs, args.epochs, args.metrics)
    n_rows = args.runs * args.epochs * args.metrics
    print(f"load: {args.runs} runs × {args.epochs} epochs × {args.metrics} metrics = {n_rows:,} metric rows")
    with tempfile.TemporaryDirectory(prefix="lossdb-bench-") as folder:
        tmp = Path(folder)
        bare = bench_bare(runs, tmp / "bare.db")
        lossdb = bench_store(runs, tmp / "lossdb.db")
        print(f"bare sqlite3 executemany : {n_rows / bare:12,.0f} rows/s ({bare:.2f} s)")
        print(f"Store.save_runs          : {n_rows / lossdb:12,.0f} rows/s ({lossdb:.2f} s, "
              "with runs rows, summaries and checks)")
        print(f"ratio lossdb / bare      : {bare / lossdb:.2f}  (target ≥ 0.5)")
        del runs
        for fmt in ("csv", "jsonl"):
            figures = bench_export(tmp / "lossdb.db", tmp / f"export-{fmt}", fmt)
            grew = (figures["rss_after_kb"] - figures["rss_before_kb"]) / 1024
            print(f"export {fmt:5s}             : {figures['rows'] / figures['seconds']:12,.0f} rows/s "
                  f"({figures['seconds']:.2f} s); peak RSS {figures['rss_after_kb'] / 1024:.0f} MB, "
                  f"+{grew:.0f} MB during the export")
        print(f"database size            : {(tmp / 'lossdb.db').stat().st_size / 2**20:.0f} MB; "
              f"this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
