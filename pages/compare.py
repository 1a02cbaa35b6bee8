"""Compare runs: a table of every run, overlaid curves, seed groups, pretrained vs random init.

The sections are drawn by app_support/compare_view.py; what the table holds is fmnist_core/run_table.py.
"""

import streamlit as st

import app_support as ui
from app_support import compare_view as view

ui.frame("compare")

st.title("Compare runs")
all_runs = ui.registry().list_runs()
if not all_runs:
    st.info(
        "No runs yet. Train one on the **Train** page or run `make reference` to rebuild the shipped ones."
    )
    st.page_link(ui.PAGES["train"], label="Go to Train", icon=":material/model_training:")
    st.stop()

shown, columns, text = view.filters(all_runs)
picked = view.table(shown, len(all_runs), columns, text)
run_color = view.Palette()  # the plotted runs get the first colours

st.subheader("Curves")
view.curves(picked, run_color, any_shown=bool(shown))

st.subheader("Seeds")
view.seed_groups(all_runs, run_color)

st.subheader("Pretrained vs random init")
view.twins(all_runs, run_color)

st.subheader("Manage a run")
view.manage(all_runs)
