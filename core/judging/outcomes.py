"""The outcome of judging one comparison: the `Verdict` record every output reads (no judging here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# "not measurable": no usable pair (every pair diverged, no event, neither arm reached the threshold
# within the horizon); never counted as inconclusive or as evidence, never given more seeds.
VERDICTS = ("supported", "contradicted", "equivalent", "inconclusive", "not measurable", "not run")
ALPHA = 0.05


@dataclass(frozen=True)
class Look:
    """One look of a sequential verdict: the seeds it had, the level it used and its interval."""

    n: int
    alpha: float
    ci_low: float | None
    ci_high: float | None
    verdict: str
    spending: str = "obrien-fleming"  # the design's alpha-spending function (core.judging.sequential)


@dataclass(frozen=True)
class Reason:
    """Why a verdict reads as it does, as data: a stable code and its figures (present/ words it)."""

    code: str
    figures: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        """One figure by name."""
        return dict(self.figures).get(name, default)


@dataclass(frozen=True)
class Verdict:
    """The verdict of one claim in one experiment, condition, learning-rate setting and pair of arms.

    `effect`, `ci_low` and `ci_high` are in the claim's direction: a difference (favoured − other
    when higher is better, other − favoured when lower is), or a ratio (favoured/other, or
    other/favoured) when `ratio`; `values` holds each arm's mean measure over the paired seeds."""

    claim: str
    sentence: str
    experiment: str
    condition: str
    metric: str
    arms: tuple[str, str]
    values: dict[str, float]
    verdict: str
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    command: str | None
    headline: bool
    condition_keys: tuple[tuple[str, Any], ...] = ()
    lr: str = ""  # "tuned (0.5 vs 2)", "0.5" (equal), "fixed (0.15 vs 0.075)", "" (analytic)
    lr_mode: str = ""  # tuned | equal | fixed | analytic | ""
    lrs: tuple[float | None, float | None] = (None, None)  # each arm's rate (the first half's when tuned)
    method: str = ""  # the estimator
    ratio: bool = False
    kind: str = "superior"
    min_effect: float = 0.0
    alpha: float = ALPHA
    scale: float = 1.0
    unit: str = ""
    better: str = "higher"
    excluded_diverged: int = 0
    diverged: tuple[int, int] = (0, 0)  # diverged runs of each arm among the paired seeds
    deterministic: bool = False
    seeds_needed: int | None = None
    seeds_needed_capped: bool = False  # True: more than `seeds_needed` (the effect sits on a band edge)
    looks: tuple[Look, ...] = ()
    illustration: bool = False
    unconverged: bool = False  # an arm had not converged at this rate: no evidence either way
    p_value: float = 1.0  # the smallest level at which the outcome is still decided (1 when undecided)
    reasons: tuple[Reason, ...] = ()  # the numbers behind the finding, as codes with figures, in order
    family: str = ""  # a headline: the declared family it shares its level with ("catalogue", an experiment)
    family_size: int = 0  # a headline: the stochastic headlines of that family (m of the Bonferroni level)
    tally: tuple[Reason, ...] = ()  # a summary row: how the claim fares elsewhere (counts, as data)

    @property
    def dataset(self) -> str:
        """The dataset of the verdict's condition, or ""."""
        return str(dict(self.condition_keys).get("dataset", ""))

    @property
    def fragile(self) -> Reason | None:
        """The `fragile` reason (a rate tied on validation would change the outcome), or None."""
        return self.reason("fragile")

    def reason(self, code: str) -> Reason | None:
        """The first reason with this code, or None."""
        return next((r for r in self.reasons if r.code == code), None)

    @property
    def decided(self) -> bool:
        """True when more seeds are not needed: supported, contradicted or equivalent."""
        return self.verdict in ("supported", "contradicted", "equivalent")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the numbers (non-finite numbers as strings, as in `lossdb runs`); the
        "fragile" and "finding" texts are None here, written by `core.present.cells.as_json`."""
        def num(v: float | None) -> float | str | None:
            return v if v is None or np.isfinite(v) else str(v)

        return {"claim": self.claim, "sentence": self.sentence, "experiment": self.experiment,
                "condition": self.condition, "condition_keys": {k: _jsonable(v) for k, v in self.condition_keys},
                "lr": self.lr, "lr_mode": self.lr_mode,
                "arm_lr": {self.arms[0]: self.lrs[0], self.arms[1]: self.lrs[1]},
                "metric": self.metric, "arms": list(self.arms),
                "values": {k: num(v) for k, v in self.values.items()}, "verdict": self.verdict,
                "effect": num(self.effect), "ci_low": num(self.ci_low), "ci_high": num(self.ci_high),
                "ratio": self.ratio, "kind": self.kind,
                "min_effect": self.min_effect, "alpha": self.alpha, "estimator": self.method, "n": self.n,
                "excluded_diverged": self.excluded_diverged, "deterministic": self.deterministic,
                "fragile": None, "seeds_needed": self.seeds_needed,
                "seeds_needed_more_than": self.seeds_needed_capped,
                "looks": [{"n": k.n, "alpha": k.alpha, "ci_low": k.ci_low, "ci_high": k.ci_high,
                           "verdict": k.verdict} for k in self.looks],
                "finding": None, "command": self.command, "headline": self.headline,
                "family": self.family or None, "family_size": self.family_size or None}


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v
