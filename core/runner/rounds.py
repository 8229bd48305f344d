"""Seeds until decided: `lossdb run --until-decided` adds rounds of new paired seeds to the
experiments whose verdicts are still inconclusive, judging them under their sequential design
(core.judging.adaptive.Design), until every verdict is decided or its experiment reaches the maximum.

The design is stored with each experiment's spec, so the same command run again adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lossdb.core.errors import ConfigError
from lossdb.core.judging.adaptive import KEY, MIN_START, Design

if TYPE_CHECKING:
    from lossdb.core.experiments.spec import Experiment, RunPlan
    from lossdb.core.judging.claims import Claim
    from lossdb.core.judging.outcomes import Verdict


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
