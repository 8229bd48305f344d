"""Scale benchmark: lossdb at 1× and N× (default 10×) a real database, e.g. the full preset's.

The N× database is the source's runs REPLICATED: copy k gets every run again with seed + k·1000
and the very same series, runs rows and summaries (copied in SQL, so building 77 k runs takes a
minute, not an hour of training). Sizes, reads and renders are faithful; the verdicts' statistics
are not (copies of the same seeds are not independent), so read the timings, not the verdicts.

Each measurement runs in a fresh process (whole command, imports included), the median of
--repeat runs of its wall and CPU seconds (CPU is the fairer figure on a busy machine), with that
process's peak resident memory, twice: "computed" with no cache (every verdict judged, every chart
rendered) and "cached" after one earlier run filled $LOSSDB_CACHE_DIR (core.cache; what a
user sees after `lossdb run`, which judges a large store once it has trained):
  compare      `lossdb compare`
  summary      the dashboard's Summary page, cold (a new process, empty caches), through AppTest
  report-FMT   `lossdb report --format FMT` (the chart cache off: every chart rendered)
  reads        what a verdict pass reads: every summary, and every series the claims' measures
               need, through Store.series against metrics_frame (how verdicts._Curves reads today)

Run: python -m bench.scale --source full.db [--factor 10] [--folder /tmp/lossdb-scale] [--repeat 5]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lossdb.core.store import open_store

SEED_STRIDE = 1000
LOSSDB = str(Path(sys.executable).parent / "lossdb")
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
SUMMARY_CHILD = """
import os, sys, time
from streamlit.testing.v1 import AppTest
start = time.perf_counter()
at = AppTest.from_file(sys.argv[1], default_timeout=900)
at.run()
assert not at.exception, at.exception
print(f"{time.perf_counter() - start:.3f}")
"""
READS_CHILD = """
import sys, time
import numpy as np
import pandas  # imported before the clock starts, as every caller has it already
from lossdb.core.judging.claims import CLAIMS
from lossdb.core.store import open_store
store = open_store(sys.argv[1], create=False, read_only=True)
runs = list(store.iter_runs())
by_experiment = {}
for r in runs:
    by_experiment.setdefault(r.experiment, []).append(r.id)
needed = set()  # (experiment, metric) series the verdicts read (every measure but final values)
for claim in CLAIMS.values():
    for t in claim.tests:
        if t.measure.kind not in ("final", "analytic"):
            needed |= {(t.experiment, m) for m in (t.measure.metric, getattr(t.measure, "select", None)) if m}

def long_way(ids, metric):  # what verdicts._Curves does today
    frame = store.metrics_frame(ids, [metric])
    run_ids = frame["run_id"].to_numpy()
    starts = np.flatnonzero(np.diff(run_ids)) + 1
    values = np.split(frame["value"].to_numpy(dtype=np.float64), starts)
    firsts = run_ids[np.concatenate(([0], starts))] if len(run_ids) else []
    return {int(r): v for r, v in zip(firsts, values)}

out = []
ids = [r.id for r in runs]
start = time.perf_counter()
frame = store.summaries(ids)
out.append(f"every summary: {time.perf_counter() - start:.2f} s ({len(frame):,} rows)")
for label, read in (("series", store.series), ("metrics_frame", long_way)):
    start = time.perf_counter()
    n = sum(len(read(by_experiment.get(e, []), m)) for e, m in sorted(needed))
    out.append(f"the verdicts' {len(needed)} series via {label}: {time.perf_counter() - start:.2f} s ({n:,} run series)")
