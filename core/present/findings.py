"""One plain-language finding per verdict, written on demand from the verdict's numbers and reasons.

Judging hands back numbers and `Reason`s (a code with its figures); every sentence about a verdict is
written here. The effect and its interval are written by `core.present.effects.effect_ci`, so the finding
quotes exactly the string that the table's effect column shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdb.core.present.conditions import injected_phrase
from lossdb.core.present.numbers import num
from lossdb.core.present.effects import band_text, effect_ci, looks_text
from lossdb.core.present.measure_reasons import MEASURE_CODES, measure_reason_text

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Reason, Verdict

MEANING = {
    "supported": "the whole interval lies beyond the minimum effect of {band} on the claimed side",
    "contradicted": "the whole interval lies beyond the minimum effect of {band} on the other side",
    "equivalent": "the whole interval lies inside ±{band}: the difference does not matter, so the claimed "
                  "difference fails",
    "inconclusive": "the interval reaches across {band}: the seeds do not settle it",
    "not measurable": "the measure cannot see an effect here, so this is no evidence either way",
}
MEANING_NONINFERIOR = {
    "supported": "the whole interval lies above −{band} (the non-inferiority margin)",
    "contradicted": "the whole interval lies below −{band} (the non-inferiority margin)",
    "inconclusive": "the interval reaches across −{band} (the non-inferiority margin): the seeds do not settle it",
}


def finding(v: Verdict) -> str:
    """The whole finding of a verdict: its sentence, then (a summary row) how the claim fares elsewhere."""
    return sentence(v) + tally_text(v.tally)


def sentence(v: Verdict) -> str:
    """'ce/softmax vs mse/softmax, final test accuracy: +1.2 points [0.4, 2.0] in ce/softmax's favour
    (10 seeds, each at its best validation rate): supported — the whole interval …'."""
    f, o = v.arms
    special = next((r for r in v.reasons if r.code in _SPECIAL), None)
    if special is not None:
        return _SPECIAL[special.code](v, special)
    why = v.reason("not_measurable")
    if v.verdict == "not measurable" and why is not None:
        return f"{f} vs {o}, {v.metric}: not measurable — {unmeasurable_text(v, why)}" + _tail(v) + "."
    if v.n == 0:
        core = f"No seed gave a finite {v.metric} for both {f} and {o}"
        return core + _tail(v) + "."
    meanings = MEANING_NONINFERIOR if v.kind == "noninferior" and v.verdict in MEANING_NONINFERIOR else MEANING
    meaning = meanings.get(v.verdict, "").format(band=band_text(v))
    if v.deterministic:
        meaning = meaning.replace("the whole interval lies", "the exact value lies")
    if v.unconverged:
        meaning = "an arm had not converged at this rate, so it is no evidence either way"
    text = (f"{f} vs {o}, {v.metric}: {effect_ci(v)} in {f}'s favour ({_context(v)}): "
            f"{v.verdict} — {meaning}")
    return text + _tail(v) + "."


def estimand_text(v: Verdict) -> str:
    """What the effect estimates, from its estimator: "geometric mean of per-seed ratios", … ("" if plain)."""
    method = v.method
    if method.startswith("median of per-seed"):  # --estimator robust: the estimator names its estimand
        return "median of per-seed ratios" if v.ratio else "median of per-seed differences"
    if method.startswith("Hodges–Lehmann"):
        return "geometric pseudo-median of per-seed ratios" if v.ratio else "pseudo-median of per-seed differences"
    if "on log ratios" in method:
        return "geometric mean of per-seed ratios"
    if "Fieller" in method:
        return "ratio of the arms' restricted mean times"
    if method in ("paired t", "BCa bootstrap"):
        return "mean of per-seed differences"
    if method.startswith("Newcombe"):
        return "difference of the arms' shares"
    return ""


def _context(v: Verdict) -> str:
    parts = ["deterministic" if v.deterministic else f"{v.n} seeds"]
    if (v.ratio or v.method.startswith(("median", "Hodges"))) and not v.deterministic and estimand_text(v):
        parts.append(estimand_text(v))  # beside arithmetic arm means, say what a ratio or a median estimates
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


