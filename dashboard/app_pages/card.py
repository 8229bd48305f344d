"""Your data: the recommendation card of each dataset the catalogue ran on ("which loss for my data?")."""

from __future__ import annotations

import streamlit as st
from lossdb.dashboard import loaders

src = loaders.source()
names = loaders.user_datasets(src.url, src.token)

st.title("Which loss for your data?")
if not names:
    st.info("No experiment ran on your own data yet. Run the catalogue's questions on your CSV, then refresh:")
    st.code(loaders.command("lossdb run --dataset csv:PATH --target COLUMN", src.url), language="bash")
    st.stop()

name = st.selectbox("Data", names, key="card_dataset")
card = loaders.card(src.url, src.token, name)
st.caption("Each sentence comes from one verdict of the comparison table (Summary), with its interval.")
for line in card.answers:
    st.text(line.text)
st.subheader("Bottom line")
for line in card.bottom_line:
    st.text(line.text)
for line in card.still_open:
    st.text(line.text)
if card.command:
    st.caption(f"To decide what is open ({card.cost_text}):")
    st.code(loaders.command(card.command, src.url), language="bash")
