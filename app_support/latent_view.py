"""The Latent page's sections: the clickable map of the test images' codes, the clicked image, the decoder
driven from a point of the PCA plane, the path between two test images and a walk along a principal
direction. The codes, maps and decoding are fmnist_core.latent."""

from __future__ import annotations

import numpy as np
import streamlit as st
from torch import nn

from fmnist_core import CLASS_NAMES
from fmnist_core.data import FashionMNIST
from fmnist_core.latent import from_map, interpolate, principal_walk
from fmnist_core.plots import image_grid, latent_figure


def pick() -> None:
    """A click on a point of either map: that test image, and its place on the PCA plane for the decoder
    (set below, where the map's coordinates are at hand)."""
    points = st.session_state["lt_map"].selection.points
    if points:
        st.session_state["lt_picked"] = int(points[0]["customdata"])
        st.session_state["lt_place"] = True


def code_map(m: dict, xy: np.ndarray, labels, axes: tuple[str, str], is_ae: bool) -> None:
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


def picked_image(m: dict, ds: FashionMNIST) -> int | None:
    """The clicked test image, if it is on this run's map; returns its index (None: none clicked)."""
    picked = st.session_state.get("lt_picked")
    if picked is not None and picked in set(m["index"].tolist()):
        st.markdown(f"**Test image #{picked}** · {CLASS_NAMES[int(ds.test_labels[picked])]}")
        st.plotly_chart(image_grid(ds.test_images[picked].numpy(), cols=1, cell=150), key="lt_picked_img")
    return picked


def decoder(model: nn.Module, m: dict, method: str, picked: int | None) -> None:
    """Two sliders on the PCA plane (moved to a clicked image's code) and what the decoder makes there."""
    st.markdown("**Decode a point of the PCA plane**")
    if method != "PCA":
        st.caption("t-SNE has no way back to a code, so the decoder is driven from the PCA plane.")
    lo, hi = m["pca"].min(0), m["pca"].max(0)
    placed = st.session_state.pop("lt_place", False)
    rows = np.flatnonzero(m["index"] == picked) if placed else np.array([], dtype=int)
    if len(rows):  # a clicked image: start the decoder at its own code's place
        st.session_state["lt_x"], st.session_state["lt_y"] = map(float, m["pca"][rows[0]])
    for key, i in (("lt_x", 0), ("lt_y", 1)):  # another run's map has another range
        st.session_state[key] = min(max(float(st.session_state.get(key, 0.0)), float(lo[i])), float(hi[i]))
    x = st.slider("PC 1", float(lo[0]), float(hi[0]), key="lt_x", format="%.2f")
    y = st.slider("PC 2", float(lo[1]), float(hi[1]), key="lt_y", format="%.2f")
    st.plotly_chart(image_grid(from_map(model, m, np.array([x, y])), cols=1, cell=150), key="lt_decoded")
    st.caption(
        "The code at that point of the plane (the mean code plus x·PC 1 + y·PC 2), decoded. Points "
        "far from every image decode to blends or blurs: no image was ever encoded there."
    )


def between(model: nn.Module, ds: FashionMNIST) -> None:
    """The decoded straight line between two test images' codes."""
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


def along(model: nn.Module, m: dict) -> None:
    """The mean code moved along one principal direction, decoded."""
    d1, d2 = st.columns([1, 4], vertical_alignment="bottom")
    pc = d1.radio("Direction", [1, 2], horizontal=True, key="lt_pc", format_func=lambda i: f"PC {i}")
    walk = d2.slider(
        "How far (in standard deviations of the codes along it)", 0.5, 4.0, 2.0, 0.5, key="lt_walk"
    )
    points, sigmas = principal_walk(m["pca"], pc, walk)
    st.plotly_chart(
        image_grid(from_map(model, m, points), [f"{s:+.1f}σ" for s in sigmas], cols=9, cell=90),
        key="lt_walk_img",
    )
    st.caption(
        f"The mean code moved along PC {pc}: what changes from left to right is what that direction "
        "of the code encodes."
    )
