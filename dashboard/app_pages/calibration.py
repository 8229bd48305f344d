"""Calibration: reliability diagrams per arm and ECE, Brier and NLL side by side."""

from __future__ import annotations

import streamlit as st

from lossdb.core.present import charts
from lossdb.dashboard import links, loaders, widgets

SCORES = ("test_ece", "test_brier", "test_nll")
LINKED = (*links.selection_params("cal"), links.Param("log", "cal_log", "bool"))

src = loaders.source()
runs = loaders.runs(src.url, src.token)
links.restore(LINKED)

st.title("Calibration")
scored = sorted(set(runs.loc[runs["test_ece"].notna(), "experiment"])) if "test_ece" in runs else []
selection = widgets.pick_runs(runs, "cal", experiments=scored, prefer=("calibration", "convergence"))
if selection is None or selection.runs.empty:
    st.info("No classification runs with calibration scores yet:")
    st.code(loaders.command("lossdb run calibration", src.url), language="bash")
    st.stop()
widgets.caption_runs(selection)

st.header("Reliability diagrams")
st.caption(f"Test accuracy against confidence in {charts.RELIABILITY_BINS} bins, one line per arm with "
           "its runs pooled (points sized by the test samples in a bin, bins under "
           f"{charts.MIN_BIN_COUNT} samples left out); on the diagonal a model is exactly as sure as it "
           "is right. Below, how many test samples fall in each bin.")
bins = loaders.reliability(src.url, src.token, selection.experiment, selection.ids)
if bins.empty:
    st.info("These runs were stored without reliability bins (an older lossdb): rerun them with "
            f"`lossdb run {selection.experiment} --force` to draw the diagrams.")
else:
    labels = selection.runs.set_index("id")["label"]
    bins = bins.assign(label=bins["run_id"].map(labels))
    st.altair_chart(charts.reliability_chart(bins), width="stretch", key="cal_reliability")

st.header("ECE, Brier score and NLL")
st.caption("Final test values per run; lower is better for all three.")
log = st.toggle("Log scale", key="cal_log")
links.publish(LINKED)
cols = st.columns(len(SCORES))
present = loaders.metric_columns(selection.runs)
for col, metric in zip(cols, SCORES, strict=True):
    if metric in present:
        col.altair_chart(charts.final_chart(selection.runs, metric, log=log), width="stretch",
                         key=f"cal_{metric}")
