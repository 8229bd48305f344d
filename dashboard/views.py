"""Frames and styles the pages show: verdicts as table rows, coloured by verdict."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from pandas.io.formats.style import Styler

from lossdb.core import present
from lossdb.core.judging import Verdict, claims_of
from lossdb.core.present import VERDICT_COLORS, finding

SUMMARY_COLUMNS = (*present.SUMMARY_COLUMNS, "statement", "experiment", "condition", "lr")


def summary_table(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """One row per verdict with the presenter's columns of the summary comparison table."""
    rows = [{**present.summary_row(v), "statement": v.sentence, "experiment": v.experiment,
             "condition": v.condition, "lr": v.lr} for v in verdicts]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def comparison_label(v: Verdict) -> str:
    """Where a verdict was measured, for a chart axis: arms, condition and learning rate."""
    parts = [f"{v.arms[0]} vs {v.arms[1]}", v.condition, f"lr {v.lr}" if v.lr else ""]
    return " · ".join(p for p in parts if p)


def evidence_frame(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """One claim test's verdicts for the evidence chart: comparison, effect, ci_low, ci_high, verdict, n,
    and level, the confidence of each interval in % (a headline's is adjusted over the family)."""
    return pd.DataFrame(
        [{"comparison": comparison_label(v), "experiment": v.experiment, "condition": v.condition,
          "lr": v.lr, "values": present.values(v), "effect": v.effect, "ci_low": v.ci_low,
          "ci_high": v.ci_high, "effect [CI]": present.effect_ci(v), "verdict": v.verdict, "n": v.n,
          "finding": finding(v), "level": None if v.deterministic else round(100 * (1 - v.alpha), 3)}
         for v in verdicts],
        columns=["comparison", "experiment", "condition", "lr", "values", "effect", "ci_low",
                 "ci_high", "effect [CI]", "verdict", "n", "finding", "level"],
    ).astype({"effect": "float64", "ci_low": "float64", "ci_high": "float64", "level": "float64"})


def verdict_style(value: object) -> str:
    """CSS for a verdict cell: its colour as background."""
    colour = VERDICT_COLORS.get(str(value))
    return f"background-color: {colour}; color: white; font-weight: 600" if colour else ""


def styled(frame: pd.DataFrame) -> Styler:
    """The frame with its verdict column coloured."""
    return frame.style.map(verdict_style, subset=["verdict"])


def measured_metric(claim: str, experiment: str, what: str, declared: dict | None = None) -> str | None:
    """The stored metric behind a claim's measure (e.g. "train_accuracy"), None for analytic ones."""
    c = (declared or claims_of()).get(claim)
    for t in c.tests if c else ():
        if t.experiment == experiment and t.what == what and t.measure.kind not in ("analytic", "diverges"):
            return t.measure.metric
    return None


def looks_frame(v: Verdict) -> pd.DataFrame:
    """The looks of a sequential verdict: seeds, the level used, the interval and the outcome."""
    return pd.DataFrame([{"seeds": k.n, "level": f"{100 * (1 - k.alpha):.3g}%",
                          "interval": present.interval_text(v, k.ci_low, k.ci_high), "verdict": k.verdict}
                         for k in v.looks], columns=["seeds", "level", "interval", "verdict"])
