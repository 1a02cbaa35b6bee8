"""Reconstructions & denoising: originals, noisy inputs and each autoencoder's output; test-set MSE and
PSNR against noise; denoise-then-classify; per-pixel error maps (report C's edge stripes)."""

import streamlit as st
import torch

import app_support as ui
from fmnist_core import CLASS_NAMES, add_noise, to_float
from fmnist_core.data import NOISES, sample_of_class
from fmnist_core.evalcache import NOISE_GRID, NOISE_IMAGES, NOISE_SEED
from fmnist_core.evaluate import reconstruct
from fmnist_core.files import sample_per_class
from fmnist_core.metrics import edge_errors, edge_note, mse_per_image
from fmnist_core.models import config_of
from fmnist_core.plots import color, heatmap_figure, image_grid, line_figure

ui.frame("reconstructions")

PICKS = ("one per class", "one class", "by index")
PICK_LABELS = {"one per class": "per class", "one class": "one class", "by index": "by index"}

st.title("Reconstructions & denoising")
st.caption(
    "Each autoencoder gets a (noisy) test image and tries to give back the clean one. Compare models image by "
    "image, then on the test set: error against noise, accuracy of a classifier with and without denoising, "
    "and where in the frame the errors sit."
)
ui.need_runs(ui.AUTOENCODERS, "autoencoder runs")
ds = ui.dataset()

