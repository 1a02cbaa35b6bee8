"""The Compare page's sections: the runs table and its filters, overlaid curves, seed groups, pretrained vs
random init, and managing a run. What the table holds is decided in fmnist_core.run_table; this draws it."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from app_support.data import registry, run_label, shipped
from app_support.jobs import submit_job
from app_support.site import PAGES
from fmnist_core.compare import (
    advantage,
    default_pair,
    lead,
    metric_label,
    pretrained_classifiers,
    random_init_twin,
    random_init_twin_spec,
    seed_group_label,
)
from fmnist_core.compare import seed_groups as find_seed_groups
from fmnist_core.config import KIND_LABELS
from fmnist_core.dead_classes import lost_class_note
from fmnist_core.errors import RunError
from fmnist_core.plots import NEUTRAL, band_figure, color, curves_figure, line_figure
from fmnist_core.presets import REFERENCE_ACCURACY
from fmnist_core.registry import RunInfo
from fmnist_core.run_groups import OWN, best, groups, seed_rows
from fmnist_core.run_table import VIEWS, Column, columns, listed, shown_columns, table_rows
from fmnist_core.selection import figure_label, val_name


class Palette:
    """One colour per run on the whole page, handed out in the order asked: the plotted runs first, then
    the seed groups and the pretrained-vs-random pair."""

    def __init__(self) -> None:
        self.colors: dict[str, str] = {}

    def __call__(self, run_id: str) -> str:
        return self.colors.setdefault(run_id, color(len(self.colors)))


def name_val_traces(fig, runs: dict):
    """Each run's solid curve named for the images it is on ("… · held-out", "… · test"), not "… · val".
    runs: the series' names -> their runs."""
    for t in fig.data:
        if t.name and t.name.endswith(" · val") and t.legendgroup in runs:
            t.name = f"{t.legendgroup} · {val_name([runs[t.legendgroup]], short=True)}"
    return fig


# -- the table ------------------------------------------------------------------------------
def filters(all_runs: list[RunInfo]) -> tuple[list[RunInfo], str, str]:
    """The kinds, name filter, column set and damaged toggle above the table: the runs it lists, the view,
    the name filter's text."""
    c1, c2 = st.columns([3, 2], gap="medium")
    kinds = sorted({r.kind for r in all_runs})
    chosen_kinds = c1.pills(
        "Kinds",
        kinds,
        selection_mode="multi",
        default=kinds,
        key="cmp_kinds",
        wrap=True,
        format_func=lambda k: KIND_LABELS.get(k, k),
    )
    text = c2.text_input("Filter by name", placeholder="e.g. ref-a or seed")
    shown_cols = st.columns([3, 2], gap="medium", vertical_alignment="center")
    view = shown_cols[0].segmented_control(
        "Columns",
        list(VIEWS),
        default="results",
        key="cmp_view",
        required=True,
        help="The table has more columns than fit on a screen: pick a set, or "
        "all of them (the table then scrolls sideways).",
    )
    hide_bad = shown_cols[1].toggle("Hide damaged and failed", value=True)
    return listed(all_runs, chosen_kinds, text, hide_bad), view, text


def column_config(col: Column):
    """A run_table Column as streamlit's column config."""
    if col.kind == "number":
        return st.column_config.NumberColumn(col.header, format=col.format, help=col.help)
    if col.kind == "text":
        return st.column_config.TextColumn(col.header, help=col.help)
    return st.column_config.Column(col.header, help=col.help)


def _table(runs: list[RunInfo], view: str, key: str) -> list[RunInfo]:
    """One group's runs table; returns its ticked runs."""
    rows = table_rows(runs)
    frame = pd.DataFrame(rows, columns=VIEWS["all"])
    val = val_name(runs, short=True)  # "held-out", "test" or "val": the column headers say which
    selection = st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key=f"cmp_table_{key}",
        height=min(36 * (len(frame) + 1) + 14, 400),
        column_order=shown_columns(view, rows),
        placeholder="",
        column_config={name: column_config(col) for name, col in columns(val).items()},
    )
    return [runs[i] for i in selection.selection.rows]


