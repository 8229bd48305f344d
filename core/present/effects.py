"""How a verdict's effect and interval are written: "+1.2 points [0.4, 2.0]", "2.73× [2.31, 3.23]"
(one home, quoted by the table's cells and by the findings alike)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdb.core.present.numbers import MINUS, MISSING, finite, num

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Verdict


def _diff(x: float, v: Verdict, signed: bool = False) -> str:
    """A difference in the verdict's display units: "1.2" points (one decimal), else 3 digits."""
    value = x * v.scale
    text = f"{value:.1f}" if v.scale != 1 else num(value)
    text = text.replace("-", MINUS)
    if text in ("0.0", f"{MINUS}0.0"):
        text = "0.0"
    return ("+" + text) if signed and value > 0 and not text.startswith(MINUS) else text


def band_text(v: Verdict) -> str:
    """The minimum effect (or margin) as the reader sees it: "1.1×", "1.0 points"."""
    if v.ratio:
        return f"{num(v.min_effect)}×"
    return _diff(v.min_effect, v) + v.unit


def effect_ci(v: Verdict) -> str:
    """The effect and its interval in the claim's direction: "2.73× [2.31, 3.23]",
    "+1.2 points [−0.5, 2.9]", "28.3× (deterministic)", "—" when there is none."""
    if not finite(v.effect):
        return MISSING
    if v.ratio:
        point = f"{num(v.effect)}×"
        lo, hi = (num(v.ci_low), num(v.ci_high)) if finite(v.ci_low) and finite(v.ci_high) else (None, None)
        unit = ""
    else:
        point = _diff(v.effect, v, signed=True) + v.unit
        lo, hi = ((_diff(v.ci_low, v), _diff(v.ci_high, v)) if finite(v.ci_low) and finite(v.ci_high)
                  else (None, None))
        unit = ""
    if v.deterministic:
        return f"{point} (deterministic)"
    if lo is None or v.reason("too_few_seeds") is not None:
        return f"{point} ({unbounded_text(v.n)})"
    return f"{point} [{lo}, {hi}]{unit}"


def unbounded_text(n: int) -> str:
    """The words every output uses when the seeds cannot bound an interval inside the measure's range."""
    return f"too few seeds to bound it: {n}"


def interval_text(v: Verdict, low: float | None, high: float | None, n: int | None = None) -> str:
    """An interval in the verdict's display units: "[2.31, 3.23]" (ratio), "[−0.5, 2.9]" (points);
    "(too few seeds to bound it: n)" when an end is missing."""
    if not (finite(low) and finite(high)):
        return f"({unbounded_text(v.n if n is None else n)})"
    if v.ratio:
        return f"[{num(low)}, {num(high)}]"
    return f"[{_diff(low, v)}, {_diff(high, v)}]"


def looks_text(v: Verdict) -> str:
    """The path of a sequential verdict: "5 seeds [−1.2, 3.4] inconclusive; 10 seeds [0.2, 2.1] supported"."""
    return "; ".join(f"{k.n} seeds {interval_text(v, k.ci_low, k.ci_high, k.n)} {k.verdict}" for k in v.looks)
