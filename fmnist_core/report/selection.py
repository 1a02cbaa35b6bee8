"""A report on runs picked on Compare: the layout of a study's report (method, results, reading, appendix),
its "study" made of the runs themselves, one configuration each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..config import KIND_LABELS
from ..plots import color, curves_figure
from ..registry import RunInfo
from ..run_groups import best, seed_rows
from ..selection import figure_label, selected_on_label, val_name
from ..settings import LABELLED
from ..studies.catalog import DONE, Study, StudyRun
from ..studies.plan import PlannedRun, StudyPlan
from ..studies.views.common import SELECTION_NOTE, StudyView, Table
from .html import report_html

KIND = "selection"  # Study.report of a selection: the header says where its runs came from


def selection_plan(runs: Sequence[RunInfo]) -> StudyPlan:
    """The runs as a study of their own: one configuration per run, in the order given (damaged runs, whose
    config cannot be read, are left out)."""
    planned = []
    for info in runs:
        if info.damaged:
            continue
        spec = info.spec()
        template = StudyRun(info.run_id, info.name, spec.model, spec.train)
        status = "done" if info.status in DONE else info.status
        planned.append(PlannedRun(template, spec.train.seed, spec, status, info.run_id, info))
    study = Study(
        "selection",
        f"{len(planned)} runs compared",
        KIND,
        "How do these runs compare?",
        tuple(r.template for r in planned),
        view=KIND,
        about="Runs picked on the lab's Compare page; each is its own configuration.",
    )
    return StudyPlan(study, planned, seeds=1)


def _figures(runs: list[RunInfo]) -> list[tuple[str, object]]:
    with_history = [r for r in runs if r.history]
    if not with_history:
        return []
    seen = val_name(with_history)
    series = [{"name": r.name, "history": r.history, "color": color(i)} for i, r in enumerate(with_history)]
    out = [(f"Loss per epoch: training dashed, {seen} solid", curves_figure(series, "loss"))]
    labelled = [s for s, r in zip(series, with_history) if "val_acc" in r.history[0]]
    if labelled:
        out.append((f"Accuracy per epoch: training dashed, {seen} solid", curves_figure(labelled, "acc")))
    return out


def selection_view(plan: StudyPlan) -> StudyView:
    """The runs' figures as Compare shows them, their seed groups' means with CIs, curves, and the best."""
    runs = [r.info for r in plan.runs if r.info is not None]
    v = StudyView()
    rows = []
    for r in runs:
        s = r.summary
        rows.append(
            {
                "run": r.name,
                "kind": KIND_LABELS.get(r.kind, r.kind),
                "status": r.status.replace("_", " "),
                "selected on": selected_on_label(r),
                "best epoch": str(s.get("best_epoch", "–")),
                "figure": figure_label(r, digits=2) or "–",
            }
        )
    v.tables.append(Table("Each run: its one figure at the selected epoch", rows, SELECTION_NOTE))
    seeds = [{k: str(v) for k, v in row.items()} for row in seed_rows(runs)]
    if seeds:
        v.tables.append(Table("Runs that differ only in their seed: mean ± 95% CI", seeds, SELECTION_NOTE))
    v.figures += _figures(runs)
    for kind in sorted({r.kind for r in runs}):
        top = best(runs, kind)
        if top is not None:
            what = "accuracy" if kind in LABELLED else "loss"
            words = KIND_LABELS.get(kind, kind)
            v.reading.append(f"Best {words} on held-out {what}: {top.name} ({figure_label(top, digits=2)}).")
    tested = [r for r in runs if selected_on_label(r).startswith("test")]
    if tested:
        v.reading.append(
            f"{len(tested)} of the runs picked their epoch on the test set (the reports' method): their test "
            "figures are optimistic and are never ranked against the held-out ones."
        )
    return v


def selection_report(runs: Sequence[RunInfo], built: datetime | None = None) -> str:
    plan = selection_plan(runs)
    return report_html(plan.study, plan, selection_view(plan), built)
