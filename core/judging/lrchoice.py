"""The one learning-rate rule: which rate "tuned" uses for an arm, chosen on validation only.

Rule (used by the verdicts, the report's ★ and the dashboard's "tuned" view alike): score each run on
validation — final validation accuracy (higher), or validation RMSE for regression (lower), or
validation NLL for calibration claims (lower); a run that diverged or left no finite score counts as
the worst possible. Average per rate over the given seeds. Every rate whose mean is within one
standard error of the best rate's mean is *tied* with it; among tied rates take the smaller rate, or
for speed claims the fastest (fewest mean epochs to the threshold on the selection seeds), ties again
to the smaller rate. The verdicts call this on half of the seeds and measure on the other half
(cross-fitting), so the noise of the choice never flatters the effect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Choice:
    """The chosen rate of one arm, and the rates tied with it on validation (chosen included)."""

    lr: float
    tied: tuple[float, ...]

    @property
    def fragile(self) -> bool:
        """True when another rate was as good within one standard error."""
        return len(self.tied) > 1


def validation_metric(runs: Sequence[Mapping], criterion: str = "accuracy") -> tuple[str, str]:
    """(metric, "max" | "min") the criterion reads among the runs' stored final values."""
    def present(name: str) -> bool:
        return any(isinstance(r.get(name), int | float) and math.isfinite(r[name]) for r in runs)

    if criterion == "nll" and present("val_nll"):
        return "val_nll", "min"
    if present("val_accuracy"):
        return "val_accuracy", "max"
    return "val_rmse", "min"


def choose(scores: Mapping[float, Sequence[float]], mode: str,
           speed: Mapping[float, float] | None = None) -> Choice | None:
    """The choice among rates given each rate's validation scores over the selection seeds
    (non-finite = diverged); `speed` maps a rate to its mean epochs to the threshold (lower is faster)."""
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    worst = -math.inf if mode == "max" else math.inf
    stats = {}
    for lr, values in scores.items():
        v = np.asarray(values, dtype=np.float64)
        if v.size == 0:
            continue
        v = np.where(np.isfinite(v), v, worst)
        mean = float(v.mean())
        se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 and np.isfinite(v).all() else 0.0
        stats[float(lr)] = (mean, se)
    if not stats:
        return None
    sign = 1.0 if mode == "max" else -1.0
    best_lr = max(sorted(stats), key=lambda lr: sign * stats[lr][0])
    best, se = stats[best_lr]
    if not math.isfinite(best):
        return None
    tied = tuple(lr for lr in sorted(stats) if sign * (best - stats[lr][0]) <= se)
    if speed is not None:
        lr = min(tied, key=lambda r: (speed.get(r, math.inf), r))
    else:
        lr = tied[0]
    return Choice(lr, tied)


def chosen_lrs(runs: Sequence[Mapping], criterion: str = "accuracy", key: str = "label",
               speed_of: Callable[[Mapping], float] | None = None) -> dict[str, Choice]:
    """Each arm's choice over all the given runs (dict rows with `key`, lr, status and final values):
    what the report's ★ and the dashboard's "tuned" show."""
    metric, mode = validation_metric(runs, criterion)
    by_arm: dict[str, dict[float, list[float]]] = {}
    speeds: dict[str, dict[float, list[float]]] = {}
    for r in runs:
        ok = r.get("status") == "finished"
        value = float(r[metric]) if ok and r.get(metric) is not None else math.nan
        by_arm.setdefault(str(r[key]), {}).setdefault(float(r["lr"]), []).append(value)
        if speed_of is not None:
            speeds.setdefault(str(r[key]), {}).setdefault(float(r["lr"]), []).append(speed_of(r))
    out = {}
    for arm, scores in by_arm.items():
        speed = {lr: float(np.mean(v)) for lr, v in speeds[arm].items()} if speed_of is not None else None
        choice = choose(scores, mode, speed)
        if choice is not None:
            out[arm] = choice
    return out
