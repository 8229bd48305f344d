"""The one presenter of verdicts: the summary table's columns and how each cell is written.

`lossdb compare` (terminal, Markdown, CSV, JSON), the dashboard and all four report formats write a
verdict through these functions, so the same row shows the same numbers everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdb.core.present.effects import band_text, effect_ci, interval_text, looks_text  # noqa: F401
from lossdb.core.present.findings import estimand_text, finding as written, fragile_text, rerun_text
from lossdb.core.present.numbers import MISSING, finite, num

if TYPE_CHECKING:
    from lossdb.core.judging.outcomes import Verdict

SUMMARY_COLUMNS = ("claim", "verdict", "effect [CI]", "n", "measured by", "tested in", "arms and values",
                   "finding")


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
    """The verdict's finding, with the command that would measure it when it is not run."""
    if v.command:
        return written(v) + f" Run `{v.command}`."
    why = rerun_text(v)
    return written(v) + (f" {why}" if why else "")


def one_line(v: Verdict) -> str:
    """A one-line gist for narrow tables: the measure, the arms and the learning rates."""
    if v.verdict == "not run":
        if v.command:
            return f"not run: `{v.command}`"
        return f"not run: {rerun_text(v)}" if rerun_text(v) else "not run"
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
    """A verdict as JSON-ready data with the presenter's texts (the fragile note, the finding and the
    effect string) beside the numbers."""
    return {**v.as_dict(), "fragile": fragile_text(v) or None, "finding": written(v), "effect_text": effect_ci(v),
            "estimand": estimand_text(v) or None}
