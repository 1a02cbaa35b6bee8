"""Studies: each report's experiment as data — which runs exist, which are missing, ours beside the report's."""
import streamlit as st

import app_support as ui
from fmnist_core.studies import STUDIES, build_view, runs_table

LIMITS = [0, 300, 500, 1000, 5000]
RUN_COLUMNS = {"run": st.column_config.TextColumn(width="medium"), "role": st.column_config.TextColumn(width="small"),
               "run id": st.column_config.TextColumn(width="medium"),
               "epochs": st.column_config.TextColumn(width="small"), "note": st.column_config.TextColumn(width="large")}

st.title("Studies")
st.caption("Each study reruns one experiment of the course reports and sets our numbers beside theirs. A run "
           "that already exists with the same configuration is reused (the shipped reference runs included); "
           "the missing ones train in the job queue, one at a time.")

left, c_seeds, c_epochs, c_limit = st.columns([5, 1.3, 1.3, 1.6])
name = left.selectbox("Study", list(STUDIES), key="s_study",
                      format_func=lambda n: f"{n.upper()} — {STUDIES[n].title}")
study = STUDIES[name]
seeds = c_seeds.number_input("Seeds", 1, 100, value=study.seeds, key=f"s_seeds_{name}",
                             help="Runs per configuration (encoders are shared by every seed).")
epochs = c_epochs.number_input("Epochs", 0, 1000, value=0, key="s_epochs",
                               help="0 = the study's own. Any other value makes different runs from the full ones.")
limit = c_limit.selectbox("Training images", LIMITS, key="s_limit",
                          format_func=lambda n: "all 60,000" if n == 0 else f"first {n:,}",
                          help="A quick version on the first N images: for trying the mechanics, not for results.")

st.markdown(f"**{study.question}**")
st.caption(study.about)

try:
    plan = ui.study_plan(study, seeds, epochs or None, limit)
except ui.USER_ERRORS as e:
    ui.user_error(e)
    st.stop()

c_button, c_info = st.columns([2, 5], vertical_alignment="center")
n_missing = len(plan.missing)
if c_button.button(f"Train {n_missing} missing run{'s' if n_missing != 1 else ''}" if n_missing else "Nothing to train",
                   type="primary", icon=":material/play_arrow:", disabled=not n_missing, use_container_width=True):
    queued = ui.queue_study(plan)
    st.toast(f"Queued {queued} run{'s' if queued != 1 else ''} of study {name.upper()}.", icon=":material/schedule:")
    st.rerun()
seconds, unknown = ui.study_estimate(plan)
left_to_do = n_missing + len(plan.blocked) + plan.count("running", "queued")
if left_to_do and not seconds and unknown:
    c_info.caption(f"No {', '.join(unknown)} run has been measured on this device yet, so there is no time estimate; "
                   "it appears once one has trained.")
elif left_to_do:
    c_info.caption(f"About **{ui.fmt_seconds(seconds)}** of training left on this device for "
                   f"{left_to_do} run{'s' if left_to_do != 1 else ''} (from the seconds per epoch of runs measured here)"
                   + (f"; no {', '.join(unknown)} run measured yet, so those are not counted." if unknown else "."))
else:
    c_info.caption("Every run of this study exists. Change the seeds or epochs to extend it.")
if plan.blocked:
    waits = sorted({r.depends_on.run_id for r in plan.blocked if r.depends_on is not None and r.depends_on.run_id})
    st.warning(f"{len(plan.blocked)} run(s) wait for {', '.join(waits) or 'their encoder'}, which another process is "
               "training; they can be queued once it has finished.", icon=":material/hourglass_top:")


def results() -> None:
    live = ui.study_plan(study, seeds, epochs or None, limit)
    total, done = len(live.runs), live.count("done")
    parts = [f"{done} of {total} runs done"] + [f"{live.count(s)} {s}" for s in
                                                 ("running", "queued", "missing", "blocked") if live.count(s)]
    st.progress(done / total, text=" · ".join(parts))
    job = ui.study_job(name)
    if job is not None and job.progress is not None:
        p = job.progress
        st.caption(f"Training **{job.label}**: epoch {p.epoch}/{p.epochs}, batch {p.batch}/{p.batches}, "
                   f"ETA {ui.fmt_seconds(p.eta)}. Results fill in as runs finish.")
    view = build_view(study, live, ui.study_extras(study, live))
    figures = view.figures
    for i in range(0, len(figures), 2):
        cols = st.columns(2) if len(figures) > 1 else [st.container()]
        for col, (j, (caption, fig)) in zip(cols, enumerate(figures[i:i + 2], i)):
            col.markdown(f"**{caption}**")
            col.plotly_chart(fig, key=f"study_{name}_fig{j}")
    for t in view.tables:
        st.markdown(f"**{t.title}**")
        st.dataframe(t.rows, hide_index=True)
        if t.note:
            st.caption(t.note)
    st.subheader("Reading")
    # a sentence that starts with "+" or "-" (a step's name) would become a nested list item
    st.markdown("\n".join("- " + ("\\" + line if line and line[0] in "+-*" else line) for line in view.reading))
    with st.expander(f"Runs of this study ({done}/{total} done)", expanded=bool(live.missing or live.blocked)):
        st.dataframe(runs_table(live), hide_index=True, column_config=RUN_COLUMNS)
    if plan.active and not live.active:
        st.rerun()   # everything finished: redraw the whole page (button, estimate) and stop polling


st.fragment(results, run_every=3.0 if plan.active else None)()
