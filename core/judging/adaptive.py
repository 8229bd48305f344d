"""The sequential design of an experiment run until decided: looks at start, start + round, …
seeds up to a maximum, judged group-sequentially (core.judging.sequential: Lan–DeMets spending
over the looks, Pocock-type from at least MIN_START seeds, Bonferroni across the headline family).

The design is stored with the experiment's spec, so `lossdb compare` replays the same looks from
the stored runs. The rounds that add seeds are the runner's (core.runner.rounds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The plan: Pocock-type spending from at least 5 seeds. O'Brien–Fleming spends almost nothing early
# (its first look at 3 of 50 seeds, at the catalogue's family level 0.05/11, has a nominal level of
# about 1e-11, so even label-noise's +26.7 ± 2.6 points per seed stays open); Pocock spends evenly,
# and from 5 seeds (t quantiles with 4 degrees of freedom, not 2) its first look decides such an
# effect 99.9% of the time, while A/A sequences err at most 0.45% against the 0.455% level, 10 looks
# to 50 seeds (python -m bench.first_look). Stored designs keep the spending they were run with.
SPENDING = "pocock"
MIN_START = 5
KEY = "sequential"  # the key of an experiment's stored spec that holds its design


@dataclass(frozen=True)
class Design:
    """Looks at start, start + round, … seeds, up to max_seeds."""

    start: int
    round: int
    max_seeds: int
    spending: str = SPENDING

    def looks(self, available: int) -> tuple[int, ...]:
        """The seed counts of the looks that `available` stored seeds reach."""
        out, n = [], self.start
        while n <= min(available, self.max_seeds):
            out.append(n)
            if n == self.max_seeds:
                break
            n = min(n + self.round, self.max_seeds)
        return tuple(out)

    def next(self, n: int) -> int:
        """The seed count after a round at n seeds."""
        return min(n + self.round, self.max_seeds)

    def as_dict(self) -> dict[str, Any]:
        """The design as stored in the experiment's spec."""
        return {"start": self.start, "round": self.round, "max_seeds": self.max_seeds, "spending": self.spending}

    @classmethod
    def from_spec(cls, spec: dict[str, Any] | None) -> Design | None:
        """The design stored in a spec, or None for a fixed-seed experiment."""
        d = (spec or {}).get(KEY)
        return None if not d else cls(int(d["start"]), int(d["round"]), int(d["max_seeds"]),
                                      str(d.get("spending", SPENDING)))
