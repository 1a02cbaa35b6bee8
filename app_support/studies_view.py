"""The Studies page's sections: the study and its size, the sweep's controls (start, stop, where, how many
workers) with its time estimate, and the results, redrawn every few seconds while runs train. The words on
the plan are fmnist_core.study_status; the study's figures and tables, fmnist_core.studies."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from app_support.data import fmt_seconds, user_error
from app_support.jobs import estimate_seconds
from app_support.studies import (
    CPUS,
    start_study_sweep,
    stop_study_sweep,
    study_extras,
    study_plan,
    study_sweep,
    sweep_log,
)
from fmnist_core.errors import USER_ERRORS
from fmnist_core.estimate import plan_seconds, workers_used
from fmnist_core.report import report_html
from fmnist_core.studies import STUDIES, build_view, runs_table
from fmnist_core.study_status import (
    WHERE,
    left_to_do,
    progress,
    ray_target,
    reading_markdown,
    runs_word,
    sweep_line,
    waits_for,
)

LIMITS = [0, 300, 500, 1000, 5000]
RUN_COLUMNS = {
    "run": st.column_config.TextColumn(width="medium"),
    "role": st.column_config.TextColumn(width="small"),
    "run id": st.column_config.TextColumn(width="medium"),
    "epochs": st.column_config.TextColumn(width="small"),
    "note": st.column_config.TextColumn(width="large"),
}


def pickers() -> tuple[str, int | None, int | None, int]:
    """The study, its seeds, epochs and training images."""
    left, c_seeds, c_epochs, c_limit = st.columns([5, 1.3, 1.3, 1.6])
    name = left.selectbox(
        "Study", list(STUDIES), key="s_study", format_func=lambda n: f"{n.upper()} — {STUDIES[n].title}"
    )
    study = STUDIES[name]
    seeds: int | None = c_seeds.number_input(
        "Seeds",
        1,
        100,
        value=study.seeds,
        key=f"s_seeds_{name}",
        help="Runs per configuration (encoders are shared by every seed). At the study's own count, runs "
        "the catalogue gives more seeds keep them (label-norelu: 8 at 1, 10 and 100% of the labels).",
    )
    epochs = c_epochs.number_input(
        "Epochs",
        1,
        1000,
        value=None,
        key="s_epochs",
        placeholder="default",
        help="Empty: each run trains for the epochs the study sets. A number makes different "
        "runs from the full ones (for example 50 for A4's epoch-50 row).",
    )
    limit = c_limit.selectbox(
        "Training images",
        LIMITS,
        key="s_limit",
        format_func=lambda n: "all 54,000" if n == 0 else f"first {n:,}",
        help="A quick version on the first N images: for trying the mechanics, not for results.",
    )
    return name, seeds, epochs, limit


def plan_or_stop(study, seeds: int | None, epochs: int | None, limit: int):
    """The study's plan; a one-line error and the page stops if it cannot be made."""
    try:
        return study_plan(study, seeds, epochs or None, limit)
    except (*USER_ERRORS, ValueError) as e:
        user_error(e)
        st.stop()


# -- the sweep ------------------------------------------------------------------------------
def sweep_panel(
    name: str, plan, sweep: dict | None, seeds: int | None, epochs: int | None, limit: int
) -> None:
    """Workers, where to run, the start (or stop) button and the time estimate; a warning for runs that
    wait for another process's encoder."""
    c_button, c_workers, c_where, c_info = st.columns([2, 1.2, 1.6, 4], vertical_alignment="bottom")
    workers = c_workers.number_input(
        "Workers",
        1,
        CPUS,
        value=CPUS,
        key="s_workers",
        help="Runs trained side by side, each in its own process with one torch thread.",
    )
    where = c_where.selectbox(
        "Run on",
        WHERE,
        key="s_where",
        help="Ray sends each run to a cluster as a task and brings its folder back; "
        "'Ray (local)' starts one on this machine.",
    )
    address = (
        st.text_input(
            "Ray address",
            key="s_ray",
            placeholder="ray://head-node:10001",
            help="The address your cluster's head node gives (as for ray.init).",
        )
        if where == "Ray cluster"
        else ""
    )
    if sweep is not None:
        stop_button(c_button, name)
    else:
        start_button(c_button, name, len(plan.missing), (seeds, epochs, limit, workers), where, address)
    estimate(c_info, name, plan, sweep, workers if where == "this machine" else 1)
    if plan.blocked:
        st.warning(
            f"{len(plan.blocked)} run(s) wait for {', '.join(waits_for(plan)) or 'their encoder'}, which another "
            "process is training; they can be queued once it has finished.",
            icon=":material/hourglass_top:",
        )


