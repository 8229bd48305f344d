"""Training progress between epochs: the full training split's loss and accuracy at a grid of
optimiser steps, so a time to a threshold is resolved finer than one epoch.

The grid takes every step while one step is more than 5% of the time so far, then steps a factor
RATIO apart, up to the last step of training. A time read on the grid is within 5% of the true one
(or exact, early on) wherever it falls: half of the 10% smallest speed-up the convergence claim
cares about, on a grid of about 130 points for 3,240 steps (a per-step record of
3,240 steps would cost 30 times as many evaluations). Index 0 is step 0, before training.
"""

from __future__ import annotations

import math

import numpy as np

RATIO = 1.05
STEP = "step"  # the optimiser steps taken at each record
SERIES = ("step_train_loss", "step_train_accuracy")  # the training split's loss and accuracy there
STEP_RECORD = frozenset({STEP, *SERIES})  # indexed by record, not by epoch: never drawn against epochs


def record_steps(total: int, ratio: float = RATIO) -> np.ndarray:
    """The optimiser steps at which progress is recorded: 0, 1, 2, … then ≤ `ratio` apart, to `total`."""
    steps, s = [0], 1
    while s <= total:
        steps.append(s)
        s = max(s + 1, math.floor(s * ratio))
    if steps[-1] != total and total > 0:
        steps.append(total)
    return np.asarray(steps, dtype=np.int64)


class StepLog:
    """Records of K models at the grid's steps: {name: [(K,) per record]} and the steps themselves."""

    def __init__(self, total: int):
        self.grid = record_steps(total)
        self.at: set[int] = set(int(s) for s in self.grid)
        self.steps: list[int] = []
        self.values: dict[str, list[np.ndarray]] = {}

    def add(self, step: int, row: dict[str, np.ndarray]) -> None:
        """One record of every model at `step`."""
        self.steps.append(step)
        for name, value in row.items():
            self.values.setdefault(name, []).append(np.asarray(value, dtype=np.float64))

    def series(self, k: int, last_step: int) -> dict[str, np.ndarray]:
        """Model k's records up to `last_step` (a diverged model keeps those of its kept epochs)."""
        if not self.steps:
            return {}
        keep = np.asarray(self.steps) <= last_step
        out = {STEP: np.asarray(self.steps, dtype=np.float64)[keep]}
        out.update({name: np.array([v[k] for v in vals])[keep] for name, vals in self.values.items()})
        return out
