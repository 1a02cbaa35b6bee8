"""Studies: each report's experiment as data — which runs exist, which are missing, ours beside the report's.

The sections are drawn by app_support/studies_view.py; the words on the plan are fmnist_core/study_status.py.
"""

import streamlit as st

import app_support as ui
from app_support import studies_view as view
from fmnist_core.studies import STUDIES

ui.frame("studies")

st.title("Studies")
st.caption(
    "Each study reruns one experiment of the course reports and sets our numbers beside theirs. A run "
    "that already exists with the same configuration is reused (the shipped reference runs included); "
    "the missing ones train side by side in a background process that goes on if you close this tab."
)

name, seeds, epochs, limit = view.pickers()
study = STUDIES[name]
st.markdown(f"**{study.question}**")
st.caption(study.about)

seeds = None if seeds == study.seeds else seeds  # the study's own: the catalogue's count for each run
plan = view.plan_or_stop(study, seeds, epochs, limit)
sweep = ui.study_sweep(name)
view.sweep_panel(name, plan, sweep, seeds, epochs, limit)

polling = plan.active or sweep is not None  # runs train: redraw the results every few seconds
st.fragment(view.results, run_every=3.0 if polling else None)(name, seeds, epochs, limit, polling)