def _best_line(runs: list[RunInfo]) -> str:
    """'Best on held-out: study-a1-n512-s2 (MSE 0.0148)' for each kind in the group."""
    found = []
    for kind in sorted({r.kind for r in runs}):
        r = best(runs, kind)
        if r is not None:
            found.append(f"{KIND_LABELS.get(kind, kind)} **{r.name}** ({figure_label(r, digits=2)})")
    return "Best on held-out: " + "; ".join(found) if found else "No run here selected on the held-out split."


def _seed_table(runs: list[RunInfo]) -> None:
    """Each configuration with two or more seeds: held-out and test figures, mean ± 95% CI."""
    rows = seed_rows(runs)
    if rows:
        st.caption("Each configuration over its seeds: mean ± 95% CI (held-out at the selected epoch; test).")
        st.dataframe(pd.DataFrame(rows), hide_index=True, height=min(36 * (len(rows) + 1) + 4, 250))
        st.caption("Every run:")


def table(shown: list[RunInfo], n_all: int, view: str, text: str) -> list[RunInfo]:
    """The runs by group (yours open, each study, search and the reference runs folded, with its best run
    and its configurations over seeds); returns the runs to plot: the ticked ones, or by default the newest
    pair."""
    found = groups(shown)
    if not found:
        st.info("No run matches these kinds and this name filter.")
        return []
    st.caption(
        f"{len(shown)} of {n_all} runs in {len(found)} groups. Click column headers to sort; tick rows in any "
        "group to plot them (with none ticked: your two newest runs, or with none of your own the reference "
        "pretrained classifier and its random-init twin)."
    )
    picked: list[RunInfo] = []
    for g in found:
        if g.key == OWN:
            st.markdown(f"**{g.title}**")
            picked += _table(g.runs, view, g.key)
            continue
        with st.expander(g.title, expanded=bool(text)):  # a name typed in the filter opens what it found
            st.caption(_best_line(g.runs))
            _seed_table(g.runs)
            picked += _table(g.runs, view, g.key)
    picked = picked or default_pair(shown)
    return [r for r in picked if r.history and not r.damaged]  # a damaged run's history may be anything


# -- curves ---------------------------------------------------------------------------------
def curves(picked: list[RunInfo], run_color: Palette, any_shown: bool = True) -> None:
    """The picked runs' loss and (where they have it) accuracy curves, overlaid."""
    if not picked:
        st.caption(
            "Nothing to plot: tick runs with a finished epoch in the table above."
            if any_shown
            else "Nothing to plot: widen the kinds or the name filter above."
        )
        return
    c1, c2, c3 = st.columns([2, 2, 3])
    log_y = c1.toggle("Log-scale loss", value=False)
    show_train = c2.toggle("Show training curves (dashed)", value=True)
    series = [{"name": r.name, "history": r.history, "color": run_color(r.run_id)} for r in picked]
    has_acc = any("val_acc" in r.history[0] for r in picked)
    cols = st.columns(2) if has_acc else [st.container()]
    solid, by_name = f"solid: {val_name(picked)}", {r.name: r for r in picked}
    loss_fig = curves_figure(series, "loss", log_y=log_y, title=f"loss ({solid})", show_train=show_train)
    cols[0].plotly_chart(name_val_traces(loss_fig, by_name), key="cmp_loss")
    if has_acc:
        refs = c3.multiselect(
            "Reference lines",
            [label for label, _ in REFERENCE_ACCURACY],
            default=[REFERENCE_ACCURACY[0][0]],
            wrap=True,
        )
        lines = [(label, v) for label, v in REFERENCE_ACCURACY if label in refs]
        acc_fig = curves_figure(
            [s for s, r in zip(series, picked) if "val_acc" in r.history[0]],
            "acc",
            reference_lines=lines,
            title=f"accuracy ({solid})",
            show_train=show_train,
        )
        cols[1].plotly_chart(name_val_traces(acc_fig, by_name), key="cmp_acc")
    report_button(picked)
    for r in picked:
        lost = lost_class_note(r)
        if lost:
            st.warning(f"**{r.name}**: {lost}", icon=":material/warning:")


