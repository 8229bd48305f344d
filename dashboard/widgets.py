"""Selectors several pages share: experiment, condition and learning rate, and the chart options."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from lossdb.core.judging import chosen_lrs
from lossdb.core.present import BANDS
from lossdb.core.status import DONE_STATUSES
from lossdb.dashboard import links

TUNED = "each arm's best (validation)"
ALL_LRS = "all"
FOCUS = "focus_experiment"  # session key: the experiment another page asked to show


@dataclass(frozen=True)
class Selection:
    """The runs a page draws: one experiment's condition at the chosen learning rate(s)."""

    experiment: str
    condition: str
    lr: str
    runs: pd.DataFrame

    @property
    def ids(self) -> tuple[int, ...]:
        """The selected runs' ids, sorted."""
        return tuple(sorted(int(i) for i in self.runs["id"]))


def _default(options: list[str], preferred: list[str | None]) -> int:
    for want in preferred:
        if want in options:
            return options.index(want)
    return 0


def _own(names: list[str]) -> list[str]:
    """The user's own experiments among `names` (neither the catalogue's nor re-targeted ones), then
    the catalogue's on the user's data: what a page opens on before the catalogue's own."""
    from lossdb.core.experiments import catalogue_names

    catalogue = set(catalogue_names())
    return ([n for n in names if "@" not in n and n not in catalogue]
            + [n for n in names if "@" in n])


def pick_runs(runs: pd.DataFrame, key: str, *, experiments: list[str] | None = None,
              prefer: tuple[str, ...] = ()) -> Selection | None:
    """Experiment, condition and learning-rate selectors in one row; None when nothing matches."""
    frame = runs[runs["status"].isin(DONE_STATUSES)]
    names = sorted(set(frame["experiment"]) & set(experiments or frame["experiment"]))
    if not names:
        return None
    cols = st.columns(3)
    focus = st.session_state.get(FOCUS)
    experiment = cols[0].selectbox("Experiment", names, key=f"{key}_experiment",
                                   index=_default(names, [focus, *_own(names), *prefer]))
    sub = frame[frame["experiment"] == experiment]
    conditions = sorted(set(sub["condition"]))
    condition = cols[1].selectbox("Condition", conditions, key=f"{key}_condition")
    sub = sub[sub["condition"] == condition]
    lrs = sorted(set(sub["lr"]))
    options = ([TUNED] if len(lrs) > 1 else []) + [f"{lr:g}" for lr in lrs] + ([ALL_LRS] if len(lrs) > 1 else [])
    lr = cols[2].selectbox("Learning rate", options, key=f"{key}_lr",
                           help="Tuned: each arm at its own best rate, chosen on the validation split.")
    return Selection(experiment, condition, lr, at_lr(sub, lr))


def at_lr(runs: pd.DataFrame, lr: str) -> pd.DataFrame:
    """The runs at the chosen rate: a number, all of them, or each arm's best on validation."""
    if lr == ALL_LRS:
        return runs
    if lr != TUNED:
        return runs[runs["lr"].map(lambda v: f"{v:g}") == lr]
    best = {arm: c.lr for arm, c in chosen_lrs(runs.to_dict("records"), key="arm").items()}
    return runs[runs["arm"].map(best) == runs["lr"]]


@dataclass(frozen=True)
class ChartOptions:
    """How to draw curves: the band, individual seeds, log scale and display smoothing."""

    band: str | None
    seeds: bool
    log: bool
    window: int


def chart_options(key: str, *, log: bool = False) -> ChartOptions:
    """Band, seeds, log-scale and smoothing controls in one row."""
    cols = st.columns([3, 1, 1, 2])
    labels = {**BANDS, "none": "no band"}
    band = cols[0].radio("Band", list(labels), format_func=labels.get, horizontal=True,
                         key=f"{key}_band")
    seeds = cols[1].toggle("Seeds", key=f"{key}_seeds", help="Draw every run behind the means.")
    log_scale = cols[2].toggle("Log scale", value=log, key=f"{key}_log")
    window = cols[3].slider("Smoothing (epochs)", *links.SMOOTHING, 1, key=f"{key}_smooth",
                            help="A trailing moving average for display only.")
    return ChartOptions(None if band == "none" else band, seeds, log_scale, window)


def caption_runs(selection: Selection) -> None:
    """A caption with how many runs, arms and seeds a chart shows; at each arm's best rate, which
    rates those are and how they differ from the rates a verdict uses."""
    r = selection.runs
    st.caption(f"{len(r)} runs · {r['label'].nunique()} arms · {r['seed'].nunique()} seeds · "
               f"{selection.experiment}, {selection.condition}, lr {selection.lr}")
    if selection.lr == TUNED and not r.empty:
        st.caption(rates_note(r))


def rates_note(runs: pd.DataFrame) -> str:
    """Which rate each arm is drawn at (chosen on validation over all its seeds) and why a verdict's
    "tuned (a vs b|c)" rates may differ (each half of the seeds' rate is chosen on the other half)."""
    rates = ", ".join(f"{label} {lr:g}" for label, lr in
                      runs.drop_duplicates("label").sort_values("label")[["label", "lr"]].itertuples(index=False))
    return (f"Drawn at the rate each arm did best at on validation over all its seeds: {rates}. A verdict's "
            "rates (\"tuned (a vs b|c)\") are chosen for each half of the seeds on the other half, so that "
            "no seed is measured at a rate it chose; they can differ from these.")
