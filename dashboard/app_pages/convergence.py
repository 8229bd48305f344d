"""Convergence: any metric against epoch per arm (mean and band across seeds) and its final values."""

from __future__ import annotations

import streamlit as st

from lossdb.core.present import charts, display
from lossdb.dashboard import links, loaders, widgets

FOCUS_METRIC = "focus_metric"
PREFERRED_METRICS = ("test_accuracy", "test_rmse", "train_loss")  # what a reader compares first
MAX_SEED_RUNS = 60  # individual-seed lines drawn at most, so the browser stays quick
LINKED = (*links.selection_params("conv"), links.Param("metric", "conv_metric"), *links.chart_params("conv"))

src = loaders.source()
runs = loaders.runs(src.url, src.token)
links.restore(LINKED)

st.title("Convergence")
st.caption("One line per arm: the mean across seeds, with a band; optional thin lines for every seed. "
           "Below, the same runs' final values.")
selection = widgets.pick_runs(runs, "conv", prefer=("convergence",))
if selection is None or selection.runs.empty:
    st.info("No finished runs to draw yet: `lossdb run` stores some.")
    st.stop()

metrics = loaders.metric_columns(selection.runs)
focus = st.session_state.get(FOCUS_METRIC)
default = next((m for m in (focus, *PREFERRED_METRICS) if m in metrics), metrics[0])
metric = st.selectbox("Metric", metrics, index=metrics.index(default), key="conv_metric",
                      format_func=display.label)
options = widgets.chart_options("conv", log=metric.endswith("loss"))
links.publish(LINKED)

agg = loaders.aggregate(src.url, src.token, selection.ids, metric)
seeds = None
if options.seeds:
    shown = selection.runs.groupby("label", group_keys=False).head(max(1, MAX_SEED_RUNS // max(1, selection.runs["label"].nunique())))
    seeds = loaders.seed_curves(src.url, src.token, tuple(sorted(int(i) for i in shown["id"])), metric)
    if len(shown) < len(selection.runs):
        st.caption(f"Seed lines: the first {len(shown)} of {len(selection.runs)} runs.")
chart = charts.convergence_chart(agg, metric, band=options.band, log=options.log,
                                 window=options.window, seeds=seeds,
                                 title=f"{display.label(metric)} · {selection.experiment}")
st.altair_chart(chart, width="stretch", key="conv_chart")
widgets.caption_runs(selection)

st.altair_chart(charts.final_chart(selection.runs, metric, log=options.log), width="stretch",
                key="conv_final")
