"""Compare runs: a table of every run, overlaid curves, seed groups, pretrained vs random init."""

import pandas as pd
import streamlit as st

import app_support as ui
from fmnist_core.compare import (
    default_pair,
    random_init_twin,
    random_init_twin_spec,
    random_init_twins,
    run_rows,
    seed_groups,
)
from fmnist_core.dead_classes import lost_class_note, lost_classes_cell
from fmnist_core.health import NEVER_LEARNED, never_learned
from fmnist_core.plots import band_figure, color, curves_figure, line_figure
from fmnist_core.presets import REFERENCE_ACCURACY
from fmnist_core.selection import selected_on_label, val_name
from fmnist_core.settings import setting

ui.frame("compare")

# the table's column sets: each fits beside the sidebar at 1280 px, so no number is cut at the edge.
# The val columns are at the best (selected) epoch or the last, on the images of "selected on"; the test
# columns are the selected epoch's weights on the test set, read once after training.
VAL_HELP = "On the images in 'selected on' (loss: MSE for autoencoders, cross-entropy for classifiers)."
TEST_HELP = "The kept (best-epoch) weights on the test set, read once after training (older runs: none)."
SETTINGS = ["n", "p", "encoder", "optimizer", "lr", "batch", "seed", "train images", "precision"]
SETTING_COLUMNS = {  # column -> (section, field) of the settings schema
    "n": ("model", "latent_dim"),
    "p": ("model", "dropout"),
    "encoder": ("model", "encoder_run"),
    "optimizer": ("train", "optimizer"),
    "batch": ("train", "batch_size"),
    "seed": ("train", "seed"),
    "precision": ("train", "precision"),
}
VIEWS = {
    "results": [
        "name",
        "kind",
        "status",
        "selected on",
        "best epoch",
        "best val loss",
        "best val acc %",
        "test loss",
        "test acc %",
    ],
    "last epoch and seeds": [
        "name",
        "epochs",
        "final val loss",
        "final val acc %",
        "seeds",
        "val loss over seeds",
        "val acc over seeds",
        "s / epoch",
    ],
    "settings": ["name", *SETTINGS],
    "all": [
        "name",
        "kind",
        "status",
        *SETTINGS,
        "selected on",
        "epochs",
        "best epoch",
        "best val loss",
        "final val loss",
        "best val acc %",
        "final val acc %",
        "test loss",
        "test acc %",
        "test images",
        "seeds",
        "val acc over seeds",
        "val loss over seeds",
        "s / epoch",
        "created",
        "lost classes",
        "problem",
    ],
}


st.title("Compare runs")
all_runs = ui.registry().list_runs()
if not all_runs:
    st.info(
        "No runs yet. Train one on the **Train** page or run `make reference` to rebuild the shipped ones."
    )
    st.page_link(ui.PAGES["train"], label="Go to Train", icon=":material/model_training:")
    st.stop()