def unmeasurable_text(v: Verdict, r: Reason) -> str:
    """Why nothing could be measured: "every one of the 5 paired seeds had a diverged run …"."""
    f, o = v.arms
    seeds = r.get("seeds")
    if r.get("why") in ("censored", "floor"):  # core.judging.measures: the grid or horizon cannot see it
        return measure_reason_text(r)
    if r.get("why") == "diverged":
        return (f"every one of the {seeds} paired seeds had a diverged run, so no pair is left to compare "
                "(not evidence either way; more seeds of this setting would not help)")
    if r.get("why") == "never_reached":
        return (f"neither {f} nor {o} reached the threshold within {r.get('horizon')} epochs in any of the "
                f"{seeds} seeds, so there is no time to compare (not evidence either way)")
    return f"no seed gave a finite {v.metric} for both {f} and {o} (not evidence either way)"


def reason_text(r: Reason) -> str:
    """One reason as the clause the finding quotes ("3 of 8 mse/sigmoid runs diverged: …")."""
    return _REASONS[r.code](r)


def fragile_text(v: Verdict) -> str:
    """Why a tied learning rate would change the verdict, or ""."""
    return reason_text(v.fragile) if v.fragile else ""


def _tail(v: Verdict) -> str:
    said = (*_LATER, "censored") if v.verdict == "not measurable" else _LATER  # its own sentence says it
    notes = [reason_text(r) for r in v.reasons if r.code in _REASONS and r.code not in said]
    if v.fragile:
        notes.append(fragile_text(v))
    if v.looks:
        path = looks_text(v)
        last = v.looks[-1]
        spending = SPENDING_NAMES.get(last.spending, last.spending)
        notes.append(f"judged group-sequentially ({spending} spending) at {len(v.looks)} look"
                     f"{'s' if len(v.looks) != 1 else ''} ({path}); "
                     + (f"decided at {last.n} seeds" if last.verdict != "inconclusive" else f"open at {last.n} seeds"))
    if v.verdict == "inconclusive" and v.seeds_needed is not None:
        notes.append(f"more than {v.seeds_needed} seeds would be needed to decide it" if v.seeds_needed_capped
                     else f"about {v.seeds_needed} seeds would decide it with 80% probability if the effect and "
                     "spread are what we see")
    return "; " + "; ".join(notes) if notes else ""


def _analytic(v: Verdict, r: Reason) -> str:
    """The finding of an analytic loss-shape comparison at p̂ = p and at a tiny p̂."""
    f, o = v.arms
    what = "loss" if r.get("quantity") == "loss" else "gradient norm ‖∂loss/∂z‖"
    (f_p, o_p), (f_tiny, o_tiny), p = r.get("values"), r.get("at_tiny"), r.get("p")
    return (f"Illustration: when the true class gets p̂ = {p:g} ({r.get('classes')} classes), {f}'s {what} is "
            f"{num(f_p)} against {o}'s {num(o_p)} ({num(f_p / o_p)}×, analytic, deterministic); at p̂ = "
            f"{_plain(r.get('tiny'))} it is {num(f_tiny)} against {num(o_tiny)}.")


def _plain(x: float) -> str:
    """A number as typed in prose: 1e-6, 0.01."""
    mantissa, _, exponent = f"{x:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def _not_run(v: Verdict, r: Reason) -> str:
    return f"No runs of the {r.get('experiment')} experiment yet."


def _not_comparable(v: Verdict, r: Reason) -> str:
    return (f"The stored runs of {r.get('experiment')} (arms {', '.join(r.get('arms'))}) hold no comparison of "
            f"{' or '.join(r.get('favoured'))} with {' or '.join(r.get('others'))} "
            "under the conditions this claim is about.")


def _no_step_record(v: Verdict, r: Reason) -> str:
    return (f"The stored runs of {r.get('experiment')} have no record between epochs; rerun them to measure "
            "time in optimiser steps.")


