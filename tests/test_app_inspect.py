"""AppTest for the three inspect pages (Reconstructions, Confusion, Classify) with real, tiny runs.

The drawing canvas is a custom component that AppTest cannot draw on: its conversion (RGBA canvas ->
the 28x28 input) is tested directly, and a drawing was checked by hand in a browser. Uploads go
through AppTest's own file_uploader (set_value), bad files included.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

import app_support as ui
from fmnist_core import (
    ClassifierConfig,
    ConvAEConfig,
    DenseAEConfig,
    ImageError,
    MLPConfig,
    Registry,
    RunSpec,
    TrainConfig,
    prepare_image,
    train_run,
)
from fmnist_core.evaluate import pair_examples, percentile_of, top_k
from fmnist_core.plots import (
    confusion_figure,
    gallery_figure,
    heatmap_figure,
    histogram_figure,
    image_grid,
    with_cell_picker,
)
from fmnist_core.preprocess import canvas_image

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
SHIPPED = ROOT / "saved_models"
TIMEOUT = 180  # seconds per script run: a cold test-set evaluation on a busy 2-core machine


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def chart_keys(at: AppTest) -> set[str]:
    """The keys of the page's plotly charts (an element id ends with its key)."""
    return {c.proto.id.split("-", 2)[-1] for c in at.get("plotly_chart")}


def gallery_rows(at: AppTest) -> list[str]:
    """Reconstructions' image-by-image rows: the label above each (each row is two charts side by side)."""
    n = len({k.rsplit("_", 1)[0] for k in chart_keys(at) if k.startswith("rc_gallery_")})
    labels = [m.value.strip("*") for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]
    return labels[:n]