# -- the table ------------------------------------------------------------------------------
c1, c2 = st.columns([3, 2], gap="medium")
kinds = sorted({r.kind for r in all_runs})
chosen_kinds = c1.pills(
    "Kinds",
    kinds,
    selection_mode="multi",
    default=kinds,
    key="cmp_kinds",
    wrap=True,
    format_func=lambda k: ui.KIND_LABELS.get(k, k),
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
shown = [
    r
    for r in all_runs
    if r.kind in chosen_kinds
    and text.lower() in r.name.lower()
    and not (hide_bad and r.status in ("damaged", "failed"))
]
rows = run_rows(shown)
val = val_name(shown, short=True)  # "held-out", "test" or "val": the column headers say which


def pm(v, pct=False):
    if not v:
        return None
    m, s = v
    return f"{100 * m:.2f} ± {100 * s:.2f}%" if pct else f"{m:.4f} ± {s:.4f}"


table = pd.DataFrame(
    [
        {
            "name": r["name"],
            "kind": ui.KIND_LABELS.get(r["kind"], r["kind"]),
            "status": r["status"],
            "n": r["latent_dim"],
            "p": r["dropout"],
            "encoder": (r["encoder_run"] or "") + (" (frozen)" if r["freeze_encoder"] else ""),
            "optimizer": r["optimizer"],
            "lr": r["lr"],
            "batch": r["batch_size"],
            "seed": r["seed"],
            "train images": r["n_train"],
            "precision": r["precision"],
            "epochs": r["epochs_done"],
            "selected on": selected_on_label(info),
            "best epoch": r["best_epoch"],
            "best val loss": r["best_val_loss"],
            "final val loss": r["final_val_loss"],
            "best val acc %": None if r["best_val_acc"] is None else 100 * r["best_val_acc"],
            "final val acc %": None if r["final_val_acc"] is None else 100 * r["final_val_acc"],
            "test loss": r["test_loss"],
            "test acc %": None if r["test_acc"] is None else 100 * r["test_acc"],
            "test images": r["test_n"],
            "seeds": r["seeds_in_group"],
            "val acc over seeds": pm(r["group_val_acc"], True),
            "val loss over seeds": pm(r["group_val_loss"]),
            "s / epoch": r["seconds_per_epoch"],
            "created": r["created"],
            "lost classes": lost_classes_cell(info),
            "problem": r["damaged"] or (NEVER_LEARNED if never_learned(info.history) else None),
        }
        for r, info in zip(rows, shown)
    ],
    columns=VIEWS["all"],
)
# columns only some runs fill: added to any view when a shown run has something to say in them
flagged = [c for c in ("lost classes", "problem") if table[c].astype(bool).any()]
order = VIEWS[view] + ([] if view == "all" else flagged)
st.caption(
    f"{len(rows)} of {len(all_runs)} runs. Click column headers to sort; tick rows to plot them (with none "
    "ticked: your two newest runs, or with none of your own the reference pretrained classifier and its "
    "random-init twin)."
)
selection = st.dataframe(
    table,
    hide_index=True,
    on_select="rerun",
    selection_mode="multi-row",
    key="cmp_table",
    height=min(36 * (len(table) + 1) + 4, 400),
    column_order=order,
    placeholder="",
    column_config={
        # the settings' columns: their words from the settings schema
        **{
            col: st.column_config.Column(help=f"{setting(*where).label}: {setting(*where).help}")
            for col, where in SETTING_COLUMNS.items()
        },
        "selected on": st.column_config.TextColumn(
            help="The images that picked the epoch whose weights the run keeps: the fixed held-out split of "
            "the training set, or the test set (the reports' method, which picks the epoch on the very figure "
            "it reports). held-out (own split): a run from before the fixed split. –: the run does not say."
        ),
        "best val loss": st.column_config.NumberColumn(
            f"{val} loss, best", format="%.4f", help=f"At the best (selected) epoch. {VAL_HELP}"
        ),
        "final val loss": st.column_config.NumberColumn(
            f"{val} loss, last", format="%.4f", help=f"At the last epoch. {VAL_HELP}"
        ),
        "best val acc %": st.column_config.NumberColumn(
            f"{val} acc %, best", format="%.2f", help=f"At the best (selected) epoch. {VAL_HELP}"
        ),
        "final val acc %": st.column_config.NumberColumn(
            f"{val} acc %, last", format="%.2f", help=f"At the last epoch. {VAL_HELP}"
        ),
        "test loss": st.column_config.NumberColumn(format="%.4f", help=TEST_HELP + " MSE or cross-entropy."),
        "test acc %": st.column_config.NumberColumn(format="%.2f", help=TEST_HELP),
        "test images": st.column_config.NumberColumn(format="localized"),
        "val loss over seeds": st.column_config.TextColumn(
            f"{val} loss over seeds", help=f"Mean ± std of the last epoch's figure. {VAL_HELP}"
        ),
        "val acc over seeds": st.column_config.TextColumn(
            f"{val} acc over seeds", help=f"Mean ± std of the last epoch's figure. {VAL_HELP}"
        ),
        "s / epoch": st.column_config.NumberColumn(format="%.1f"),
        "train images": st.column_config.NumberColumn(format="localized"),
        "lr": st.column_config.NumberColumn(format="%g", help=setting("train", "lr").help),
        "lost classes": st.column_config.TextColumn(
            help="Classes predicted for no held-out image from that epoch to the last (from the per-epoch "
            "counts; runs trained before they were recorded show nothing). Tick the run for why."
        ),
    },
)
picked = [shown[i] for i in selection.selection.rows] if selection.selection.rows else default_pair(shown)
picked = [r for r in picked if r.history and not r.damaged]  # a damaged run's history may be anything

# one colour per run on the whole page: the plotted runs first, then the seed groups and the
# pretrained-vs-random pair
colors: dict[str, str] = {}


def run_color(run_id: str) -> str:
    return colors.setdefault(run_id, color(len(colors)))


def name_val_traces(fig, runs: dict):
    """Each run's solid curve named for the images it is on ("… · held-out", "… · test"), not "… · val".
    runs: the series' names -> their runs."""
    for t in fig.data:
        if t.name and t.name.endswith(" · val") and t.legendgroup in runs:
            t.name = f"{t.legendgroup} · {val_name([runs[t.legendgroup]], short=True)}"
    return fig


# -- curves ---------------------------------------------------------------------------------
st.subheader("Curves")
if not picked:
    st.info("The selected runs have no finished epoch yet (or are damaged: see their problem column).")
else:
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
    for r in picked:
        lost = lost_class_note(r)
        if lost:
            st.warning(f"**{r.name}**: {lost}", icon=":material/warning:")

# -- seed groups ----------------------------------------------------------------------------
st.subheader("Seeds")
groups = seed_groups(all_runs)
if not groups:
    st.caption(
        "Runs that differ only in their seed are grouped here with a mean line and a ± std band. "
        "Train the same configuration with two or more seeds (or the Studies page's multi-seed study A4) "
        "to see one."
    )
else:
    labels = [
        f"{g[0].name.rsplit('-s', 1)[0]} · {ui.KIND_LABELS.get(g[0].kind, g[0].kind)} · {len(g)} seeds"
        for g in groups
    ]
    chosen = st.multiselect(
        "Seed groups", range(len(groups)), default=[0], format_func=labels.__getitem__, wrap=True
    )
    seen = val_name([r for i in chosen for r in groups[i]], short=True)

    def metric_name(m: str) -> str:
        return m.replace("val_", f"{seen} ").replace("_", " ")

    metric = st.radio(
        "Metric",
        ["val_acc", "val_loss", "train_loss"],
        horizontal=True,
        format_func=metric_name,
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
    band.update_yaxes(title=metric_name(metric) + (" (%)" if metric.endswith("acc") else ""))
    st.plotly_chart(band, key="cmp_band")

# -- pretrained vs random init ----------------------------------------------------------------
st.subheader("Pretrained vs random init")
pretrained = [r for r in all_runs if r.kind == "classifier" and r.encoder_run and r.history and not r.damaged]
pretrained.sort(key=lambda r: not random_init_twins(r, all_runs))  # those with a twin first
if not pretrained:
    st.caption("Needs a classifier whose encoder was copied from an autoencoder run.")
else:
    run = pretrained[
        [r.run_id for r in pretrained].index(
            st.selectbox(
                "Classifier with a pretrained encoder",
                [r.run_id for r in pretrained],
                format_func=lambda i: next(ui.run_label(r) for r in pretrained if r.run_id == i),
                key="cmp_twin_pick",
            )
        )
    ]
    twin = random_init_twin(run, all_runs)
    if twin is None:
        st.info(
            "No random-init twin of this run yet: the same classifier, data order and seed, but with the "
            "encoder starting from random weights."
        )
        spec = random_init_twin_spec(run)
        if st.button("Train the random-init twin", icon=":material/play_arrow:"):
            job, new = ui.submit_job(spec, f"random-init twin of {run.name}")
            if job is not None:
                st.session_state["t_job"] = job.job_id
                st.success("Queued: watch it on the Train page." if new else "Already queued.")
                st.page_link(ui.PAGES["train"], label="Watch it train", icon=":material/model_training:")
    else:
        n = min(len(run.history), len(twin.history))
        pair = {f"pretrained ({run.name})": run, f"random init ({twin.name})": twin}
        c1, c2 = st.columns(2)
        twin_fig = curves_figure(
            [{"name": k, "history": r.history, "color": run_color(r.run_id)} for k, r in pair.items()],
            "acc",
            title=f"accuracy (solid: {val_name([run, twin])})",
        )
        c1.plotly_chart(name_val_traces(twin_fig, pair), key="cmp_twin_acc")
        diff = [100 * (run.history[i]["val_acc"] - twin.history[i]["val_acc"]) for i in range(n)]
        diff_fig = line_figure(
            list(range(1, n + 1)),
            {"pretrained − random init": diff},
            "epoch",
            f"{val_name([run, twin], short=True)} accuracy difference (points)",
            title="advantage of pre-training",
            zero_line=True,
        )
        diff_fig.update_traces(line_color=ui.NEUTRAL, marker_color=ui.NEUTRAL)  # not a run: no run's colour
        c2.plotly_chart(diff_fig, key="cmp_twin_diff")

        def lead(d):
            return f"ahead by {d:.2f} points" if d >= 0 else f"behind by {-d:.2f} points"

        st.caption(
            f"After epoch 1 the pretrained network is {lead(diff[0])}; after epoch {n}, {lead(diff[-1])}. "
            "Report A found that the random-init network starts lower but catches up to the same accuracy."
        )

# -- manage ---------------------------------------------------------------------------------
st.subheader("Manage a run")
target = st.selectbox(
    "Run",
    [r.run_id for r in all_runs],
    format_func=lambda i: next(f"{r.name} ({r.status})" for r in all_runs if r.run_id == i),
    key="cmp_manage",
)
info = next(r for r in all_runs if r.run_id == target)
read_only = ui.shipped(target)
if read_only:
    st.caption(
        "A run shipped with the lab: read-only here (rename and delete are off); download it, or train "
        "your own copy."
    )
c1, c2, c3 = st.columns(3)
with c1:
    new_name = st.text_input(
        "Display name", value=info.name, max_chars=80, key=f"cmp_name_{target}", disabled=read_only
    )
    if st.button("Rename", disabled=read_only or new_name.strip() == info.name):
        try:
            ui.registry().rename(target, new_name)
            st.rerun()
        except ui.RunError as e:
            st.error(str(e))
with c2:
    if info.damaged:
        st.caption(f"Damaged: {info.damaged}")
    else:
        try:
            st.download_button(
                "Download the run (.zip)",
                ui.registry().export_zip(target),
                file_name=f"{target}.zip",
                mime="application/zip",
                icon=":material/download:",
                on_click="ignore",
                help="Its config, its history as CSV and its weights.",
            )
        except ui.RunError as e:
            st.caption(str(e))
with c3:
    deps = ui.registry().dependents(target)
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
            ui.registry().delete(target, force=True)
            st.toast(f"Deleted {target}")
            st.rerun()
        except ui.RunError as e:
            st.error(str(e))
