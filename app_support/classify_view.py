"""The Classify page's sections: the input (a drawing, an upload or a test image) and the models to ask,
the 28x28 input beside the autoencoder's reconstruction, each classifier's answer, the familiarity check,
and inside the network (feature maps, first filters, attributions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas
from torch import nn

from app_support.data import AUTOENCODERS, CLASSIFIERS, run_picker, runs
from app_support.evals import cached_eval
from fmnist_core import CLASS_NAMES, ImageError, prepare_image, to_float
from fmnist_core.classify import Guess, answer_line, familiarity, familiarity_line
from fmnist_core.data import FashionMNIST
from fmnist_core.latent import attributions, feature_maps, first_filters
from fmnist_core.plots import (
    attribution_figure,
    histogram_figure,
    image_grid,
    mosaic_figure,
    probability_bars,
)
from fmnist_core.preprocess import MAX_BYTES, SUPPORTED, Prepared, canvas_image

SOURCES = ("Draw", "Upload", "Test image")
FILE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]


@dataclass
class Given:
    """What the user gave: a drawing or upload (prepared, or the error that refused it), or a test image."""

    source: str  # one of SOURCES
    prepared: Prepared | None = None
    error: str | None = None
    index: int = 0  # source "Test image": its index
    true_label: str | None = None  # source "Test image": its class


# -- the input ------------------------------------------------------------------------------
def random_index(n: int) -> None:
    st.session_state["cl_index"] = int(np.random.default_rng().integers(n))


def source(ds: FashionMNIST) -> Given:
    """The Input control and what it gives."""
    chosen = st.segmented_control("Input", SOURCES, default="Draw", key="cl_source", required=True)
    if chosen == "Draw":
        return Given(chosen, draw())
    if chosen == "Upload":
        return upload()
    i1, i2 = st.columns([3, 2], vertical_alignment="bottom")
    index = i1.number_input("Test image index", 0, len(ds.test_labels) - 1, 0, key="cl_index")
    i2.button(
        "Random",
        icon=":material/shuffle:",
        key="cl_random",
        on_click=random_index,
        args=(len(ds.test_labels),),
    )
    return Given(chosen, index=index, true_label=CLASS_NAMES[int(ds.test_labels[index])])


def draw() -> Prepared | None:
    """The canvas; its strokes prepared as the models' input (None while it is empty)."""
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
            return prepare_image(canvas_image(canvas.image_data))
        except ImageError:
            pass  # strokes too faint to stand out: treated as empty
    return None


def upload() -> Given:
    file = st.file_uploader(
        f"An image ({SUPPORTED}, up to {MAX_BYTES // 2**20} MB)",
        type=FILE_TYPES,
        key="cl_upload",
        help="Any size; transparency is flattened onto white, a light "
        "background is inverted, an animated GIF gives its first frame.",
    )
    if file is None:
        return Given("Upload")
    try:
        return Given("Upload", prepare_image(file.getvalue()))
    except ImageError as e:
        return Given("Upload", error=f"{file.name}: {e}.")


def pickers() -> tuple[list[str], str | None]:
    """The classifiers to ask and the autoencoder for the familiarity check."""
    clf_ids = run_picker(
        "Classifiers",
        CLASSIFIERS,
        key="cl_runs",
        multi=True,
        max_selections=4,
        default=[r.run_id for r in runs(CLASSIFIERS)][:2],
    )
    ae_id = run_picker("Autoencoder for the familiarity check", AUTOENCODERS, key="cl_ae")
    return clf_ids, ae_id


