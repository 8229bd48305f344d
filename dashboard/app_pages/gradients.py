"""Gradients: output-gradient norm and saturation per epoch, the saturated neuron, analytic curves."""

from __future__ import annotations

import streamlit as st

from core import charts
from dashboard import loaders, widgets

src = loaders.source()
runs = loaders.runs(src.url, src.token)

st.title("Gradients")
st.header("Output-gradient norm and saturation per epoch")
st.caption("|∂loss/∂z| at the output layer, averaged over the training set, and the share of output "
           "units whose ŷ(1 − ŷ) < 0.01 (saturated), per arm: mean across seeds with a band.")
with_grads = sorted(set(runs.loc[runs["grad_norm"].notna(), "experiment"])) if "grad_norm" in runs else []
selection = widgets.pick_runs(runs, "grad", experiments=with_grads, prefer=("convergence",))
if selection is None or selection.runs.empty:
    st.info("No runs with gradient norms yet: `lossdb run convergence` stores some.")
else:
    options = widgets.chart_options("grad", log=True)
    present = loaders.metric_columns(selection.runs)
    cols = st.columns(2)
    for col, metric in zip(cols, ("grad_norm", "saturation"), strict=True):
        if metric not in present:
            col.info(f"These runs have no {metric} (a linear head has no saturation).")
            continue
        agg = loaders.aggregate(src.url, src.token, selection.ids, metric)
        seeds = loaders.seed_curves(src.url, src.token, selection.ids, metric) if options.seeds else None
        col.altair_chart(charts.convergence_chart(
            agg, metric, band=options.band, log=options.log and metric == "grad_norm",
            window=options.window, seeds=seeds), width="stretch", key=f"grad_{metric}")
    widgets.caption_runs(selection)

st.header("A saturated sigmoid neuron")
st.caption("One sigmoid neuron, input 1, target 0, started at w = b = 2 (ŷ ≈ 0.98): its output per "
           "epoch under CE and MSE, and the gradient ∂loss/∂z that drives it.")
neuron = widgets.pick_runs(runs, "sat", experiments=["saturation"])
if neuron is None or neuron.runs.empty:
    st.info("The saturation experiment has not been run yet:")
    st.code(loaders.command("lossdb run saturation", src.url), language="bash")
else:
    present = loaders.metric_columns(neuron.runs)
    cols = st.columns(2)
    for col, metric in zip(cols, ("output", "dloss_dz"), strict=True):
        if metric in present:
            agg = loaders.aggregate(src.url, src.token, neuron.ids, metric)
            col.altair_chart(charts.convergence_chart(agg, metric, band="range"), width="stretch",
                             key=f"sat_{metric}")

st.header("Analytic loss and gradient against p̂ of the true class")
st.caption("Each loss on its usual head for one sample of a 10-class problem, the other classes "
           "sharing 1 − p̂: a confident mistake is p̂ → 0.")
analytic = loaders.analytic_curves()
log = st.toggle("Log scale", value=True, key="analytic_log")
cols = st.columns(2)
cols[0].altair_chart(charts.analytic_chart(analytic, "value", log=log), width="stretch", key="an_loss")
cols[1].altair_chart(charts.analytic_chart(analytic, "grad_norm", log=log), width="stretch", key="an_grad")