def rerun_text(v: Verdict) -> str:
    """Why a "not run" verdict has no command that would add its runs (its file is gone, or was never
    recorded), in one sentence; "" when it has one or needs none."""
    r = v.reason("no_rerun")
    if r is None or v.command:
        return ""
    if r.get("state") == "gone":
        return (f"Its {r.get('kind')} file {r.get('file')} is not there from this folder: restore it, or go to the "
                f"folder it was given from, and run `{r.get('command')}`.")
    return (f"This database did not record the file that defines {r.get('experiment')} (it was stored before "
            "lossdb kept it): run `lossdb run --config FILE` with that file.")


_SPECIAL = {"not_run": _not_run, "not_comparable": _not_comparable, "analytic": _analytic,
            "no_step_record": _no_step_record}


def _arms_of(r: Reason) -> str:
    return " and ".join(f"{k} of {n} {label}" for label, k, n in r.get("arms"))


def _lr_range(r: Reason) -> str:
    good = r.get("good")
    if good is None:
        return f"{r.get('arm')} ran at {r.get('rates')} rates"
    span = "" if not good else f" ({good[0]:g})" if len(good) == 1 else f" ({good[0]:g}–{good[-1]:g})"
    return (f"{r.get('arm')} was within {r.get('tolerance') * 100:g} points of its best validation accuracy at "
            f"{len(good)} of {r.get('rates')} rates{span}")


SPENDING_NAMES = {"obrien-fleming": "O'Brien–Fleming", "pocock": "Pocock"}  # core.judging.sequential.SPENDING
_REASONS = {
    "unconverged": lambda r: (f"{' and '.join(r.get('arms'))} had not converged at rate {r.get('lr'):g} (training "
                              "loss still falling), so this rate is no evidence either way"),
    "diverged": lambda r: (f"{' and '.join(f'{k} of {n} {label} runs diverged' for label, k, n in r.get('arms'))}: "
                           f"those {r.get('excluded')} seeds are left out of this comparison"),
    "censored": lambda r: (f"{_arms_of(r)} runs never got there in {r.get('horizon')} {r.get('unit', 'epochs')} "
                           f"(censored: the effect is a ratio of restricted mean times to {r.get('horizon')} "
                           f"{r.get('unit', 'epochs')})"),
    "same_seeds": lambda r: "too few seeds to choose the rate on other seeds: chosen on the same ones",
    "note": lambda r: str(r.get("text")),
    "injected": lambda r: f"measured {injected_phrase(r)}, not on the data as it is",
    "lr_range": _lr_range,
    "fragile": lambda r: (f"fragile: {r.get('arm')} at rate {r.get('rate'):g}, tied with the chosen rate on "
                          f"validation, would make it {r.get('outcome')}"),
}
_REASONS.update(dict.fromkeys(MEASURE_CODES, measure_reason_text))  # core.judging.measures and kin
_LATER = ("fragile", "seeds_needed")  # written after the other notes, in their own places


def _counts(counts: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts)


def tally_text(tally: tuple[Reason, ...]) -> str:
    """A summary row's tally as sentences: the same comparison elsewhere, where it differs, every
    comparison of the claim, and the tests not yet run ("" when there is none)."""
    text = ""
    for r in tally:
        if r.code == "same_comparison":
            text += (f" The same comparison in {r.get('n')} other settings, counted with the false discovery "
                     f"rate held at 5% (Benjamini–Hochberg): {_counts(r.get('counts'))}.")
        elif r.code == "elsewhere":
            where = "; ".join(f"{verdict} at {cond}, lr {lr}" for verdict, cond, lr in r.get("rows"))
            text += f" Elsewhere (each setting's own verdict): {where}{'; …' if r.get('more') else '.'}"
        elif r.code == "all_comparisons":
            apart = [f"{r.get('duplicates')} identical to another row" if r.get("duplicates") else "",
                     f"{r.get('not_measurable')} not measurable" if r.get("not_measurable") else ""]
            apart = [a for a in apart if a]
            text += (f" All {r.get('n')} distinct comparisons of this claim (every measure and pair of arms), "
                     f"counted the same way: {_counts(r.get('counts'))}"
                     + (f"; left apart: {' and '.join(apart)}." if apart else "."))
        elif r.code == "not_yet_run":
            text += " Not yet run: " + ", ".join(f"{e} (`lossdb run {e}`)" for e in r.get("experiments")) + "."
    return text
