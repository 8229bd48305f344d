"""Gradients: output-gradient norm and saturation per epoch, the saturated neuron, analytic curves."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lossdb.core.present import charts, display
from lossdb.core.analysis import flat_config
from lossdb.dashboard import links, loaders, widgets

LINKED = (*links.selection_params("grad"), *links.chart_params("grad"),
          *links.selection_params("sat", "neuron_"), links.Param("analytic_log", "analytic_log", "bool"))


def neuron_text(runs: pd.DataFrame, output: pd.DataFrame | None) -> str:
    """The saturated neuron's caption, written from the runs shown: their starting w and b and the
    output ŷ they stored at epoch 0."""
    flats = [flat_config(c) for c in runs["config"]]
    starts = sorted({(f.get("w"), f.get("b")) for f in flats}, key=str)
    where = "; ".join(f"w = {w:g}, b = {b:g}" if isinstance(w, int | float) and isinstance(b, int | float)
                      else f"w = {w}, b = {b}" for w, b in starts)
    first = output[output["epoch"] == 0]["mean"] if output is not None and not output.empty else pd.Series()
    start = f" (ŷ = {first.iloc[0]:.2f} at epoch 0)" if first.nunique() == 1 else ""
    return (f"One sigmoid neuron, input 1, target 0, started at {where}{start}: its output per epoch "
            "under each loss, and the gradient ∂loss/∂z that drives it.")


src = loaders.source()
runs = loaders.runs(src.url, src.token)
links.restore(LINKED)

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
            col.info(f"These runs have no {display.label(metric)} (a linear head has no saturation).")
            continue
        agg = loaders.aggregate(src.url, src.token, selection.ids, metric)
        seeds = loaders.seed_curves(src.url, src.token, selection.ids, metric) if options.seeds else None
        col.altair_chart(charts.convergence_chart(
            agg, metric, band=options.band, log=options.log and metric == "grad_norm",
            window=options.window, seeds=seeds), width="stretch", key=f"grad_{metric}")
    widgets.caption_runs(selection)

st.header("A saturated sigmoid neuron")
neuron = widgets.pick_runs(runs, "sat", experiments=["saturation"])
if neuron is None or neuron.runs.empty:
    st.info("The saturation experiment has not been run yet:")
    st.code(loaders.command("lossdb run saturation", src.url), language="bash")
else:
    present = loaders.metric_columns(neuron.runs)
    curves = {m: loaders.aggregate(src.url, src.token, neuron.ids, m) for m in ("output", "dloss_dz")
              if m in present}
    st.caption(neuron_text(neuron.runs, curves.get("output")))
    cols = st.columns(2)
    for col, (metric, agg) in zip(cols, curves.items(), strict=False):
        col.altair_chart(charts.convergence_chart(agg, metric, band="range"), width="stretch",
                         key=f"sat_{metric}")

st.header("Analytic loss and gradient against p̂ of the true class")
st.caption("Each loss on its usual head for one sample of a 10-class problem, the other classes "
           "sharing 1 − p̂: a confident mistake is p̂ → 0.")
analytic = loaders.analytic_curves()
log = st.toggle("Log scale", value=True, key="analytic_log")
links.publish(LINKED)
cols = st.columns(2)
cols[0].altair_chart(charts.analytic_chart(analytic, "value", log=log), width="stretch", key="an_loss")
cols[1].altair_chart(charts.analytic_chart(analytic, "grad_norm", log=log), width="stretch", key="an_grad")
