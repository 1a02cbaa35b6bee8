"""Latent space: the codes of the test images on a 2-D map (PCA and t-SNE), what the decoder makes of any
point of the map, the decoded path between two test images, and a walk along a principal direction.

The sections are drawn by app_support/latent_view.py; the codes and maps are fmnist_core/latent.py.
"""

import streamlit as st

import app_support as ui
from app_support import latent_view as view
from fmnist_core.latent import map_axes
from fmnist_core.models import config_of

ui.frame("latent")

st.title("Latent space")
st.caption(
    "What the code of size n holds: each test image's code, mapped to two dimensions and coloured by "
    "class. Classes that form their own islands are easy for a classifier on top of this code; classes "
    "that overlap are the ones it will confuse."
)
ui.need_runs(ui.AUTOENCODERS + ui.CLASSIFIERS, "runs")
ds = ui.dataset()

c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
with c1:
    run_id = ui.run_picker(
        "Model",
        ui.AUTOENCODERS + ui.CLASSIFIERS,
        key="lt_run",
        help="Autoencoders map their latent code; classifiers the code their head reads.",
    )
method = c2.segmented_control(
    "Map",
    ["PCA", "t-SNE"],
    default="PCA",
    key="lt_method",
    required=True,
    help="PCA: the two directions along which the codes vary most (a linear view, and "
    "the one the decoder can be driven from). t-SNE: keeps neighbours together "
    "(distances between islands mean little).",
)
model = ui.load_model(run_id)
m = ui.cached_eval("latent", run_id) if model is not None else None
if model is None or m is None:
    st.stop()
labels = ds.test_labels.numpy()[m["index"]]
xy = m["pca"] if method == "PCA" else m["tsne"]
is_ae = config_of(model).kind in ui.AUTOENCODERS

left, right = st.columns([3, 2], gap="large")
with left:
    view.code_map(m, xy, labels, map_axes(method, m["explained"]), is_ae)
with right:
    picked = view.picked_image(m, ds)
    if not is_ae:
        st.info(
            "A classifier has no decoder: this map shows how its encoder separates the classes. Pick an "
            "autoencoder to decode points of the map."
        )
    else:
        view.decoder(model, m, method, picked)

if is_ae:
    st.subheader("Between two test images")
    view.between(model, ds)
    st.subheader("Along a principal direction")
    view.along(model, m)
