"""Seeds until decided against a fixed seed count: the same headline verdicts with how many runs?

Run: python -m bench.until_decided [--experiments margin binary ...] [--preset full] [--max-seeds 50]
     [--epochs N] [--jobs 2]. It runs the experiments twice into two fresh databases — once with
`--until-decided --max-seeds N`, once with a fixed N seeds — and prints, per headline claim, both
verdicts and the runs each needed. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return time.perf_counter() - start


def _headlines(db: str, experiments: list[str]) -> dict[str, dict]:
    args = ["compare", "--format", "json", "--db", db]
    for e in experiments:
        args += ["-e", e]
    return {r["claim"]: r for r in json.loads(CliRunner().invoke(app, args).output)}


def _runs(db: str) -> int:
    from core.store import open_store

    with open_store(db, create=False, read_only=True) as store:
        return int(store.counts()["runs"])


def main() -> None:
    """Parse the options, run both designs and print the comparison."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--experiments", nargs="+", default=["margin", "binary", "calibration", "regression"])
    p.add_argument("--preset", default="full")
    p.add_argument("--max-seeds", type=int, default=50)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args()
    common = ["run", *a.experiments, "--preset", a.preset, "--jobs", str(a.jobs)]
    if a.epochs:
        common += ["--epochs", str(a.epochs)]
    with tempfile.TemporaryDirectory() as tmp:
        seq, fixed = str(Path(tmp) / "seq.db"), str(Path(tmp) / "fixed.db")
        t_seq = _run([*common, "--until-decided", "--max-seeds", str(a.max_seeds), "--db", seq])
        t_fixed = _run([*common, "--seeds", str(a.max_seeds), "--db", fixed])
        h_seq, h_fixed = _headlines(seq, a.experiments), _headlines(fixed, a.experiments)
        n_seq, n_fixed = _runs(seq), _runs(fixed)
    print(f"experiments: {', '.join(a.experiments)}; preset {a.preset}; max seeds {a.max_seeds}"
          + (f"; {a.epochs} epochs" if a.epochs else ""))
    print(f"{'claim':<26} {'until decided':<28} {'fixed':<28}")
    same = 0
    for claim in h_fixed:
        s, f = h_seq.get(claim, {}), h_fixed[claim]
        looks = s.get("looks") or []
        at = f" at {looks[-1]['n']}" if looks else ""
        same += s.get("verdict") == f["verdict"]
        print(f"{claim:<26} {s.get('verdict', '—') + at:<28} {f['verdict']:<28}")
    print(f"same headline verdicts: {same} of {len(h_fixed)}")
    print(f"runs: until decided {n_seq}, fixed {n_fixed} ({100 * n_seq / max(n_fixed, 1):.0f}%)")
    print(f"wall time: until decided {t_seq:.1f} s, fixed {t_fixed:.1f} s")


if __name__ == "__main__":
    main()
