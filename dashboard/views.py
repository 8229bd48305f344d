"""Frames and styles the pages show: verdicts as table rows, coloured by verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from pandas.io.formats.style import Styler

from core.charts import VERDICT_COLORS
from core.claims import CLAIMS, Verdict

SUMMARY_COLUMNS = ("claim", "values", "verdict", "finding", "n", "measured by", "effect (95% CI)",
                   "experiment", "condition", "lr", "statement")


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.3g}"


def values_text(v: Verdict) -> str:
    """The compared arms' measured values: "ce/softmax 0.977 · mse/softmax 0.966"."""
    return " · ".join(f"{arm} {_num(x)}" for arm, x in v.values.items()) or " vs ".join(v.arms)


def effect_text(v: Verdict) -> str:
    """The effect and its 95% CI, "4.16× [1.75, 9.88]" for ratios, "+0.011 [−0.007, 0.029]" else."""
    if v.effect is None:
        return "–"
    unit = "×" if v.ratio else ""
    sign = "" if v.ratio else "+" if v.effect >= 0 else ""
    return f"{sign}{_num(v.effect)}{unit} [{_num(v.ci_low)}, {_num(v.ci_high)}]"


def summary_table(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """One row per verdict with the columns of the summary comparison table."""
    rows = [{"claim": v.claim, "statement": v.sentence, "measured by": v.metric,
             "values": values_text(v), "verdict": v.verdict, "effect (95% CI)": effect_text(v),
             "finding": v.finding + (f" Run `{v.command}`." if v.command else ""), "n": v.n,
             "experiment": v.experiment, "condition": v.condition, "lr": v.lr}
            for v in verdicts]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def comparison_label(v: Verdict) -> str:
    """Where a verdict was measured, for a chart axis: arms, condition and learning rate."""
    parts = [f"{v.arms[0]} vs {v.arms[1]}", v.condition, f"lr {v.lr}" if v.lr else ""]
    return " · ".join(p for p in parts if p)


def evidence_frame(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """One claim test's verdicts for the evidence chart: comparison, effect, ci_low, ci_high, verdict, n."""
    return pd.DataFrame(
        [{"comparison": comparison_label(v), "experiment": v.experiment, "condition": v.condition,
          "lr": v.lr, "values": values_text(v), "effect": v.effect, "ci_low": v.ci_low,
          "ci_high": v.ci_high, "verdict": v.verdict, "n": v.n, "finding": v.finding}
         for v in verdicts],
        columns=["comparison", "experiment", "condition", "lr", "values", "effect", "ci_low",
                 "ci_high", "verdict", "n", "finding"],
    ).astype({"effect": "float64", "ci_low": "float64", "ci_high": "float64"})


def verdict_style(value: object) -> str:
    """CSS for a verdict cell: its colour as background."""
    colour = VERDICT_COLORS.get(str(value))
    return f"background-color: {colour}; color: white; font-weight: 600" if colour else ""


def styled(frame: pd.DataFrame) -> Styler:
    """The frame with its verdict column coloured."""
    return frame.style.map(verdict_style, subset=["verdict"])


def measured_metric(claim: str, experiment: str, what: str) -> str | None:
    """The stored metric behind a claim's measure (e.g. "train_accuracy"), None for analytic ones."""
    c = CLAIMS.get(claim)
    for t in c.tests if c else ():
        if t.experiment == experiment and t.what == what and t.measure.kind != "analytic":
            return t.measure.metric
    return None
