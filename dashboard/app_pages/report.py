"""Report: the comparison report in every format, the same files `lossdb report` writes."""

from __future__ import annotations

import streamlit as st

from core import report as reports
from core.report import figures
from dashboard import loaders

# (format, interactive, button label)
CHOICES = (("html", False, "HTML (one file, opens offline)"),
           ("html", True, "HTML, interactive charts"),
           ("pdf", False, "PDF"),
           ("md", False, "Markdown with its charts (.zip)"),
           ("json", False, "JSON (machine-readable)"))


@st.cache_data(show_spinner="Building the report…")
def downloads(url: str, token: loaders.Token, experiments: tuple[str, ...],
              title: str) -> list[tuple[str, str, bytes, str]]:
    """(label, file name, bytes, MIME type) of every format, built once per database state."""
    command = loaders.command("lossdb report" + "".join(f" --experiment {e}" for e in experiments)
                              + (f" --title {title!r}" if title else ""), url)
    data = reports.build(loaders.store(url), list(experiments) or None, title=title or None, command=command)
    svgs = figures.svgs(data.charts)
    out = []
    for fmt, interactive, label in CHOICES:
        name, content, mime = reports.download(data, fmt, interactive, svgs)
        out.append((label, name, content, mime))
    return out


src = loaders.source()
stored = sorted(set(loaders.runs(src.url, src.token)["experiment"]))

st.title("Report")
st.caption("The comparison as a file to send, attach or print: abstract, the summary comparison table, a "
           "section per experiment (protocol, convergence charts, final metrics as mean ± sd, notable runs) "
           "and provenance. Every format holds the same numbers.")
cols = st.columns([2, 3])
chosen = cols[0].multiselect("Experiments", stored, key="report_experiments",
                             help="Leave empty for every experiment.")
title = cols[1].text_input("Title", key="report_title",
                           help="Leave empty for “lossdb: cross-entropy against MSE, measured”.")

files = downloads(src.url, src.token, tuple(chosen), title.strip())
for (label, name, content, mime), col in zip(files, st.columns(len(files)), strict=True):
    col.download_button(label, content, file_name=name, mime=mime, key=f"report_{name}",
                        use_container_width=True)
st.caption("Or from the command line:")
st.code(loaders.command("lossdb report --format pdf"
                        + "".join(f" --experiment {e}" for e in chosen), src.url), language="bash")
