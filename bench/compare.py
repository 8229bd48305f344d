"""Computed-verdicts benchmark: `lossdb compare` with nothing cached, at 1× and N× a database.

Each figure is a fresh process (imports included) with LOSSDB_CACHE_DIR set empty (core.cache off:
every verdict judged): the best of --repeat wall and CPU seconds of the whole command, then where
one such process spends its CPU: the imports of the compare path, reading the runs frame, and judging
(core.judging.verdicts.evaluate). The N× database is bench.scale's (runs replicated with new seeds,
the same series: read the timings, not the verdicts).

Run: python -m bench.compare --source base.db [--factor 10] [--folder /tmp/lossdb-scale] [--repeat 3]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.scale import LOSSDB, replicate, timed

PHASES_CHILD = """
import sys, time
clock = time.process_time
start = clock()
import lossdb.cli.main
from lossdb.core.analysis.frame import runs_frame
from lossdb.core.judging import verdicts
from lossdb.core.judging.judge import claims_from, designs_of
from lossdb.core.store import open_store
imported = clock()
store = open_store(sys.argv[1], create=False, read_only=True)
stored = store.experiments()
frame = runs_frame(store, None)
read = clock()
rows = verdicts.evaluate(store, None, frame, claims_from(stored), designs_of(stored), "t")
judged = clock()
print(f"imports {imported - start:.2f} s, runs frame {read - imported:.2f} s ({len(frame):,} runs), "
      f"judging {judged - read:.2f} s ({len(rows):,} comparisons)")
"""


def figures(db: Path, repeat: int) -> None:
    """Print the cold computed compare of one database: the whole command, then its phases."""
    env = {"LOSSDB_CACHE_DIR": ""}
    runs = [timed([LOSSDB, "compare", "--db", str(db)], env) for _ in range(repeat)]
    wall, cpu = min(r[0] for r in runs), min(r[3] for r in runs)
    print(f"  {db.name}: lossdb compare, nothing cached: {wall:.2f} s wall, {cpu:.2f} s CPU (best of {repeat})")
    phases = [subprocess.run([sys.executable, "-c", PHASES_CHILD, str(db)], capture_output=True, text=True,
                             env={**os.environ, **env}, check=True).stdout.strip()
              for _ in range(repeat)]
    print(f"    CPU by phase (one process, best total): {min(phases, key=_total)}", flush=True)


def _total(line: str) -> float:
    return sum(float(part.split(" s")[0].rsplit(" ", 1)[1]) for part in line.split(", ") if " s" in part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="a lossdb SQLite database (at schema head)")
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "lossdb-scale")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    big = args.folder / f"{args.source.stem}-{args.factor}x.db"
    if not big.exists():
        start = time.perf_counter()
        replicate(args.source, big, args.factor)
        print(f"built {big} in {time.perf_counter() - start:.0f} s")
    print(f"1x: {args.source}")
    figures(args.source, args.repeat)
    print(f"{args.factor}x: {big}")
    figures(big, args.repeat)


if __name__ == "__main__":
    main()
