"""Summary: the comparison table (one row per claim), its filters, and a chosen claim's evidence."""

from __future__ import annotations

import streamlit as st

from lossdb.core.judging import VERDICTS, summary
from lossdb.core.present import VERDICT_BADGES, finding, level_text, markdown_text
from lossdb.dashboard import links, loaders, views
from lossdb.dashboard.widgets import FOCUS

FOCUS_METRIC = "focus_metric"
src = loaders.source()
everything = loaders.verdicts(src.url, src.token)


st.title("The claims, measured")
st.caption("One row per claim: its headline comparison, the measured value of each compared loss, "
           "the verdict from the confidence interval across paired seeds (supported, contradicted, "
           "equivalent: inside ± the minimum effect, or inconclusive), and how the claim fares across every "
           "other condition and learning rate. Choose a claim to see all of its evidence.")
if note := loaders.set_aside_note(src.url, src.token):
    st.caption(note)

LINKED = (links.Param("experiment", "sum_experiment", "list"), links.Param("dataset", "sum_dataset", "list"),
          links.Param("condition", "sum_condition", "list"), links.Param("lr", "sum_lr", "list"),
          links.Param("verdict", "sum_verdict", "list"), links.Param("claim", "sum_claim"))
links.restore(LINKED[:4], {"sum_experiment": sorted({v.experiment for v in everything}),
                           "sum_dataset": sorted({v.dataset for v in everything} - {""}),
                           "sum_condition": sorted({v.condition for v in everything} - {""}),
                           "sum_lr": sorted({v.lr_mode for v in everything} - {""})})
cols = st.columns(4)
chosen_exps = cols[0].multiselect("Experiment", sorted({v.experiment for v in everything}),
                                  key="sum_experiment")
chosen_sets = cols[1].multiselect("Dataset", sorted({v.dataset for v in everything} - {""}),
                                  key="sum_dataset")
chosen_conds = cols[2].multiselect("Condition", sorted({v.condition for v in everything} - {""}),
                                   key="sum_condition")
chosen_lrs = cols[3].multiselect("Learning rate", sorted({v.lr_mode for v in everything} - {""}),
                                 key="sum_lr",
                                 help="tuned: each loss at its best validation rate; equal: the same rate.")
selected = [v for v in everything
            if (not chosen_exps or v.experiment in chosen_exps)
            and (not chosen_sets or v.dataset in chosen_sets)
            and (not chosen_conds or v.condition in chosen_conds)
            and (not chosen_lrs or v.lr_mode in chosen_lrs)]
declared = loaders.declared(src.url, src.token)
# the filters choose which claims show, never their answer: each keeps its headline (judged on everything)
shown = {v.claim for v in selected}
rows = [r for r in summary(everything, declared) if r.claim in shown]
links.restore(LINKED[4:], {"sum_verdict": [v for v in VERDICTS if any(r.verdict == v for r in rows)],
                           "sum_claim": [r.claim for r in rows]})
chosen_verdicts = st.multiselect("Verdict", [v for v in VERDICTS if any(r.verdict == v for r in rows)],
                                 key="sum_verdict", help="Show only the claims whose headline has these verdicts.")
rows = [r for r in rows if not chosen_verdicts or r.verdict in chosen_verdicts]
if loaders.user_datasets(src.url, src.token) and not loaders.holds_catalogue(src.url, src.token):
    from lossdb.core.present import CATALOGUE_HINT

    st.caption(CATALOGUE_HINT)
if not rows:
    st.info("No verdict matches these filters: clear one of them.")
    st.stop()

table = views.summary_table(rows)
event = st.dataframe(
    views.styled(table), hide_index=True, on_select="rerun", selection_mode="single-row",
    key="summary_table", height=36 * (len(table) + 1) + 3,
    column_config={"finding": st.column_config.TextColumn(width="large"),
                   "statement": st.column_config.TextColumn(width="medium")},
)
st.caption(level_text(rows))
st.download_button("Download this table (CSV)", table.to_csv(index=False), "lossdb-summary.csv",
                   "text/csv", key="summary_csv")

picked_rows = event.selection.rows if event else []
picked = str(table.iloc[picked_rows[0]]["claim"]) if picked_rows else None
if picked and st.session_state.get("_sum_last_pick") != picked:
    st.session_state["sum_claim"] = picked
st.session_state["_sum_last_pick"] = picked

st.header("Evidence")
claim_ids = list(table["claim"])
claim = st.selectbox("Claim", claim_ids, key="sum_claim",
                     format_func=lambda c: f"{c}: {declared[c].sentence}" if c in declared else c)
head = next(v for v in rows if v.claim == claim)
links.publish(LINKED)
st.markdown(f"**{markdown_text(head.sentence)}** :{VERDICT_BADGES.get(head.verdict, 'gray')}-badge[{head.verdict}]")
st.markdown(markdown_text(finding(head)))
if head.looks:
    st.caption("Decided group-sequentially: the interval at each look (it narrows until it leaves or enters "
               "the band of ± the minimum effect).")
    st.dataframe(views.looks_frame(head), hide_index=True)

evidence = [v for v in selected if v.claim == claim]
for what in dict.fromkeys(v.metric for v in evidence):
    group = [v for v in evidence if v.metric == what]
    st.subheader(what)
    missing = [v for v in group if v.verdict == "not run"]
    for v in missing:
        if v.command:
            st.info(f"{markdown_text(finding(v))} Run it with:")
            st.code(v.command, language="bash")
        else:
            st.info(markdown_text(finding(v)))
    measured = [v for v in group if v.verdict != "not run"]
    if not measured:
        continue
    frame = views.evidence_frame(measured)
    ratio = measured[0].ratio
    st.vega_lite_chart(loaders.evidence_spec(frame, ratio, measured[0].arms[0], measured[0].arms[1]),
                       width="stretch")
    with st.expander(f"{len(measured)} comparisons as a table"):
        st.dataframe(views.styled(frame), hide_index=True)
    metric = views.measured_metric(claim, measured[0].experiment, what, declared)
    if metric and st.button(f"Curves of {metric} in {measured[0].experiment} →", key=f"go_{claim}_{what}"):
        st.session_state[FOCUS] = measured[0].experiment
        st.session_state[FOCUS_METRIC] = metric
        st.switch_page("app_pages/convergence.py")