print("; ".join(out))
"""


def replicate(source: Path, target: Path, factor: int) -> None:
    """Copy `source` to `target` with every run, its series and summaries `factor` times in all."""
    shutil.copyfile(source, target)
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        top = conn.execute("SELECT max(id) FROM runs").fetchone()[0] or 0
        columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
        others = ", ".join(c for c in columns if c not in ("id", "seed"))
        conn.execute("BEGIN")
        for k in range(1, factor):
            conn.execute(
                f"INSERT INTO runs (id, seed, {others}) SELECT id + {k * top}, seed + {k * SEED_STRIDE}, "
                f"{others} FROM runs WHERE id <= {top}"
            )
            for table in ("series", "run_summaries"):
                cols = [row[1] for row in conn.execute(f"PRAGMA table_info({table})") if row[1] != "run_id"]
                conn.execute(
                    f"INSERT INTO {table} (run_id, {', '.join(cols)}) SELECT run_id + {k * top}, "
                    f"{', '.join(cols)} FROM {table} WHERE run_id <= {top}"
                )
        conn.execute("COMMIT")
    finally:
        conn.close()


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, float]:
    """(seconds, peak RSS in MB, last line of stdout, CPU seconds) of one command in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *command], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    peak_kb, user, system = (float(x) for x in done.stderr.strip().splitlines()[-1].split())
    lines = done.stdout.strip().splitlines()
    return seconds, peak_kb / 1024, lines[-1] if lines else "", user + system


def measure(db: Path, repeat: int, folder: Path, only: tuple[str, ...] = (),
            modes: tuple[str, ...] = ("computed", "cached")) -> dict[str, tuple[float, float, str]]:
    """{measurement: (median seconds, max peak MB, note)} for one database."""
    plans = {
        "compare": [LOSSDB, "compare", "--db", str(db)],
        "summary page cold (AppTest)": [sys.executable, "-c", SUMMARY_CHILD, str(APP)],
        **{f"report {fmt}": [LOSSDB, "report", "--force", "--format", fmt, "--out", str(folder / f"report.{fmt}"),
                             "--db", str(db)] for fmt in ("html", "md", "json", "pdf")},
        "reads": [sys.executable, "-c", READS_CHILD, str(db)],
    }
    cache = folder / f"cache-{db.stem}"
    shutil.rmtree(cache, ignore_errors=True)
    out = {}
    for name, command in plans.items():
        if only and not name.startswith(only):
            continue
        # computed: no cache at all (every verdict judged, every chart rendered); cached: the
        # verdicts and charts kept by one earlier run of the same command on the same database
        modes_of = (("", "computed"),) if name == "reads" else (("", "computed"), (str(cache), "cached"))
        for setting, mode in [(setting, mode) for setting, mode in modes_of if mode in modes or name == "reads"]:
            env = {"LOSSDB_DB": str(db), "LOSSDB_CACHE_DIR": setting}
            if setting:
                timed(command, env)  # fills the cache; not counted
            runs = [timed(command, env) for _ in range(1 if name == "reads" else repeat)]
            page = name.startswith("summary")  # its child times AppTest's run itself
            seconds = statistics.median(float(r[2]) if page else r[0] for r in runs)
            cpu = statistics.median(r[3] for r in runs)
            label = name if name == "reads" else f"{name}, {mode}"
            out[label] = (seconds, max(r[1] for r in runs), runs[-1][2] if name == "reads" else "")
            print(f"  {label:<40} {seconds:7.2f} s  (CPU {cpu:6.2f} s)  peak {out[label][1]:6.0f} MB   "
                  f"{out[label][2]}", flush=True)
    return out


def main() -> None:
    """Build the N× database next to the source and print the figures of both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="a lossdb SQLite database (e.g. the full preset)")
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "lossdb-scale")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[], help="measurements starting with these words")
    parser.add_argument("--modes", nargs="*", default=["computed", "cached"])
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    big = args.folder / f"scale-{args.factor}x.db"
    if not big.exists():
        start = time.perf_counter()
        replicate(args.source, big, args.factor)
        print(f"built {big} in {time.perf_counter() - start:.0f} s")
    for label, db in (("1×", args.source), (f"{args.factor}×", big)):
        with open_store(str(db), create=False, read_only=True) as store:
            counts = store.counts()
        print(f"{label}: {db} — {counts['runs']:,} runs, {counts['metric_rows']:,} values, "
              f"{db.stat().st_size / 2**20:.0f} MB (median of {args.repeat}; peak RSS of the process)")
        measure(db, args.repeat, args.folder, tuple(args.only), tuple(args.modes))


if __name__ == "__main__":
    main()
