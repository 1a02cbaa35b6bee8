"""The Reconstructions page's sections: its inputs (autoencoders, test images, noise), the rows of images,
the test-set table and noise curve, denoise-then-classify, and the per-pixel error maps. Which images and
rows, and the table's cells, are decided in fmnist_core.reconstructions."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch
from torch import nn

from app_support.data import AUTOENCODERS, CLASSIFIERS, run_picker, runs
from app_support.evals import ae_figures_now, cached_eval
from fmnist_core import CLASS_NAMES
from fmnist_core.data import NOISES
from fmnist_core.evalcache import NOISE_GRID, NOISE_IMAGES, NOISE_SEED
from fmnist_core.metrics import edge_errors, edge_note
from fmnist_core.models import config_of
from fmnist_core.plots import NEUTRAL, color, heatmap_figure, image_grid, line_figure
from fmnist_core.reconstructions import PICK_LABELS, PICKS, at_level, default_models, score_rows


@dataclass
class Inputs:
    """What the controls at the top hold."""

    run_ids: list[str]
    pick: str  # one of PICKS
    seed: int  # the sample's seed ("New sample" adds one)
    cls: int  # pick "one class": the class
    text: str  # pick "by index": the indices as typed
    noise: str  # a key of NOISES
    level: float
    noise_seed: int


# -- inputs -------------------------------------------------------------------------------
def inputs() -> Inputs:
    """The autoencoders and test images on the left, the noise on the right."""
    left, right = st.columns([2, 1], gap="large")
    with left:
        run_ids, pick, seed, cls, text = images_and_models()
    with right:
        noise, level, noise_seed = noise_controls()
    return Inputs(run_ids, pick, seed, cls, text, noise, level, noise_seed)


def images_and_models() -> tuple[list[str], str, int, int, str]:
    run_ids = run_picker(
        "Autoencoders (up to three)",
        AUTOENCODERS,
        key="rc_runs",
        multi=True,
        max_selections=3,
        default=default_models(runs(AUTOENCODERS), AUTOENCODERS),
    )
    c1, c2 = st.columns(2, vertical_alignment="bottom")
    pick = c1.segmented_control(
        "Test images",
        PICKS,
        default=PICKS[0],
        key="rc_pick",
        required=True,
        format_func=lambda p: PICK_LABELS[p],
        help="Random images, one of each class or ten of one class, or the test images you name by index.",
    )
    seed = st.session_state.setdefault("rc_sample", 0)
    cls, text = 0, ""
    if pick == "one class":
        cls = c2.selectbox("Class", range(10), format_func=lambda c: CLASS_NAMES[c], key="rc_class")
    elif pick == "by index":
        text = c2.text_input(
            "Indices (0–9,999, up to 12)",
            "0, 1, 2, 3, 4, 5, 6, 7, 8, 9",
            key="rc_idx",
            help="Whole numbers separated by commas or spaces.",
        )
    return run_ids, pick, seed, cls, text


def noise_controls() -> tuple[str, float, int]:
    noise = st.selectbox(
        "Noise",
        list(NOISES),
        format_func=lambda k: NOISES[k].label,
        key="rc_noise",
        help="; ".join(f"{n.label}: {n.about}" for n in NOISES.values()) + ". Each kind keeps its own level.",
    )
    unit, level0 = NOISES[noise].level, NOISES[noise].start
    grid = NOISE_GRID[noise]
    n1, n2 = st.columns([3, 2], vertical_alignment="bottom")
    level = n1.slider(
        f"Level ({unit})", grid[0], grid[-1], level0, grid[1] - grid[0], key=f"rc_level_{noise}"
    )
    noise_seed = n2.number_input(
        "Seed", 0, 10_000, 0, key="rc_noise_seed", help="The same seed gives the same noise."
    )
    return noise, level, int(noise_seed)


# -- image by image -----------------------------------------------------------------------
def image_by_image(rows: list[tuple[str, torch.Tensor, list[str]]], pick: str, seed: int) -> None:
    """Each row of images under its full name (one figure per row: a label beside a row of 28x28 cells has
    room for a few letters only, and long run names ran into each other)."""
    g1, g2 = st.columns([5, 1], vertical_alignment="bottom")
    g1.subheader("Image by image")
    if pick != "by index" and g2.button("New sample", icon=":material/shuffle:", key="rc_new"):
        st.session_state["rc_sample"] = seed + 1
        st.rerun()
    st.caption(
        "The test images; then the input the models get (when the noise level is above 0); then each "
        "model's reconstruction, titled with its MSE against the clean original. Hover for pixel values."
    )
    half = (
        len(rows[0][1]) + 1
    ) // 2  # each row in two halves side by side: on a phone they stack, five a row
    for i, (row_label, images, titles) in enumerate(rows):
        with st.container(gap=None):
            st.markdown(f"**{row_label}**")
            for h, (col, part) in enumerate(
                zip(st.columns(2, gap="small"), (slice(0, half), slice(half, None)))
            ):
                if titles[part]:
                    col.plotly_chart(
                        image_grid(images[part, 0].numpy(), titles[part], cols=half, cell=84),
                        key=f"rc_gallery_{i}_{h}",
                    )


# -- on the test set ----------------------------------------------------------------------
def test_table(inp: Inputs, models: dict[str, nn.Module], tests: dict, curves: dict) -> None:
    """MSE and PSNR from clean and noisy input: the noise curves' cached level, or computed now for a
    noise seed the cache does not hold."""
    grid, label, unit = NOISE_GRID[inp.noise], NOISES[inp.noise].label, NOISES[inp.noise].level
    level, noise_seed = inp.level, inp.noise_seed
    cached_level = noise_seed == NOISE_SEED and level in grid
    at = {
        r: at_level(curves[r], grid, level)
        if cached_level
        else ae_figures_now(r, inp.noise, level, noise_seed, NOISE_IMAGES)  # one level, on the same images
        for r in inp.run_ids
    }
    st.caption(
        f"Reconstruction of the clean image: from the clean image, over all "
        f"{len(tests[inp.run_ids[0]]['mse_per_image']):,} test images, and from the noisy one ({label}, "
        f"{unit} {level:g}), over the first {NOISE_IMAGES:,}"
        + (f" (noise seed {noise_seed} is not in the cache: computed now)" if not cached_level else "")
        + ". The last row is the noisy input compared with the clean image: a model denoises when it scores "
        "below it. PSNR is in dB (higher is better)."
    )
    st.dataframe(
        score_rows(tests, at, models),
        hide_index=True,
        placeholder="",
        column_config={
            c: st.column_config.NumberColumn(format="%.4f") for c in ("MSE clean in", "MSE noisy in")
        }
        | {c: st.column_config.NumberColumn(format="%.2f") for c in ("PSNR clean in", "PSNR noisy in")},
    )


def noise_sweep(inp: Inputs, curves: dict) -> None:
    """Each model's MSE against the noise level, beside the noisy input's own."""
    label, unit = NOISES[inp.noise].label, NOISES[inp.noise].level
    lines = {r: list(c["mse"]) for r, c in curves.items()}
    lines["noisy input itself"] = list(curves[inp.run_ids[0]]["input_mse"])
    sweep_fig = line_figure(
        list(NOISE_GRID[inp.noise]),
        lines,
        f"noise level ({unit})",
        "MSE against the clean image",
        title=f"MSE against noise: {label}",
        dashes={"noisy input itself": "dot"},
    )
    sweep_fig.update_traces(line_color=NEUTRAL, marker_color=NEUTRAL, selector={"name": "noisy input itself"})
    st.plotly_chart(sweep_fig, key="rc_sweep")
    st.caption(
        f"First {NOISE_IMAGES:,} test images at each level, noise seed {NOISE_SEED}. Where a model's line is "
        "under the dotted one it removes noise; above it, the model does worse than passing the input through."
    )


def denoise_then_classify(inp: Inputs) -> None:
    """A classifier's accuracy on noisy test images, as they are and through an autoencoder first."""
    clf_ids = [r.run_id for r in runs(CLASSIFIERS)]
    if not clf_ids:
        st.info("Denoise-then-classify needs a classifier run; train one on the **Train** page.")
        return
    run_ids, unit = inp.run_ids, NOISES[inp.noise].level
    clf = run_picker("Classifier", CLASSIFIERS, key="rc_clf")
    ae = st.selectbox("Denoise with", run_ids, key="rc_denoiser")
    dc = cached_eval("denoise", clf, ae, inp.noise)
    if dc is None:
        st.stop()
    denoise_fig = line_figure(
        list(dc["level"]),
        {"noisy images": list(dc["raw_acc"]), f"denoised by {ae}": list(dc["denoised_acc"])},
        f"noise level ({unit})",
        "accuracy (%)",
        percent=True,
        title="Denoise, then classify",
        dashes={"noisy images": "dot"},
    )
    # the same colours as the chart beside it: the noisy input grey, the autoencoder its own colour
    denoise_fig.update_traces(line_color=NEUTRAL, marker_color=NEUTRAL, selector={"name": "noisy images"})
    denoise_fig.update_traces(
        line_color=color(run_ids.index(ae)),
        marker_color=color(run_ids.index(ae)),
        selector={"name": f"denoised by {ae}"},
    )
    st.plotly_chart(denoise_fig, key="rc_denoise")
    st.caption(
        f"Accuracy of {clf} on the first {NOISE_IMAGES:,} noisy test images, fed as they are or through "
        "the autoencoder first. At level 0 the gap is what the reconstruction alone costs."
    )


def error_maps(run_ids: list[str], models: dict[str, nn.Module], tests: dict) -> None:
    """Each model's mean squared error per pixel over the test set, and whether its edges stripe."""
    st.markdown(
        "**Where the error sits**: mean squared error of each pixel over the test set, reconstructing clean "
        "inputs. Bright bands along the bottom and right edges are report C's stripes, which it traced to the "
        "last transposed convolution's output padding; its AE 4, with a larger kernel instead, removed them."
    )
    cols = st.columns(max(len(run_ids), 2))
    for col, run_id in zip(cols, run_ids):
        pm = tests[run_id]["pixel_mse"]
        far, near = edge_errors(pm)
        col.plotly_chart(heatmap_figure(pm, title=run_id, colorbar="MSE", height=320), key=f"rc_map_{run_id}")
        cfg = config_of(models[run_id])
        col.caption(
            edge_note(far, near, cfg.kind == "conv_ae" and getattr(cfg, "decoder", "") == "output_padding")
        )
