"""Confusion & errors: a classifier's confusion matrix on the test set, the images behind any cell,
scikit-learn's per-class report, a random gallery with mistakes marked, and two runs side by side.

The tabs are drawn by app_support/confusion_view.py; their tables and captions are fmnist_core/confusion.py.
"""

import streamlit as st
import torch

import app_support as ui
from app_support import confusion_view as view
from fmnist_core.dead_classes import collapse_note, lost_class_note
from fmnist_core.metrics import most_confused

ui.frame("confusion")

SIZES = [1000, 2000, 5000, 10000]

st.title("Confusion & errors")
st.caption(
    "Where a classifier goes wrong on the test set: which classes it mixes up, the images behind each "
    "mistake, and how two runs differ."
)
ui.need_runs(ui.CLASSIFIERS, "classifier runs")
ds = ui.dataset()

c1, c2, c3 = st.columns([5, 2, 3], gap="medium", vertical_alignment="bottom")
with c1:
    run_id = ui.run_picker("Classifier", ui.CLASSIFIERS, key="cf_run")
with c2:
    scale = st.segmented_control(
        "Cells show", ["counts", "row %"], default="counts", key="cf_scale", required=True
    )
with c3:
    n = st.select_slider(
        "Test images used",
        SIZES,
        value=10000,
        key="cf_n",
        format_func="{:,}".format,
        help="The first N images of the official test set (all 10,000 by default).",
    )
percent = scale == "row %"
if ui.load_model(run_id) is None:
    st.stop()
ev = ui.classifier_summary(run_id, n)
if ev is None:
    st.stop()
run = ui.registry().get(run_id)
lost = lost_class_note(run, ev["confusion_matrix"])
if lost:
    st.warning(lost, icon=":material/warning:")
collapsed = collapse_note(run)
if collapsed:
    st.caption(collapsed)
pairs = most_confused(torch.as_tensor(ev["confusion_matrix"]), k=5)

tab_matrix, tab_random, tab_compare = st.tabs(["Confusion matrix", "Random test images", "Compare two runs"])
with tab_matrix:
    view.matrix_tab(ev, percent, pairs, ds.test_images)
with tab_random:
    view.random_tab(ev, ds.test_images)
with tab_compare:
    view.compare_tab(run_id, ev, n, percent)
