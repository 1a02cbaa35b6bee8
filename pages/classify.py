"""Classify your image: draw, upload or pick a test image; see the 28x28 input the models receive (the CLI's
predict preprocessing), every classifier's probabilities, and whether the autoencoder finds it familiar.

The sections are drawn by app_support/classify_view.py; the answers come from fmnist_core/classify.py.
"""

import streamlit as st

import app_support as ui
from app_support import classify_view as view
from fmnist_core.classify import classify, reconstruction

ui.frame("classify")

st.title("Classify your image")
st.caption(
    "Draw a piece of clothing, upload a picture or pick a test image. The models see a 28×28 grayscale image, "
    "light on black, cropped and centred like Fashion-MNIST; the autoencoder tells how unlike the data it is."
)
ui.need_runs(ui.CLASSIFIERS, "classifier runs")
ds = ui.dataset()

left, right = st.columns([5, 7], gap="large")
with left:
    given = view.source(ds)
    clf_ids, ae_id = view.pickers()

with right:
    image28, x, original, notes = view.model_input(given, ds)  # stops while there is nothing to classify
    if not clf_ids:
        st.info("Pick at least one classifier on the left.")
        st.stop()
    models = ui.load_models(clf_ids)
    ae = ui.load_model(ae_id) if ae_id else None

    guesses = classify(models, x)
    recon, recon_mse = reconstruction(ae, x) if ae is not None else (None, None)
    view.pictures(original, image28, recon, ae_id, notes)
    view.answers(guesses, given.true_label)
    view.familiarity_check(ae_id, ae is not None, recon_mse)

    st.subheader("Inside the network")
    view.inside(models, clf_ids, guesses, x)
