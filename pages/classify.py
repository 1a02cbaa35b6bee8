"""Classify your image: draw, upload or pick a test image; see the 28x28 input the models receive (the CLI's
predict preprocessing), every classifier's probabilities, and whether the autoencoder finds it familiar."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

import app_support as ui
from fmnist_core import CLASS_NAMES, ImageError, prepare_image, to_float
from fmnist_core.classify import classify, familiarity, reconstruction
from fmnist_core.latent import attributions, feature_maps, first_filters
from fmnist_core.plots import (
    attribution_figure,
    histogram_figure,
    image_grid,
    mosaic_figure,
    probability_bars,
)
from fmnist_core.preprocess import MAX_BYTES, SUPPORTED, canvas_image

ui.frame("classify")

SOURCES = ("Draw", "Upload", "Test image")
FILE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]


def random_index(n: int) -> None:
    st.session_state["cl_index"] = int(np.random.default_rng().integers(n))


st.title("Classify your image")
st.caption(
    "Draw a piece of clothing, upload a picture or pick a test image. The models see a 28×28 grayscale image, "
    "light on black, cropped and centred like Fashion-MNIST; the autoencoder tells how unlike the data it is."
)
ui.need_runs(ui.CLASSIFIERS, "classifier runs")
ds = ui.dataset()

left, right = st.columns([5, 7], gap="large")
with left:
    source = st.segmented_control("Input", SOURCES, default="Draw", key="cl_source", required=True)
    prepared, error, true_label = None, None, None
    if source == "Draw":
        st.space(28)  # room for the canvas toolbar, which sits above it
        canvas = st_canvas(
            stroke_width=st.session_state.get("cl_brush", 22),
            stroke_color="#FFFFFF",
            background_color="#000000",
            height=280,
            width=280,
            drawing_mode="freedraw",
            return_image_data=True,
            key="cl_canvas",
        )
        st.slider("Brush width", 4, 48, 22, key="cl_brush", help="Applies to the next strokes.")
        st.caption(
            "Draw white on black, like the data. Undo, redo and clear are in the toolbar above the canvas."
        )
        objects = (canvas.json_data or {}).get("objects", [])
        if objects and canvas.image_data is not None:
            try:
                prepared = prepare_image(canvas_image(canvas.image_data))
            except ImageError:
                pass  # strokes too faint to stand out: treated as empty
    elif source == "Upload":
        upload = st.file_uploader(
            f"An image ({SUPPORTED}, up to {MAX_BYTES // 2**20} MB)",
            type=FILE_TYPES,
            key="cl_upload",
            help="Any size; transparency is flattened onto white, a light "
            "background is inverted, an animated GIF gives its first frame.",
        )
        if upload is not None:
            try:
                prepared = prepare_image(upload.getvalue())
            except ImageError as e:
                error = f"{upload.name}: {e}."
    else:
        i1, i2 = st.columns([3, 2], vertical_alignment="bottom")
        index = i1.number_input("Test image index", 0, len(ds.test_labels) - 1, 0, key="cl_index")
        i2.button(
            "Random",
            icon=":material/shuffle:",
            key="cl_random",
            on_click=random_index,
            args=(len(ds.test_labels),),
        )
        true_label = CLASS_NAMES[int(ds.test_labels[index])]
    clf_ids = ui.run_picker(
        "Classifiers",
        ui.CLASSIFIERS,
        key="cl_runs",
        multi=True,
        max_selections=4,
        default=[r.run_id for r in ui.runs(ui.CLASSIFIERS)][:2],
    )
    ae_id = ui.run_picker("Autoencoder for the familiarity check", ui.AUTOENCODERS, key="cl_ae")

with right:
    if source == "Test image":
        image28 = ds.test_images[index, 0].numpy()
        x = to_float(ds.test_images[index : index + 1])  # (1, 1, 28, 28)
        original, notes = None, [f"test image #{index}, true class **{true_label}**; used as it is"]
    elif error:
        st.error(error)
        st.stop()
    elif prepared is None:
        st.info(
            "Draw a piece of clothing on the black canvas (a shoe, a shirt, a bag…)."
            if source == "Draw"
            else f"Upload an image: a photo or drawing of one piece of clothing ({SUPPORTED})."
        )
        st.stop()
    else:
        image28, x, original, notes = prepared.image28, prepared.tensor, prepared.original, prepared.notes
    if not clf_ids:
        st.info("Pick at least one classifier on the left.")
        st.stop()
    models = ui.load_models(clf_ids)
    ae = ui.load_model(ae_id) if ae_id else None

    guesses = classify(models, x)
    recon, recon_mse = reconstruction(ae, x) if ae is not None else (None, None)
    slots = iter(st.columns(3))
    if original is not None:
        col = next(slots)
        col.image(original, width="stretch")
        col.caption(f"Your image, {original.width}×{original.height}")
    col = next(slots)
    col.plotly_chart(image_grid(image28[None], cols=1, cell=150), key="cl_input28")
    col.caption("What the models receive, 28×28")
    if recon is not None:
        col = next(slots)
        col.plotly_chart(image_grid(recon[:, 0].numpy(), cols=1, cell=150), key="cl_recon")
        col.caption(f"Reconstruction by {ae_id}")
    for note in notes:  # an animated file is worth a visible line: only its first frame is used
        (st.info if note.startswith("animated") else st.caption)(
            f"Preprocessing: {note}" if original is not None else note[0].upper() + note[1:]
        )

    for run_id, g in guesses.items():
        mark = "" if true_label is None else " ✓" if g.label == true_label else f" ✗ (it is a {true_label})"
        st.markdown(f"**{run_id}** says **{g.label}** ({100 * g.confidence:.1f}%){mark}")
    if len({g.index for g in guesses.values()}) > 1:
        st.caption("The classifiers disagree: the input is ambiguous for them.")
    st.plotly_chart(probability_bars({r: g.probs for r, g in guesses.items()}), key="cl_probs")

    # the test images' errors (computed once per autoencoder, with a progress bar) after the answers
    ref = ui.cached_eval("test", ae_id) if ae is not None else None
    if ae is None:
        st.caption("Train an autoencoder to see how familiar the input looks to it.")
    elif ref is not None and recon_mse is not None:
        known = familiarity(recon_mse, ref["mse_per_image"])
        show, verdict = {
            "familiar": (st.success, "looks like Fashion-MNIST to it."),
            "unusual": (st.info, "is unusual for it."),
            "foreign": (
                st.warning,
                "looks nothing like Fashion-MNIST to it, so the classifiers' answer means little.",
            ),
        }[known.verdict]
        show(
            f"Reconstruction MSE **{known.mse:.4f}**: higher than {known.percentile:.1f}% of the "
            f"{len(ref['mse_per_image']):,} test images. The input {verdict}"
        )
        st.plotly_chart(
            histogram_figure(
                ref["mse_per_image"],
                "reconstruction MSE",
                marker=known.mse,
                marker_label="this input",
                log_x=True,
                title=f"{ae_id}: reconstruction error of test images",
            ),
            key="cl_hist",
        )

    # -- inside the network: what each conv layer sees, and why this class ------------------------
    st.subheader("Inside the network")
    inner = (
        st.selectbox("Classifier to look inside", clf_ids, key="cl_inner") if len(clf_ids) > 1 else clf_ids[0]
    )
    target = guesses[inner].index
    tab_layers, tab_why = st.tabs(["What each layer sees", "Why this class"])
    with tab_layers:
        maps = feature_maps(models[inner], x[0])
        if not maps:
            st.info(
                f"{inner} is an MLP: it has no convolutional layers, every hidden unit sees the whole image."
            )
        for i, (name, fm) in enumerate(maps):
            scaled = fm / max(float(fm.max()), 1e-9)  # one scale per layer: strong maps stand out
            st.plotly_chart(mosaic_figure(scaled, cols=8, cell=72), key=f"cl_maps_{i}")
            st.caption(
                f"Conv layer {i + 1} (`{name}`): its {fm.shape[0]} feature maps of {fm.shape[1]}×{fm.shape[2]} "
                "after the ReLU; bright where the filter found its pattern."
            )
        filters = first_filters(models[inner])
        if filters is not None:
            lo, hi = filters.min((1, 2), keepdims=True), filters.max((1, 2), keepdims=True)
            st.plotly_chart(
                mosaic_figure((filters - lo) / np.maximum(hi - lo, 1e-9), cols=8, cell=60), key="cl_filters"
            )
            st.caption(
                f"The first layer's {len(filters)} filters ({filters.shape[1]}×{filters.shape[2]}), each "
                "scaled to its own range: light weights add the pixel, dark ones subtract it."
            )
    with tab_why:
        attr = attributions(models[inner], x[0], target)
        w1, w2 = st.columns(2)
        seen = x[0, 0].detach().numpy()  # the 28×28 the model received, under each map
        w1.plotly_chart(attribution_figure(attr["occlusion"], "Occlusion", image=seen), key="cl_occ")
        w2.plotly_chart(
            attribution_figure(attr["integrated_gradients"], "Integrated gradients", image=seen), key="cl_ig"
        )
        st.caption(
            f"Why {inner} says **{CLASS_NAMES[target]}**. Occlusion: how much that class's probability "
            "drops when a 4×4 patch is greyed out; red patches supported the answer, blue ones argued "
            "against it (both maps lie over the image it saw). Integrated gradients: each pixel's share of "
            "the answer, summed along the way from a black image to this one. Both from Captum; where they "
            "agree, the evidence is solid."
        )
