"""AppTest for the Search page: empty, a bad range refused, and a tiny real search listed with its trials."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fmnist_core import Registry
from fmnist_core.search import Budget, SearchDef, list_searches, parse_space, run_search
from tests.test_app_shell import page_run


@pytest.fixture
def empty_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_no_searches_explains_and_shows_the_command(empty_runs):
    at = page_run("search")
    assert not at.error, [e.value for e in at.error]
    text = " ".join(e.value for e in at.info)
    assert "No searches yet" in text and "python -m fmnist_core search" in text
    assert [b for b in at.button if b.label == "Start search"]


def test_a_bad_range_is_one_error_line_and_starts_nothing(empty_runs, monkeypatch):
    import app_support.search_view as view

    started = []
    monkeypatch.setattr(view, "start_search", lambda *a: started.append(a) or 0)
    at = page_run("search")
    at.text_input(key="se_name").input("bad")
    at.selectbox(key="se_kind").select("mlp")
    at.text_area(key="se_space").input("lr=1e-2:1e-4:log")  # low above high
    at.button[[b.label for b in at.button].index("Start search")].click().run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value, [e.value for e in at.error]
    assert not started and not list_searches(Registry(empty_runs))


@pytest.fixture
def searched_runs(empty_runs):
    """A tiny real search: two MLP trials of one epoch on 300 images, one worker."""
    registry = Registry(empty_runs)
    defn = SearchDef("mlp", parse_space(["lr=1e-3,3e-3"], "mlp"), epochs=1, limit=300)
    run_search("tiny", defn, Budget(trials=2), registry, workers=1)
    return empty_runs


@pytest.mark.timeout(300)
def test_a_search_shows_its_trials_figures_and_best_run(searched_runs):
    at = page_run("search")
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="se_pick").value == "tiny"
    text = " ".join(e.value for e in at.markdown)
    assert "search tiny" in text and "best: trial" in text and "search-tiny-t0" in text
    table = at.dataframe[0].value
    assert len(table) == 2 and set(table["state"]) <= {"complete", "pruned"}
    assert len(at.get("plotly_chart")) >= 2
    assert not [b for b in at.button if b.label in ("Stop", "Resume")]  # finished, its budget spent


@pytest.mark.timeout(300)
def test_the_best_classifier_opens_preselected_in_confusion(searched_runs):
    at = page_run("search")
    best = next(m.value for m in at.markdown if m.value.startswith("**Best so far:**"))
    at.button(key="se_confusion").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["cf_run"] in best
    assert at.selectbox(key="cf_run").value in best


def test_a_stopped_search_offers_resume(empty_runs, monkeypatch):
    """A search with an interrupted trial (its coordinator gone) resumes with the stored settings."""
    import app_support.search_view as view
    from fmnist_core.search import store

    registry = Registry(empty_runs)
    defn = SearchDef("mlp", parse_space(["lr=1e-3,3e-3"], "mlp"), epochs=1, limit=300)
    store.create(registry, "halted", defn)
    study = store.load(registry, "halted")
    study.ask({p.name: p.distribution() for p in defn.space})  # left RUNNING, as after a kill
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that has ended: the "started" search is not running
    started = []
    monkeypatch.setattr(
        view, "start_search", lambda reg, name, args: started.append((name, args)) or gone.pid
    )
    at = page_run("search")
    assert not at.error, [e.value for e in at.error]
    at.button(key="se_resume").click().run()
    assert started and started[0][0] == "halted" and "--trials" in started[0][1]
    assert "--model" not in started[0][1]  # the stored definition is the search's own


def test_no_more_than_max_running_searches_start(empty_runs, monkeypatch):
    """Two searches alive (each holds its coordinator lock, as a live `search` process does): a third is
    refused in one line and nothing starts."""
    import fcntl
    import os

    import app_support.search_view as view
    from fmnist_core.search import store

    reg, held = Registry(empty_runs), []
    for name in ("one", "two")[: store.MAX_RUNNING]:
        folder = store.folder(reg, name)
        folder.mkdir(parents=True)
        store.journal(reg, name).write_text("{}\n")
        (folder / store.COORDINATOR).write_text("4242")
        fd = os.open(folder / store.COORDINATOR, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the running search's process holds it
        held.append(fd)
    assert store.running_searches(reg) == ["one", "two"]
    started = []
    monkeypatch.setattr(view, "start_search", lambda *a: started.append(a) or 0)
    at = page_run("search")
    at.text_input(key="se_name").input("three")
    at.selectbox(key="se_kind").select("mlp")
    at.text_area(key="se_space").input("lr=1e-4:1e-2:log")
    at.button[[b.label for b in at.button].index("Start search")].click().run()
    assert not at.exception and not started
    errors = [e.value for e in at.error]
    assert any("2 searches are running already (one, two)" in e and "\n" not in e for e in errors), errors
    for fd in held:
        os.close(fd)
    assert store.running_searches(reg) == []  # a lock let go (a process that ended) is not running


@pytest.mark.timeout(300)
def test_a_fresh_clone_opens_on_the_shipped_search(tmp_path, monkeypatch):
    """The example search shipped in saved_models/ is what the page shows first: its summary with what
    pruning saved, every trial, Optuna's figures, no Stop or Resume, and its best run results-only (the
    command that retrains it, not a link to a page that cannot load it)."""
    from fmnist_core.registry import SHIPPED_SEARCH
    from tests.test_app_shell import SHIPPED

    runs = tmp_path / "runs"
    shutil.copytree(SHIPPED / ".searches", runs / ".searches")
    for p in SHIPPED.glob(f"search-{SHIPPED_SEARCH}-t*"):
        shutil.copytree(p, runs / p.name)
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(runs))
    at = page_run("search")
    assert not at.error and not at.exception, [e.value for e in at.error]
    assert at.selectbox(key="se_pick").value == SHIPPED_SEARCH
    text = " ".join(m.value for m in at.markdown)
    assert f"search {SHIPPED_SEARCH}" in text and "pruning saved" in text
    assert len(at.dataframe[0].value) == len(list(runs.glob("search-*")))
    assert len(at.get("plotly_chart")) >= 2
    assert not [b for b in at.button if b.label in ("Stop", "Resume")]
    assert any(
        "Shipped results-only" in c.value and "python -m fmnist_core train" in c.value for c in at.caption
    )
