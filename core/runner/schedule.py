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
# Fixed cost of a unit, in the cost model's units (model·epoch·sample·parameter): preparing its
# data, starting its arrays, shipping its results (≈ 20 ms on one core of the reference machine).
UNIT_OVERHEAD = 2e7
PER_SAMPLE = 60  # loss, head and metrics per sample and epoch, in parameter-equivalents


def cost(group: Sequence[RunPlan]) -> float:
    """Estimated time of training these runs as one stack (arbitrary units, proportional to work)."""
    arm = group[0].arm
    samples = _samples(arm)
    epochs = int(arm["train"]["epochs"]) + 1  # every epoch evaluates; epoch 0 only evaluates
    per_model = epochs * samples * (_params(arm) + PER_SAMPLE)
    return UNIT_OVERHEAD + len(group) * per_model


def schedule(groups: list[list[RunPlan]], workers: int) -> list[list[RunPlan]]:
    """The units to submit, longest first; with several workers, each stack cut into pieces of at
    most total/(workers·u) of the work, u the smallest of UNIT_CHOICES whose simulated finish
    (each unit to the worker free first, as the executor hands them out) is the earliest."""
    if workers <= 1 or not groups:
        return groups
    total = sum(cost(g) for g in groups)
    best: tuple[float, list[list[RunPlan]]] | None = None
    for u in UNIT_CHOICES:
        units = sorted(_cut_all(groups, total / (workers * u)), key=cost, reverse=True)
        finish = makespan([cost(x) for x in units], workers)
        if best is None or finish < 0.99 * best[0]:
            best = (finish, units)
    return best[1]


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
