"""Fashion-MNIST Lab: `streamlit run app.py`. This file is Home; the other pages are in pages/.

Home draws from the IDX files and the run folders alone (the weights checks are kept between processes), so
its run never waits for torch (2 s): the sidebar's device line is found in a background thread.
"""

import streamlit as st

import app_support as ui
from fmnist_core.compare import overview_rows
from fmnist_core.files import CLASS_NAMES, EXPECTED_COUNTS, sample_per_class

ui.frame("home", status=False)  # the device, data and queue lines: drawn after the images

st.title("Fashion-MNIST Lab")
st.markdown(
    "Train a **convolutional autoencoder**, reuse its encoder in a **classifier**, and see what these small "
    "networks learn from 60,000 pictures of clothes. The lab reproduces five course reports: autoencoders as "
    "pre-training (A), dense autoencoders and denoising (B), early stopping (C), a deep CNN against an MLP (D) "
    "and step-by-step tuning (E) — with live curves, reconstructions, confusion matrices and your own drawings."
)

# "Where to start" first: on a phone the columns stack, and it would sit below all 30 sample images
start, data_col = st.columns([2, 3], gap="large")
with start:
    st.subheader("Where to start")
    st.page_link(ui.PAGES["train"], label="Train a model with live curves", icon=":material/model_training:")
    st.page_link(
        ui.PAGES["compare"], label="Compare runs, seeds, pretraining", icon=":material/stacked_line_chart:"
    )
    st.page_link(ui.PAGES["studies"], label="Reproduce the reports' studies", icon=":material/science:")
    st.page_link(
        ui.PAGES["reconstructions"], label="Reconstructions and denoising", icon=":material/blur_on:"
    )
    st.page_link(ui.PAGES["confusion"], label="Confusion matrix and mistakes", icon=":material/grid_on:")
    st.page_link(ui.PAGES["classify"], label="Draw or upload an image", icon=":material/draw:")
    st.page_link(ui.PAGES["latent"], label="Map what the code holds", icon=":material/scatter_plot:")

with data_col:
    st.subheader("The data")
    data = ui.test_arrays(required=False)  # numpy, no torch
    if data is not None:
        images, labels = data
        st.caption(
            f"{EXPECTED_COUNTS['train']:,} training and {len(labels):,} test images, 28×28 grayscale, "
            "10 classes. Three random test images per class:"
        )
        seed = st.session_state.setdefault("home_seed", 0)
        idx = sample_per_class(labels, 3, seed)
        # plain images, 3x upscaled without smoothing: they wrap at any width, and the first page draws
        # without loading the plotting library into the browser. 96 px leaves room for the longest
        # caption ("T-shirt/top", "Ankle boot") on one line, so captions never run into each other.
        st.image(
            list(images[idx].repeat(3, axis=1).repeat(3, axis=2)),
            caption=[CLASS_NAMES[c] for c in labels[idx]],
            width=96,
        )
        if st.button("New sample", icon=":material/shuffle:"):
            st.session_state["home_seed"] = seed + 1
            st.rerun()

ui.sidebar_status()

st.subheader("Runs available")
all_runs = ui.registry().list_runs()
if not all_runs:
    st.info(
        "No runs yet in `saved_models/`. Train one on the **Train** page, or run `make reference` "
        "to rebuild the shipped reference models."
    )
else:
    st.dataframe(
        overview_rows(all_runs),
        hide_index=True,
        placeholder="",
        column_config={
            "figure": st.column_config.TextColumn(
                help="Its test figure (the kept epoch's weights on the test set, read once after training) "
                "where it has one, else its held-out figure at that epoch; a run that picked its epoch on the "
                "test set (the reports' method) says so. Compare shows every figure side by side."
            ),
            "shipped": st.column_config.CheckboxColumn(
                help="Shipped with the lab (reference and study runs): read-only here, restored by git."
            ),
        },
    )