def _selection_report(picked: list[RunInfo]) -> str:
    from fmnist_core.report.selection import selection_report  # torch and plotly.js: only when clicked

    return selection_report(picked)


def report_button(picked: list[RunInfo]) -> None:
    """The plotted runs as one HTML report to hand in (built only when pressed)."""
    ids = " ".join(r.run_id for r in picked)
    st.download_button(
        "Download a report of this run"
        if len(picked) == 1
        else f"Download a report of these {len(picked)} runs",
        data=lambda: _selection_report(picked),
        file_name="report-runs.html",
        mime="text/html",
        icon=":material/description:",
        on_click="ignore",
        key="cmp_report",
        help="One HTML file that opens with no network: the runs' settings, figures, curves and every "
        f"epoch. The same from a terminal, with a PDF: `python -m fmnist_core report --runs {ids} --pdf "
        "report-runs.pdf`.",
    )


# -- seed groups ----------------------------------------------------------------------------
def seed_groups(all_runs: list[RunInfo], run_color: Palette) -> None:
    """Runs that differ only in their seed: a mean line and a ± std band per group."""
    groups = find_seed_groups(all_runs)
    if not groups:
        st.caption(
            "Runs that differ only in their seed are grouped here with a mean line and a ± std band. "
            "Train the same configuration with two or more seeds (or the Studies page's multi-seed study A4) "
            "to see one."
        )
        return
    labels = [seed_group_label(g) for g in groups]
    chosen = st.multiselect(
        "Seed groups", range(len(groups)), default=[0], format_func=labels.__getitem__, wrap=True
    )
    seen = val_name([r for i in chosen for r in groups[i]], short=True)
    metric = st.radio(
        "Metric",
        ["val_acc", "val_loss", "train_loss"],
        horizontal=True,
        format_func=lambda m: metric_label(m, seen),
        key="cmp_metric",
    )
    band = band_figure(
        [
            {
                "name": labels[i],
                "histories": [r.history for r in groups[i]],
                "color": run_color(f"group {labels[i]}"),
            }
            for i in chosen
        ],
        metric,
    )
    band.update_yaxes(title=metric_label(metric, seen) + (" (%)" if metric.endswith("acc") else ""))
    st.plotly_chart(band, key="cmp_band")


# -- pretrained vs random init ----------------------------------------------------------------
def twins(all_runs: list[RunInfo], run_color: Palette) -> None:
    """A classifier with a pretrained encoder beside its random-init twin, or a button to train the twin."""
    pretrained = pretrained_classifiers(all_runs)
    if not pretrained:
        st.caption("Needs a classifier whose encoder was copied from an autoencoder run.")
        return
    ids = [r.run_id for r in pretrained]
    run = pretrained[
        ids.index(
            st.selectbox(
                "Classifier with a pretrained encoder",
                ids,
                format_func=lambda i: next(run_label(r) for r in pretrained if r.run_id == i),
                key="cmp_twin_pick",
            )
        )
    ]
    twin = random_init_twin(run, all_runs)
    if twin is None:
        train_twin(run)
    else:
        twin_charts(run, twin, run_color)


def train_twin(run: RunInfo) -> None:
    st.info(
        "No random-init twin of this run yet: the same classifier, data order and seed, but with the "
        "encoder starting from random weights."
    )
    spec = random_init_twin_spec(run)
    if st.button("Train the random-init twin", icon=":material/play_arrow:"):
        job, new = submit_job(spec, f"random-init twin of {run.name}")
        if job is not None:
            st.session_state["t_job"] = job.job_id  # the Train page's monitor shows it
            st.success("Queued: watch it on the Train page." if new else "Already queued.")
            st.page_link(PAGES["train"], label="Watch it train", icon=":material/model_training:")


