"""Seeds until decided: `lossdb run --until-decided` adds rounds of new paired seeds to the
experiments whose verdicts are still inconclusive, judging them as a group-sequential design
(core.judging.sequential: Lan–DeMets O'Brien–Fleming spending over the looks, Bonferroni across the
headline family), until every verdict is decided or its experiment reaches the maximum.

The design of an experiment (start, round, maximum) is stored with its spec, so `lossdb compare`
replays the same looks from the stored runs, and the same command run again adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lossdb.core.errors import ConfigError

if TYPE_CHECKING:
    from lossdb.core.judging.claims import Claim
    from lossdb.core.experiments.spec import Experiment, RunPlan
    from lossdb.core.judging.outcomes import Verdict

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


def design_for(start: int, round_size: int | None, max_seeds: int) -> Design:
    """A design from the command's options: at least MIN_START seeds at the first look (fewer only
    when the maximum is lower); round: as many again as the start, at least 3."""
    if max_seeds < 2:
        raise ConfigError(f"--max-seeds must be at least 2, got {max_seeds}")
    if round_size is not None and round_size < 1:
        raise ConfigError(f"--round must be at least 1 seed, got {round_size}")
    start = min(max(start, MIN_START), max_seeds)
    return Design(start, round_size or max(3, start), max_seeds)


def with_design(exp: Experiment, design: Design) -> Experiment:
    """The experiment with its sequential design in its spec (stored by the runner)."""
    return replace(exp, raw={**exp.raw, KEY: design.as_dict()})


def open_experiments(verdicts: Sequence[Verdict], names: Sequence[str], all_conditions: bool) -> list[str]:
    """The experiments among `names` with a headline (or, with all_conditions, any) verdict still
    inconclusive."""
    rows = [v for v in verdicts if (all_conditions or v.headline) and not v.illustration]
    return [n for n in names if any(v.experiment == n and v.verdict == "inconclusive" for v in rows)]


def focus(plans: Sequence[RunPlan], claims: dict[str, Claim], start: dict[str, int],
          all_conditions: bool = False) -> list[RunPlan]:
    """The plans a round needs. Up to its start seeds an experiment runs every condition; the seeds
    added beyond go only to the conditions its headline comparisons are judged in (the preferred
    conditions of the primary tests, every learning rate and arm), or everywhere with all_conditions."""
    if all_conditions:
        return list(plans)
    from lossdb.core.analysis.frame import flat_config

    flats: dict[str, dict[str, dict[str, Any]]] = {}
    for p in plans:
        flats.setdefault(p.experiment, {})[p.arm_hash] = flat_config(p.arm)
    wanted: set[str] = set()
    for claim in claims.values():
        test = claim.main
        if test.experiment in flats and not test.illustration:
            arms = flats[test.experiment]
            wanted |= {h for h in test.preferred(arms) if test.where is None or test.where(arms[h])}
    return [p for p in plans if p.seed < start.get(p.experiment, 0) or p.arm_hash in wanted]


@dataclass(frozen=True)
class Round:
    """What one round did: the seed count per experiment, and what was decided or left open."""

    number: int
    seeds: dict[str, int]
    decided: list[str]
    open: list[str]


def until_decided(exps: Sequence[Experiment], start: dict[str, int], round_size: int | None, max_seeds: int,
                  train: Callable[[list[Experiment], dict[str, int]], None],
                  judge: Callable[[list[str]], list[Verdict]], all_conditions: bool = False,
                  on_round: Callable[[Round], None] | None = None) -> list[Round]:
    """Train each experiment at its start seeds, judge, and add rounds of seeds to the open ones
    until none is open or each reached max_seeds. `train(experiments, seeds)` stores the runs
    (skipping stored ones); `judge(names)` returns the verdicts of every claim they test."""
    designs = {e.name: design_for(start[e.name], round_size, max_seeds) for e in exps}
    todo = [with_design(e, designs[e.name]) for e in exps]
    seeds = {e.name: designs[e.name].start for e in exps}
    rounds: list[Round] = []
    while todo:
        train(todo, seeds)
        verdicts = judge([e.name for e in exps])
        still = open_experiments(verdicts, [e.name for e in todo], all_conditions)
        growing = [e for e in todo if e.name in still and seeds[e.name] < designs[e.name].max_seeds]
        decided = sorted({v.claim for v in verdicts if v.headline and v.decided and v.experiment in seeds})
        done = Round(len(rounds) + 1, dict(seeds), decided, sorted({v.claim for v in verdicts if v.headline and
                                                                   v.verdict == "inconclusive"}))
        rounds.append(done)
        if on_round:
            on_round(done)
        for e in growing:
            seeds[e.name] = designs[e.name].next(seeds[e.name])
        todo = growing
    return rounds
