"""Reconstructions & denoising: originals, noisy inputs and each autoencoder's output; test-set MSE and
PSNR against noise; denoise-then-classify; per-pixel error maps (report C's edge stripes).

The sections are drawn by app_support/reconstructions_view.py; which images, rows and table cells it shows
is fmnist_core/reconstructions.py.
"""

import streamlit as st
import torch

import app_support as ui
from app_support import reconstructions_view as view
from fmnist_core import add_noise, to_float
from fmnist_core.reconstructions import image_rows, parse_indices, sampled_indices

ui.frame("reconstructions")

st.title("Reconstructions & denoising")
st.caption(
    "Each autoencoder gets a (noisy) test image and tries to give back the clean one. Compare models image by "
    "image, then on the test set: error against noise, accuracy of a classifier with and without denoising, "
    "and where in the frame the errors sit."
)
ui.need_runs(ui.AUTOENCODERS, "autoencoder runs")
ds = ui.dataset()

inp = view.inputs()
if not inp.run_ids:
    st.info("Pick at least one autoencoder above.")
    st.stop()
models = ui.load_models(inp.run_ids)

# -- image by image -----------------------------------------------------------------------
if inp.pick == "by index":
    typed = parse_indices(inp.text, len(ds.test_labels))
    if typed is None:
        st.warning(
            "Give test image indices as whole numbers from 0 to 9,999, separated by commas, e.g. `0, 7, 42`."
        )
        st.stop()
    idx = torch.tensor(typed)
else:
    idx = sampled_indices(inp.pick, ds.test_labels, inp.seed, inp.cls)
clean = to_float(ds.test_images[idx])  # (k, 1, 28, 28)
noisy = add_noise(clean, inp.noise, inp.level, inp.noise_seed)
view.image_by_image(
    image_rows(clean, noisy, ds.test_labels[idx], models, inp.noise, inp.level), inp.pick, inp.seed
)

# -- on the test set: read from each run's evaluation cache ---------------------------------
st.subheader("On the test set")
tests = {r: ui.cached_eval("test", r) for r in inp.run_ids}
curves = {r: ui.cached_eval("noise", r, inp.noise) for r in inp.run_ids}
if any(v is None for v in (*tests.values(), *curves.values())):
    st.stop()
view.test_table(inp, models, tests, curves)
left, right = st.columns(2, gap="large")
with left:
    view.noise_sweep(inp, curves)
with right:
    view.denoise_then_classify(inp)
view.error_maps(inp.run_ids, models, tests)