def twin_charts(run: RunInfo, twin: RunInfo, run_color: Palette) -> None:
    """Both runs' accuracy curves, and the pretrained one's lead epoch by epoch."""
    diff = advantage(run, twin)
    n = len(diff)
    pair = {f"pretrained ({run.name})": run, f"random init ({twin.name})": twin}
    c1, c2 = st.columns(2)
    twin_fig = curves_figure(
        [{"name": k, "history": r.history, "color": run_color(r.run_id)} for k, r in pair.items()],
        "acc",
        title=f"accuracy (solid: {val_name([run, twin])})",
    )
    c1.plotly_chart(name_val_traces(twin_fig, pair), key="cmp_twin_acc")
    diff_fig = line_figure(
        list(range(1, n + 1)),
        {"pretrained − random init": diff},
        "epoch",
        f"{val_name([run, twin], short=True)} accuracy difference (points)",
        title="advantage of pre-training",
        zero_line=True,
    )
    diff_fig.update_traces(line_color=NEUTRAL, marker_color=NEUTRAL)  # not a run: no run's colour
    c2.plotly_chart(diff_fig, key="cmp_twin_diff")
    st.caption(
        f"After epoch 1 the pretrained network is {lead(diff[0])}; after epoch {n}, {lead(diff[-1])}. "
        "Report A found that the random-init network starts lower but catches up to the same accuracy."
    )


# -- manage ---------------------------------------------------------------------------------
def manage(all_runs: Sequence[RunInfo]) -> None:
    """Rename, download or delete a run (a shipped run is read-only)."""
    target = st.selectbox(
        "Run",
        [r.run_id for r in all_runs],
        format_func=lambda i: next(f"{r.name} ({r.status})" for r in all_runs if r.run_id == i),
        key="cmp_manage",
    )
    info = next(r for r in all_runs if r.run_id == target)
    read_only = shipped(target)
    if read_only:
        st.caption(
            "A run shipped with the lab: read-only here (rename and delete are off); download it, or train "
            "your own copy."
        )
    c1, c2, c3 = st.columns(3)
    with c1:
        rename(info, read_only)
    with c2:
        download(info)
    with c3:
        delete(info, read_only)


def rename(info: RunInfo, read_only: bool) -> None:
    target = info.run_id
    new_name = st.text_input(
        "Display name", value=info.name, max_chars=80, key=f"cmp_name_{target}", disabled=read_only
    )
    if st.button("Rename", disabled=read_only or new_name.strip() == info.name):
        try:
            registry().rename(target, new_name)
            st.rerun()
        except RunError as e:
            st.error(str(e))


def download(info: RunInfo) -> None:
    if info.damaged:
        st.caption(f"Damaged: {info.damaged}")
        return
    try:
        st.download_button(
            "Download the run (.zip)",
            registry().export_zip(info.run_id),
            file_name=f"{info.run_id}.zip",
            mime="application/zip",
            icon=":material/download:",
            on_click="ignore",
            help="Its config, its history as CSV and its weights.",
        )
    except RunError as e:
        st.caption(str(e))


def delete(info: RunInfo, read_only: bool) -> None:
    target = info.run_id
    deps = registry().dependents(target)
    if deps:
        st.warning(
            f"{len(deps)} classifier run(s) took their encoder from this run: {', '.join(deps)}. "
            "They keep their own weights, but lose the link."
        )
    sure = st.checkbox(
        "I understand this deletes the run folder" + (" and unlinks them" if deps else ""),
        key=f"cmp_sure_{target}",
        disabled=read_only,
    )
    if st.button("Delete", type="primary", disabled=read_only or not sure, icon=":material/delete:"):
        try:
            registry().delete(target, force=True)
            st.toast(f"Deleted {target}")
            st.rerun()
        except RunError as e:
            st.error(str(e))
