"""What a run's figures are: selected on held-out or test, and the one-figure label the pickers show."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmnist_core.compare import run_rows
from fmnist_core.registry import RunInfo
from fmnist_core.selection import (
    HOLDOUT,
    MIXED,
    OWN_HOLDOUT,
    TEST,
    figure_label,
    selected_on,
    selected_on_label,
    val_name,
)

CLF_BEST = {"best_val_loss": 0.2815, "best_val_acc": 0.9032}
AE_BEST = {"best_val_loss": 0.026142}
CLF_TEST = {"test_loss": 0.2901, "test_acc": 0.9041, "test_n": 10000}
AE_TEST = {"test_loss": 0.019012, "test_n": 10000}


def run(kind="classifier", data=None, summary=(), train=None, run_id="r") -> RunInfo:
    config = {"model": {"kind": kind}, "train": train or {}}
    if data is not None:
        config["data"] = data
    return RunInfo(run_id, Path(run_id), config, {"status": "completed", "epochs_done": 5, **dict(summary)})


# a run on the fixed split (data.split_id its fingerprint), one validated on the test set (split_id "test"),
# and runs from before split_id: they said only what they validated on ("holdout": their seed's own split)
NEW_HOLDOUT = {"validation": "holdout", "split_id": "3f2a9c0d1e7b"}
NEW_TEST = {"validation": "test", "split_id": "test"}
OLD_TEST = {"validation": "test", "n_val": 10000}
OLD_HOLDOUT = {"validation": "holdout", "n_val": 6000}


@pytest.mark.parametrize(
    "data,train,expected,words",
    [
        (NEW_HOLDOUT, None, HOLDOUT, "held-out"),
        (NEW_TEST, None, TEST, "test (reports' method)"),
        (OLD_TEST, None, TEST, "test (reports' method)"),
        (OLD_HOLDOUT, None, OWN_HOLDOUT, "held-out (own split)"),
        (None, {"validation": "test"}, TEST, "test (reports' method)"),  # no data section: the train config
        (None, None, None, "–"),  # says nothing: ambiguous
        ({"validation": "elsewhere"}, None, None, "–"),
    ],
)
def test_selected_on(data, train, expected, words):
    r = run(data=data, train=train)
    assert selected_on(r) == expected and selected_on_label(r) == words


@pytest.mark.parametrize(
    "kind,data,summary,label",
    [
        # held-out runs with their test figure: the test figure, whatever the validation figure
        ("classifier", NEW_HOLDOUT, {**CLF_BEST, **CLF_TEST}, "test acc 90.4%"),
        ("conv_ae", NEW_HOLDOUT, {**AE_BEST, **AE_TEST}, "test MSE 0.0190"),
        ("mlp", NEW_HOLDOUT, CLF_BEST, "held-out acc 90.3%"),  # stopped before the test read
        # selected on the test set: the figure says so, new or old
        ("cnn", NEW_TEST, {**CLF_BEST, **CLF_TEST}, "test acc 90.4% (selected on it)"),
        ("classifier", OLD_TEST, CLF_BEST, "test acc 90.3% (selected on it)"),
        ("dense_ae", OLD_TEST, AE_BEST, "test MSE 0.0261 (selected on it)"),
        # old runs on their own held-out split, and one that does not say what it validated on
        ("mlp", OLD_HOLDOUT, CLF_BEST, "held-out acc 90.3%"),
        ("conv_ae", None, AE_BEST, "val MSE 0.0261"),
        # a classifier's loss is never shown as an MSE
        ("classifier", NEW_HOLDOUT, {"best_val_loss": 0.3}, None),
        ("conv_ae", NEW_HOLDOUT, {}, None),
    ],
)
def test_figure_label(kind, data, summary, label):
    assert figure_label(run(kind, data, summary)) == label


def test_figure_label_digits():
    assert figure_label(run("classifier", NEW_HOLDOUT, CLF_TEST), digits=2) == "test acc 90.41%"


def test_val_name_agrees_or_says_mixed():
    held = [run(data=NEW_HOLDOUT), run(data=OLD_HOLDOUT)]
    tested = [run(data=NEW_TEST), run(data=OLD_TEST)]
    assert val_name(held) == "held-out" and val_name(tested) == "test"
    assert val_name(held + tested) == MIXED and val_name(held + tested, short=True) == "val"
    assert val_name([*held, run()], short=True) == "val"  # one that does not say
    damaged = RunInfo("bad", Path("bad"), damaged="config.json is missing")
    assert val_name([*held, damaged]) == "held-out"  # it shows no figure


def test_run_rows_carry_what_selected_and_the_test_figure():
    rows = run_rows([run("mlp", NEW_HOLDOUT, {**CLF_BEST, **CLF_TEST}), run("conv_ae", OLD_TEST, AE_BEST)])
    assert rows[0]["selected_on"] == HOLDOUT and rows[1]["selected_on"] == TEST
    assert (rows[0]["test_acc"], rows[0]["test_loss"], rows[0]["test_n"]) == (0.9041, 0.2901, 10000)
    assert rows[1]["test_acc"] is rows[1]["test_loss"] is rows[1]["test_n"] is None


def test_a_quick_run_is_tagged_and_a_full_one_is_not(tmp_path):
    from fmnist_core.config import MLPConfig, RunSpec, TrainConfig
    from fmnist_core.registry import Registry
    from fmnist_core.selection import quick_note, scale_tag

    reg = Registry(tmp_path)
    quick = reg.create(RunSpec(MLPConfig(), TrainConfig(train_fraction=0.01, epochs=3)), {}, "quick")
    first = reg.create(RunSpec(MLPConfig(), TrainConfig(limit=500, epochs=20)), {}, "first")
    short = reg.create(RunSpec(MLPConfig(), TrainConfig(epochs=2)), {}, "short")
    full = reg.create(RunSpec(MLPConfig(), TrainConfig(epochs=10)), {}, "full")
    assert scale_tag(reg.info(quick)) == "1% · 3 ep"
    assert scale_tag(reg.info(first)) == "first 500 · 20 ep"
    assert scale_tag(reg.info(short)) == "2 ep"
    assert scale_tag(reg.info(full)) is None and quick_note(reg.info(full)) is None
    assert quick_note(reg.info(quick)).startswith("A quick run (1% · 3 ep): its figures show the mechanics")


def test_compare_plots_the_reference_pretrained_and_random_init_pair_first(tmp_path):
    from fmnist_core.compare import default_pair
    from fmnist_core.config import ClassifierConfig, MLPConfig, RunSpec, TrainConfig
    from fmnist_core.registry import Registry

    reg = Registry(tmp_path)
    reg.create(RunSpec(MLPConfig(), TrainConfig()), {}, "study-label-rnd-f0.01-s1")
    reg.create(RunSpec(ClassifierConfig(encoder_run="ref-a-ae-base"), TrainConfig()), {}, "ref-a-clf-base")
    reg.create(RunSpec(ClassifierConfig(), TrainConfig()), {}, "ref-a-clf-random")
    runs = reg.list_runs()
    assert [r.run_id for r in default_pair(runs)] == ["ref-a-clf-base", "ref-a-clf-random"]
    others = [r for r in runs if r.run_id != "ref-a-clf-random"]
    assert [r.run_id for r in default_pair(others)] == [r.run_id for r in others[:2]]
    mine = reg.create(RunSpec(MLPConfig(), TrainConfig()), {}, "my-mlp")  # a user's own run: theirs first
    assert [r.run_id for r in default_pair([reg.info(mine), *runs])] == ["my-mlp"]
