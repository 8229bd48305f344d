"""The one presenter of verdicts: the summary table's columns and how each cell is written.

`lossdb compare` (terminal, Markdown, CSV, JSON), the dashboard and all four report formats write a
verdict through these functions, so the same row shows the same numbers everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdb.core.present.numbers import MINUS, MISSING, finite, num

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Verdict

SUMMARY_COLUMNS = ("claim", "verdict", "effect [CI]", "n", "measured by", "tested in", "arms and values",
                   "finding")
COMPACT_COLUMNS = ("claim", "verdict", "effect [CI]", "n")


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
    if lo is None:
        return f"{point} (no interval: 1 seed)" if v.n <= 1 else f"{point} (interval unbounded at {v.n} seeds)"
    return f"{point} [{lo}, {hi}]{unit}"


def interval_text(v: Verdict, low: float | None, high: float | None) -> str:
    """An interval in the verdict's display units: "[2.31, 3.23]" (ratio), "[−0.5, 2.9]" (points)."""
    if not (finite(low) and finite(high)):
        return "[unbounded]"
    if v.ratio:
        return f"[{num(low)}, {num(high)}]"
    return f"[{_diff(low, v)}, {_diff(high, v)}]"


def looks_text(v: Verdict) -> str:
    """The path of a sequential verdict: "5 seeds [−1.2, 3.4] inconclusive; 10 seeds [0.2, 2.1] supported"."""
    return "; ".join(f"{k.n} seeds {interval_text(v, k.ci_low, k.ci_high)} {k.verdict}" for k in v.looks)


def n_text(v: Verdict) -> str:
    """Paired seeds (1 for a deterministic comparison), or — when not run."""
    if v.verdict == "not run":
        return MISSING
    return str(v.n)


def where(v: Verdict) -> str:
    """"convergence: dataset=digits, lr tuned (2 vs 2)"."""
    parts = [p for p in (v.condition, f"lr {v.lr}" if v.lr else "") if p]
    return f"{v.experiment}: {', '.join(parts)}" if parts else v.experiment


def values(v: Verdict) -> str:
    """"ce/softmax 1.00; mse/softmax 4.33" (the arms' mean measure), or the arms when not run."""
    if not v.values:
        return " vs ".join(v.arms)
    return "; ".join(f"{k} {_value(v, x)}" for k, x in v.values.items())


def _value(v: Verdict, x: float) -> str:
    if v.scale != 1 and finite(x):
        return f"{x * v.scale:.1f}%"
    return num(x)


def finding(v: Verdict) -> str:
    """The verdict's finding, the corruption lossdb injected to measure it (if any), and the command
    that would measure it when it is not run."""
    from lossdb.core.present.conditions import injected_text

    injected = injected_text(v)
    text = v.finding + (f" Measured {injected}, not on the data as it is." if injected else "")
    return text + (f" Run `{v.command}`." if v.command else "")


def one_line(v: Verdict) -> str:
    """A one-line gist for narrow tables: the measure, the arms and the learning rates."""
    if v.verdict == "not run":
        return f"not run: `{v.command}`" if v.command else "not run"
    gist = f"{v.metric}; {v.arms[0]} vs {v.arms[1]}"
    if v.lr:
        gist += f"; lr {v.lr}"
    if v.verdict == "inconclusive" and v.seeds_needed:
        gist += f"; {'>' if v.seeds_needed_capped else '~'}{v.seeds_needed} seeds would decide"
    if v.fragile:
        gist += "; fragile"
    return gist


def summary_row(v: Verdict) -> dict[str, str]:
    """One verdict as the summary table's cells, keyed by SUMMARY_COLUMNS."""
    return {"claim": v.claim, "verdict": v.verdict, "effect [CI]": effect_ci(v), "n": n_text(v),
            "measured by": v.metric, "tested in": where(v), "arms and values": values(v),
            "finding": finding(v)}


def summary_rows(verdicts: list[Verdict]) -> list[dict[str, str]]:
    """Every verdict as summary-table cells."""
    return [summary_row(v) for v in verdicts]


def as_json(v: Verdict) -> dict:
    """A verdict as JSON-ready data with the presenter's effect string beside the numbers."""
    return {**v.as_dict(), "effect_text": effect_ci(v)}
