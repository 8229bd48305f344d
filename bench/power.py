"""Power per headline: how often this design, with 10 seeds, decides a true effect of 2× (and 1.5×)
the claim's minimum effect, with the per-seed spread each headline measured (issue 21 item 6).

Run: python -m bench.power [--db lossdb.db] [--seeds 10] [--sequences N]. The spread comes from the
headline's own interval (paired t: sd = half-width · √n / t_{1−α/2, n−1}, on the log scale for a
ratio), fresh experiments are simulated at the family level with the paired t rule
(core.judging.decisions.outcomes), vectorised. Deterministic, unmeasurable and unbounded headlines
are skipped. Also prints the calibration of "about N seeds would decide it": the share of fresh
experiments at N that decide. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.stats import t as student

from lossdb.core.judging.decisions import outcomes
from lossdb.core.judging.intervals import t_bounds


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


def main() -> None:
    """Print one power line per stochastic headline, and the seeds-needed calibration."""
    from lossdb.core.judging.judge import judge

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=None)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--sequences", type=int, default=20000)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    for v in judge(a.db):
        sd = _sd(v)
        if sd is None:
            print(f"{v.claim}: skipped ({v.verdict}, {'deterministic' if v.deterministic else f'n = {v.n}'})")
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
        calib = ""
        if v.verdict == "inconclusive" and v.seeds_needed and not v.seeds_needed_capped and v.seeds_needed <= 2000:
            effect = math.log(v.effect) if v.ratio else v.effect
            d = effect + sd * rng.standard_normal((min(a.sequences, 4000), v.seeds_needed))
            _, lo, hi = t_bounds(d, v.alpha)
            if v.ratio:
                lo, hi = np.exp(lo), np.exp(hi)
            share = float(np.mean(outcomes(lo, hi, v.min_effect, v.kind, v.ratio) != "inconclusive"))
            calib = f"; at the {v.seeds_needed} seeds said to decide it, {share:.0%} of fresh experiments decide"
        print(f"{v.claim}: with {a.seeds} seeds at {100 * (1 - v.alpha):.4g}% this design detects "
              f"{' and '.join(shown)} of the time (per-seed sd {sd:.3g}{' on the log scale' if v.ratio else ''})"
              f"{calib}")


if __name__ == "__main__":
    main()