# -- inputs -------------------------------------------------------------------------------
ae_runs = ui.runs(ui.AUTOENCODERS)
default = [
    next(r.run_id for r in ae_runs if r.kind == k)
    for k in ui.AUTOENCODERS
    if any(r.kind == k for r in ae_runs)
]
left, right = st.columns([2, 1], gap="large")
with left:
    run_ids = ui.run_picker(
        "Autoencoders (up to three)",
        ui.AUTOENCODERS,
        key="rc_runs",
        multi=True,
        max_selections=3,
        default=default,
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
    if pick == "one class":
        cls = c2.selectbox("Class", range(10), format_func=lambda c: CLASS_NAMES[c], key="rc_class")
    elif pick == "by index":
        text = c2.text_input(
            "Indices (0–9,999, up to 12)",
            "0, 1, 2, 3, 4, 5, 6, 7, 8, 9",
            key="rc_idx",
            help="Whole numbers separated by commas or spaces.",
        )
with right:
    noise = st.selectbox(
        "Noise",
        list(NOISES),
        format_func=lambda k: NOISES[k].label,
        key="rc_noise",
        help="; ".join(f"{n.label}: {n.about}" for n in NOISES.values()) + ". Each kind keeps its own level.",
    )
    label, unit, level0 = NOISES[noise].label, NOISES[noise].level, NOISES[noise].start
    grid = NOISE_GRID[noise]
    n1, n2 = st.columns([3, 2], vertical_alignment="bottom")
    level = n1.slider(
        f"Level ({unit})", grid[0], grid[-1], level0, grid[1] - grid[0], key=f"rc_level_{noise}"
    )
    noise_seed = n2.number_input(
        "Seed", 0, 10_000, 0, key="rc_noise_seed", help="The same seed gives the same noise."
    )

if not run_ids:
    st.info("Pick at least one autoencoder above.")
    st.stop()
models = ui.load_models(run_ids)

# -- image by image -----------------------------------------------------------------------
if pick == "one per class":
    idx = torch.from_numpy(sample_per_class(ds.test_labels.numpy(), 1, seed))
elif pick == "one class":
    idx = sample_of_class(ds.test_labels, cls, 10, seed)
else:
    tokens = text.replace(",", " ").split()
    if not tokens or not all(t.isdigit() and int(t) < len(ds.test_labels) for t in tokens):
        st.warning(
            "Give test image indices as whole numbers from 0 to 9,999, separated by commas, e.g. `0, 7, 42`."
        )
        st.stop()
    idx = torch.tensor([int(t) for t in tokens[:12]])

clean = to_float(ds.test_images[idx])  # (k, 1, 28, 28)
noisy = add_noise(clean, noise, level, int(noise_seed))
# one row of images per input and per model, each under its full name (one figure per row: a label
# beside a row of 28x28 cells has room for a few letters only, and long run names ran into each other)
rows = [("Test images", clean, [CLASS_NAMES[int(c)] for c in ds.test_labels[idx]])]
if level > 0:
    rows.append(
        (
            f"Noisy input ({label}, {unit} {level:g})",
            noisy,
            [f"in MSE {v:.3f}" for v in mse_per_image(noisy, clean)],
        )
    )
for run_id, model in models.items():
    recon = reconstruct(model, noisy)
    rows.append(
        (
            f"{run_id} · {ui.KIND_LABELS[config_of(model).kind]}",
            recon,
            [f"MSE {v:.4f}" for v in mse_per_image(recon, clean)],
        )
    )
g1, g2 = st.columns([5, 1], vertical_alignment="bottom")
g1.subheader("Image by image")
if pick != "by index" and g2.button("New sample", icon=":material/shuffle:", key="rc_new"):
    st.session_state["rc_sample"] = seed + 1
    st.rerun()
st.caption(
    "The test images; then the input the models get (when the noise level is above 0); then each "
    "model's reconstruction, titled with its MSE against the clean original. Hover for pixel values."
)
half = (len(idx) + 1) // 2  # each row in two halves side by side: on a phone they stack, five a row
for i, (row_label, images, titles) in enumerate(rows):
    with st.container(gap=None):
        st.markdown(f"**{row_label}**")
        for h, (col, part) in enumerate(zip(st.columns(2, gap="small"), (slice(0, half), slice(half, None)))):
            if titles[part]:
                col.plotly_chart(
                    image_grid(images[part, 0].numpy(), titles[part], cols=half, cell=84),
                    key=f"rc_gallery_{i}_{h}",
                )

# -- on the test set: read from each run's evaluation cache ---------------------------------
st.subheader("On the test set")
tests = {r: ui.cached_eval("test", r) for r in run_ids}
curves = {r: ui.cached_eval("noise", r, noise) for r in run_ids}
if any(v is None for v in (*tests.values(), *curves.values())):
    st.stop()
cached_level = int(noise_seed) == NOISE_SEED and level in grid
table = []
for run_id in run_ids:
    if cached_level:
        at = {k: float(v[grid.index(level)]) for k, v in curves[run_id].items()}
    else:  # another noise seed: one level on the same images, computed now
        at = ui.ae_figures_now(run_id, noise, level, int(noise_seed), NOISE_IMAGES)
    table.append(
        {
            "model": run_id,
            "kind": ui.KIND_LABELS[config_of(models[run_id]).kind],
            "MSE clean in": float(tests[run_id]["mse_per_image"].mean()),
            "PSNR clean in": float(tests[run_id]["psnr"]),
            "MSE noisy in": at["mse"],
            "PSNR noisy in": at["psnr"],
        }
    )
table.append(
    {
        "model": "noisy input itself",
        "kind": "no model",
        "MSE clean in": 0.0,
        "PSNR clean in": None,
        "MSE noisy in": at["input_mse"],
        "PSNR noisy in": at["input_psnr"],
    }
)
st.caption(
    f"Reconstruction of the clean image: from the clean image, over all "
    f"{len(tests[run_ids[0]]['mse_per_image']):,} test images, and from the noisy one ({label}, "
    f"{unit} {level:g}), over the first {NOISE_IMAGES:,}"
    + (f" (noise seed {int(noise_seed)} is not in the cache: computed now)" if not cached_level else "")
    + ". The last row is the noisy input compared with the clean image: a model denoises when it scores "
    "below it. PSNR is in dB (higher is better)."
)
st.dataframe(
    table,
    hide_index=True,
    placeholder="",
    column_config={c: st.column_config.NumberColumn(format="%.4f") for c in ("MSE clean in", "MSE noisy in")}
    | {c: st.column_config.NumberColumn(format="%.2f") for c in ("PSNR clean in", "PSNR noisy in")},
)

left, right = st.columns(2, gap="large")
with left:
    lines = {r: list(c["mse"]) for r, c in curves.items()}
    lines["noisy input itself"] = list(curves[run_ids[0]]["input_mse"])
    sweep_fig = line_figure(
        list(grid),
        lines,
        f"noise level ({unit})",
        "MSE against the clean image",
        title=f"MSE against noise: {label}",
        dashes={"noisy input itself": "dot"},
    )
    sweep_fig.update_traces(
        line_color=ui.NEUTRAL, marker_color=ui.NEUTRAL, selector={"name": "noisy input itself"}
    )
    st.plotly_chart(sweep_fig, key="rc_sweep")
    st.caption(
        f"First {NOISE_IMAGES:,} test images at each level, noise seed {NOISE_SEED}. Where a model's line is "
        "under the dotted one it removes noise; above it, the model does worse than passing the input through."
    )
with right:
    clf_ids = [r.run_id for r in ui.runs(ui.CLASSIFIERS)]
    if not clf_ids:
        st.info("Denoise-then-classify needs a classifier run; train one on the **Train** page.")
    else:
        clf = ui.run_picker("Classifier", ui.CLASSIFIERS, key="rc_clf")
        ae = st.selectbox("Denoise with", run_ids, key="rc_denoiser")
        dc = ui.cached_eval("denoise", clf, ae, noise)
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
        denoise_fig.update_traces(
            line_color=ui.NEUTRAL, marker_color=ui.NEUTRAL, selector={"name": "noisy images"}
        )
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

st.markdown(
    "**Where the error sits**: mean squared error of each pixel over the test set, reconstructing clean "
    "inputs. Bright bands along the bottom and right edges are report C's stripes, which it traced to the last "
    "transposed convolution's output padding; its AE 4, with a larger kernel instead, removed them."
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
