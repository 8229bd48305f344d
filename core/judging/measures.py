"""Whether a comparison's measure can see the claimed effect at all, as rules on the paired data.

A time to a threshold is only informative between its first measurement and its horizon:

- **censored** (the ceiling; Reason not_measurable, why "censored"): when most runs of *both* arms never reach the threshold within the
  horizon, the restricted mean times are both close to the horizon and their ratio is close to 1
  whatever the true times are (two arms ten times apart, both mostly censored, look alike). Such a
  comparison is *not measurable within the horizon* — never equivalent, never evidence. The
  restricted mean is used only where at least one arm mostly reaches the threshold.
- **floor** (Reason not_measurable, why "floor"): when most runs of both arms reach the threshold at the first measurement, their times
  are all the same grid point and the ratio is 1 by construction, whatever the true times are.

"Most" is a strict majority (`MOSTLY`). Each rule returns a `Reason` with its figures (present/
words it), or None when the measure can see the effect. Also here: the score a diverged run gets
where divergence counts as a failure (`failure_score`).
"""

from __future__ import annotations

import numpy as np

from lossdb.core.data.datasets import DATASETS
from lossdb.core.judging.claims import DIVERGED_SCORES, FAILURE_KINDS
from lossdb.core.judging.outcomes import Reason

MOSTLY = 0.5  # "most runs": a strict majority
CODES = ("diverged_as_failure", "undefined")  # reason codes written anew at each judging (besides
# not_measurable, whose `why` is censored or floor here)


def censoring(first: np.ndarray, second: np.ndarray, horizon: float, unit: str = "epochs") -> Reason | None:
    """Reason "censored" when most paired runs of both arms never reached the threshold within
    `horizon` (a time above it, inf = never); figures: each arm's share censored and the horizon."""
    x, y = _finite_pairs(first, second)
    if x.size == 0:
        return None
    share = (float(np.mean(x > horizon)), float(np.mean(y > horizon)))
    if min(share) <= MOSTLY:
        return None
    return Reason("not_measurable", (("why", "censored"), ("share_first", share[0]), ("share_second", share[1]),
                               ("horizon", float(horizon)), ("unit", unit), ("n", int(x.size))))


def floor(first: np.ndarray, second: np.ndarray, first_measurement: float, unit: str = "epochs") -> Reason | None:
    """Reason "floor" when most paired runs of both arms reached the threshold at or before the first
    measurement after the start (`first_measurement`, the grid's first step); figures: each arm's
    share at the floor and that first measurement."""
    x, y = _finite_pairs(first, second)
    if x.size == 0:
        return None
    share = (float(np.mean(x <= first_measurement)), float(np.mean(y <= first_measurement)))
    if min(share) <= MOSTLY:
        return None
    return Reason("not_measurable", (("why", "floor"), ("share_first", share[0]), ("share_second", share[1]),
                            ("first_measurement", float(first_measurement)), ("unit", unit),
                            ("n", int(x.size))))


def unmeasurable(first: np.ndarray, second: np.ndarray, horizon: float, first_measurement: float,
                 unit: str = "epochs") -> Reason | None:
    """The reason a paired time-to-threshold comparison cannot see an effect (censored or floor), or None."""
    return censoring(first, second, horizon, unit) or floor(first, second, first_measurement, unit)


def failure_score(metric: str, kind: str, dataset: str) -> float | None:
    """What a diverged run scores on this measure by the declared rule (core.judging.claims
    DIVERGED_SCORES: chance, 1/C), or None when its seed is left out instead (no failure value, or
    a dataset whose number of classes is not in the registry)."""
    if DIVERGED_SCORES.get(metric) != "chance" or kind not in FAILURE_KINDS:
        return None
    entry = DATASETS.get(dataset)
    if entry is None or entry.task != "classification" or entry.n_classes < 2:
        return None
    return 1.0 / entry.n_classes


def _finite_pairs(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs where neither time is NaN (a NaN pair has no time: a diverged run)."""
    x, y = np.asarray(first, dtype=np.float64).ravel(), np.asarray(second, dtype=np.float64).ravel()
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]
