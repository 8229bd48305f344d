"""Coverage of the paired intervals on skewed and heavy-tailed differences (issue 21 item 7).

Run: python -m bench.coverage [--reps N] [--boot B]. Simulated per-seed differences (normal,
lognormal(0, 1), t with 3 degrees of freedom, and a normal contaminated by 10% five times as spread)
at n = 5, 10, 20, 50: the share of 95% intervals that cover the parameter each one claims to
estimate, for
- Student-t (the mean; `--estimator t`),
- before: the old `--estimator robust` rule (t, or Hodges–Lehmann's signed-rank interval of the
  pseudo-median when |sample skewness| > 1; each branch scored against its own estimand),
- Hodges–Lehmann always (the pseudo-median),
- the studentised (bootstrap-t) interval of the mean,
- after: `--estimator robust`, the median with the Hettmansperger–Sheather interpolated sign-test
  interval (the median).
The target band is 93–97% (Monte-Carlo sd about 0.35 points at the default 4000 reps). An interval that cannot exist at n seeds (HL at 5) is infinite and
"covers"; the table marks it. Vectorised. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np
from lossdb.core.judging.intervals import hl_bounds, median_bounds, skewness, t_bounds
from scipy.special import stdtrit

LAWS = ("normal", "lognormal", "t3", "contaminated")
OLD_SKEW_RULE = 1.0  # the former robust rule: Hodges–Lehmann when |skewness| > 1


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


def bootstrap_t(d: np.ndarray, alpha: float, rng: np.random.Generator, boot: int) -> tuple[np.ndarray, np.ndarray]:
    """The studentised bootstrap interval of the mean of each row of d (reps, n)."""
    reps, n = d.shape
    mean, sd = d.mean(axis=1), d.std(axis=1, ddof=1)
    lo_q, hi_q = np.empty(reps), np.empty(reps)
    for start in range(0, reps, 500):  # chunks keep the (chunk, boot, n) resample in memory
        x = d[start:start + 500]
        r = x[np.arange(x.shape[0])[:, None, None], rng.integers(0, n, (x.shape[0], boot, n))]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (r.mean(axis=2) - x.mean(axis=1)[:, None]) / (r.std(axis=2, ddof=1) / np.sqrt(n))
        t = np.where(np.isfinite(t), t, 0.0)
        lo_q[start:start + 500], hi_q[start:start + 500] = np.quantile(t, [1 - alpha / 2, alpha / 2], axis=1)
    se = sd / np.sqrt(n)
    return mean - lo_q * se, mean - hi_q * se


def main() -> None:
    """Print the coverage table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=4000)
    p.add_argument("--boot", type=int, default=999)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    big = draw("lognormal", rng, (2, 1_000_000))
    truth = {"lognormal": (float(np.exp(0.5)), float(np.median(big.mean(axis=0))), 1.0)}  # mean, pseudo-median, median
    print(f"{'law':<14}{'n':>4}{'t (mean)':>10}{'before: rule':>14}{'HL (pseudo-median)':>20}"
          f"{'bootstrap-t (mean)':>20}{'after: robust (median)':>24}")
    for law in LAWS:
        mean, pseudo, median = truth.get(law, (0.0, 0.0, 0.0))
        for n in (5, 10, 20, 50):
            d = draw(law, rng, (a.reps, n))
            _, tl, th = t_bounds(d, 0.05)
            _, hl_, hh = hl_bounds(d, 0.05)
            bl, bh = bootstrap_t(d, 0.05, rng, a.boot)
            _, ml, mh = median_bounds(d, 0.05)
            t_cov = (tl <= mean) & (mean <= th)
            hl_cov = (hl_ <= pseudo) & (pseudo <= hh)
            rule = np.where(np.abs(skewness(d)) > OLD_SKEW_RULE, hl_cov, t_cov)
            boot_cov = (bl <= mean) & (mean <= bh)
            med_cov = (ml <= median) & (median <= mh)
            hl_text = f"{hl_cov.mean():.1%}" + ("*" if np.isinf(hl_).all() else "")
            print(f"{law:<14}{n:>4}{t_cov.mean():>10.1%}{rule.mean():>14.1%}{hl_text:>20}"
                  f"{boot_cov.mean():>20.1%}{med_cov.mean():>24.1%}")
    print("* no 95% signed-rank interval exists at 5 seeds (2·2⁻⁵ = 6.25% > 5%): infinite, so it 'covers'.")
    print("robust at 5 seeds is [min, max], 93.75% for any continuous law (the most 5 seeds give);"
          f" t quantile for reference: t(0.975, 4) = {float(stdtrit(4, 0.975)):.3f}.")


if __name__ == "__main__":
    main()
