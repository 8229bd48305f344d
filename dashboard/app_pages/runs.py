"""Runs: a filterable table of runs, selected runs' curves overlaid, and one run in full."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lossdb.core.present import charts, display
from lossdb.dashboard import links, loaders

FILTERS = ("experiment", "dataset", "loss", "head", "status")
SHOWN = ["id", "experiment", "dataset", "loss", "head", "label", "lr", "seed", "status", "condition",
         "epochs", "wall_seconds"]
DEFAULT_OVERLAY = 3
LINKED = (*(links.Param(name, f"runs_{name}", "list") for name in FILTERS),
          links.Param("overlay", "runs_overlay", "list"), links.Param("metric", "runs_metric"),
          links.Param("log", "runs_log", "bool"), links.Param("run", "runs_detail", "int"))

src = loaders.source()
runs = loaders.runs(src.url, src.token)
options = {f"runs_{name}": sorted(set(runs[name].dropna())) for name in FILTERS}
links.restore(LINKED, allowed={**options, "runs_overlay": [int(i) for i in runs["id"]],
                               "runs_detail": [int(i) for i in runs["id"]]})

st.title("Runs")
if note := loaders.set_aside_note(src.url, src.token):
    st.caption(note)
cols = st.columns(len(FILTERS))
view = runs
for col, name in zip(cols, FILTERS, strict=True):
    chosen = col.multiselect(name.capitalize(), options[f"runs_{name}"], key=f"runs_{name}",
                             help="Leave empty for all.")
    if chosen:
        view = view[view[name].isin(chosen)]
if view.empty:
    links.publish(LINKED)
    st.info("No run matches these filters: clear one of them.")
    st.stop()

metrics = loaders.metric_columns(view)
table = view[SHOWN + metrics].reset_index(drop=True)
st.caption(f"{len(table)} of {len(runs)} runs · select rows to overlay their curves")
event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="multi-row",
                     key="runs_table", column_config={
                         "wall_seconds": st.column_config.NumberColumn("wall s", format="%.2f"),
                         **{m: st.column_config.NumberColumn(display.title(m)) for m in metrics}})
picked = [int(table.iloc[i]["id"]) for i in (event.selection.rows if event else [])]

st.header("Curves")
ids = [int(i) for i in table["id"]]
if any(i not in ids for i in st.session_state.get("runs_overlay", [])):
    st.session_state["runs_overlay"] = [i for i in st.session_state["runs_overlay"] if i in ids]
extra = st.multiselect("Also overlay runs (by id)", ids, key="runs_overlay")
overlay = list(dict.fromkeys(picked + extra)) or ids[:DEFAULT_OVERLAY]
if not (picked or extra):
    st.caption(f"Showing the first {len(overlay)} runs: select rows above or ids here.")
chosen_metrics = metrics or ["train_loss"]
metric = st.selectbox("Metric", chosen_metrics, key="runs_metric", format_func=display.label,
                      index=chosen_metrics.index("train_loss") if "train_loss" in chosen_metrics else 0)
log = st.toggle("Log scale", key="runs_log")
curves = loaders.curves(src.url, src.token, tuple(sorted(overlay)), metric)
names = {int(r["id"]): f"#{r['id']} {r['label']} · lr={r['lr']:g} · seed {r['seed']}"
         for _, r in runs[runs["id"].isin(overlay)].iterrows()}
curves = curves.assign(run=curves["run_id"].map(names))
st.altair_chart(charts.overlay_chart(curves, metric, log=log), width="stretch", key="runs_chart")

st.header("One run")
run_id = st.selectbox("Run", ids, index=ids.index(overlay[-1]) if overlay[-1] in ids else 0,
                      key="runs_detail")
links.publish(LINKED)
record, series = loaders.run_detail(src.url, src.token, int(run_id))
# st.text, not st.markdown: a label is the user's text, never links, math or HTML.
st.text(f"#{record.id} {record.config.get('label', record.loss + '/' + record.head)} · "
        f"{record.experiment} · {record.dataset} · lr {record.lr:g} · seed {record.seed} · "
        f"{record.status}" + (f" at epoch {record.diverged_epoch}" if record.diverged_epoch is not None else ""))
if record.error:
    st.error("This run failed with:")
    st.code(record.error, language=None)
left, right = st.columns(2)
left.subheader("Config")
left.json(record.config, expanded=False)
right.subheader("Provenance")
right.json({"arm_hash": record.arm_hash, "engine_version": record.engine_version,
            "lossdb": record.lossdb_version, "numpy": record.numpy_version,
            "python": record.python_version, "git_commit": record.git_commit,
            "started_at": str(record.started_at), "finished_at": str(record.finished_at),
            "wall_seconds": record.wall_seconds, "epochs": record.epochs}, expanded=False)
st.subheader("Every metric")
varying, constant = charts.informative(series)
empty = sorted(set(series["name"]) - set(varying) - set(constant))
if varying:
    st.altair_chart(charts.metrics_grid_chart(series), key="runs_grid")
if constant:
    st.caption("These held one value at every epoch:")
    st.dataframe(pd.DataFrame({"metric": [display.title(n) for n in constant],
                               "value": list(constant.values())}), hide_index=True, key="runs_constant")
if empty:
    st.caption("No finite value at any epoch: " + ", ".join(display.label(n) for n in empty) + ".")
