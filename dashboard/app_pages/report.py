"""Report: the comparison report in every format, the same files `lossdb report` writes.

The buttons show at once; a format is built only when its button is clicked (Streamlit runs the
download's callable then), and the report's model and charts are built once for all formats.
"""

from __future__ import annotations

import streamlit as st

from lossdb.dashboard import links, loaders

# (format, interactive, button label)
CHOICES = (("html", False, "HTML (one file, opens offline)"),
           ("html", True, "HTML, interactive charts"),
           ("pdf", False, "PDF"),
           ("md", False, "Markdown with its charts (.zip)"),
           ("json", False, "JSON (machine-readable)"))
LINKED = (links.Param("experiment", "report_experiments", "list"), links.Param("title", "report_title"))

src = loaders.source()
stored = sorted(set(loaders.runs(src.url, src.token)["experiment"]))
links.restore(LINKED, {"report_experiments": stored})

st.title("Report")
st.caption("The comparison as a file to send, attach or print: abstract, the summary comparison table, a "
           "section per experiment (protocol, convergence charts, final metrics as mean ± sd, notable runs) "
           "and provenance. Every format holds the same numbers. Each file is built when you click it.")
cols = st.columns([2, 3])
chosen = cols[0].multiselect("Experiments", stored, key="report_experiments",
                             help="Leave empty for every experiment.")
title = cols[1].text_input("Title", key="report_title",
                           help="Leave empty for “lossdb: cross-entropy against MSE, measured”.")

links.publish(LINKED)

request = loaders.ReportRequest(src.url, src.token, tuple(chosen), title.strip())
# Three buttons a row: five in one row cut their labels at 1,400 px.
places = [col for _ in range(0, len(CHOICES), 3) for col in st.columns(3)]
for (fmt, interactive, label), col in zip(CHOICES, places, strict=False):
    name, mime = loaders.report_name(fmt, interactive)
    col.download_button(label, request.builder(fmt, interactive), file_name=name, mime=mime,
                        key=f"report_{name}", on_click="ignore", use_container_width=True)
st.caption("Or from the command line:")
st.code(loaders.command("lossdb report --format pdf"
                        + "".join(f" --experiment {e}" for e in chosen), src.url), language="bash")
