"""Dying classes: which classes a run stopped predicting, from when, and the pages that flag them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

import app_support as ui
from fmnist_core import (
    ClassifierConfig,
    MLPConfig,
    Registry,
    RunInfo,
    RunSpec,
    TrainConfig,
    train_run,
)
from fmnist_core.dead_classes import (
    class_deaths,
    collapse_note,
    lost_class_note,
    lost_classes_cell,
    never_predicted,
)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
SHIRT, SNEAKER, BAG = 6, 7, 8


def epoch(n: int, zero: tuple[int, ...] = (), loss: float | None = 0.5, counts: bool = True) -> dict:
    """A history record with 100 held-out predictions for every class but those in `zero`."""
    record = {"epoch": n, "train_loss": loss, "val_loss": loss, "val_acc": 0.8}
    if counts:
        record["val_pred_counts"] = [0 if k in zero else 100 for k in range(10)]
    return record


def run(history: list[dict], model=None, weights_epoch: int | None = None) -> RunInfo:
    spec = RunSpec(model or ClassifierConfig(), TrainConfig())
    summary = {"status": "completed", "epochs_done": len(history), "weights_epoch": weights_epoch}
    return RunInfo("r", Path("r"), config=spec.to_dict(), summary=summary, history=history)


# -- the core function ------------------------------------------------------------------------------
def test_a_class_dies_at_the_first_epoch_of_the_zeros_that_last_to_the_end():
    history = [
        epoch(1, zero=(1,)),  # Trouser: none at epoch 1, then back
        epoch(2, zero=(SHIRT, SNEAKER, 5)),
        epoch(3, zero=(SNEAKER,)),  # Sandal back at 3, Shirt too
        epoch(4, zero=(SNEAKER, BAG, 5)),  # Bag and Sandal at the last epoch only
    ]
    d = class_deaths(history)
    assert d.died == {SNEAKER: 2, BAG: 4, 5: 4}
    assert d.collapsed == {1: (1,), SHIRT: (2,)}  # zero for a while, predicted again at the end
    assert d.last_epoch == 4
    alive = class_deaths([epoch(1), epoch(2)])
    assert alive.died == {} and alive.collapsed == {} and alive.last_epoch == 2


@pytest.mark.parametrize(
    "history",
    [
        [],  # no finished epoch
        [epoch(1, counts=False), epoch(2, counts=False)],  # a run from before the counts
        [{"epoch": 1, "train_loss": 0.02, "val_loss": 0.02}],  # an autoencoder
        [epoch(1, zero=(SNEAKER,), loss=None)],  # diverged at once
    ],
)
def test_no_counts_no_verdict(history):
    assert class_deaths(history) is None
    assert lost_class_note(run(history)) is None and lost_classes_cell(run(history)) is None


def test_a_diverged_epoch_says_nothing_about_the_classes():
    # NaN logits: argmax puts every image in one class, which is no death of the other nine
    nan_epoch = epoch(3, zero=tuple(range(1, 10)), loss=None)
    d = class_deaths([epoch(1), epoch(2, zero=(SNEAKER,)), nan_epoch])
    assert d.died == {SNEAKER: 2} and d.last_epoch == 2
    assert class_deaths([epoch(1), {**epoch(2, zero=(BAG,)), "val_loss": float("nan")}]).died == {}


# -- what the pages say -------------------------------------------------------------------------------
def test_the_note_names_the_class_the_epoch_and_the_relu():
    history = [epoch(1), epoch(2), epoch(3, zero=(SNEAKER,)), epoch(4, zero=(SNEAKER,))]
    assert lost_class_note(run(history, weights_epoch=4)) == (
        "Sneaker died at epoch 3: never predicted on the held-out images from then on "
        "(the ReLU before the softmax switched its logit off for every image)."
    )
    assert lost_classes_cell(run(history)) == "⚠ Sneaker (epoch 3)"
    assert collapse_note(run(history)) is None


def test_the_note_groups_classes_by_epoch_and_says_when_the_weights_kept_predate_a_death():
    history = [epoch(1), epoch(2, zero=(SNEAKER, BAG)), epoch(3, zero=(SHIRT, SNEAKER, BAG))]
    assert lost_class_note(run(history, weights_epoch=2)) == (
        "Sneaker and Bag died at epoch 2, Shirt at epoch 3: never predicted on the held-out images from then "
        "on (the ReLU before the softmax switched their logits off for every image). The weights kept are "
        "from epoch 2, before Shirt was lost."
    )
    assert lost_classes_cell(run(history)) == "⚠ Sneaker and Bag (epoch 2), Shirt (epoch 3)"


def test_without_the_final_relu_the_note_blames_nothing():
    history = [epoch(1), epoch(2, zero=(SNEAKER,))]
    expected = "Sneaker: never predicted on the held-out images from epoch 2 on."
    assert lost_class_note(run(history, MLPConfig())) == expected
    assert lost_class_note(run(history, ClassifierConfig(final_relu=False))) == expected
    two = [epoch(1, zero=(BAG,)), epoch(2, zero=(SNEAKER, BAG))]
    assert lost_class_note(run(two, MLPConfig())) == (
        "Never predicted on the held-out images from these epochs on: Bag (epoch 1), Sneaker (epoch 2)."
    )


def test_a_class_that_came_back_is_a_collapse_not_a_death():
    history = [epoch(1, zero=(SHIRT,)), epoch(2, zero=(SHIRT, BAG)), epoch(3)]
    assert lost_class_note(run(history)) is None and lost_classes_cell(run(history)) is None
    assert collapse_note(run(history)) == (
        "Predicted for no held-out image for a while, then again: Shirt at epochs 1, 2; Bag at epoch 2."
    )


def test_a_run_without_counts_falls_back_to_its_test_confusion_matrix():
    cm = [[5 if j not in (SNEAKER, BAG) else 0 for j in range(10)] for _ in range(10)]
    assert never_predicted(cm) == [SNEAKER, BAG] and never_predicted(None) == []
    old = run([epoch(1, counts=False)])
    note = lost_class_note(old, cm)
    assert note.startswith(
        "Sneaker and Bag are never predicted on the test images (the ReLU before the softmax switched their "
        "logits off for every image)."
    )
    assert "when that started is not known" in note
    assert lost_class_note(old, [[1] * 10] * 10) is None
    # counts, where the run has them, are the better witness: they say when
    assert lost_class_note(run([epoch(1)]), cm) is None


# -- Compare and Confusion & errors -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dying_runs(ds, tmp_path_factory):
    """A tiny classifier whose Sneaker logit is switched off for good from epoch 2 (weights and counts), and a
    copy of it from before the counts were recorded."""
    root = tmp_path_factory.mktemp("dying-runs")
    reg = Registry(root)
    quick = TrainConfig(epochs=2, limit=400, batch_size=50, device="cpu")
    train_run(RunSpec(ClassifierConfig(), quick, "dying"), ds, reg, command="test")
    folder = reg.path("dying")
    state = torch.load(folder / "weights.pt", weights_only=True)
    state["head.0.bias"][
        SNEAKER
    ] = -1e4  # below zero for every image: the ReLU outputs 0, argmax never picks it
    torch.save(state, folder / "weights.pt")
    # the counts of a run that lost Sneaker alone at epoch 2 (the real tiny run may lose others too)
    history = json.loads((folder / "history.json").read_text())
    history[0]["val_pred_counts"] = [10] * 10
    history[1]["val_pred_counts"] = [20 if k == 0 else 0 if k == SNEAKER else 10 for k in range(10)]
    (folder / "history.json").write_text(json.dumps(history))
    shutil.copytree(folder, root / "old-dying")
    old = [{k: v for k, v in r.items() if k != "val_pred_counts"} for r in history]
    (root / "old-dying" / "history.json").write_text(json.dumps(old))
    return root


def test_compare_flags_the_run_whose_class_died(dying_runs, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(dying_runs))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(ui.PAGES["compare"])
    at.run()
    assert not at.exception and not at.error
    table = at.dataframe[0]
    assert "lost classes" in list(table.proto.column_order)
    cells = table.value.set_index("name")["lost classes"]
    assert cells["dying"] == "⚠ Sneaker (epoch 2)"
    assert pd.isna(cells["old-dying"])  # no counts, and Compare has no test figures to fall back on
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("**dying**: Sneaker died at epoch 2") for w in warnings), warnings
    assert not any("old-dying" in w for w in warnings)


def test_confusion_flags_the_run_whose_class_died(dying_runs, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(dying_runs))
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(ui.PAGES["confusion"])
    at.session_state["cf_n"] = 1000
    at.session_state["cf_run"] = "dying"
    at.run()
    assert not at.exception and not at.error
    assert [w.value for w in at.warning] == [lost_class_note(Registry(dying_runs).get("dying"))]
    assert at.warning[0].value.startswith("Sneaker died at epoch 2: never predicted on the held-out images")
    # a run from before the counts: its test confusion matrix says which class, not when
    at.selectbox(key="cf_run").set_value("old-dying").run()
    assert not at.exception and not at.error
    said = [w.value for w in at.warning]
    assert len(said) == 1 and "never predicted on the test images" in said[0], said
    assert "Sneaker" in said[0].split(" never predicted")[0] and "not known" in said[0]
