"""A/A: how often the verdict rule decides wrongly when the two arms are the same (issue 21).

Run: python -m bench.aa [--reps N]. Per-seed differences of two identical arms (normal; and the
difference of two lognormals: heavy-tailed, symmetric) at n = 3, 5, 10, 20, 50 seeds, judged by
the four-outcome rule (core.judging.decisions.outcomes) with a band of ±0.2 sd and with no band
(the worst case), at 5% and at the catalogue's family level 5%/11, with Student-t and with
`--estimator robust` (the median's interpolated sign-test interval). A wrong decision is supported or contradicted. Vectorised. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np
from lossdb.core.judging.decisions import outcomes
from lossdb.core.judging.intervals import median_bounds, t_bounds


def main() -> None:
    """Print the A/A table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=20000)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'law':<22}{'n':>4}{'alpha':>9}{'band':>6}{'t wrong':>10}{'robust wrong':>14}")
    for law in ("normal", "lognormal difference"):
        for n in (3, 5, 10, 20, 50):
            if law == "normal":
                d = rng.standard_normal((a.reps, n))
            else:
                d = rng.lognormal(0, 1, (a.reps, n)) - rng.lognormal(0, 1, (a.reps, n))
            sd = 1.0 if law == "normal" else float(np.sqrt(2 * (np.e - 1) * np.e))
            for alpha in (0.05, 0.05 / 11):
                _, tl, th = t_bounds(d, alpha)
                _, rl, rh = median_bounds(d, alpha)
                for band in (0.2 * sd, 0.0):
                    t_wrong = np.isin(outcomes(tl, th, band), ("supported", "contradicted")).mean()
                    r_wrong = np.isin(outcomes(rl, rh, band), ("supported", "contradicted")).mean()
                    print(f"{law:<22}{n:>4}{alpha:>9.4f}{band / sd:>6.1f}{t_wrong:>10.3%}{r_wrong:>14.3%}")


if __name__ == "__main__":
    main()
