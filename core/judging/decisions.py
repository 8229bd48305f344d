"""The verdict rule on an interval, its p-values, multiplicity control, and the seeds a verdict needs.

The rule (`outcome`), for an estimate in the claim's direction with its two-sided (1 − α) interval
and the claim's smallest effect that matters m (a factor ≥ 1 for ratios: the band is [1/m, m], so
on the log scale ±log m):

- superiority: *supported* when the interval lies wholly above +m, *contradicted* when wholly below
  −m, *equivalent* when wholly inside (−m, +m), else *inconclusive*. Equivalence is two one-sided
  tests (Schuirmann 1987): a (1 − α) interval inside the band is TOST at α/2 per side, so it is
  conservative (TOST at α would use the 1 − 2α interval); supported/contradicted are each one-sided
  tests at α/2, so a verdict's error rate is at most α whatever the true effect.
- non-inferiority (m is the margin): *supported* when the interval lies wholly above −m,
  *contradicted* when wholly below −m, else *inconclusive*.
- a deterministic estimate (no interval) is decided by its point.

Family-wise control: the headlines use Bonferroni-adjusted intervals, each at α/m for the m
stochastic headlines (`bonferroni_alpha`), so the interval shown is the one that decided. `holm`
gives Holm's step-down on the same p-values for reference; tallies over all comparisons use
Benjamini–Hochberg (`bh_reject`) on `decisive_p`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lossdb.core.judging.estimators import Estimate


def _ndtri(p: float) -> float:
    """The standard normal quantile (scipy's, imported only when seeds are projected)."""
    from scipy.special import ndtri

    return float(ndtri(p))


POWER = 0.8  # "about N seeds would decide it": the seed count that decides 80% of fresh experiments
KINDS = ("superior", "noninferior")


def _band(min_effect: float, ratio: bool) -> float:
    """The half-width of the band on the scale the rule works on (log for ratios)."""
    if ratio:
        if min_effect < 1:
            raise ValueError(f"a ratio's minimum effect is a factor of at least 1, got {min_effect}")
        return math.log(min_effect)
    if min_effect < 0:
        raise ValueError(f"a minimum effect is at least 0, got {min_effect}")
    return float(min_effect)


def outcomes(low: np.ndarray | float, high: np.ndarray | float, min_effect: float, kind: str = "superior",
             ratio: bool = False) -> np.ndarray:
    """The rule (module docstring) on arrays of interval ends: an array of outcome words.

    NaN or infinite ends on the side that matters give "inconclusive"."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    m = _band(min_effect, ratio)
    lo, hi = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    if ratio:
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = np.log(lo), np.log(hi)
    out = np.full(np.broadcast(lo, hi).shape, "inconclusive", dtype=object)
    if kind == "noninferior":
        out[lo > -m] = "supported"
        out[hi < -m] = "contradicted"
        return out
    out[lo > m] = "supported"
    out[hi < -m] = "contradicted"
    out[(lo > -m) & (hi < m)] = "equivalent"
    return out


def outcome(estimate: Estimate, min_effect: float, kind: str = "superior") -> str:
    """supported / contradicted / equivalent / inconclusive for one estimate (its own level)."""
    if estimate.deterministic:
        return str(outcomes(estimate.effect, estimate.effect, min_effect, kind, estimate.ratio)[()])
    if estimate.n == 0:
        return "inconclusive"
    return str(outcomes(estimate.low, estimate.high, min_effect, kind, estimate.ratio)[()])


def outcome_pvalues(estimate: Estimate, min_effect: float, kind: str = "superior") -> dict[str, float]:
    """The p-value of each decided outcome, dual to the rule: at level α the estimate's interval
    gives outcome o exactly when p[o] < α. Each is twice a one-sided p (the interval is two-sided):
    supported 2·P(effect > m), contradicted 2·P(effect < −m), equivalent 2·max(P(> −m), P(< m))."""
    m = _band(min_effect, estimate.ratio)
    up, down = (math.exp(m), math.exp(-m)) if estimate.ratio else (m, -m)
    if kind == "noninferior":
        return {"supported": min(1.0, 2 * estimate.p_greater(down)),
                "contradicted": min(1.0, 2 * estimate.p_less(down))}
    if kind != "superior":
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return {"supported": min(1.0, 2 * estimate.p_greater(up)),
            "contradicted": min(1.0, 2 * estimate.p_less(down)),
            "equivalent": min(1.0, 2 * max(estimate.p_greater(down), estimate.p_less(up))) if m > 0 else 1.0}


def decisive_p(estimate: Estimate, min_effect: float, kind: str = "superior") -> tuple[str, float]:
    """(outcome, p): the decided outcome with the smallest p-value of `outcome_pvalues` (the one a
    multiplicity procedure rejects for; "inconclusive" when it is not rejected)."""
    ps = outcome_pvalues(estimate, min_effect, kind)
    best = min(ps, key=ps.__getitem__)
    return best, ps[best]


def bonferroni_alpha(alpha: float, estimates: Sequence[Estimate]) -> float:
    """The per-verdict level alpha/m, m = the number of stochastic (not deterministic) estimates."""
    m = sum(not e.deterministic and e.n > 0 for e in estimates)
    return alpha / max(m, 1)


def holm(pvalues: Sequence[float] | np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Holm's (1979) step-down rejections: the i-th smallest p is rejected while p_(i) ≤ α/(m − i + 1)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    passes = p[order] <= alpha / (m - np.arange(m))
    k = m if passes.all() else int(np.argmin(passes))  # the first failure stops the procedure
    reject = np.zeros(m, dtype=bool)
    reject[order[:k]] = True
    return reject


def bh_reject(pvalues: Sequence[float] | np.ndarray, q: float = 0.05) -> np.ndarray:
    """Benjamini–Hochberg (1995) rejections at false discovery rate q: the k smallest p-values,
    k the largest i with p_(i) ≤ i q / m."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    order = np.argsort(p, kind="stable")
    below = np.flatnonzero(p[order] <= q * np.arange(1, m + 1) / m)
    reject = np.zeros(m, dtype=bool)
    if below.size:
        reject[order[: below[-1] + 1]] = True
    return reject


def decide_share(low: float, high: float, min_effect: float, kind: str, ratio: bool, z: float) -> float:
    """The probability that a fresh experiment decides, if its interval is (low, high) shifted by a
    normal error of standard deviation (high − low)/(2z) (on the log scale for a ratio): the chances
    of supported, contradicted and equivalent added (they exclude one another), so an equivalence
    that needs both ends inside the band is counted as the joint event it is."""
    from scipy.special import ndtr

    if not (math.isfinite(low) and math.isfinite(high)) or (ratio and low <= 0):
        return 0.0
    m = _band(min_effect, ratio)
    lo, hi = (math.log(low), math.log(high)) if ratio else (low, high)
    se = (hi - lo) / (2 * z)
    if se <= 0:
        return float(outcomes(low, high, min_effect, kind, ratio)[()] != "inconclusive")
    if kind == "noninferior":
        return float(ndtr((lo + m) / se) + ndtr((-m - hi) / se))
    inside = max(float(ndtr((m - hi) / se) - ndtr((-m - lo) / se)), 0.0)  # lo + e > −m and hi + e < m
    return float(ndtr((lo - m) / se) + ndtr((-m - hi) / se)) + inside


def seeds_needed(estimate: Estimate, min_effect: float, kind: str = "superior", alpha: float | None = None,
                 cap: int = 1000, power: float = POWER) -> int | None:
    """The smallest number of paired seeds at which a fresh experiment decides with probability
    `power` (80%) if the true effect and spread are as observed, judged at `alpha` (default the
    estimate's own level: the level of the interval shown, which for a sequential look is the look's
    nominal level, not the family's overall one). The interval projected to n seeds, shifted by the
    effect's sampling error (its standard error: the projected half-width over z_{1−α/2}, which the
    t quantile makes a little conservative), decides with the probability `decide_share`; for an
    estimator with a `power` of its own (the median: distribution-free, so no normal projection)
    the chance that fresh experiments resampled from the observed differences decide. None means more
    than `cap` (the effect sits on, or very near, a band edge; or no spread).

    Checked against fresh experiments drawn by resampling the observed differences
    (tests/judging/test_power.py, python -m bench.power)."""
    if estimate.deterministic:
        return 1
    if estimate.n < 2 or estimate.model is None:
        return None
    level = estimate.alpha if alpha is None else alpha
    at = estimate.at(level)
    z = float(_ndtri(1.0 - level / 2.0))

    resample = getattr(estimate.model, "power", None)  # a distribution-free estimator: by resampling

    band = _band(min_effect, estimate.ratio)

    def decides(n: int) -> bool:
        if resample is not None:
            return resample(n, level, band, kind) >= power
        low, high = at.projected(n)
        return decide_share(low, high, min_effect, kind, estimate.ratio, z) >= power

    if not decides(cap):
        return None
    lo, hi = 1, 2  # exponential then binary search: decides(n) is monotone as the interval narrows
    while not decides(hi):
        lo, hi = hi, min(2 * hi, cap)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if decides(mid) else (mid, hi)
    return hi
