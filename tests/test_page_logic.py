"""What the inspect and Studies pages decide outside streamlit: the Confusion page's tables, galleries and
captions (fmnist_core.confusion), the Reconstructions page's images, rows and table (fmnist_core.
reconstructions), the Classify page's lines (fmnist_core.classify), the Latent page's axes and walk
(fmnist_core.latent) and the Studies page's words on a plan (fmnist_core.study_status)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from test_run_table import run

from fmnist_core import CLASS_NAMES
from fmnist_core.classify import Familiarity, Guess, answer_line, familiarity_line
from fmnist_core.config import ConvAEConfig, DenseAEConfig
from fmnist_core.confusion import (
    SAMPLE,
    SHOWN,
    cell_caption,
    cells,
    confused_rows,
    recall_rows,
    report_rows,
    sample,
    short,
    top3_captions,
)
from fmnist_core.latent import map_axes, principal_walk
from fmnist_core.metrics import classification_report, confusion_matrix, most_confused
from fmnist_core.models import build_model
from fmnist_core.reconstructions import (
    MAX_INDICES,
    at_level,
    default_models,
    image_rows,
    parse_indices,
    sampled_indices,
    score_rows,
)
from fmnist_core.study_status import (
    left_to_do,
    progress,
    ray_target,
    reading_markdown,
    runs_word,
    sweep_line,
    waits_for,
)


# -- Confusion ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ev() -> dict:
    """A classifier's summary on 200 images: right on 80%, the rest shifted to the next class."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 10
    pred = torch.where(torch.rand(200, generator=gen) < 0.8, labels, (labels + 1) % 10)
    probs = torch.full((200, 10), 0.02)
    probs[torch.arange(200), pred] = 0.82
    return {
        "confusion_matrix": confusion_matrix(pred, labels).numpy(),
        "report": classification_report(pred, labels),
        "probs": probs.numpy(),
        "labels": labels.numpy(),
    }


def test_cells_are_counts_or_row_percentages(ev):
    counts, percent = cells(ev["confusion_matrix"], False), cells(ev["confusion_matrix"], True)
    assert counts.sum() == 200
    assert np.allclose(percent.sum(1), 100.0)


def test_confused_pairs_and_reports_as_rows(ev):
    pairs = most_confused(torch.as_tensor(ev["confusion_matrix"]), k=5)
    rows = confused_rows(pairs, ev["confusion_matrix"])
    t, p, c = pairs[0]
    assert rows[0] == {
        "true": CLASS_NAMES[t],
        "predicted": CLASS_NAMES[p],
        "images": c,
        "% of true": 100 * c / 20,
    }
    report = report_rows(ev["report"])
    assert [r["class"] for r in report] == [*CLASS_NAMES, "macro avg", "weighted avg"]
    assert sum(r["support"] for r in report[:10]) == 200


def test_recall_rows_list_the_largest_change_first(ev):
    better = {**ev, "report": {k: dict(v) if isinstance(v, dict) else v for k, v in ev["report"].items()}}
    better["report"]["Bag"]["recall"] = 1.0
    diff = np.zeros((10, 10))
    diff[CLASS_NAMES.index("Bag"), CLASS_NAMES.index("Bag")] = 12.5
    rows = recall_rows(ev, better, diff)
    assert rows[0]["class"] == "Bag" and rows[0]["B − A"] == 12.5 and rows[0]["recall B"] == 100.0
    assert len(rows) == 10


def test_gallery_captions(ev):
    probs = torch.as_tensor(ev["probs"])
    caption = top3_captions(probs, torch.tensor([0]))[0]
    assert caption.startswith("#0<br><b>") and caption.count("<br>") == 3
    assert short("T-shirt/top") == "T-shirt" and short("Bag") == "Bag"
    pick, captions, wrong = sample(probs, torch.as_tensor(ev["labels"]), seed=3)
    assert len(pick) == len(captions) == SAMPLE
    assert torch.equal(pick, sample(probs, torch.as_tensor(ev["labels"]), 3)[0])  # the same for a seed
    assert all(("✗" in c) == bool(w) for c, w in zip(captions, wrong))
    assert cell_caption(5, False, False).startswith("5 test images. The most confident mistakes first.")
    assert f"the first {SHOWN} shown" in cell_caption(100, False, True)
    assert "shown" not in cell_caption(100, True, True)


# -- Reconstructions ---------------------------------------------------------------------------------
def test_indices_typed_by_the_user():
    assert parse_indices("0, 7 42", 10000) == [0, 7, 42]
    assert parse_indices(" ".join(map(str, range(20))), 10000) == list(range(MAX_INDICES))
    assert parse_indices("", 10000) is None
    assert parse_indices("3, x", 10000) is None
    assert parse_indices("10000", 10000) is None


def test_sampled_test_images():
    labels = torch.arange(1000) % 10
    per_class = sampled_indices("one per class", labels, seed=1)
    assert sorted(labels[per_class].tolist()) == list(range(10))
    one = sampled_indices("one class", labels, seed=1, cls=4)
    assert len(one) == 10 and set(labels[one].tolist()) == {4}


