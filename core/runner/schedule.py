"""The order and size of the units (stacks) workers train: longest first, large stacks cut so that
no worker idles at the end (longest-processing-time-first with a cap on a unit's share).

A model's numbers depend only on its own seed and settings, never on its stack-mates (the
engine's products are per model; tests/engine pins this), so a stack may be cut anywhere.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from lossdb.core.experiments import validate
from lossdb.core.experiments.spec import RunPlan

# Units per worker the cap may aim at: enough that the last units are short, few enough that each
# stack is still large enough for its array operations to amortise the per-call cost.
UNIT_CHOICES = (2, 3, 4, 6, 8, 12, 16)
TAIL_HALVINGS = 3  # how many times the last units may be cut again
# The cost model, in seconds of one core of the (shared, loaded) 2-core development machine, fitted
# by hand to the quick preset's stacks to within 2x for most; only its ratios matter here: a fixed cost per unit (preparing its data, shipping
# its results), per optimiser step (numpy's per-call cost, ~40 calls) and per model and step, the
# arithmetic (6 multiply-adds per parameter and training sample), and each epoch's evaluation.
UNIT_OVERHEAD = 0.05
PER_STEP = 2e-4
PER_MODEL_STEP = 1e-5
PER_FLOP = 2.2e-10
PER_EVAL = 2e-3
PER_EVAL_SAMPLE = 5e-8  # per model and sample: losses and metrics on train, validation and test
TRAIN_SHARE = 0.6  # the default split: 20% test, 20% validation


def cost(group: Sequence[RunPlan]) -> float:
    """Estimated seconds of training these runs as one stack on one core."""
    arm = group[0].arm
    K, samples, params = len(group), _samples(arm), _params(arm)
    n_train = max(1, round(samples * TRAIN_SHARE))
    batch = arm["train"]["batch_size"]
    epochs = int(arm["train"]["epochs"])
    steps = epochs * -(-n_train // (n_train if batch == "full" else int(batch)))
    return (UNIT_OVERHEAD + steps * (PER_STEP + PER_MODEL_STEP * K) + PER_FLOP * 6 * K * epochs * n_train * params
            + (epochs + 1) * (PER_EVAL + PER_EVAL_SAMPLE * K * samples))


def schedule(groups: list[list[RunPlan]], workers: int, cut: bool = True) -> list[list[RunPlan]]:
    """The units to submit, longest first; with several workers, each stack cut into pieces of at
    most total/(workers·u) of the work, u the smallest of UNIT_CHOICES whose simulated finish
    (each unit to the worker free first, as the executor hands them out) is the earliest.
    cut=False keeps every stack whole (an accelerator wants them as large as they come)."""
    if workers <= 1 or not groups:
        return groups
    if not cut:
        return sorted(groups, key=cost, reverse=True)
    total = sum(cost(g) for g in groups)
    best: tuple[float, list[list[RunPlan]]] | None = None
    for u in UNIT_CHOICES:
        units = sorted(_cut_all(groups, total / (workers * u)), key=cost, reverse=True)
        for halvings in range(TAIL_HALVINGS + 1):
            if halvings:
                units = _halve_tail(units, workers)
            finish = makespan([cost(x) for x in units], workers)
            if best is None or finish < 0.99 * best[0]:
                best = (finish, units)
    return best[1]


def _halve_tail(units: list[list[RunPlan]], workers: int) -> list[list[RunPlan]]:
    """The last `workers` units (the smallest) each cut in two: shorter work at the end, when
    workers finish at different times (the cost model errs too)."""
    head, tail = units[:-workers], units[-workers:]
    return sorted(head + [piece for unit in tail for piece in _cut(unit, min(2, len(unit)))], key=cost, reverse=True)


def makespan(costs: Sequence[float], workers: int) -> float:
    """When the last of `workers` finishes, each taking the next unit (in the given order) when free."""
    free = [0.0] * workers
    heapq.heapify(free)
    for c in costs:
        heapq.heappush(free, heapq.heappop(free) + c)
    return max(free)


def _cut_all(groups: list[list[RunPlan]], cap: float) -> list[list[RunPlan]]:
    """Every group cut into the fewest near-equal pieces of at most `cap` (where it has runs enough)."""
    units: list[list[RunPlan]] = []
    for group in groups:
        work = cost(group) - UNIT_OVERHEAD  # each piece pays the overhead again
        pieces = min(len(group), max(1, math.ceil(work / max(cap - UNIT_OVERHEAD, UNIT_OVERHEAD))))
        units += _cut(group, pieces)
    return units


def _cut(group: list[RunPlan], pieces: int) -> list[list[RunPlan]]:
    """The group in `pieces` near-equal parts, each holding runs of as few seeds as possible
    (models of one seed share their prepared data)."""
    if pieces <= 1:
        return [group]
    ordered = sorted(group, key=lambda p: (p.seed, p.arm_hash))
    n = len(ordered)
    return [ordered[n * i // pieces: n * (i + 1) // pieces] for i in range(pieces)]


def _samples(arm: dict[str, Any]) -> int:
    """Training samples of an arm's data (bundled sets exactly, CSV files from their row count)."""
    name = arm["data"]["dataset"]
    if isinstance(name, str) and name.startswith("csv:"):
        rows = _csv_rows(name[4:])
        if rows:
            return rows
    samples, _, _ = validate._shape(arm, _info(name))
    return samples


def _params(arm: dict[str, Any]) -> int:
    return validate.n_params(arm, _info(arm["data"]["dataset"]))


def _info(name: Any) -> Any:
    from lossdb.core.data.datasets import DATASETS

    return DATASETS.get(name) if isinstance(name, str) else None


@lru_cache(maxsize=64)
def _csv_rows(path: str) -> int | None:
    """Lines of a CSV file minus its header, counted in blocks (no parsing), or None if unreadable."""
    try:
        with open(path, "rb") as f:
            return max(0, sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b"")) - 1)
    except OSError:
        return None
