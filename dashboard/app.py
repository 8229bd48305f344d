"""The lossdb dashboard's frame: page setup, the database check and the navigation.

Run it with `lossdb dashboard [--db URL]` (or `streamlit run dashboard/app.py -- --db URL`).
"""

from __future__ import annotations

import streamlit as st

from lossdb.core.errors import LossdbError
from lossdb.dashboard import loaders

# An emoji favicon is drawn in the page (a data: URL); a :material: one is fetched from fonts.gstatic.com.
st.set_page_config(page_title="lossdb", page_icon="📈", layout="wide")

try:
    source = loaders.source()
except LossdbError as error:
    st.error(loaders.sentence(error))
    st.stop()

if source.runs == 0:
    st.title("lossdb")
    st.info("This database holds no runs yet. Run the quick catalogue (about a minute), then refresh:")
    st.code(loaders.command("lossdb run --preset quick", source.url), language="bash")
    st.stop()

# A database holding only the user's data opens on its recommendation card.
yours = bool(loaders.user_datasets(source.url, source.token)) and not loaders.holds_catalogue(source.url, source.token)
pages = [
    st.Page("app_pages/summary.py", title="Summary", icon=":material/table_chart:", default=not yours),
    st.Page("app_pages/card.py", title="Your data", icon=":material/lightbulb:", default=yours),
    st.Page("app_pages/convergence.py", title="Convergence", icon=":material/show_chart:"),
    st.Page("app_pages/gradients.py", title="Gradients", icon=":material/trending_down:"),
    st.Page("app_pages/calibration.py", title="Calibration", icon=":material/target:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/list:"),
    st.Page("app_pages/report.py", title="Report", icon=":material/description:"),
]
page = st.navigation(pages)
st.sidebar.caption(f"{source.runs} runs in {source.experiments} experiments · {loaders.where(source.url)}")
try:
    page.run()
except LossdbError as error:
    st.error(loaders.sentence(error))