def test_default_models_take_the_first_of_each_kind():
    runs = [run("d1", "dense_ae"), run("c1", "conv_ae"), run("c2", "conv_ae"), run("k", "classifier")]
    assert default_models(runs, ["conv_ae", "dense_ae"]) == ["c1", "d1"]
    assert default_models(runs[3:], ["conv_ae"]) == []


def test_image_rows_and_the_test_table():
    torch.manual_seed(0)
    models = {"conv": build_model(ConvAEConfig()).eval(), "dense": build_model(DenseAEConfig()).eval()}
    clean = torch.rand(4, 1, 28, 28)
    labels = torch.tensor([0, 1, 2, 3])
    rows = image_rows(clean, clean, labels, models, "gaussian", 0.0)
    assert [r[0] for r in rows] == ["Test images", "conv · conv autoencoder", "dense · dense autoencoder"]
    assert rows[0][2] == list(CLASS_NAMES[:4]) and all(t.startswith("MSE ") for t in rows[1][2])
    noisy = image_rows(clean, clean, labels, models, "gaussian", 0.3)
    assert noisy[1][0] == "Noisy input (Gaussian, σ 0.3)"
    curve = {k: np.array([0.1, 0.2, 0.3]) for k in ("mse", "psnr", "input_mse", "input_psnr")}
    at = at_level(curve, (0.0, 0.1, 0.2), 0.1)
    assert at == {k: pytest.approx(0.2) for k in curve}
    tests = {r: {"mse_per_image": np.array([0.01, 0.03]), "psnr": 20.0} for r in models}
    table = score_rows(tests, {r: at for r in models}, models)
    assert [r["model"] for r in table] == ["conv", "dense", "noisy input itself"]
    assert table[0]["MSE clean in"] == pytest.approx(0.02) and table[-1]["MSE noisy in"] == pytest.approx(0.2)


# -- Classify, Latent -----------------------------------------------------------------------------
def test_classify_lines():
    guess = Guess(np.array([0.05] * 8 + [0.6, 0.0]))
    assert answer_line("clf", guess) == "**clf** says **Bag** (60.0%)"
    assert answer_line("clf", guess, "Bag").endswith(" ✓")
    assert answer_line("clf", guess, "Sneaker").endswith("✗ (it is a Sneaker)")
    line = familiarity_line(Familiarity(0.0123, 99.5), 10000)
    assert line.startswith("Reconstruction MSE **0.0123**: higher than 99.5% of the 10,000 test images.")
    assert "means little" in line


def test_latent_axes_and_walk():
    assert map_axes("PCA", np.array([0.314, 0.2])) == ("PC 1 (31% of the variance)", "PC 2 (20%)")
    assert map_axes("t-SNE", np.array([0.3, 0.2])) == ("t-SNE 1", "t-SNE 2")
    xy = np.random.default_rng(0).normal(size=(100, 2)) * [2.0, 0.5]
    points, sigmas = principal_walk(xy, 2, 2.0)
    assert points.shape == (9, 2) and not points[:, 0].any()
    assert sigmas[0] == pytest.approx(-2.0) and sigmas[-1] == pytest.approx(2.0)
    assert points[-1, 1] == pytest.approx(2.0 * xy[:, 1].std())


# -- Studies --------------------------------------------------------------------------------------
@dataclass
class Planned:
    status: str
    run_id: str | None = None
    depends_on: Planned | None = None


@dataclass
class Plan:
    runs: list[Planned] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.runs)

    @property
    def missing(self) -> list[Planned]:
        return [r for r in self.runs if r.status == "missing"]

    @property
    def blocked(self) -> list[Planned]:
        return [r for r in self.runs if r.status == "blocked"]


def test_study_status_words():
    encoder = Planned("running", "ae-s0")
    plan = Plan([Planned("done"), encoder, Planned("missing"), Planned("blocked", depends_on=encoder)])
    share, text = progress(plan)
    assert share == 0.25 and text == "1 of 4 runs done · 1 running · 1 missing · 1 blocked"
    assert left_to_do(plan) == 3 and waits_for(plan) == ["ae-s0"]
    assert runs_word(1) == "1 run" and runs_word(0) == "0 runs"
    assert ray_target("this machine", "x") is None and ray_target("Ray (local)", "") == "local"
    assert ray_target("Ray cluster", " ray://head:10001 ") == "ray://head:10001"
    line = sweep_line({"pid": 42, "workers": 2, "ray": "local"}, "log.txt")
    assert "(pid 42, 2 worker(s), Ray local)" in line and line.endswith("Log: `log.txt`.")


def test_reading_escapes_lines_that_look_like_list_items():
    text = reading_markdown(["+ batch norm helps", "**bold** stays", "-1 is a number"])
    assert text.splitlines() == ["- \\+ batch norm helps", "- **bold** stays", "- -1 is a number"]
