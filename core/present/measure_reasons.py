"""Sentences for the reasons core.judging.measures and the divergence rule attach to a verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdb.core.present.numbers import num

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Reason


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


MEASURE_CODES = ("diverged_as_failure", "undefined", "setup_dependence")  # the codes worded here (and
# not_measurable's `why` censored and floor)


def measure_reason_text(reason: Reason) -> str:
    """The clause that states one measure reason ("" for a code this module does not word)."""
    g = reason.get
    if reason.code == "not_measurable" and g("why") == "censored":
        return (f"not measurable within the horizon: {_pct(g('share_first'))} and {_pct(g('share_second'))} "
                f"of the runs never reached the threshold in {num(g('horizon'))} {g('unit', 'epochs')}, so the "
                "restricted mean times sit at the horizon whatever the true times are; a longer horizon, not "
                "more seeds, would measure it")
    if reason.code == "not_measurable" and g("why") == "floor":
        return (f"on the measurement floor: {_pct(g('share_first'))} and {_pct(g('share_second'))} of the runs "
                f"were already there at the first measurement ({num(g('first_measurement'))} "
                f"{g('unit', 'epochs')}), so the times cannot differ; a finer time grid, not more seeds, "
                "would measure it")
    if reason.code == "setup_dependence":
        test = (f"Cochran's Q = {num(g('q'))} on {g('df')} df across {len(g('setups'))} setups, p = {num(g('p'))}, "
                f"family level {num(g('alpha'))}")
        return (f"depends on the setup ({test})" if g("depends")
                else f"no evidence that it depends on the setup ({test})")
    if reason.code == "undefined":
        arms = g("arms", ("", ""))
        runs = [f"{g(k)} of {g('of')} {arm} runs" for k, arm in (("first", arms[0]), ("second", arms[1])) if g(k)]
        return f"{' and '.join(runs)} had no value of this measure, so those seeds are left out"
    if reason.code == "diverged_as_failure":
        arms, scale, unit = g("arms", ("", "")), g("scale", 1.0), g("unit", "")
        runs = [f"{g(k)} {arm} run{'s' if g(k) != 1 else ''}" for k, arm in
                (("diverged_first", arms[0]), ("diverged_second", arms[1])) if g(k)]

        def scaled(x: float | None) -> str:
            return num(None if x is None else x * scale)

        low, high = g("survivors_low"), g("survivors_high")
        span = f" [{scaled(low)}, {scaled(high)}]" if low is not None and high is not None else ""
        if not g("n_survivors"):
            return f"{' and '.join(runs)} diverged and count as failures at chance ({scaled(g('score'))}{unit}); no pair survived"
        return (f"{' and '.join(runs)} diverged and count as failures at chance ({scaled(g('score'))}{unit}); "
                f"the survivors alone ({g('n_survivors')} pairs) give {scaled(g('survivors_effect'))}{unit}{span}, "
                f"{g('survivors_outcome')}")
    return ""