def open_page(page: str, **state) -> AppTest:
    """The app opened on one page, with widget values preset (small evaluation sizes keep tests quick)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(ui.PAGES[page])
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def tiny_runs(ds, tmp_path_factory):
    """Two autoencoders and three classifiers, one short epoch each on a few hundred images."""
    root = tmp_path_factory.mktemp("inspect-runs")
    reg = Registry(root)
    quick = TrainConfig(epochs=1, limit=400, batch_size=50, device="cpu")
    for spec in (
        RunSpec(ConvAEConfig(), quick, "ae"),
        RunSpec(DenseAEConfig(latent_dim=64), quick, "dense"),
        RunSpec(ClassifierConfig(encoder_run="ae"), quick, "clf"),
        RunSpec(ClassifierConfig(encoder_run="random"), quick, "clf-random"),
        RunSpec(MLPConfig(), quick, "mlp"),
    ):
        train_run(spec, ds, reg, command="test")
    return root


@pytest.fixture
def runs(tiny_runs, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tiny_runs))
    return tiny_runs


# -- without runs, and with the shipped reference runs ----------------------------------------
@pytest.mark.parametrize("page", ["reconstructions", "confusion", "classify"])
def test_pages_explain_when_there_are_no_runs(tmp_path, monkeypatch, page):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "none"))
    at = open_page(page)
    assert not errors(at)
    assert any("yet" in i.value and "Train" in i.value for i in at.info)


@pytest.mark.parametrize(
    "page,state",
    [
        ("reconstructions", {}),
        ("confusion", {"cf_n": 1000}),
        ("classify", {"cl_source": "Test image"}),
    ],
)
def test_pages_work_with_the_shipped_runs(tmp_path, monkeypatch, page, state):
    dst = tmp_path / "runs"
    dst.mkdir()
    for p in SHIPPED.glob("ref-*"):
        if (p / "weights.pt").exists():
            shutil.copytree(p, dst / p.name)
    if not any(dst.iterdir()):
        pytest.skip("no shipped reference runs with weights in saved_models/ yet")
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(dst))
    at = open_page(page, **state)
    assert not errors(at), errors(at)
    kinds = {r.kind for r in Registry(dst).list_runs()}
    needed = ui.AUTOENCODERS if page == "reconstructions" else ui.CLASSIFIERS
    if kinds & set(needed):
        assert charts(at) >= 2
    else:
        assert at.info  # the guard explains what to train


# -- Reconstructions & denoising ----------------------------------------------------------------
@pytest.mark.slow
def test_reconstructions_page(runs):
    at = open_page("reconstructions")
    assert not errors(at), errors(at)
    assert set(at.multiselect(key="rc_runs").value) == {"ae", "dense"}  # one of each kind by default
    # a row of images per input and per model, each under its full name; MSE against noise;
    # denoise-then-classify; one error map per model
    assert gallery_rows(at) == [
        "Test images",
        "Noisy input (Gaussian, σ 0.3)",
        "ae · conv autoencoder",
        "dense · dense autoencoder",
    ]
    assert {
        "rc_gallery_0_0",
        "rc_gallery_0_1",
        "rc_sweep",
        "rc_denoise",
        "rc_map_ae",
        "rc_map_dense",
    } <= chart_keys(at)
    assert charts(at) == 4 * 2 + 4
    table = at.dataframe[0].value
    assert list(table["model"]) == ["ae", "dense", "noisy input itself"]
    assert (table["MSE noisy in"][:2] > 0).all()
    assert any("bottom/right border" in c.value for c in at.caption)

    for kind in ("gaussian_image", "salt_pepper", "mask", "gaussian"):
        at.selectbox(key="rc_noise").set_value(kind).run()
        assert not errors(at), (kind, errors(at))
        assert charts(at) == 4 * 2 + 4
    at.slider(key="rc_level_gaussian").set_value(0.0).run()  # no noise: no noisy row
    assert not errors(at)
    assert gallery_rows(at) == ["Test images", "ae · conv autoencoder", "dense · dense autoencoder"]
    at.number_input(key="rc_noise_seed").set_value(3).run()  # not in the cache: computed now
    assert any("not in the cache" in c.value for c in at.caption) and not errors(at)
    at.multiselect(key="rc_runs").set_value(["ae"]).run()
    assert charts(at) == 2 * 2 + 3 and not errors(at)
    at.selectbox(key="rc_clf").set_value("mlp").run()
    assert not errors(at)

    at.segmented_control(key="rc_pick").set_value("one class").run()
    at.selectbox(key="rc_class").set_value(7).run()
    at.button(key="rc_new").click().run()
    assert not errors(at) and at.session_state["rc_sample"] == 1
    at.segmented_control(key="rc_pick").set_value("by index").run()
    at.text_input(key="rc_idx").set_value("3, 99999, x").run()
    assert at.warning and "0 to 9,999" in at.warning[0].value and not errors(at)
    at.text_input(key="rc_idx").set_value("5 17 9999").run()
    assert not at.warning and not errors(at)

    at.multiselect(key="rc_runs").set_value([]).run()
    assert any("at least one autoencoder" in i.value for i in at.info)


# -- Confusion & errors -------------------------------------------------------------------------
def test_confusion_page(runs):
    at = open_page("confusion", cf_n=1000, cf_run="clf")
    assert not errors(at), errors(at)
    # runs trained today: the picker shows each one's test figure (the held-out-selected weights), named so
    options = at.selectbox(key="cf_run").options
    assert options and all(" · test acc " in o and "selected on" not in o for o in options), options
    # matrix, cell gallery, random gallery (each two halves that stack on a phone), A, B and their difference
    assert {
        "cf_matrix",
        "cf_cell_gallery_0",
        "cf_random_gallery_0",
        "cf_random_gallery_1",
        "cf_cmp_a",
        "cf_cmp_b",
        "cf_cmp_diff",
    } <= chart_keys(at)
    assert any("of these 20 are wrong" in c.value and "are wrong (accuracy" in c.value for c in at.caption)
    acc = [m for m in at.metric if m.label == "Accuracy"][0]
    assert acc.value.endswith("%")
    assert any("of 1,000 test images right" in c.value for c in at.caption)
    per_class = at.dataframe[1].value
    assert len(per_class) == 12 and {"precision", "recall", "F1", "support"} <= set(per_class.columns)
    assert per_class["support"][:10].sum() == 1000
    assert at.selectbox(key="cf_run_b_clf").value == "clf-random"  # pretrained vs random init twin
    at.selectbox(key="cf_run_b_clf").set_value("mlp").run()  # a user's own choice for this classifier
    at.selectbox(key="cf_run").set_value("clf-random").run()  # another run: its own twin, named as shown
    assert at.selectbox(key="cf_run_b_clf-random").value == "clf"
    assert any(m.label == "B · clf" for m in at.metric), [m.label for m in at.metric]
    at.selectbox(key="cf_run").set_value("clf").run()  # back: its partner again, named as shown
    assert at.selectbox(key="cf_run_b_clf").value == "clf-random"
    assert any(m.label == "B · clf-random" for m in at.metric), [m.label for m in at.metric]

    at.segmented_control(key="cf_scale").set_value("row %").run()
    assert not errors(at)
    at.selectbox(key="cf_true").set_value("Trouser").run()
    at.selectbox(key="cf_pred").set_value("Trouser").run()
    assert any("least confident correct" in c.value for c in at.caption) or at.info
    assert any("the first 20 shown" in c.value for c in at.caption)  # a big cell: 20, then "Show all"
    at.toggle(key="cf_show_all").set_value(True).run()
    assert not errors(at) and not any("the first 20 shown" in c.value for c in at.caption)
    at.selectbox(key="cf_run").set_value("mlp").run()
    at.button(key="cf_new").click().run()
    at.selectbox(key="cf_run_b_mlp").set_value("mlp").run()  # the same run twice
    assert not errors(at), errors(at)
    assert any("different one" in i.value for i in at.info)


def test_cell_picker_reports_the_clicked_cell():
    """Heatmaps emit no selection events, so each cell carries an invisible marker (x predicted, y true)."""
    cm = np.arange(100).reshape(10, 10)
    fig = with_cell_picker(confusion_figure(cm))
    cells = fig.data[1]
    assert len(cells.x) == 100 and cells.x[12] == "Pullover" and cells.y[12] == "Trouser"
    assert cells.customdata[12] == "12" and fig.data[0].hoverinfo == "skip"


# -- Classify your image ------------------------------------------------------------------------
def png(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def trousers(size=(300, 420), mode="RGB", bg="white", fg="black") -> Image.Image:
    img = Image.new(mode, size, bg)
    d = ImageDraw.Draw(img)
    w, h = size
    d.polygon(
        [
            (w * 0.3, h * 0.1),
            (w * 0.7, h * 0.1),
            (w * 0.75, h * 0.9),
            (w * 0.55, h * 0.9),
            (w * 0.5, h * 0.4),
            (w * 0.45, h * 0.9),
            (w * 0.25, h * 0.9),
        ],
        fill=fg,
    )
    return img


def huge_header_png(side: int = 9000) -> bytes:
    """A valid tiny PNG whose header claims side x side pixels (a decompression bomb's shape)."""
    data = bytearray(png(Image.new("L", (4, 4))))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", side, side)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


def animated_gif() -> bytes:
    frames = [trousers((60, 80), "L", 255, 0), Image.new("L", (60, 80), 128)]
    return png(frames[0], "GIF", save_all=True, append_images=frames[1:])


GOOD_FILES = [
    ("trousers.png", lambda: png(trousers()), "inverted a light background"),
    ("photo.jpg", lambda: png(trousers((1200, 1600)), "JPEG", quality=80), "inverted"),
    ("trousers.webp", lambda: png(trousers(), "WEBP"), "inverted"),
    ("trousers.bmp", lambda: png(trousers(bg="black", fg="white"), "BMP"), None),
    (
        "transparent.png",
        lambda: png(trousers(mode="RGBA", bg=(0, 0, 0, 0), fg=(20, 20, 20, 255))),
        "inverted",
    ),
    ("animated.gif", animated_gif, "first of its 2 frames"),
]
BAD_FILES = [
    ("notes.png", lambda: b"hello, not an image", "not an image we can read"),
    ("truncated.png", lambda: png(trousers())[:300], "damaged or truncated"),
    ("empty.png", lambda: b"", "empty"),
    ("huge.png", lambda: b"\x89PNG" + bytes(31 * 2**20), "MB"),
    ("bomb.png", huge_header_png, "megapixels"),
    ("bigger-bomb.png", lambda: huge_header_png(20000), "megapixels"),  # Pillow refuses it before decoding
    ("blank.png", lambda: png(Image.new("RGB", (50, 50), "white")), "blank"),
]


def test_classify_page_sources(runs):
    at = open_page("classify")
    assert not errors(at)
    assert any("Draw" in i.value for i in at.info)  # empty canvas: a hint, not an error
    assert at.multiselect(key="cl_runs").value  # classifiers preselected

    at.segmented_control(key="cl_source").set_value("Test image").run()
    assert not errors(at), errors(at)
    # input, reconstruction, bars, histogram; inside the first classifier (an MLP here): no feature maps
    # (it says so), two attribution maps
    assert charts(at) == 4 + 2
    assert any("no convolutional layers" in i.value for i in at.info)
    assert any("Occlusion" in c.value and "Integrated gradients" in c.value for c in at.caption)
    verdict = (at.success or at.info or at.warning)[0].value
    assert "higher than" in verdict and "test images" in verdict
    assert any("says" in m.value for m in at.markdown)
    at.number_input(key="cl_index").set_value(9999).run()
    at.button(key="cl_random").click().run()
    assert not errors(at)
    at.multiselect(key="cl_runs").set_value([]).run()
    assert any("at least one classifier" in i.value for i in at.info)


@pytest.mark.parametrize("name,make,note", GOOD_FILES, ids=[f[0] for f in GOOD_FILES])
def test_classify_uploads(runs, name, make, note):
    at = open_page("classify", cl_source="Upload")
    at.file_uploader(key="cl_upload").set_value((name, make(), "application/octet-stream")).run()
    assert not errors(at), errors(at)
    assert charts(at) == 4 + 2 and at.image  # original shown beside the input
    if note:
        shown = [c.value for c in at.caption] + [i.value for i in at.info]
        assert any(note in text for text in shown), shown


@pytest.mark.parametrize("name,make,message", BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_classify_rejects_bad_files(runs, name, make, message):
    at = open_page("classify", cl_source="Upload")
    at.file_uploader(key="cl_upload").set_value((name, make(), "image/png")).run()
    assert not at.exception
    assert len(at.error) == 1 and name in at.error[0].value and message in at.error[0].value, [
        e.value for e in at.error
    ]
    assert charts(at) == 0


def test_canvas_drawing_becomes_the_model_input():
    """What st_canvas returns (RGBA, strokes opaque, background transparent or black) -> a 28x28 input."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[60:220, 120:160] = (255, 255, 255, 255)  # a white vertical bar
    prepared = prepare_image(canvas_image(rgba))
    assert prepared.image28.shape == (28, 28) and prepared.image28.max() > 200
    assert prepared.image28[:, 0].max() == 0 and not prepared.notes  # light on black: not inverted
    rgba[..., 3] = 255  # an opaque black background too
    assert np.array_equal(prepare_image(canvas_image(rgba)).image28, prepared.image28)
    with pytest.raises(ImageError, match="blank"):
        prepare_image(canvas_image(np.zeros((280, 280, 4), np.uint8)))


# -- library helpers the pages use ------------------------------------------------------------------
def test_pair_examples_order_and_helpers():
    probs = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.45, 0.55]]).repeat_interleave(1, 0)
    probs = torch.cat([probs, torch.zeros(4, 8)], 1)  # (4, 10)
    labels = torch.tensor([0, 0, 0, 0])
    assert pair_examples(probs, labels, 0, 0).tolist() == [1, 0]  # least confident correct first
    assert pair_examples(probs, labels, 0, 1).tolist() == [2, 3]  # most confident mistake first
    assert top_k(probs[0], 2) == [("T-shirt/top", pytest.approx(0.9)), ("Trouser", pytest.approx(0.1))]
    assert percentile_of(0.5, [0.1, 0.2, 0.9, 1.0]) == 50.0
    g = gallery_figure(np.zeros((3, 28, 28)), ["a<br>b", "c", "d"], cols=2)
    assert len(g.data) == 1 and [a.text for a in g.layout.annotations] == ["a<br>b", "c", "d"]
    # two halves of a row of nine, five and four images: the same width of canvas, so their columns line up
    a, b = (image_grid(np.ones((k, 28, 28)), list("abcde")[:k], cols=5) for k in (5, 4))
    assert np.shape(a.data[0].z) == np.shape(b.data[0].z) and np.isnan(np.asarray(b.data[0].z)[:, -1]).all()
    assert histogram_figure([0.01, 0.02], "MSE", marker=0.05, log_x=True).layout.xaxis.ticktext
    # Streamlit's chart theme rewrites "#000004" (Inferno's first stop) into a theme colour
    # (the placeholders are in Streamlit's own template, which the figure leaves to Streamlit)
    assert "#000004" not in json.dumps(heatmap_figure(np.random.rand(28, 28)).to_plotly_json()["data"])
