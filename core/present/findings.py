"""One plain-language finding per verdict, built from the verdict alone (used by core.judging.verdicts).

The effect and its interval are written by `core.present.cells.effect_ci`, so the finding quotes exactly
the string that the table's effect column shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdb.core.present.numbers import num
from lossdb.core.present.cells import band_text, effect_ci, looks_text

if TYPE_CHECKING:
    from lossdb.core.judging.claims import Test
    from lossdb.core.judging.outcomes import Verdict

MEANING = {
    "supported": "the whole interval lies beyond the minimum effect of {band} on the claimed side",
    "contradicted": "the whole interval lies beyond the minimum effect of {band} on the other side",
    "equivalent": "the whole interval lies inside ±{band}: the difference does not matter, so the claimed "
                  "difference fails",
    "inconclusive": "the interval reaches across {band}: the seeds do not settle it",
}
MEANING_NONINFERIOR = {
    "supported": "the whole interval lies above −{band} (the non-inferiority margin)",
    "contradicted": "the whole interval lies below −{band} (the non-inferiority margin)",
    "inconclusive": "the interval reaches across −{band} (the non-inferiority margin): the seeds do not settle it",
}


def sentence(v: Verdict) -> str:
    """'ce/softmax vs mse/softmax, final test accuracy: +1.2 points [0.4, 2.0] in ce/softmax's favour
    (10 seeds, each at its best validation rate): supported — the whole interval …'."""
    f, o = v.arms
    if v.n == 0:
        core = f"No seed gave a finite {v.metric} for both {f} and {o}"
        return core + _tail(v) + "."
    meanings = MEANING_NONINFERIOR if v.kind == "noninferior" else MEANING
    meaning = meanings.get(v.verdict, "").format(band=band_text(v))
    if v.deterministic:
        meaning = meaning.replace("the whole interval lies", "the exact value lies")
    if v.unconverged:
        meaning = "an arm had not converged at this rate, so it is no evidence either way"
    text = (f"{f} vs {o}, {v.metric}: {effect_ci(v)} in {f}'s favour ({_context(v)}): "
            f"{v.verdict} — {meaning}")
    return text + _tail(v) + "."


def _context(v: Verdict) -> str:
    parts = ["deterministic" if v.deterministic else f"{v.n} seeds"]
    if v.lr_mode == "tuned":
        parts.append(f"each at its own validation-chosen rate, {v.lr.removeprefix('tuned ').strip('()')}, "
                     "chosen on other seeds")
    elif v.lr_mode == "equal":
        parts.append(f"both at rate {v.lr}")
    elif v.lr_mode == "fixed" and None not in v.lrs and v.lrs[0] != v.lrs[1]:
        parts.append(f"paired by seed, each at its own fixed rate: {v.arms[0]} at {v.lrs[0]:g} vs "
                     f"{v.arms[1]} at {v.lrs[1]:g}")
    if not v.deterministic and v.alpha < 0.05:
        parts.append(f"{100 * (1 - v.alpha):.3g}% interval, family-wise over the headlines")
    return ", ".join(parts)


def _tail(v: Verdict) -> str:
    notes = list(v.notes)
    if v.fragile:
        notes.append(v.fragile)
    if v.looks:
        path = looks_text(v)
        last = v.looks[-1]
        notes.append(f"judged group-sequentially (O'Brien–Fleming spending) at {len(v.looks)} look"
                     f"{'s' if len(v.looks) != 1 else ''} ({path}); "
                     + (f"decided at {last.n} seeds" if last.verdict != "inconclusive" else f"open at {last.n} seeds"))
    if v.verdict == "inconclusive" and v.seeds_needed is not None:
        notes.append(f"more than {v.seeds_needed} seeds would be needed to decide it" if v.seeds_needed_capped
                     else f"about {v.seeds_needed} seeds would decide it")
    return "; " + "; ".join(notes) if notes else ""


def analytic_sentence(test: Test, f_p: float, o_p: float, f_tiny: float, o_tiny: float, p: float) -> str:
    """The finding of an analytic loss-shape comparison at p̂ = p and at p̂ = 1e-6."""
    f, o = test.favoured[0].label, test.others[0].label
    what = "loss" if test.measure.metric == "loss" else "gradient norm ‖∂loss/∂z‖"
    return (f"Illustration: when the true class gets p̂ = {p:g} (10 classes), {f}'s {what} is {num(f_p)} "
            f"against {o}'s {num(o_p)} ({num(f_p / o_p)}×, analytic, deterministic); at p̂ = 1e-6 it is "
            f"{num(f_tiny)} against {num(o_tiny)}.")
