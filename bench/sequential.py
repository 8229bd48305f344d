"""Sequential verdicts by simulation: how often `--until-decided` decides, and how many seeds it uses.

Run: python -m bench.sequential [--sequences N]. Simulated paired differences (no training): start at
5 seeds, add rounds of 5 (or double) up to 50, judge with core.judging.decisions.outcome at each look.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lossdb.core.judging.sequential import simulate

SCHEDULES = {"fixed 50 seeds": (50,), "rounds of 5": tuple(range(5, 55, 5)), "doubling": (5, 10, 20, 40, 50)}
SCENARIOS = {  # name: (true effect, sd, minimum effect), in units of the minimum effect
    "A/A, band 1, sd 1": (0.0, 1.0, 1.0),
    "A/A, no band (worst case)": (0.0, 1.0, 0.0),
    "on the band edge": (1.0, 1.0, 1.0),
    "1.5x the band, sd = band": (1.5, 1.0, 1.0),
    "1.5x the band, sd = 1.5 band": (1.5, 1.5, 1.0),
    "4x the band, sd = band": (4.0, 1.0, 1.0),
}


def main() -> None:
    """Print, per schedule, spending and level, each scenario's outcome shares and mean seeds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequences", type=int, default=20000)
    args = parser.parse_args()
    start = time.perf_counter()
    for schedule, looks in SCHEDULES.items():
        for spending in ("obrien-fleming",) if len(looks) == 1 else ("obrien-fleming", "pocock"):
            for label, alpha in (("one claim, alpha 0.05", 0.05), ("headline of 12, alpha 0.05/12", 0.05 / 12)):
                print(f"\n{schedule}{'' if len(looks) == 1 else ', ' + spending}, {label}")
                for name, (effect, sd, band) in SCENARIOS.items():
                    d = np.random.default_rng(1).normal(effect, sd, (args.sequences, looks[-1]))
                    final, used = simulate(d, looks, band, alpha, spending=spending)
                    shares = {o: float(np.mean(final == o)) for o in ("supported", "contradicted", "equivalent")}
                    text = "  ".join(f"{o} {v:6.1%}" for o, v in shares.items())
                    print(f"  {name:30s} {text}  mean seeds {used.mean():5.1f}")
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
