"""Power per headline: how often this design, with 10 seeds, decides a true effect of 2× (and 1.5×)
the claim's minimum effect, with the per-seed spread each headline measured (issue 21 item 6); and
the calibration of "about N seeds would decide it" on the real per-seed data.

Run: python -m bench.power [--db lossdb.db] [--seeds 10] [--sequences N] [--estimator t|robust].

- Power lines: the spread comes from the headline's own interval (paired t: sd = half-width · √n /
  t_{1−α/2, n−1}, on the log scale for a ratio); fresh normal experiments are judged at the level
  shown with the paired t rule (core.judging.decisions.outcomes), vectorised. Deterministic,
  unmeasurable and unbounded headlines and non-t estimators are skipped.
- Calibration: for every headline that states N (inconclusive, not "more than"), fresh experiments
  of N seeds are drawn by resampling the headline's own stored pairs (first, second) with
  replacement, so the true effect and spread are the observed ones, with their real shape (skew,
  ties, ratios, binary outcomes), and each is judged by the headline's own estimator (t, median,
  Fieller on restricted means, Newcombe) at the level shown. The statement's bar: at least 75%
  decide (80% nominal).

The pairs are read by wrapping core.judging.verdicts._adjust_family (the one place that sees every
headline's pairs): a benchmark's peek, read-only. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from lossdb.core.judging.decisions import outcomes
from lossdb.core.judging.intervals import fieller_bounds, median_bounds, newcombe_bounds, t_bounds
from scipy.stats import t as student


def _sd(v) -> float | None:
    if v.deterministic or v.n < 2 or v.ci_low is None or v.ci_high is None or v.reason("too_few_seeds"):
        return None
    if "t" not in v.method.split() and "t)" not in v.method:  # paired t only (not Newcombe, Fieller)
        return None
    lo, hi = (math.log(v.ci_low), math.log(v.ci_high)) if v.ratio else (v.ci_low, v.ci_high)
    return (hi - lo) / 2 * math.sqrt(v.n) / float(student.ppf(1 - v.alpha / 2, v.n - 1))


def _decides(effect: float, sd: float, n: int, v, rng, sequences: int) -> float:
    d = effect + sd * rng.standard_normal((sequences, n))
    _, lo, hi = t_bounds(d, v.alpha)
    if v.ratio:
        lo, hi = np.exp(lo), np.exp(hi)
    return float(np.mean(outcomes(lo, hi, v.min_effect, v.kind, v.ratio) == "supported"))


def fresh_bounds(v, pairs, n: int, rng: np.random.Generator, sequences: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of `sequences` fresh experiments of n seeds resampled from a headline's pairs,
    each judged by the headline's estimator at its level (on the ratio scale for a ratio)."""
    x, y = np.asarray(pairs.first, dtype=np.float64), np.asarray(pairs.second, dtype=np.float64)
    if pairs.kind == "censored":
        x, y = np.minimum(x, pairs.horizon), np.minimum(y, pairs.horizon)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if pairs.kind == "continuous":
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.log(x) - np.log(y) if v.ratio else x - y
        d = d[np.isfinite(d)]
        draw = d[rng.integers(0, d.size, (sequences, n))]
        if v.method.startswith("median"):
            _, lo, hi = median_bounds(draw, v.alpha)
        else:
            _, lo, hi = t_bounds(draw, v.alpha, pairs.resolution)
        return (np.exp(lo), np.exp(hi)) if v.ratio else (lo, hi)
    idx = rng.integers(0, x.size, (sequences, n))
    a, b = x[idx], y[idx]
    if pairs.kind == "binary":
        counts = ((a * b).sum(1), (a * (1 - b)).sum(1), ((1 - a) * b).sum(1), ((1 - a) * (1 - b)).sum(1))
        _, lo, hi = newcombe_bounds(*counts, v.alpha)
        return lo, hi
    if v.ratio:  # restricted means, Fieller's ratio
        _, lo, hi = fieller_bounds(a, b, v.alpha, 1.0)
        return lo, hi
    _, lo, hi = t_bounds(a - b, v.alpha, 1.0)
    return lo, hi


def headline_pairs(db: str | None, estimator: str) -> list[tuple]:
    """(verdict, pairs) of every catalogue headline, judged as `lossdb compare --estimator` does."""
    from lossdb.core.judging import verdicts
    from lossdb.core.judging.judge import judge

    seen: dict[str, object] = {}
    original = verdicts._adjust_family

    def spy(out, headlines, samples, claims):
        res = original(out, headlines, samples, claims)
        seen.update({res[i].claim: samples[i][0] for i in headlines if i in samples})
        return res

    verdicts._adjust_family = spy
    try:
        rows = judge(db, estimator=estimator)
    finally:
        verdicts._adjust_family = original
    return [(v, seen.get(v.claim)) for v in rows]


def main() -> None:
    """Print one power line per stochastic headline, and the seeds-needed calibration."""
    import os

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=None)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--sequences", type=int, default=20000)
    p.add_argument("--estimator", default="t", choices=("t", "robust"))
    a = p.parse_args()
    os.environ["LOSSDB_CACHE_DIR"] = ""  # judge afresh: the pairs are only seen while judging
    rng, fresh = np.random.default_rng(0), np.random.default_rng(1)  # power lines, calibration
    for v, pairs in headline_pairs(a.db, a.estimator):
        calib = ""
        if v.verdict == "inconclusive" and v.seeds_needed and not v.seeds_needed_capped and pairs is not None:
            lo, hi = fresh_bounds(v, pairs, v.seeds_needed, fresh, min(a.sequences, 4000))
            share = float(np.mean(outcomes(lo, hi, v.min_effect, v.kind, v.ratio) != "inconclusive"))
            calib = (f"; at the {v.seeds_needed} seeds said to decide it, {share:.0%} of fresh experiments "
                     f"resampled from its {v.n} seeds decide ({v.method}, {100 * (1 - v.alpha):.4g}%)")
        sd = _sd(v)
        if sd is None:
            print(f"{v.claim}: no power line ({v.verdict}, {'deterministic' if v.deterministic else f'n = {v.n}'})"
                  f"{calib}")
            continue
        band = math.log(v.min_effect) if v.ratio else v.min_effect
        if band <= 0:
            print(f"{v.claim}: skipped (no minimum effect)")
            continue
        if v.kind == "noninferior":  # a true difference of 0 against the margin, and half a margin better
            shown = [f"non-inferiority when the true difference is {w} {_decides(x * band, sd, a.seeds, v, rng, a.sequences):.0%}"
                     for w, x in (("0", 0.0), ("+½ margin", 0.5))]
        else:
            shown = [f"{k:g}× the minimum effect {_decides(k * band, sd, a.seeds, v, rng, a.sequences):.0%}"
                     for k in (2.0, 1.5)]
        print(f"{v.claim}: with {a.seeds} seeds at {100 * (1 - v.alpha):.4g}% this design detects "
              f"{' and '.join(shown)} of the time (per-seed sd {sd:.3g}{' on the log scale' if v.ratio else ''})"
              f"{calib}")


if __name__ == "__main__":
    main()
