"""The Search page's sections: the form that starts a hyperparameter search in the background (the search
command's options), and one search's summary, stop and resume buttons, trials table, Optuna's figures and
links to its best run. What a search is and what it found is fmnist_core.search."""

from __future__ import annotations

import json
import os
from typing import Any

import streamlit as st

from app_support.data import AUTOENCODERS, CLASSIFIERS, registry, runs, user_error
from app_support.site import PAGES
from app_support.studies import CPUS
from fmnist_core.config import CLI_KINDS, KIND_LABELS
from fmnist_core.errors import USER_ERRORS, ConfigError
from fmnist_core.search import (
    PRUNERS,
    Budget,
    SearchDef,
    figures,
    list_searches,
    parse_space,
    running_search,
    start_search,
    stop_search,
    store,
    summary,
    summary_line,
    table_rows,
    trial_rows,
)

BUDGET = "app-budget.json"  # what the page last gave the search to spend (a search stores no budget)
EXAMPLE = (
    "python -m fmnist_core search lr-mlp --model mlp --param lr=1e-4:1e-2:log --param dropout=0,0.1,0.3 "
    "--trials 12 --epochs 5"
)
FIGURE_WORDS = {
    "history": "Each trial's score in the order it ran, and the best so far (the line).",
    "intermediate": "Each trial's held-out score epoch by epoch: a line that stops early was pruned there.",
    "importance": "How much each searched setting explains of the score (Optuna's default evaluator).",
    "parallel": "Parallel coordinates: each line is a trial, through the values it drew to its score.",
    "slice": "The score against each searched setting, one dot per trial.",
}


# -- the searches there are --------------------------------------------------------------------
def searches() -> list[str]:
    """The searches in the runs folder, the most recently active first."""
    reg = registry()
    return sorted(list_searches(reg), key=lambda n: -store.journal(reg, n).stat().st_mtime)


def no_searches() -> None:
    st.info(f"No searches yet. Start one below, or from a terminal:\n\n`{EXAMPLE}`")


def pick(names: list[str]) -> str:
    """The search to show: the one just started, else the running one, else the newest."""
    if (new := st.session_state.pop("se_new", None)) in names:
        st.session_state["se_pick"] = new
    elif st.session_state.get("se_pick") not in names:
        reg = registry()
        st.session_state["se_pick"] = next((n for n in names if running_search(reg, n)), names[0])
    return st.selectbox("Search", names, key="se_pick")


# -- one search ------------------------------------------------------------------------------
def _budget(name: str) -> dict[str, Any]:
    path = store.folder(registry(), name) / BUDGET
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _launch(name: str, args: list[str], budget: dict[str, Any]) -> bool:
    """Start (or resume) search `name` in the background, unless MAX_RUNNING run already: the page's cap,
    as the Train queue's, so that a stranger cannot fill the machine with searches. Whether it started."""
    reg = registry()
    busy = store.running_searches(reg)
    if len(busy) >= store.MAX_RUNNING:
        st.error(
            f"{len(busy)} searches are running already ({', '.join(busy)}), the most this page starts at once: "
            "stop one, or wait until one has spent its budget."
        )
        return False
    pid = start_search(reg, name, args)
    (store.folder(reg, name) / BUDGET).write_text(json.dumps(budget))
    st.session_state["se_new"] = name
    st.session_state["se_started"] = (name, pid)
    return True


def _budget_args(b: dict[str, Any]) -> list[str]:
    args = [] if b.get("trials") is None else ["--trials", str(b["trials"])]
    args += [] if b.get("minutes") is None else ["--minutes", str(b["minutes"])]
    return args + ["--workers", str(b.get("workers") or 1)]


def _running(name: str, s: dict[str, Any]) -> bool:
    """The search runs, or its process started from this page is still coming up (not holding its lock yet)."""
    started = st.session_state.get("se_started")
    return s["running_pid"] is not None or bool(started and started[0] == name and _alive(started[1]))


