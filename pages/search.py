"""Search: start a hyperparameter search (Optuna) in the background, watch its trials, stop or resume it,
and open its best run.

The sections are drawn by app_support/search_view.py; the search itself is fmnist_core.search.
"""

import streamlit as st

import app_support as ui
from app_support import search_view as view

ui.frame("search")

st.title("Search")
st.caption(
    "A search trains many runs of one model, each with settings drawn from the ranges you give; Optuna "
    "learns which values score well, and the pruner stops poor trials after an epoch. It runs in a "
    "background process that goes on if you close this tab; a stopped search resumes where it was."
)

names = view.searches()
view.starting(names)
if not names:
    view.no_searches()
else:
    name = view.pick(names)
    running = view.controls(name)
    if running is not None:
        st.fragment(view.trials, run_every=2.0 if running else None)(name, running)

with st.expander("Start a new search", expanded=not names):
    view.start_form()
