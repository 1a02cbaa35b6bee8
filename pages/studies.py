"""Studies: each report's experiment as data — which runs exist, which are missing, ours beside the report's."""

import time

import streamlit as st

import app_support as ui
from fmnist_core.estimate import plan_seconds, workers_used
from fmnist_core.studies import STUDIES, build_view, runs_table

ui.frame("studies")

LIMITS = [0, 300, 500, 1000, 5000]
RUN_COLUMNS = {
    "run": st.column_config.TextColumn(width="medium"),
    "role": st.column_config.TextColumn(width="small"),
    "run id": st.column_config.TextColumn(width="medium"),
    "epochs": st.column_config.TextColumn(width="small"),
    "note": st.column_config.TextColumn(width="large"),
}
st.title("Studies")
st.caption(
    "Each study reruns one experiment of the course reports and sets our numbers beside theirs. A run "
    "that already exists with the same configuration is reused (the shipped reference runs included); "
    "the missing ones train side by side in a background process that goes on if you close this tab."
)

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

st.markdown(f"**{study.question}**")
st.caption(study.about)

try:
    seeds = None if seeds == study.seeds else seeds  # the study's own: the catalogue's count for each run
    plan = ui.study_plan(study, seeds, epochs or None, limit)
except (*ui.USER_ERRORS, ValueError) as e:
    ui.user_error(e)
    st.stop()

sweep = ui.study_sweep(name)
c_button, c_workers, c_where, c_info = st.columns([2, 1.2, 1.6, 4], vertical_alignment="bottom")
workers = c_workers.number_input(
    "Workers",
    1,
    ui.CPUS,
    value=ui.CPUS,
    key="s_workers",
    help="Runs trained side by side, each in its own process with one torch thread.",
)
where = c_where.selectbox(
    "Run on",
    ["this machine", "Ray (local)", "Ray cluster"],
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
n_missing = len(plan.missing)
if sweep is not None:
    if c_button.button(
        "Stop the sweep",
        icon=":material/stop:",
        use_container_width=True,
        help="Each run ends after its current batch and keeps its best weights.",
    ):
        ui.stop_study_sweep(name)
        st.toast("Stopping: each run ends after its current batch.", icon=":material/stop:")
        st.rerun()
elif c_button.button(
    f"Train {n_missing} missing run{'s' if n_missing != 1 else ''}" if n_missing else "Nothing to train",
    type="primary",
    icon=":material/play_arrow:",
    disabled=not n_missing or (where == "Ray cluster" and not address.strip()),
    use_container_width=True,
):
    ui.start_study_sweep(
        name,
        seeds,
        epochs or None,
        limit,
        workers,
        {"Ray (local)": "local", "Ray cluster": address.strip()}.get(where),
    )
    st.toast(
        f"Started {n_missing} run{'s' if n_missing != 1 else ''} of study {name.upper()} in the background.",
        icon=":material/schedule:",
    )
    time.sleep(1.0)  # let the sweep write its record, so the page shows it at once
    st.rerun()
seconds, unknown = plan_seconds(plan, ui.estimate_seconds)
left_to_do = n_missing + len(plan.blocked) + plan.count("running", "queued")
per = workers_used(workers, n_missing) if where == "this machine" else 1
if sweep is not None:
    c_info.caption(
        f"A sweep of this study is running in the background (pid {sweep['pid']}, "
        f"{sweep.get('workers') or 'one per core'} worker(s){', Ray ' + sweep['ray'] if sweep.get('ray') else ''}); "
        f"it goes on if you close this tab. Log: `{ui.sweep_log(name)}`."
    )
elif left_to_do and not seconds and unknown:
    c_info.caption(f"No time estimate for {', '.join(unknown)} runs on this device.")
elif left_to_do:
    c_info.caption(
        f"About **{ui.fmt_seconds(seconds / per)}** of training on this device for {left_to_do} "
        f"run{'s' if left_to_do != 1 else ''} with {per} worker{'s' if per != 1 else ''} (timed on a few "
        "steps of each model)."
    )
else:
    c_info.caption("Every run of this study exists. Change the seeds or epochs to extend it.")
if plan.blocked:
    waits = sorted(
        {r.depends_on.run_id for r in plan.blocked if r.depends_on is not None and r.depends_on.run_id}
    )
    st.warning(
        f"{len(plan.blocked)} run(s) wait for {', '.join(waits) or 'their encoder'}, which another process is "
        "training; they can be queued once it has finished.",
        icon=":material/hourglass_top:",
    )


def results() -> None:
    live = ui.study_plan(study, seeds, epochs or None, limit)
    total, done = len(live.runs), live.count("done")
    parts = [f"{done} of {total} runs done"] + [
        f"{live.count(s)} {s}" for s in ("running", "queued", "missing", "blocked") if live.count(s)
    ]
    st.progress(done / total, text=" · ".join(parts))
    for r in live.runs:
        if r.status == "running":
            st.caption(
                f"Training **{r.label}** ({r.run_id}): epoch {r.epochs_done}/{r.spec.train.epochs} saved. "
                "Results fill in as runs finish."
            )
    view = build_view(study, live, ui.study_extras(study, live))
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
    # a sentence that starts with "+" or "-" (a step's name) would become a nested list item
    st.markdown(
        # a line that starts like a list marker ("- ", "+ ", "* ") is escaped; "**bold**" is not a marker
        "\n".join(
            "- " + ("\\" + line if line[:1] in ("+", "-", "*") and line[1:2] == " " else line)
            for line in view.reading
        )
    )
    with st.expander(
        f"Runs of this study ({done}/{total} done)", expanded=bool(live.missing or live.blocked)
    ):
        st.dataframe(runs_table(live), hide_index=True, column_config=RUN_COLUMNS, placeholder="")
    if (plan.active or sweep is not None) and not live.active and ui.study_sweep(name) is None:
        st.rerun()  # everything finished: redraw the whole page (button, estimate) and stop polling


st.fragment(results, run_every=3.0 if plan.active or sweep is not None else None)()