def log_tail(name: str, lines: int = 6) -> str:
    try:
        text = (store.folder(registry(), name) / store.LOG).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def controls(name: str) -> bool | None:
    """The summary line, Stop (running) or Resume (stopped before its budget was spent); whether it runs
    (None after an error line: the search cannot be read)."""
    try:
        s = summary(registry(), name)
    except USER_ERRORS as e:
        user_error(e)
        return None
    st.markdown(f"**{summary_line(s)}**")
    st.caption(
        f"Each trial is a {KIND_LABELS[s['kind']]} run ({store.run_id(name, 7)}), scored on its "
        f"{s['objective_words']}. Settings: "
        + ", ".join(
            f"{k} "
            + ("; ".join(v) if isinstance(v, list) else str(v))  # the space: one setting after another
            for k, v in s["definition"].items()
            if k != "kind"
        )
    )
    running = _running(name, s)
    b = _budget(name)
    unfinished = sum(r["state"] in ("interrupted", "queued", "running") for r in trial_rows(registry(), name))
    left = b.get("trials") is not None and s["spent"] < b["trials"]
    if running:
        if st.button("Stop", icon=":material/stop:", key="se_stop"):
            stop_search(registry(), name)
            st.toast(f"Stopping {name}: each trial ends after its current batch.", icon=":material/stop:")
    elif unfinished or left:
        if not b.get("trials") and not b.get("minutes"):
            b = {"trials": s["spent"] + unfinished, "workers": 1}
        st.caption(f"Stopped before its budget was spent: Resume goes on with {' '.join(_budget_args(b))}.")
        if st.button("Resume", icon=":material/play_arrow:", key="se_resume") and _launch(
            name, _budget_args(b), b
        ):
            st.rerun()
    return running


def trials(name: str, running: bool) -> None:
    """The trials table, the figures and the best run's links (redrawn every 2 s while the search runs)."""
    reg = registry()
    try:
        rows = trial_rows(reg, name)
        s = summary(reg, name, rows)
    except USER_ERRORS as e:
        user_error(e)
        return
    if running and not _running(name, s):
        st.rerun()  # it has finished: redraw the buttons too
    st.subheader("Trials")
    if not rows:
        st.caption("No trials yet: the first ones start once the workers have loaded the data.")
    else:
        st.dataframe(table_rows(rows, s["objective"]), hide_index=True, width="stretch")
        st.caption(
            f"{s['objective']}: the best epoch's score of each finished trial (a pruned trial's, its last "
            "epoch's). A pruned trial was stopped early because its score was poor for its epoch."
        )
    if tail := log_tail(name):
        with st.expander("The search's output (last lines)"):
            st.code(tail, language=None)
    best_links(s["best"], s["kind"])
    figs = figures(reg, name) if rows else {}
    for key, fig in figs.items():
        st.plotly_chart(fig, key=f"se_fig_{key}")
        st.caption(FIGURE_WORDS.get(key, key))


def _open_confusion(run_id: str) -> None:
    st.session_state["cf_run"] = run_id


def best_links(best: dict[str, Any] | None, kind: str) -> None:
    if best is None or not best["run_id"]:
        return
    run_id = best["run_id"]
    st.markdown(f"**Best so far:** trial {best['trial']}, run `{run_id}`.")
    c1, c2 = st.columns(2)
    c1.page_link(PAGES["compare"], label="Compare runs", icon=":material/stacked_line_chart:")
    shipped = registry().info(run_id).results_only
    if shipped:  # the example search ships without weights: nothing to open, but the way to get them
        st.caption(f"Shipped results-only (no weights to inspect); `{shipped['retrain']}` trains it again.")
    elif kind in AUTOENCODERS:
        c2.page_link(PAGES["reconstructions"], label="Reconstructions", icon=":material/visibility:")
        st.caption(f"Pick `{run_id}` there.")
    elif kind in CLASSIFIERS and run_id in {r.run_id for r in runs(CLASSIFIERS)}:
        if c2.button("Open in Confusion & errors", icon=":material/grid_on:", key="se_confusion"):
            _open_confusion(run_id)
            st.switch_page(PAGES["confusion"])


