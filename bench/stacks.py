"""Stacking benchmark: conditions of equal shapes in one stack against one stack per condition.

Plans a preset of the catalogue, groups its runs two ways — "per condition" (the rule before: equal
data settings, network and schedule) and "equal shapes" (core.experiments.spec.RunPlan.stack_key:
conditions differing only in corruption, noise, scaling or initialisation share a stack) — and
prints how many stacks each gives. With --train it trains every run both ways on --jobs local
processes (the scheduler's units, core.runner.schedule), nothing stored, and prints the wall and
CPU seconds of each (the best of --repeat) and whether every run's metrics are bit-identical.

Run: python -m bench.stacks [--preset quick] [--train] [--jobs 2] [--repeat 2] [EXPERIMENT ...]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from lossdb.core.engine.train import RunResult, train_stack
from lossdb.core.experiments import spec as ex
from lossdb.core.experiments.spec import RunPlan
from lossdb.core.runner import execute as runner
from lossdb.core.runner.schedule import schedule


def per_condition(plans: list[RunPlan]) -> list[list[RunPlan]]:
    """One stack per experiment and full data, model and schedule settings (the rate aside)."""
    groups: dict[tuple[str, str], list[RunPlan]] = {}
    for p in plans:
        a = p.arm
        key = json.dumps({"data": a["data"], "model": a["model"],
                          "train": {k: v for k, v in a["train"].items() if k != "lr"}}, sort_keys=True)
        groups.setdefault((p.experiment, key), []).append(p)
    return list(groups.values())


def equal_shapes(plans: list[RunPlan]) -> list[list[RunPlan]]:
    """The runner's stacks merged as on an accelerator, uncut."""
    return runner.stacks(plans, 1, merge=True)


def _train(unit: list[RunPlan]) -> tuple[list[tuple[str, int]], list[RunResult], float]:
    start = time.process_time()
    results = train_stack(runner.stack_spec(unit))
    return [(p.arm_hash, p.seed) for p in unit], results, time.process_time() - start


def train_all(groups: list[list[RunPlan]], jobs: int) -> tuple[float, float, dict]:
    """Wall seconds, worker CPU seconds and {(arm hash, seed): result} of training every unit."""
    units = schedule(groups, jobs)
    out: dict[tuple[str, int], RunResult] = {}
    cpu = 0.0
    start = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        for keys, results, seconds in pool.map(_train, units):
            out.update(zip(keys, results, strict=True))
            cpu += seconds
    return time.perf_counter() - start, cpu, out


def same(a: dict, b: dict) -> bool:
    """Every run's status, epochs and metrics (wall time aside) bit-identical."""
    def one(x: RunResult, y: RunResult) -> bool:
        return x.status == y.status and x.epochs == y.epochs and all(
            np.array_equal(x.metrics[n], y.metrics[n], equal_nan=True) for n in x.metrics if n != "wall_time")

    return a.keys() == b.keys() and all(one(a[k], b[k]) for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="*", help="catalogue experiments (default: all)")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--train", action="store_true", help="train both ways and time them")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    catalogue = ex.catalogue()
    exps = [catalogue[n] for n in args.experiments] if args.experiments else list(catalogue.values())
    plans = runner.plan(exps, args.preset)
    ways = {"per condition": per_condition(plans), "equal shapes": equal_shapes(plans)}
    print(f"{args.preset} preset: {len(plans):,} runs; os.cpu_count() = {os.cpu_count()}")
    for name, groups in ways.items():
        print(f"  {name:14s} {len(groups):3d} stacks, {len(schedule(groups, args.jobs)):3d} units on {args.jobs} workers")
    if not args.train:
        return
    results = {}
    for _ in range(args.repeat):
        for name, groups in ways.items():
            wall, cpu, results[name] = train_all(groups, args.jobs)
            print(f"  {name:14s} trained in {wall:6.1f} s wall, {cpu:6.1f} s worker CPU", flush=True)
    print("  every run's metrics bit-identical both ways:", same(*results.values()))


if __name__ == "__main__":
    main()
