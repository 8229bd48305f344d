"""The until-decided design's first look: which spending plan and start decide a decisive effect at
once while keeping wrong verdicts under the level (issue 21 item 6).

Run: python -m bench.first_look [--sequences N]. Simulated paired differences (no training) at the
catalogue's family level (0.05 / 11 headlines), up to 50 seeds, rounds of max(3, start): per plan,
the nominal level of the first look, the share of label-noise-sized experiments (+26.7 points,
per-seed sd 2.6, minimum effect 1 point) decided at the first look and in all, and the A/A share of
wrong verdicts (true difference 0, band ±1 point, and with no band: the worst case). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse

import numpy as np

from lossdb.core.judging.sequential import nominal_alphas, simulate

ALPHA = 0.05 / 11
N_MAX = 50
EFFECT, SD, BAND = 0.267, 0.026, 0.01  # label-noise's headline: +26.7 ± 3.0 points (99.55%) at 10 seeds


def looks(start: int, round_size: int) -> tuple[int, ...]:
    out, n = [], start
    while n < N_MAX:
        out.append(n)
        n += round_size
    return (*out, N_MAX)


def main() -> None:
    """Print the figures for each (spending, start)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sequences", type=int, default=20000)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    strong = EFFECT + SD * rng.standard_normal((a.sequences, N_MAX))
    null = SD * rng.standard_normal((a.sequences, N_MAX))
    print(f"{'spending':<15}{'start':>6}{'looks':>6}{'first-look level':>18}{'decided at look 1':>19}"
          f"{'decided':>9}{'A/A wrong, band':>17}{'A/A wrong, no band':>20}")
    for spending in ("obrien-fleming", "pocock"):
        for start in (3, 5, 10):
            sched = looks(start, max(3, start))
            first = nominal_alphas(sched, N_MAX, ALPHA, spending)[0]
            final, used = simulate(strong, sched, BAND, ALPHA, spending=spending)
            wrong_band, _ = simulate(null, sched, BAND, ALPHA, spending=spending)
            wrong_none, _ = simulate(null, sched, 0.0, ALPHA, spending=spending)
            print(f"{spending:<15}{start:>6}{len(sched):>6}{first:>18.3g}"
                  f"{np.mean((used == start) & (final == 'supported')):>19.1%}{np.mean(final == 'supported'):>9.1%}"
                  f"{np.mean(np.isin(wrong_band, ('supported', 'contradicted'))):>17.3%}"
                  f"{np.mean(wrong_none != 'inconclusive'):>20.3%}")
    print(f"(level {ALPHA:.3g}; a wrong verdict under A/A is supported or contradicted)")


if __name__ == "__main__":
    main()
