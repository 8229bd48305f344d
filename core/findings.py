"""One plain-language sentence per verdict, with the numbers (used by core.verdicts)."""

from __future__ import annotations

import math

from core.analysis import Estimate
from core.claims import Test


def _g(x: float) -> str:
    """A number for prose: 3 significant digits, a real minus sign."""
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.3g}".replace("-", "−")


def _pts(x: float, test: Test) -> str:
    v = x * test.scale
    text = f"{v:.1f}" if test.scale != 1 else _g(v)
    return text.replace("-", "−")


def _interval(test: Test, est: Estimate, deterministic: bool, low: float, high: float, ratio: bool) -> str:
    """The parenthesis after the effect: the CI and the number of seeds, or why there is none."""
    if est.method == "deterministic" or deterministic:
        return "(deterministic)"
    if est.method == "no variation":
        return f"(the same on all {est.n} seeds)"
    if est.n == 1:
        return "(1 seed: no interval)"
    lo, hi = (_g(low), _g(high)) if ratio else (_pts(low, test), _pts(high, test))
    sep = "–" if ratio or (low >= 0 and high >= 0) else " to "
    unit = "×" if ratio else ""
    return f"(95% CI {lo}{sep}{hi}{unit}, {est.n} seeds)"


def _lr(mode: str, lr_f: float) -> str:
    return {"tuned": ", each at its best validation learning rate", "equal": f", at learning rate {lr_f:g}"}.get(mode, "")


def sentence(test: Test, f: str, o: str, est: Estimate, mode: str, lr_f: float, deterministic: bool,
             notes: list[str]) -> str:
    """'ce/softmax needed 3.1× fewer epochs to 90% training accuracy than mse/softmax (95% CI …)'."""
    if est.n == 0:
        core = f"No seed gave a finite {test.what} for both {f} and {o}"
    elif est.degenerate and est.effect == (1.0 if test.ratio else 0.0):
        core = f"{f} and {o} had the same {test.what} {_interval(test, est, deterministic, 0, 0, False)}"
    elif test.ratio:
        core = _ratio_text(test, f, o, est, deterministic)
    else:
        core = _diff_text(test, f, o, est, deterministic)
    if test.kind == "noninferior" and not test.ratio:
        notes = [f"the claim allows it to be up to {_pts(test.min_effect, test)}{test.unit} worse", *notes]
    tail = "; " + "; ".join(notes) if notes else ""
    return f"{core}{_lr(mode, lr_f)}{tail}."


def _ratio_text(test: Test, f: str, o: str, est: Estimate, deterministic: bool) -> str:
    e, lo, hi = est.effect, est.ci_low, est.ci_high
    if test.time:  # effect = other/favoured: how many times fewer epochs the favoured arm needed
        if e >= 1:
            return f"{f} needed {_g(e)}× fewer {test.what} than {o} {_interval(test, est, deterministic, lo, hi, True)}"
        inv = (1 / hi if hi > 0 else math.inf, 1 / lo if lo > 0 else math.inf)
        return f"{f} needed {_g(1 / e)}× more {test.what} than {o} {_interval(test, est, deterministic, *inv, True)}"
    if test.better == "lower":  # effect = other/favoured; state favoured/other
        e, lo, hi = 1 / e, (1 / hi if hi > 0 else math.inf), (1 / lo if lo > 0 else math.inf)
    return f"{f}'s {test.what} was {_g(e)}× {o}'s {_interval(test, est, deterministic, lo, hi, True)}"


def _diff_text(test: Test, f: str, o: str, est: Estimate, deterministic: bool) -> str:
    sign = 1 if test.better == "higher" else -1  # raw difference favoured − other = sign · effect
    d, lo, hi = sign * est.effect, *sorted((sign * est.ci_low, sign * est.ci_high))
    word, shown = ("higher", (d, lo, hi)) if d >= 0 else ("lower", (-d, -hi, -lo))
    size = _pts(shown[0], test) + test.unit
    return (f"{f}'s {test.what} was {size} {word} than {o}'s "
            f"{_interval(test, est, deterministic, shown[1], shown[2], False)}")


def analytic_sentence(test: Test, f_p: float, o_p: float, f_tiny: float, o_tiny: float, p: float) -> str:
    """The finding of an analytic loss-shape comparison at p̂ = p and at p̂ = 1e-6."""
    f, o = test.favoured[0], test.others[0]
    what = "loss" if test.measure.metric == "loss" else "gradient norm ‖∂loss/∂z‖"
    return (f"When the true class gets p̂ = {p:g} (10 classes), {f}'s {what} is {_g(f_p)} against {o}'s "
            f"{_g(o_p)} ({_g(f_p / o_p)}×, analytic, deterministic); at p̂ = 1e-6 it is {_g(f_tiny)} "
            f"against {_g(o_tiny)}.")
