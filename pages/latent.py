"""Latent space: the codes of the test images on a 2-D map (PCA and t-SNE), what the decoder makes of any
point of the map, the decoded path between two test images, and a walk along a principal direction."""

import numpy as np
import streamlit as st

import app_support as ui
from fmnist_core import CLASS_NAMES
from fmnist_core.latent import from_map, interpolate
from fmnist_core.models import config_of
from fmnist_core.plots import image_grid, latent_figure

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
ex = 100 * m["explained"]
axes = (
    (f"PC 1 ({ex[0]:.0f}% of the variance)", f"PC 2 ({ex[1]:.0f}%)")
    if method == "PCA"
    else ("t-SNE 1", "t-SNE 2")
)
is_ae = config_of(model).kind in ui.AUTOENCODERS


def pick() -> None:
    """A click on a point of either map: that test image, and its place on the PCA plane for the decoder
    (set below, where the map's coordinates are at hand)."""
    points = st.session_state["lt_map"].selection.points
    if points:
        st.session_state["lt_picked"] = int(points[0]["customdata"])
        st.session_state["lt_place"] = True


left, right = st.columns([3, 2], gap="large")
with left:
    st.plotly_chart(
        latent_figure(xy, labels, m["index"], axes=axes),
        key="lt_map",
        on_select=pick,
        selection_mode="points",
    )
    st.caption(
        f"{len(labels):,} test images (a seeded sample), computed once for this run and kept with it. "
        "Click a point to see its image" + (" and place the decoder's point there." if is_ae else ".")
    )
with right:
    picked = st.session_state.get("lt_picked")
    if picked is not None and picked in set(m["index"].tolist()):
        st.markdown(f"**Test image #{picked}** · {CLASS_NAMES[int(ds.test_labels[picked])]}")
        st.plotly_chart(image_grid(ds.test_images[picked].numpy(), cols=1, cell=150), key="lt_picked_img")
    if not is_ae:
        st.info(
            "A classifier has no decoder: this map shows how its encoder separates the classes. Pick an "
            "autoencoder to decode points of the map."
        )
    else:
        st.markdown("**Decode a point of the PCA plane**")
        if method != "PCA":
            st.caption("t-SNE has no way back to a code, so the decoder is driven from the PCA plane.")
        lo, hi = m["pca"].min(0), m["pca"].max(0)
        placed = st.session_state.pop("lt_place", False)
        rows = np.flatnonzero(m["index"] == picked) if placed else np.array([], dtype=int)
        if len(rows):  # a clicked image: start the decoder at its own code's place
            st.session_state["lt_x"], st.session_state["lt_y"] = map(float, m["pca"][rows[0]])
        for key, i in (("lt_x", 0), ("lt_y", 1)):  # another run's map has another range
            st.session_state[key] = min(
                max(float(st.session_state.get(key, 0.0)), float(lo[i])), float(hi[i])
            )
        x = st.slider("PC 1", float(lo[0]), float(hi[0]), key="lt_x", format="%.2f")
        y = st.slider("PC 2", float(lo[1]), float(hi[1]), key="lt_y", format="%.2f")
        st.plotly_chart(image_grid(from_map(model, m, np.array([x, y])), cols=1, cell=150), key="lt_decoded")
        st.caption(
            "The code at that point of the plane (the mean code plus x·PC 1 + y·PC 2), decoded. Points "
            "far from every image decode to blends or blurs: no image was ever encoded there."
        )

if is_ae:
    st.subheader("Between two test images")
    a1, a2, a3 = st.columns([1, 1, 3], vertical_alignment="bottom")
    ia = a1.number_input("From test image #", 0, 9999, 0, key="lt_a")
    ib = a2.number_input("to #", 0, 9999, 1, key="lt_b")
    steps = interpolate(model, ds.test_images[int(ia)], ds.test_images[int(ib)], steps=9)
    st.plotly_chart(
        image_grid(steps, [f"{t:.2f}" for t in np.linspace(0, 1, 9)], cols=9, cell=90), key="lt_interp"
    )
    st.caption(
        f"The decoder's image of the codes on the straight line from #{int(ia)} "
        f"({CLASS_NAMES[int(ds.test_labels[int(ia)])]}) to #{int(ib)} "
        f"({CLASS_NAMES[int(ds.test_labels[int(ib)])]}): 0 is the first image's code, 1 the second's."
    )

    st.subheader("Along a principal direction")
    d1, d2 = st.columns([1, 4], vertical_alignment="bottom")
    pc = d1.radio("Direction", [1, 2], horizontal=True, key="lt_pc", format_func=lambda i: f"PC {i}")
    spread = float(m["pca"][:, pc - 1].std())
    walk = d2.slider(
        "How far (in standard deviations of the codes along it)", 0.5, 4.0, 2.0, 0.5, key="lt_walk"
    )
    ts = np.linspace(-walk, walk, 9) * spread
    points = np.stack([ts, np.zeros_like(ts)], 1) if pc == 1 else np.stack([np.zeros_like(ts), ts], 1)
    st.plotly_chart(
        image_grid(from_map(model, m, points), [f"{t / spread:+.1f}σ" for t in ts], cols=9, cell=90),
        key="lt_walk_img",
    )
    st.caption(
        f"The mean code moved along PC {pc}: what changes from left to right is what that direction "
        "of the code encodes."
    )