def stop_button(where: Any, name: str) -> None:
    if where.button(
        "Stop the sweep",
        icon=":material/stop:",
        use_container_width=True,
        help="Each run ends after its current batch and keeps its best weights.",
    ):
        stop_study_sweep(name)
        st.toast("Stopping: each run ends after its current batch.", icon=":material/stop:")
        st.rerun()


def start_button(where: Any, name: str, n_missing: int, size: tuple, on: str, address: str) -> None:
    """Train the missing runs in a background sweep. size: seeds, epochs, limit, workers; on: one of WHERE."""
    seeds, epochs, limit, workers = size
    if where.button(
        f"Train {n_missing} missing run{'s' if n_missing != 1 else ''}" if n_missing else "Nothing to train",
        type="primary",
        icon=":material/play_arrow:",
        disabled=not n_missing or (on == "Ray cluster" and not address.strip()),
        use_container_width=True,
    ):
        start_study_sweep(name, seeds, epochs or None, limit, workers, ray_target(on, address))
        st.toast(
            f"Started {runs_word(n_missing)} of study {name.upper()} in the background.",
            icon=":material/schedule:",
        )
        time.sleep(1.0)  # let the sweep write its record, so the page shows it at once
        st.rerun()


def estimate(where: Any, name: str, plan, sweep: dict | None, workers: int) -> None:
    """The running sweep, or how long the runs left would take with `workers` side by side."""
    seconds, unknown = plan_seconds(plan, estimate_seconds)
    todo = left_to_do(plan)
    per = workers_used(workers, len(plan.missing))
    if sweep is not None:
        where.caption(sweep_line(sweep, sweep_log(name)))
    elif todo and not seconds and unknown:
        where.caption(f"No time estimate for {', '.join(unknown)} runs on this device.")
    elif todo:
        where.caption(
            f"About **{fmt_seconds(seconds / per)}** of training on this device for {runs_word(todo)} "
            f"with {per} worker{'s' if per != 1 else ''} (timed on a few steps of each model)."
        )
    else:
        where.caption("Every run of this study exists. Change the seeds or epochs to extend it.")


# -- results --------------------------------------------------------------------------------
def report_button(study, plan, view) -> None:
    """The study as one HTML file to hand in. Its few MB are written only when the button is clicked (a
    callable Streamlit runs on its own thread), so drawing the page costs nothing."""
    st.download_button(
        "Download report",
        data=lambda: report_html(study, plan, view),
        file_name=f"report-{study.name}.html",
        mime="text/html",
        icon=":material/download:",
        on_click="ignore",
        key=f"s_report_{study.name}",
        help="One self-contained HTML file (opens with no network): the question, the method, every table "
        "and figure above with their notes, the reading, and each run's config and history. For a PDF: "
        f"`python -m fmnist_core report {study.name} --pdf report-{study.name}.pdf`.",
    )


def results(name: str, seeds: int | None, epochs: int | None, limit: int, polling: bool) -> None:
    """The study's progress, figures, tables, reading and runs as they stand now (drawn in a fragment that
    reruns every few seconds while `polling`: a sweep or queued runs were active when the page was drawn)."""
    study = STUDIES[name]
    live = study_plan(study, seeds, epochs or None, limit)
    done_share, text = progress(live)
    st.progress(done_share, text=text)
    for r in live.runs:
        if r.status == "running":
            st.caption(
                f"Training **{r.label}** ({r.run_id}): epoch {r.epochs_done}/{r.spec.train.epochs} saved. "
                "Results fill in as runs finish."
            )
    view = build_view(study, live, study_extras(study, live))
    figures = view.figures
    for i in range(0, len(figures), 2):
        cols = st.columns(2) if len(figures) > 1 else [st.container()]
        for col, (j, (caption, fig)) in zip(cols, enumerate(figures[i : i + 2], i)):
            col.markdown(f"**{caption}**")
            col.plotly_chart(fig, key=f"study_{name}_fig{j}")
    for t in view.tables:
        st.markdown(f"**{t.title}**")
        st.dataframe(t.rows, hide_index=True, placeholder="")
        if t.note:
            st.caption(t.note)
    st.subheader("Reading")
    st.markdown(reading_markdown(view.reading))
    done, total = live.count("done"), len(live.runs)
    with st.expander(
        f"Runs of this study ({done}/{total} done)", expanded=bool(live.missing or live.blocked)
    ):
        st.dataframe(runs_table(live), hide_index=True, column_config=RUN_COLUMNS, placeholder="")
    report_button(study, live, view)
    if polling and not live.active and study_sweep(name) is None:
        st.rerun()  # everything finished: redraw the whole page (button, estimate) and stop polling
