"""The Compare page's table as data (fmnist_core.run_table) and its other decisions (fmnist_core.compare):
which runs it lists, the cells of a row, the column sets, the columns' words; the seed groups' and the
pretrained-vs-random section's labels and numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

from fmnist_core.compare import (
    advantage,
    lead,
    metric_label,
    pretrained_classifiers,
    random_init_twin,
    seed_group_label,
    seed_groups,
)
from fmnist_core.health import NEVER_LEARNED
from fmnist_core.registry import Registry, RunInfo
from fmnist_core.run_groups import OWN, REFERENCE, best, groups, seed_summaries
from fmnist_core.run_table import (
    FLAGS,
    SETTING_COLUMNS,
    VIEWS,
    columns,
    fmt_estimate,
    listed,
    pm,
    shown_columns,
    table_rows,
)
from fmnist_core.settings import setting
from fmnist_core.studies.catalog import STUDIES

SHIPPED = ROOT / "saved_models"


@pytest.fixture(scope="module")
def shipped() -> list[RunInfo]:
    return Registry(SHIPPED).list_runs()


def run(run_id: str, kind: str = "classifier", status: str = "completed", **kw) -> RunInfo:
    config = {"model": {"kind": kind}, "train": {}}
    return RunInfo(run_id, Path(run_id), config, {"status": status, "epochs_done": 2}, **kw)


def test_every_view_shows_columns_a_row_has(shipped):
    rows = table_rows(shipped)
    assert len(rows) == len(shipped)
    assert set(rows[0]) == set(VIEWS["all"])  # a cell for each column of the widest view
    for name, cols in VIEWS.items():
        assert cols[0] == "name" and set(cols) <= set(rows[0]), name
    # every column given words is a column of the table
    assert set(columns("held-out")) <= set(VIEWS["all"])


def test_a_shipped_runs_row_has_its_numbers(shipped):
    info = next(r for r in shipped if r.run_id == "ref-a-clf-base")
    summary = json.loads((SHIPPED / "ref-a-clf-base" / "summary.json").read_text())
    config = json.loads((SHIPPED / "ref-a-clf-base" / "config.json").read_text())
    row = table_rows([info])[0]
    assert row["name"] == "ref-a-clf-base" and row["kind"] == "classifier" and row["status"] == "completed"
    assert row["selected on"] == "held-out"  # the fixed held-out split of train
    assert row["best val loss"] == summary["best_val_loss"]
    assert row["best val acc %"] == pytest.approx(100 * summary["best_val_acc"])
    assert row["final val acc %"] == pytest.approx(100 * summary["final_val_acc"])
    assert row["test acc %"] == pytest.approx(100 * summary["test_acc"])
    assert row["test loss"] == summary["test_loss"] and row["test images"] == summary["test_n"]
    assert row["epochs"] == summary["epochs_done"] and row["best epoch"] == summary["best_epoch"]
    assert row["n"] == config["model"]["latent_dim"] and row["lr"] == config["train"]["lr"]
    assert row["encoder"] == config["model"]["encoder_run"]  # not frozen: no "(frozen)"
    assert row["train images"] == config["data"]["n_train"]
    assert row["problem"] is None


def test_a_seed_groups_row_says_mean_and_std(shipped):
    group = next(g for g in seed_groups(shipped) if g[0].kind == "classifier")
    row = table_rows(group)[0]
    assert row["seeds"] == len(group)
    assert row["val acc over seeds"].endswith("%") and " ± " in row["val acc over seeds"]
    assert pm((0.90123, 0.003), pct=True) == "90.12 ± 0.30%"
    assert pm((0.03121, 0.00042)) == "0.0312 ± 0.0004"
    assert pm(None) is None


def test_settings_columns_take_their_words_from_the_schema():
    cols = columns("held-out")
    for col, (section, name) in SETTING_COLUMNS.items():
        s = setting(section, name)
        assert cols[col].help == f"{s.label}: {s.help}", col
    assert cols["lr"].help == setting("train", "lr").help and cols["lr"].format == "%g"


def test_val_headers_name_the_images_they_are_on():
    assert columns("test")["best val loss"].header == "test loss, best"
    assert columns("held-out")["final val acc %"].header == "held-out acc %, last"
    assert columns("val")["val loss over seeds"].header == "val loss over seeds"
    assert columns("val")["test acc %"].header is None  # keeps its own name
    assert {c.kind for c in columns("val").values()} == {"any", "number", "text"}


def test_listed_filters_by_kind_name_and_health():
    runs = [
        run("ae-1", "conv_ae"),
        run("clf-1"),
        run("clf-bad", damaged="no weights"),
        run("clf-x", status="failed"),
    ]
    assert [r.run_id for r in listed(runs, ["classifier"], "", True)] == ["clf-1"]
    assert [r.run_id for r in listed(runs, ["classifier"], "", False)] == ["clf-1", "clf-bad", "clf-x"]
    assert [r.run_id for r in listed(runs, ["conv_ae", "classifier"], "AE", True)] == ["ae-1"]
    assert listed(runs, [], "", False) == []


def test_flag_columns_join_a_view_only_when_a_run_fills_them():
    quiet = {"lost classes": None, "problem": None}
    flagged = {"lost classes": None, "problem": NEVER_LEARNED}
    assert shown_columns("results", [quiet]) == VIEWS["results"]
    assert shown_columns("results", [quiet, flagged]) == VIEWS["results"] + ["problem"]
    assert shown_columns("all", [flagged]) == VIEWS["all"]
    assert set(FLAGS) <= set(VIEWS["all"])


def test_pretrained_vs_random_init(shipped):
    pretrained = pretrained_classifiers(shipped)
    assert pretrained and all(r.kind == "classifier" and r.encoder_run for r in pretrained)
    with_twin = [random_init_twin(r, shipped) is not None for r in pretrained]
    assert with_twin == sorted(with_twin, reverse=True)  # those with a twin first
    run_, twin = pretrained[0], random_init_twin(pretrained[0], shipped)
    assert twin is not None
    diff = advantage(run_, twin)
    assert len(diff) == min(len(run_.history), len(twin.history))
    assert diff[0] == pytest.approx(100 * (run_.history[0]["val_acc"] - twin.history[0]["val_acc"]))
    assert lead(1.234) == "ahead by 1.23 points" and lead(-0.5) == "behind by 0.50 points"


def test_seed_group_and_metric_labels():
    group = [run("study-a4-clf-base-s5"), run("study-a4-clf-base-s6")]
    assert seed_group_label(group) == "study-a4-clf-base · classifier · 2 seeds"
    assert metric_label("val_acc", "held-out") == "held-out acc"
    assert metric_label("train_loss", "test") == "train loss"


# -- Compare's groups (fmnist_core.run_groups) -------------------------------------------------
def test_groups_put_your_runs_first_then_references_studies_and_searches(shipped):
    own = run("my-clf")
    trial = run("search-wide-t003")
    trial.config["search"] = {"name": "wide", "trial": 3}
    found = groups([*shipped, trial, own])
    keys = [g.key for g in found]
    assert keys[0] == OWN and found[0].runs == [own] and keys[1] == REFERENCE and keys[-1] == "search:wide"
    studies = [k.split(":")[1] for k in keys if k.startswith("study:")]
    assert studies == [s for s in STUDIES if s in studies]  # catalogue order
    # label-norelu's runs are not label's, though both names start "study-label-"
    by = {g.key: g for g in found}
    assert all(r.run_id.startswith("study-label-norelu-") for r in by["study:label-norelu"].runs)
    assert not any(r.run_id.startswith("study-label-norelu-") for r in by["study:label"].runs)
    assert sum(len(g.runs) for g in found) == len(shipped) + 2
    assert found[0].title == "Your runs · 1 run"


def test_a_groups_best_is_ranked_on_held_out_never_on_test(shipped):
    a1 = next(g for g in groups(shipped) if g.key == "study:a1").runs
    top = best(a1, "conv_ae")
    on_holdout = [r for r in a1 if r.split_id not in (None, "test")]
    assert top.summary["best_val_loss"] == min(r.summary["best_val_loss"] for r in on_holdout)
    cheat = run("study-a1-n64-s9", kind="conv_ae")
    cheat.summary["best_val_loss"] = 0.0001
    cheat.config["data"] = {"split_id": "test"}  # selected on test: never the best, however low
    assert best([*a1, cheat], "conv_ae") is top
    assert best(a1, "classifier") is None


def test_seed_summaries_give_mean_and_ci_of_each_configuration(shipped):
    a4 = next(g for g in groups(shipped) if g.key == "study:a4").runs
    (s,) = seed_summaries(a4)
    accs = [r.summary["test_acc"] for r in a4]
    assert s.seeds == len(a4) >= 2 and s.test.mean == pytest.approx(sum(accs) / len(accs))
    assert s.test.low < min(accs) + 0.01 and s.test.half > 0
    assert fmt_estimate(s.test, "classifier").endswith("%") and " ± " in fmt_estimate(s.test, "classifier")
    assert fmt_estimate(None, "conv_ae") == "–"