def model_input(given: Given, ds: FashionMNIST):
    """(image28, x (1, 1, 28, 28), the original picture or None, preprocessing notes); stops the page with
    a line saying what to do while there is nothing to classify."""
    if given.source == "Test image":
        index = given.index
        notes = [f"test image #{index}, true class **{given.true_label}**; used as it is"]
        return ds.test_images[index, 0].numpy(), to_float(ds.test_images[index : index + 1]), None, notes
    if given.error:
        st.error(given.error)
        st.stop()
    if given.prepared is None:
        st.info(
            "Draw a piece of clothing on the black canvas (a shoe, a shirt, a bag…)."
            if given.source == "Draw"
            else f"Upload an image: a photo or drawing of one piece of clothing ({SUPPORTED})."
        )
        st.stop()
    p = given.prepared
    return p.image28, p.tensor, p.original, p.notes


# -- the answers ----------------------------------------------------------------------------
def pictures(
    original, image28: np.ndarray, recon: torch.Tensor | None, ae_id: str | None, notes: list[str]
) -> None:
    """The user's picture, the 28x28 the models receive and the reconstruction, side by side; then what
    preprocessing did."""
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


def answers(guesses: dict[str, Guess], true_label: str | None) -> None:
    for run_id, g in guesses.items():
        st.markdown(answer_line(run_id, g, true_label))
    if len({g.index for g in guesses.values()}) > 1:
        st.caption("The classifiers disagree: the input is ambiguous for them.")
    st.plotly_chart(probability_bars({r: g.probs for r, g in guesses.items()}), key="cl_probs")


def familiarity_check(ae_id: str | None, has_ae: bool, recon_mse: float | None) -> None:
    """The input's reconstruction error against the test images' (computed once per autoencoder, with a
    progress bar, after the answers)."""
    ref = cached_eval("test", ae_id) if has_ae else None
    if not has_ae:
        st.caption("Train an autoencoder to see how familiar the input looks to it.")
    elif ref is not None and recon_mse is not None:
        known = familiarity(recon_mse, ref["mse_per_image"])
        show = {"familiar": st.success, "unusual": st.info, "foreign": st.warning}[known.verdict]
        show(familiarity_line(known, len(ref["mse_per_image"])))
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
def inside(
    models: dict[str, nn.Module], clf_ids: list[str], guesses: dict[str, Guess], x: torch.Tensor
) -> None:
    inner = (
        st.selectbox("Classifier to look inside", clf_ids, key="cl_inner") if len(clf_ids) > 1 else clf_ids[0]
    )
    tab_layers, tab_why = st.tabs(["What each layer sees", "Why this class"])
    with tab_layers:
        layers(inner, models[inner], x)
    with tab_why:
        why(inner, models[inner], x, guesses[inner].index)


def layers(inner: str, model: nn.Module, x: torch.Tensor) -> None:
    """Each conv layer's feature maps of the input, then the first layer's filters."""
    maps = feature_maps(model, x[0])
    if not maps:
        st.info(f"{inner} is an MLP: it has no convolutional layers, every hidden unit sees the whole image.")
    for i, (name, fm) in enumerate(maps):
        scaled = fm / max(float(fm.max()), 1e-9)  # one scale per layer: strong maps stand out
        st.plotly_chart(mosaic_figure(scaled, cols=8, cell=72), key=f"cl_maps_{i}")
        st.caption(
            f"Conv layer {i + 1} (`{name}`): its {fm.shape[0]} feature maps of {fm.shape[1]}×{fm.shape[2]} "
            "after the ReLU; bright where the filter found its pattern."
        )
    filters = first_filters(model)
    if filters is not None:
        lo, hi = filters.min((1, 2), keepdims=True), filters.max((1, 2), keepdims=True)
        st.plotly_chart(
            mosaic_figure((filters - lo) / np.maximum(hi - lo, 1e-9), cols=8, cell=60), key="cl_filters"
        )
        st.caption(
            f"The first layer's {len(filters)} filters ({filters.shape[1]}×{filters.shape[2]}), each "
            "scaled to its own range: light weights add the pixel, dark ones subtract it."
        )


def why(inner: str, model: nn.Module, x: torch.Tensor, target: int) -> None:
    """Occlusion and integrated gradients for the class the model gave, over the image it saw."""
    attr = attributions(model, x[0], target)
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
