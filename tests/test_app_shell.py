"""AppTest for the app shell, Home, Train and Compare pages: real runs, real training."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import app_support as ui
from fmnist_core import Registry, TrainConfig
from fmnist_core.presets import VALIDATION_LABELS, presets

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
SHIPPED = ROOT / "saved_models"


def page_run(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page(ui.PAGES[page])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def empty_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


@pytest.fixture
def shipped_runs(tmp_path, monkeypatch):
    """A copy of the shipped reference runs, so tests never touch saved_models/."""
    dst = tmp_path / "runs"
    dst.mkdir()
    for p in SHIPPED.glob("ref-*"):
        shutil.copytree(p, dst / p.name)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(dst))
    return dst


@pytest.mark.parametrize("page", ["home", "train", "compare"])
def test_pages_render_without_runs(empty_runs, page):
    at = page_run(page)
    assert not at.exception and not at.error, [e.value for e in at.error]
    text = " ".join(e.value for e in at.info) + " ".join(e.value for e in at.markdown)
    if page == "train":
        # the form is all there, ready to start, with nothing to pick as an encoder yet
        assert "No job yet" in text
        assert [b for b in at.button if b.label == "Start training"] and at.select_slider(key="t_latent")
        assert at.session_state["t_kind"] == "conv_ae"
    else:
        assert "No runs yet" in text


@pytest.mark.parametrize("page", ["home", "train", "compare"])
def test_pages_render_with_shipped_runs(shipped_runs, page):
    if not any(shipped_runs.iterdir()):
        pytest.fail("no shipped reference runs in saved_models/ (run `make reference`)")
    at = page_run(page)
    assert not at.error, [e.value for e in at.error]


@pytest.fixture
def labelled_runs(shipped_runs):
    """The shipped runs (on the fixed held-out split, with their test figures), a run of today validated on
    the test set, and copies made to look like runs from before the split: a classifier and an autoencoder
    that selected on the test set, an MLP that selected on its seed's own held-out split; none of the three
    records a test figure."""

    def copy(src: str, dst: str, validation: str | None, split_id: str | None) -> None:
        shutil.copytree(shipped_runs / src, shipped_runs / dst)
        config = json.loads((shipped_runs / dst / "config.json").read_text())
        if validation is not None:
            config["train"]["validation"] = config["data"]["validation"] = validation
        if split_id is None:
            config["data"].pop("split_id")
            summary = json.loads((shipped_runs / dst / "summary.json").read_text())
            for key in ("test_loss", "test_acc", "test_n"):
                summary.pop(key, None)
            (shipped_runs / dst / "summary.json").write_text(json.dumps(summary))
        else:
            config["data"]["split_id"] = split_id
        (shipped_runs / dst / "config.json").write_text(json.dumps(config))

    copy("ref-d-mlp", "new-mlp", None, "7b66f1e6b2f9")
    copy("ref-a-clf-base", "new-clf-test", "test", "test")
    copy("ref-a-clf-base", "old-clf", "test", None)
    copy("ref-a-ae-base", "old-ae", "test", None)
    copy("ref-d-mlp", "old-mlp", None, None)
    return shipped_runs


def summary(runs, run_id: str) -> dict:
    return json.loads((runs / run_id / "summary.json").read_text())


def test_home_lists_runs(shipped_runs):
    at = page_run("home")
    assert at.dataframe, "the runs table is missing"
    assert len(at.dataframe[0].value) == len(list(shipped_runs.glob("ref-*")))
    assert at.dataframe[0].proto.placeholder == ""  # a run with no figure yet shows an empty cell, not "None"


def test_home_and_pickers_say_what_each_figure_is(labelled_runs):
    figure = page_run("home").dataframe[0].value.set_index("name")["figure"]
    mlp, clf, ae = (summary(labelled_runs, r) for r in ("new-mlp", "new-clf-test", "old-ae"))
    assert figure["new-mlp"] == f"test acc {100 * mlp['test_acc']:.2f}%"  # its test figure, read once
    assert figure["new-clf-test"] == f"test acc {100 * clf['test_acc']:.2f}% (selected on it)"
    old = summary(labelled_runs, "old-clf")
    assert (
        figure["old-clf"] == f"test acc {100 * old['best_val_acc']:.2f}% (selected on it)"
    )  # no test figure
    assert figure["old-mlp"] == f"held-out acc {100 * mlp['best_val_acc']:.2f}%"
    assert figure["old-ae"] == f"test MSE {ae['best_val_loss']:.4f} (selected on it)"
    reg = Registry(labelled_runs)
    assert ui.run_label(reg.get("new-mlp")) == f"new-mlp · MLP · test acc {100 * mlp['test_acc']:.1f}%"
    assert (
        ui.run_label(reg.get("old-mlp"), kind=False)
        == f"old-mlp · held-out acc {100 * mlp['best_val_acc']:.1f}%"
    )


def test_train_presets_fill_the_controls(empty_runs):
    at = page_run("train")
    at.selectbox(key="t_preset_conv_ae").set_value("Report A improved (n=128, p=0.01)").run()
    assert at.select_slider(key="t_latent").value == 128
    assert at.select_slider(key="t_dropout").value == 0.01
    # an unchanged preset gives way to the new kind's, and a toast says so
    at.segmented_control(key="t_kind").set_value("dense_ae").run()
    assert at.select_slider(key="t_latent").value == 512
    assert at.select_slider(key="t_batch").value == 1000
    assert any("Report B Adam" in t.value for t in at.toast), [t.value for t in at.toast]
    assert not at.exception


def test_every_preset_shows_its_catalog_run(empty_runs):
    """Each preset fills the controls with exactly its catalog run's configs: the Preset box keeps its name
    (no value fell outside its control's options) and the controls rebuild the run's TrainConfig."""
    at = page_run("train")
    shown = at.radio(key="t_validation")
    assert shown.value == TrainConfig().validation == "holdout"
    assert shown.options == list(VALIDATION_LABELS.values()) and "held out" in shown.help
    state = at.session_state
    for kind, kind_presets in presets().items():
        at.segmented_control(key="t_kind").set_value(kind).run()
        for label, preset in kind_presets.items():
            at.selectbox(key=f"t_preset_{kind}").set_value(label).run()
            assert not at.exception, [e.value for e in at.exception]
            assert at.selectbox(key=f"t_preset_{kind}").value == label
            assert any(c.value == preset.about for c in at.caption)
            train = TrainConfig(
                optimizer=state["t_optimizer"],
                lr=state["t_lr"],
                momentum=state["t_momentum"],
                batch_size=state["t_batch"],
                epochs=state["t_epochs"],
                patience=state["t_patience"],
                min_delta=state["t_min_delta"],
                validation=state["t_validation"],
                schedule=state["t_schedule"],
                weight_decay=state["t_wd"],
                **(
                    {"label_smoothing": state["t_ls"], "augment": state["t_augment"]}
                    if kind not in ("conv_ae", "dense_ae")
                    else {}
                ),
            )
            assert train == preset.train, label
            m = preset.model
            assert state["t_dropout"] == m.dropout
            for field, key in (
                ("latent_dim", "t_latent"),
                ("hidden", "t_hidden"),
                ("decoder", "t_decoder"),
                ("batch_norm", "t_bn"),
                ("second_pool", "t_pool"),
                ("freeze_encoder", "t_freeze"),
                ("head_hidden", "t_head_hidden"),
                ("final_relu", "t_final_relu"),
                ("padding", "t_padding"),
                ("code_activation", "t_code_act"),
            ):
                assert not hasattr(m, field) or state[key] == getattr(m, field), (label, field)
            assert not hasattr(m, "channels") or state["t_channels"] == ", ".join(map(str, m.channels))


def test_changed_values_say_custom_and_survive_a_kind_switch(empty_runs):
    at = page_run("train")
    at.select_slider(key="t_fraction").set_value(0.01).run()  # how a run is made: not a change of preset
    assert at.selectbox(key="t_preset_conv_ae").value != "custom"
    at.select_slider(key="t_lr").set_value(3e-4).run()
    at.select_slider(key="t_latent").set_value(32).run()
    assert at.selectbox(key="t_preset_conv_ae").value == "custom"
    assert any("Your own settings" in c.value for c in at.caption)
    at.segmented_control(key="t_kind").set_value("dense_ae").run()  # kept, not reset to a preset
    assert at.select_slider(key="t_latent").value == 32 and at.select_slider(key="t_lr").value == 3e-4
    assert at.select_slider(key="t_fraction").value == 0.01
    assert at.selectbox(key="t_preset_dense_ae").value == "custom"
    assert any("settings are kept" in t.value for t in at.toast), [t.value for t in at.toast]
    at.selectbox(key="t_preset_dense_ae").set_value("Report B SGD (n=512, lr 0.1)").run()
    assert at.select_slider(key="t_lr").value == 0.1 and at.select_slider(key="t_latent").value == 512
    assert at.selectbox(key="t_preset_dense_ae").value == "Report B SGD (n=512, lr 0.1)"
    assert at.select_slider(key="t_fraction").value == 0.01  # presets leave the fraction alone
    at.radio(key="t_precision").set_value("bf16").run()
    at.selectbox(key="t_preset_dense_ae").set_value("Report B Adam (n=512, lr 0.001)").run()
    assert at.radio(key="t_precision").value == "bf16"  # and the precision
    assert (
        "Log scale." != at.select_slider(key="t_lr").help and "step size" in at.select_slider(key="t_lr").help
    )
    assert not at.exception


def test_bad_run_name_is_refused(empty_runs):
    at = page_run("train")
    at.text_input(key="t_name").input("../escape").run()
    assert any("invalid run id" in e.value for e in at.error)
    start = next(b for b in at.button if b.label == "Start training")
    assert start.disabled


def test_a_taken_run_name_is_refused_before_start(shipped_runs):
    at = page_run("train")
    at.text_input(key="t_name").input("ref-a-ae-base").run()
    errors = [e.value for e in at.error]
    assert any("a run named 'ref-a-ae-base' already exists; choose another name" in e for e in errors), errors
    assert not any("RunError" in e for e in errors)
    assert next(b for b in at.button if b.label == "Start training").disabled
    at.text_input(key="t_name").input("my-new-ae").run()
    assert not at.error and not next(b for b in at.button if b.label == "Start training").disabled


def test_a_learning_rate_far_outside_the_reports_is_warned_of(empty_runs):
    at = page_run("train")
    assert not [w for w in at.warning if "Learning rate" in w.value]
    at.select_slider(key="t_lr").set_value(1.0).run()
    assert any("Learning rate 1 is 10× the largest the reports used" in w.value for w in at.warning)


def test_start_a_tiny_job_and_see_it_finish(empty_runs):
    at = page_run("train")
    at.segmented_control(key="t_kind").set_value("mlp").run()
    at.select_slider(key="t_fraction").set_value(0.01).run()
    at.slider(key="t_epochs").set_value(2).run()
    at.text_input(key="t_name").input("tiny-mlp").run()
    at.radio(key="t_precision").set_value("bf16").run()
    next(b for b in at.button if b.label == "Start training").click().run()
    # a double click queues nothing new
    next(b for b in at.button if b.label == "Start training").click().run()
    q = ui.job_queue()
    assert len([j for j in q.jobs() if j.spec.name == "tiny-mlp"]) == 1
    assert q.wait(timeout=300)
    at.run()
    assert not at.exception
    assert any("tiny-mlp" in s.value and "finished" in s.value for s in at.success), [
        s.value for s in at.success
    ]
    info = Registry(empty_runs).get("tiny-mlp")
    assert info.status == "completed" and len(info.history) == 2
    assert info.spec().train.precision == "bf16"
    assert ui.run_label(info).startswith("tiny-mlp · bf16 · 1% · 2 ep · ")  # a quick run says so
    assert any("A quick run (1% · 2 ep)" in c.value for c in at.caption)
    assert info.config["data"]["n_train"] == 540  # 1% of the 54,000 left after the 10% holdout (MLP preset)
    # the new run is in Compare's table
    at = page_run("compare")
    table = at.dataframe[0].value
    assert "tiny-mlp" in list(table["name"])
    assert table.set_index("name").loc["tiny-mlp", "precision"] == "bf16"


def test_a_stop_in_another_tab_is_explained_in_both(empty_runs):
    """Tab A starts a run, tab B (which did not start it) watches it and presses Stop: B says the run was
    stopped, A that it was stopped from another tab; neither falls back to "No job yet"."""
    a, b = page_run("train"), page_run("train")
    a.segmented_control(key="t_kind").set_value("mlp").run()
    a.select_slider(key="t_fraction").set_value(0.01).run()
    a.slider(key="t_epochs").set_value(100).run()
    a.text_input(key="t_name").input("stop-me").run()
    next(x for x in a.button if x.label == "Start training").click().run()
    q = ui.job_queue()
    job = next(j for j in q.jobs() if j.spec.name == "stop-me")
    deadline = time.time() + 120
    while job.status != "running" and time.time() < deadline:
        time.sleep(0.2)
    b.run()
    assert any(h.value == job.label for h in b.subheader), [h.value for h in b.subheader]
    next(x for x in b.button if x.label == "Stop").click().run()
    assert q.wait(timeout=300) and job.status == "stopped"
    b.run()
    a.run()
    said_b = [m.value for m in b.success]
    said_a = [m.value for m in a.success]
    assert any("stop-me" in m and "was stopped; its best weights are saved" in m for m in said_b), said_b
    assert any("was stopped from another tab" in m for m in said_a), said_a
    assert not any("No job yet" in i.value for i in [*a.info, *b.info])


def plotly_spec(at: AppTest, key: str) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key))
    return json.loads(chart.proto.spec)


def test_compare_gives_each_run_one_colour_and_labels_log_ticks(shipped_runs):
    at = page_run("compare")
    at.text_input[0].input("ref-a-clf").run()  # the two runs plotted are the twins shown below

    def colours(key: str) -> dict[str, str]:
        return {t["name"].split(" · ")[0]: t["line"]["color"] for t in plotly_spec(at, key)["data"]}

    curves, twins = colours("cmp_acc"), colours("cmp_twin_acc")
    assert curves["ref-a-clf-base"] == twins["pretrained (ref-a-clf-base)"]
    assert curves["ref-a-clf-random"] == twins["random init (ref-a-clf-random)"]
    assert curves["ref-a-clf-base"] != curves["ref-a-clf-random"]
    # two autoencoders' losses (0.007 to 0.07) on a log scale: labelled ticks below 0.04 too (plotly alone
    # labels only the powers of ten, none of which falls inside that range)
    at.text_input[0].input("ref-a-ae").run()
    next(t for t in at.toggle if t.label == "Log-scale loss").set_value(True).run()
    axis = plotly_spec(at, "cmp_loss")["layout"]["yaxis"]
    assert axis["type"] == "log" and {0.01, 0.02} <= set(axis["tickvals"]), axis
    assert {"0.01", "0.02"} <= set(axis["ticktext"])
    assert not at.exception


def test_compare_table_views_fit_and_leave_empty_cells_empty(shipped_runs):
    at = page_run("compare")
    table = at.dataframe[0]
    assert table.proto.placeholder == ""
    # nine columns, and those only some runs fill added where a shown run has something to say in them
    assert len([c for c in table.proto.column_order if c not in ("lost classes", "problem")]) <= 9
    assert {"selected on", "best val acc %", "test acc %"} <= set(table.proto.column_order)
    at.segmented_control(key="cmp_view").set_value("settings").run()
    assert "train images" in list(at.dataframe[0].proto.column_order)


def test_compare_deletes_after_confirmation_and_keeps_shipped_runs(shipped_runs):
    reg = Registry(shipped_runs)
    shutil.copytree(shipped_runs / "ref-d-mlp", shipped_runs / "my-mlp")  # a user's own run
    at = page_run("compare")
    at.selectbox(key="cmp_manage").set_value("ref-d-mlp").run()
    assert next(b for b in at.button if b.label == "Delete").disabled  # shipped: read-only
    assert at.checkbox(key="cmp_sure_ref-d-mlp").disabled
    at.selectbox(key="cmp_manage").set_value("my-mlp").run()
    delete = next(b for b in at.button if b.label == "Delete")
    assert delete.disabled  # not before the checkbox
    at.checkbox(key="cmp_sure_my-mlp").check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert not at.exception
    ids = [r.run_id for r in reg.list_runs()]
    assert "my-mlp" not in ids and "ref-d-mlp" in ids


def test_damaged_run_is_listed_not_fatal(shipped_runs):
    bad = shipped_runs / "broken-run"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    at = page_run("compare")
    assert "broken-run" not in list(at.dataframe[0].value["name"])  # hidden by default
    at.toggle[0].set_value(False).run()
    table = at.dataframe[0].value
    assert "broken-run" in list(table["name"])
    assert "not valid JSON" in table.set_index("name").loc["broken-run", "problem"]
    at = page_run("home")
    assert "broken-run" in list(at.dataframe[0].value["name"])


def test_a_shared_lab_asks_for_its_password(shipped_runs, monkeypatch):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["password"] = "s3cret"
    at.run()
    assert not at.get("imgs") and at.text_input(key="password_try")  # nothing shown before
    at.text_input(key="password_try").set_value("wrong").run()
    assert at.error and "not the password" in at.error[0].value
    at.text_input(key="password_try").set_value("s3cret").run()
    assert at.session_state["signed_in"] and not at.exception
    assert any(s.value == "Fashion-MNIST Lab" for s in at.title)


def headers(at: AppTest) -> dict[str, str]:
    """The Compare table's column headers as shown, by column."""
    return {c: cfg.get("label", c) for c, cfg in json.loads(at.dataframe[0].proto.columns).items()}


def runs_frame(at: AppTest) -> pd.DataFrame:
    """Compare's runs tables, every group's, as one frame (the seed summaries left out)."""
    return pd.concat([d.value for d in at.dataframe if "name" in d.value.columns])


def test_compare_says_what_each_figure_is(labelled_runs):
    at = page_run("compare")
    table = runs_frame(at).set_index("name")
    assert table.loc["new-mlp", "selected on"] == table.loc["ref-a-ae-base", "selected on"] == "held-out"
    assert (
        table.loc["new-clf-test", "selected on"]
        == table.loc["old-ae", "selected on"]
        == ("test (reports' method)")
    )
    assert table.loc["old-mlp", "selected on"] == "held-out (own split)"  # from before the fixed split
    assert table.loc["new-mlp", "test acc %"] == pytest.approx(
        100 * summary(labelled_runs, "new-mlp")["test_acc"]
    )
    assert table["test acc %"].isna()["old-clf"]  # from before the test figure was recorded
    # held-out and test runs together: the val columns send the reader to "selected on"
    assert headers(at)["best val acc %"] == "val acc %, best"
    assert headers(at)["final val loss"] == "val loss, last"

    at.text_input[0].input("mlp").run()  # the fixed held-out split and a seed's own: both held-out
    assert headers(at)["best val loss"] == "held-out loss, best"
    acc = plotly_spec(at, "cmp_acc")
    assert "solid: held-out" in acc["layout"]["title"]["text"]
    assert {"new-mlp · held-out", "old-mlp · held-out"} <= {t["name"] for t in acc["data"]}

    at.text_input[0].input("new-").run()  # one of each: the curves say so
    assert headers(at)["best val acc %"] == "val acc %, best"
    acc = plotly_spec(at, "cmp_acc")
    assert "solid: validation (held-out or test, see table)" in acc["layout"]["title"]["text"]
    assert {"new-mlp · held-out", "new-clf-test · test"} <= {t["name"] for t in acc["data"]}

    at.text_input[0].input("ref-a-clf").run()  # the shipped twins, both on the fixed held-out split
    assert headers(at)["best val acc %"] == "held-out acc %, best"
    assert "solid: held-out" in plotly_spec(at, "cmp_twin_acc")["layout"]["title"]["text"]
    diff = plotly_spec(at, "cmp_twin_diff")["layout"]["yaxis"]["title"]["text"]
    assert diff == "held-out accuracy difference (points)"
    picker = at.selectbox(key="cmp_twin_pick")
    assert any(o.startswith("ref-a-clf-base") and "test acc" in o for o in picker.options)
    at.text_input[0].input("clf").run()  # with the copies selected on the test set: they say so
    picker = at.selectbox(key="cmp_twin_pick")
    assert any(o.startswith("old-clf") and o.endswith("(selected on it)") for o in picker.options)


def test_options_beyond_the_reports_follow_the_model_kind(empty_runs):
    """Label smoothing and augmentation set for a classifier do not follow the user to an autoencoder
    (whose runs would refuse them), and padded convs leave the decoder no last-layer choice."""
    at = page_run("train")
    at.segmented_control(key="t_kind").set_value("cnn").run()
    at.select_slider(key="t_ls").set_value(0.1).run()
    at.radio(key="t_augment").set_value("shift_flip").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.segmented_control(key="t_kind").set_value("conv_ae").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "t_ls" not in [w.key for w in at.select_slider]  # classifiers only
    at.radio(key="t_decoder").set_value("kernel").run()
    at.radio(key="t_padding").set_value("same").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.radio(key="t_decoder").value == "output_padding" and at.radio(key="t_decoder").disabled


def test_compare_groups_runs_yours_first_and_studies_folded(shipped_runs):
    shutil.copytree(shipped_runs / "ref-d-mlp", shipped_runs / "my-mlp")  # a user's own run
    for p in SHIPPED.glob("study-a4-*"):
        shutil.copytree(p, shipped_runs / p.name)
    at = page_run("compare")
    assert list(at.dataframe[0].value["name"]) == ["my-mlp"]  # yours first, not in a fold
    folds = {e.label.split(" · ")[0]: e for e in at.expander}
    assert {"Reference runs (the reports' settings)", "Study a4"} <= set(folds)
    assert not any(e.proto.expanded for e in at.expander)  # folded until asked
    a4 = folds["Study a4"]
    assert any("Best on held-out: classifier **study-a4-clf-base-s" in c.value for c in a4.caption)
    summary = next(d.value for d in a4.dataframe if "configuration" in d.value.columns)
    assert summary["seeds"].iloc[0] >= 2 and " ± " in summary["test"].iloc[0]
    at.text_input[0].input("study-a4").run()  # a typed name opens what it found
    assert [e.label.split(" · ")[0] for e in at.expander] == ["Study a4"] and at.expander[0].proto.expanded
    assert not at.exception


def test_a_new_server_warms_up_in_the_background_and_the_estimate_fills_in(empty_runs):
    """The first page starts the warm-up (torch, the device's name, the dataset, the PCA baselines into the
    user's cache folder); the Train page's time estimate is timed in the background and shows when ready."""
    import os

    from app_support import warm

    page_run("home")
    warm.start().join(timeout=300)
    assert warm.device() and warm.dataset() is not None
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "fmnist-lab"
    assert list(cache.glob("pca-baselines-v*.json"))
    at = page_run("train")
    at.slider(key="t_epochs").set_value(3).run()  # a spec not timed before
    deadline = time.monotonic() + 120
    while not any("About **" in c.value for c in at.caption) and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert any("About **" in c.value and "on this device" in c.value for c in at.caption)


def test_a_failed_estimate_is_asked_again_later_not_in_a_loop(monkeypatch):
    """A timing that failed (a device busy, say) shows no estimate; the same spec is timed again only after
    jobs.RETRY_AFTER, so the polling page does not time, fail and redraw in a loop; a run's name changes
    nothing."""
    from app_support import jobs, warm
    from fmnist_core import estimate
    from fmnist_core.config import MLPConfig, RunSpec, TrainConfig

    calls = []

    def broken(spec, ds):
        calls.append(spec)
        raise RuntimeError("device busy")

    monkeypatch.setattr(jobs, "_estimate", broken)
    monkeypatch.setattr(estimate, "evaluation_seconds", broken)
    monkeypatch.setattr(warm, "settled", lambda: None)
    spec = RunSpec(MLPConfig(hidden=17), TrainConfig(epochs=2), "a-name")

    def ask():
        deadline = time.monotonic() + 60
        while (got := jobs.estimates_later(spec)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return got

    assert ask() == (None, None) and len(calls) == 2
    assert ask() == (None, None) and len(calls) == 2  # kept: not timed again at once
    assert jobs.estimates_later(RunSpec(spec.model, spec.train, "another-name")) == (None, None)
    monkeypatch.setattr(jobs, "RETRY_AFTER", 0.0)
    assert ask() == (None, None)  # expired: dropped, so that the next ask times it again
    assert ask() == (None, None) and len(calls) == 4
