"""Coverage of the paired intervals on skewed and heavy-tailed differences (issue 21 item 7).

Run: python -m bench.coverage [--reps N]. Simulated per-seed differences (normal, lognormal(0, 1),
t with 3 degrees of freedom, and a normal contaminated by 10% five times as spread) at n = 5, 10, 20,
50: the share of 95% intervals that cover their estimand, for Student-t (the mean), Hodges–Lehmann
with the exact signed-rank interval (the pseudo-median), and the `--estimator robust` rule (t, or
Hodges–Lehmann when |skewness| > 1; its estimand is the one the chosen method targets). Vectorised.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np

from lossdb.core.judging.estimators import SKEW_RULE
from lossdb.core.judging.intervals import hl_bounds, skewness, t_bounds

LAWS = ("normal", "lognormal", "t3", "contaminated")


def draw(law: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Differences from one of LAWS."""
    if law == "normal":
        return rng.standard_normal(shape)
    if law == "lognormal":
        return rng.lognormal(0.0, 1.0, shape)
    if law == "t3":
        return rng.standard_t(3, shape)
    x = rng.standard_normal(shape)
    return np.where(rng.random(shape) < 0.1, 5 * x, x)


def main() -> None:
    """Print the coverage table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=4000)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    big = draw("lognormal", rng, (2, 1_000_000))
    centre = {"lognormal": (float(np.exp(0.5)), float(np.median(big.mean(axis=0))))}
    print(f"{'law':<14}{'n':>4}{'t (mean)':>10}{'HL (pseudo-median)':>20}{'robust rule':>13}{'skewed share':>14}")
    for law in LAWS:
        mean, pseudo = centre.get(law, (0.0, 0.0))
        for n in (5, 10, 20, 50):
            d = draw(law, rng, (a.reps, n))
            _, tl, th = t_bounds(d, 0.05)
            _, hl_, hh = hl_bounds(d, 0.05)
            t_cov = (tl <= mean) & (mean <= th)
            hl_cov = (hl_ <= pseudo) & (pseudo <= hh)
            skewed = np.abs(skewness(d)) > SKEW_RULE
            rule = np.where(skewed, hl_cov, t_cov)
            print(f"{law:<14}{n:>4}{t_cov.mean():>10.1%}{hl_cov.mean():>20.1%}{rule.mean():>13.1%}{skewed.mean():>14.0%}")
    print("HL at n = 5 cannot reach 95% (2·2⁻⁵ = 6.25% > 5%): its interval is unbounded there, so it 'covers'.")


if __name__ == "__main__":
    main()
