"""A user's comparisons: which arm an experiment file claims does better than which, on what.

An experiment file declares them as `[[comparisons]]` tables (see `KEYS`); without any, every arm
is compared with the first arm on the task's main metric, and with some, each arm that none of them
names is compared with the first the same way (`uncovered`), so no arm goes unjudged (test accuracy for classification, test
RMSE for regression, a ratio). They are checked against the experiment's arms and the metrics the
runs store before anything is trained, and kept in the stored spec (`"comparisons"`, the form of
`Comparison.as_dict`) so that the judging reads them back with `comparisons_of(spec)`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lossdb.core import realnumber
from lossdb.core.engine import series
from lossdb.core.errors import ConfigError
from lossdb.core.experiments.tomllines import line_of

KEYS = ("name", "claim", "favoured", "other", "metric", "at", "better", "min_effect", "ratio")
AT_FORMS = 'final, best (at the best-validation epoch) or epochs_to:THRESHOLD such as "epochs_to:0.9"'
BETTER = ("higher", "lower")
RATIO_EFFECT = 1.05  # default minimum effect of a ratio (5%), as the catalogue's regression claims
TIME_EFFECT = 1.1  # default minimum effect of epochs to a threshold (10%), as the convergence claim
POINT_EFFECT = 0.01  # default minimum difference of a share or probability (one point)

At = str | tuple[str, float]  # "final" | "best" | ("epochs_to", threshold)


@dataclass(frozen=True)
class Comparison:
    """One claim about two arms of an experiment, judged like a catalogue claim.

    The measure of a run is `metric` at its final epoch ("final"), at its best-validation epoch
    ("best"), or the first epoch it reaches `threshold` (("epochs_to", threshold)): at or above
    it, or at or below it when `below` (metrics where lower is better). `better` says which values
    of that measure are better; the effect is favoured − other (other − favoured when lower is
    better), or their ratio when `ratio`, and `min_effect` is the smallest that matters (> 0, or
    > 1 for a ratio). `declared` is False for the default comparisons."""

    name: str
    claim: str
    favoured: str  # an arm label
    other: str
    metric: str
    at: At
    better: str
    min_effect: float
    ratio: bool
    below: bool = False
    declared: bool = True

    @property
    def threshold(self) -> float | None:
        """The threshold of an epochs_to measure, else None."""
        return self.at[1] if isinstance(self.at, tuple) else None

    @property
    def at_text(self) -> str:
        """`at` as written in a file: final, best or epochs_to:0.9."""
        return f"epochs_to:{self.at[1]:g}" if isinstance(self.at, tuple) else self.at

    def as_dict(self) -> dict[str, Any]:
        """The stored (JSON) form, read back by `comparisons_of`."""
        return {"name": self.name, "claim": self.claim, "favoured": self.favoured, "other": self.other,
                "metric": self.metric, "at": self.at_text, "better": self.better,
                "min_effect": self.min_effect, "ratio": self.ratio, "below": self.below,
                "declared": self.declared}


def comparisons_of(spec: Mapping[str, Any]) -> tuple[Comparison, ...]:
    """The comparisons of a stored experiment spec (declared or default), () when it has none.

    Catalogue experiments and their re-targeted copies (`convergence@mydata`) have none: their
    claims are the catalogue's. Specs stored before comparisons existed have none either; running
    the experiment file again (its finished runs are skipped) stores them."""
    out = []
    for d in spec.get("comparisons") or ():
        at = parse_at(d["at"])
        out.append(Comparison(d["name"], d["claim"], d["favoured"], d["other"], d["metric"], at,
                              d["better"], float(d["min_effect"]), bool(d["ratio"]),
                              bool(d.get("below", False)), bool(d.get("declared", True))))
    return tuple(out)


def parse_at(value: object) -> At:
    """"final", "best" or ("epochs_to", threshold) from its text; ValueError if malformed."""
    if value in ("final", "best"):
        return str(value)
    match = re.fullmatch(r"\s*epochs_to\s*:\s*(\S+)\s*", value) if isinstance(value, str) else None
    if match:
        try:
            threshold = float(match[1])
        except ValueError:
            threshold = math.nan
        if math.isfinite(threshold):
            return ("epochs_to", threshold)
    raise ValueError(value)


def default(labels: Sequence[str], task: str,
            metrics: Mapping[str, frozenset[str]] | None = None) -> tuple[Comparison, ...]:
    """Every other arm against the first on the task's main metric (accuracy, or RMSE as a ratio);
    an arm whose runs do not store that metric (`metrics`, when given) is left out."""
    metric = series.MAIN[task]
    better = series.direction(metric)
    ratio = metric in series.POSITIVE_SCALE
    first = labels[0] if labels else ""
    out = []
    for label in dict.fromkeys(labels[1:]):
        if label == first or (metrics is not None and metric not in metrics.get(label, frozenset())
                              & metrics.get(first, frozenset())):
            continue
        out.append(Comparison(f"{label}-vs-{first}", _sentence(label, first, metric, "final", better),
                              label, first, metric, "final", better,
                              RATIO_EFFECT if ratio else POINT_EFFECT, ratio, declared=False))
    return tuple(out)


def resolve(tables: object, metrics: Mapping[str, frozenset[str]], task: str, source: str,
            text: str = "") -> tuple[Comparison, ...]:
    """The declared comparisons, checked, or the default ones when `tables` is None.

    `metrics` maps each arm label (in declaration order) to the metrics its runs store."""
    if tables is None:
        return default(list(metrics), task, metrics)
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{source}: comparisons must be [[comparisons]] tables with favoured, other "
                          f"and metric keys.")
    out = [_check(t, i, metrics, task, _Where(source, text, i)) for i, t in enumerate(tables)]
    seen: set[str] = set()
    for i, c in enumerate(out):
        if c.name in seen:
            raise _Where(source, text, i).fail("name", f"two [[comparisons]] are named {c.name!r}; "
                                                       f"give each a different name")
        seen.add(c.name)
    return tuple(out) + uncovered(out, metrics, task)


def uncovered(declared: Sequence[Comparison], metrics: Mapping[str, frozenset[str]],
              task: str) -> tuple[Comparison, ...]:
    """Default comparisons for the arms that no declared comparison names: each against the first
    arm (the first arm, when it is the one left out, against the second), so every arm is judged."""
    labels = list(metrics)
    named = {c.favoured for c in declared} | {c.other for c in declared}
    pairs = {frozenset((c.favoured, c.other)) for c in declared}
    names = {c.name for c in declared}
    out = []
    for label in labels:
        if label in named or len(labels) < 2:
            continue
        base = labels[0] if label != labels[0] else labels[1]
        if frozenset((label, base)) in pairs:
            continue
        for c in default([base, label], task, metrics):
            name = c.name
            while name in names:
                name += "-default"
            names.add(name)
            pairs.add(frozenset((label, base)))
            out.append(Comparison(name, c.claim, c.favoured, c.other, c.metric, c.at, c.better,
                                  c.min_effect, c.ratio, declared=False))
    return tuple(out)


@dataclass(frozen=True)
class _Where:
    """Where the i-th [[comparisons]] table is, for errors that name the file, line and key."""

    source: str
    text: str
    index: int

    def fail(self, key: str, message: str) -> ConfigError:
        line = line_of(self.text, "comparisons", key, self.index)
        where = f"{self.source}, line {line}" if line else self.source
        return ConfigError(f"{where}: [comparisons] {key}: {message}.")


def _check(t: dict[str, Any], i: int, metrics: Mapping[str, frozenset[str]], task: str,
           where: _Where) -> Comparison:
    for key in t:
        if key not in KEYS:
            raise where.fail(key, f"unknown key; valid keys: {', '.join(KEYS)}")
    labels = ", ".join(repr(label) for label in metrics)
    for key in ("favoured", "other"):
        if key not in t:
            raise where.fail(key, f"missing: name the arm by its label; valid: {labels}")
        if t[key] not in metrics:
            raise where.fail(key, f"unknown arm label {t[key]!r}; valid: {labels} (an arm's label is "
                                  f"its label key, else loss/head)")
    favoured, other = t["favoured"], t["other"]
    if favoured == other:
        raise where.fail("other", f"compares {favoured!r} with itself; name two different arms")
    metric = _metric(t, metrics[favoured] & metrics[other], task, where)
    at = _at(t, metric, where)
    better = _better(t, metric, at, where)
    ratio = _ratio(t, metric, at, where)
    min_effect = _min_effect(t, metric, at, ratio, where)
    name = t.get("name", f"{favoured}-vs-{other}")
    if not isinstance(name, str) or not name.strip():
        raise where.fail("name", f"must be non-empty text, got {name!r}")
    claim = t.get("claim", _sentence(favoured, other, metric, at, better))
    if not isinstance(claim, str) or not claim.strip():
        raise where.fail("claim", f"must be a sentence (text), got {claim!r}")
    below = isinstance(at, tuple) and series.direction(metric) == "lower"
    return Comparison(name.strip(), claim.strip(), favoured, other, metric, at, better, min_effect,
                      ratio, below)


def _metric(t: dict[str, Any], valid: frozenset[str], task: str, where: _Where) -> str:
    metric = t.get("metric", series.MAIN[task])
    if metric not in valid:
        raise where.fail("metric", f"{metric!r} is not stored for these arms; valid: "
                                   f"{', '.join(sorted(valid))}")
    return metric


def _at(t: dict[str, Any], metric: str, where: _Where) -> At:
    try:
        at = parse_at(t.get("at", "final"))
    except ValueError:
        raise where.fail("at", f"must be {AT_FORMS}, got {t['at']!r}") from None
    if isinstance(at, tuple):
        if series.direction(metric) is None:
            raise where.fail("at", f"epochs_to needs a metric with a better side (an accuracy, loss, "
                                   f"RMSE …), and {metric} has none; use final or best")
        if metric in series.UNIT_INTERVAL and not 0 <= at[1] <= 1:
            raise where.fail("at", f"the threshold {at[1]:g} is outside [0, 1], the range of {metric}")
    return at


def _better(t: dict[str, Any], metric: str, at: At, where: _Where) -> str:
    natural = "lower" if isinstance(at, tuple) else series.direction(metric)  # fewer epochs is better
    better = t.get("better", natural)
    if better is None:
        raise where.fail("better", f"needed: {metric} has no better side of its own, so say higher or lower")
    if better not in BETTER:
        raise where.fail("better", f"must be higher or lower, got {better!r}")
    return better


def _ratio(t: dict[str, Any], metric: str, at: At, where: _Where) -> bool:
    ratio = t.get("ratio", isinstance(at, tuple) or metric in series.POSITIVE_SCALE)
    if not isinstance(ratio, bool):
        raise where.fail("ratio", f"must be true or false, got {ratio!r}")
    return ratio


def _min_effect(t: dict[str, Any], metric: str, at: At, ratio: bool, where: _Where) -> float:
    if "min_effect" not in t:
        if ratio:
            return TIME_EFFECT if isinstance(at, tuple) else RATIO_EFFECT
        if metric in series.UNIT_INTERVAL:
            return POINT_EFFECT
        raise where.fail("min_effect", f"needed: the smallest difference in {metric} that matters "
                                       f"(a number > 0)")
    value = t["min_effect"]
    if not realnumber.within(value, 0.0, open_low=True):
        raise where.fail("min_effect", f"must be a number > 0 (the smallest difference that matters), "
                                       f"got {value!r}")
    if ratio and value <= 1:
        raise where.fail("min_effect", f"{metric} is compared as a ratio, so min_effect must be above 1 "
                                       f"(1.1 = 10% better), got {value!r}; or set ratio = false")
    return float(value)


def _sentence(favoured: str, other: str, metric: str, at: At, better: str) -> str:
    if isinstance(at, tuple):
        sign = "≤" if series.direction(metric) == "lower" else "≥"
        pace = "fewer" if better == "lower" else "more"
        return f"{favoured} reaches {metric} {sign} {at[1]:g} in {pace} epochs than {other}."
    when = "at the best-validation epoch" if at == "best" else "at the end"
    return f"{favoured} gives {better} {metric} than {other} {when}."