# -- a new search ----------------------------------------------------------------------------
def start_form() -> None:
    """The search command's options; Start checks them (one error line) and starts it in the background."""
    with st.form("se_form"):
        c1, c2 = st.columns([2, 1])
        name = c1.text_input("Name", key="se_name", placeholder="lr-mlp", help="Names the trials' runs too.")
        kind_word = c2.selectbox(
            "Model", list(CLI_KINDS), key="se_kind", format_func=lambda k: KIND_LABELS[CLI_KINDS[k]]
        )
        space_text = st.text_area(
            "Settings to search, one per line",
            key="se_space",
            placeholder="lr=1e-4:1e-2:log\nlatent=16:256:log\ndropout=0,0.01,0.1",
            help="As the train command's option without dashes: NAME=LOW:HIGH (add :log for a log scale, "
            ":int for whole numbers) or NAME=a,b,c for choices.",
        )
        c = st.columns(4)
        trials_n = c[0].number_input(
            "Trials", 0, 100_000, value=20, key="se_trials", help="In all; 0: no limit."
        )
        minutes = c[1].number_input(
            "Minutes", 0.0, 43_200.0, value=None, key="se_minutes", placeholder="no limit"
        )
        epochs = c[2].number_input("Epochs per trial", 1, 1000, value=10, key="se_epochs")
        limit = c[3].number_input(
            "Training images",
            0,
            54_000,
            value=0,
            key="se_limit",
            help="0: all; N: the first N (quick tries).",
        )
        c3 = st.columns(3)
        workers = c3[0].number_input(
            "Workers",
            1,
            CPUS,
            value=CPUS,
            key="se_workers",
            help="Trials trained side by side, one per core at most (the command line allows more).",
        )
        pruner = c3[1].selectbox(
            "Pruner", list(PRUNERS), key="se_pruner", help=" ".join(f"{k}: {v}." for k, v in PRUNERS.items())
        )
        seed = c3[2].number_input("Seed", 0, 2**31 - 1, value=0, key="se_seed")
        submitted = st.form_submit_button("Start search", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return
    lines = [ln.strip() for ln in (space_text or "").splitlines() if ln.strip()]
    kind = CLI_KINDS[kind_word]
    reg = registry()
    try:
        name = store.check_name(name.strip())
        if not lines:
            raise ConfigError("give at least one setting to search, e.g. lr=1e-4:1e-2:log")
        from fmnist_core.search.space import check_encoders

        space = parse_space(lines, kind)
        SearchDef(kind, space, int(epochs), int(limit), pruner, int(seed))
        Budget(int(trials_n) or None, minutes or None)
        check_encoders(space, reg)
        if store.exists(reg, name) or running_search(reg, name) is not None:
            raise ConfigError(
                f"a search named {name!r} exists already; pick it above, or choose another name"
            )
        prefix = store.run_id(name, 0)[:-3]
        if reg.root.is_dir() and any(p.name.startswith(prefix) for p in reg.root.iterdir()):
            raise ConfigError(f"runs {prefix}* of an earlier search are still there; choose another name")
    except (*USER_ERRORS, ValueError) as e:
        user_error(e)
        return
    budget = {"trials": int(trials_n) or None, "minutes": minutes or None, "workers": int(workers)}
    args = ["--model", kind_word, *(f"--param={ln}" for ln in lines), "--epochs", str(int(epochs))]
    args += ["--limit", str(int(limit)), "--pruner", pruner, "--seed", str(int(seed)), *_budget_args(budget)]
    if _launch(name, args, budget):
        st.rerun()


def starting(names: list[str]) -> None:
    """A search just started whose study is not written yet: wait for it (or show why it ended)."""
    started = st.session_state.get("se_started")
    if not started or started[0] in names:
        return
    name, pid = started
    if _alive(pid):
        st.info(f"Starting search {name} (pid {pid}): loading the data…")
        st.fragment(_wait_for, run_every=2.0)(name, pid)
    else:
        st.session_state.pop("se_started", None)
        st.error(f"Search {name} ended before it started: {log_tail(name, 1) or 'no output'}")


def _wait_for(name: str, pid: int) -> None:
    if name in list_searches(registry()) or not _alive(pid):
        st.rerun()


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # our child: reap it once it has ended
        return done == 0
    except ChildProcessError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
