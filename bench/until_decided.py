"""Seeds until decided against a fixed seed count: the same headline verdicts with how many runs?

Run: python -m bench.until_decided [--experiments margin binary ...] [--preset full] [--max-seeds 50]
     [--epochs N] [--jobs 2] [--from DB] [--keep DIR]

1. Runs the experiments with `--until-decided --max-seeds N` (from a copy of `--from`, a database
   holding the preset's runs already, or from nothing).
2. Copies that database and fills it to a fixed N seeds for every condition of every experiment
   (`lossdb run --seeds N`). Training is deterministic per seed, so every run of step 1 is a run the
   fixed design makes too; only the missing ones are trained.
3. Judges the first database as the sequential design it stored and the second as a fixed design of
   N seeds (the same verdict rule without looks), and prints per headline claim both verdicts, the
   runs each design needed and their summed training time. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from lossdb.cli.main import app
from lossdb.core.experiments import spec as ex


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return time.perf_counter() - start


def _judge(db: str, experiments: list[str], sequential: bool) -> dict[str, object]:
    from lossdb.core.judging.judge import claims_of, designs_of
    from lossdb.core.store import open_store
    from lossdb.core.judging.headlines import summary
    from lossdb.core.judging.verdicts import evaluate

    with open_store(db, create=False, read_only=True) as store:
        claims = claims_of(store)
        designs = designs_of(store.experiments()) if sequential else {}
        rows = summary(evaluate(store, experiments, None, claims, designs), claims)
    return {v.claim: v for v in rows if v.experiment in experiments}


def _runs(db: str, experiments: list[str]) -> tuple[int, float]:
    from lossdb.core.store import open_store

    with open_store(db, create=False, read_only=True) as store:
        runs = [r for name in experiments for r in store.list_runs(experiment=name)]
    return len(runs), sum(r.wall_seconds or 0.0 for r in runs)


def _copy(src: str, dst: str) -> None:
    import sqlite3

    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)  # a consistent copy, WAL included


def main() -> None:
    """Parse the options, run both designs and print the comparison."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--experiments", nargs="+", default=None, help="default: the whole catalogue")
    p.add_argument("--preset", default="full")
    p.add_argument("--max-seeds", type=int, default=50)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--from", dest="start", default=None, help="a database holding the preset's runs already")
    p.add_argument("--keep", default=None, help="a folder to keep both databases in")
    a = p.parse_args()
    names = a.experiments or list(ex.catalogue())
    common = ["run", *names, "--preset", a.preset, "--jobs", str(a.jobs)]
    if a.epochs:
        common += ["--epochs", str(a.epochs)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(a.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        seq, fixed = str(folder / "seq.db"), str(folder / "fixed.db")
        for f in (seq, fixed):
            Path(f).unlink(missing_ok=True)
        if a.start:
            _copy(a.start, seq)
        t_seq = _run([*common, "--until-decided", "--max-seeds", str(a.max_seeds), "--db", seq])
        _copy(seq, fixed)
        t_fixed = _run([*common, "--seeds", str(a.max_seeds), "--db", fixed])
        h_seq, h_fixed = _judge(seq, names, True), _judge(fixed, names, False)
        (n_seq, w_seq), (n_fixed, w_fixed) = _runs(seq, names), _runs(fixed, names)
        planned = sum(ex.count(ex.catalogue()[n], a.preset, a.max_seeds, a.epochs) for n in names
                      if n in ex.catalogue())
        if a.keep:
            shutil.copy(__file__, folder / "bench_until_decided.py")
    print(f"experiments: {', '.join(names)}; preset {a.preset}; max seeds {a.max_seeds}"
          + (f"; {a.epochs} epochs" if a.epochs else "") + (f"; started from {a.start}" if a.start else ""))
    print(f"{'claim':<26} {'until decided':<34} {'fixed ' + str(a.max_seeds) + ' seeds':<28}")
    same = 0
    for claim, f in h_fixed.items():
        s = h_seq.get(claim)
        looks = s.looks if s is not None else ()
        at = f" at {looks[-1].n} seeds, look {len(looks)}" if looks else ""
        same += s is not None and s.verdict == f.verdict
        print(f"{claim:<26} {(s.verdict if s else '—') + at:<34} {f.verdict:<28}")
    print(f"same headline verdicts: {same} of {len(h_fixed)}")
    print(f"runs: until decided {n_seq}, fixed {n_fixed} of {planned} planned ({100 * n_seq / max(n_fixed, 1):.0f}%)")
    print(f"training time (sum over runs): until decided {w_seq:.0f} s, fixed {w_fixed:.0f} s")
    print(f"wall time of this bench: until decided {t_seq:.0f} s, filling to fixed {t_fixed:.0f} s")


if __name__ == "__main__":
    main()
