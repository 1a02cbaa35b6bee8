"""The classifier record's view: test accuracy against the wall-clock training time each run recorded, and
the machine it was timed on."""

from __future__ import annotations

from ...stats import pct
from ..catalog import Study
from ..extras import Extras
from ..plan import StudyPlan, _best
from .common import SELECTION_NOTE, StudyView, Table, _curves, _nothing, _status_text, held_out, test_value


def _minutes(r) -> float | None:
    """The run's training and validation time, wall clock, in minutes (None: not recorded)."""
    s = r.info.summary.get("train_seconds") if r.finished and r.info is not None else None
    return None if not isinstance(s, (int, float)) else s / 60


def _view_record(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    rows = []
    for t in study.runs:
        r = plan.by(t.key)[0]
        acc, minutes = test_value(r, "acc"), _minutes(r)
        best = _best(r, "val_acc") if r.finished else None
        budget = study.numbers["minutes"][t.key]
        rows.append(
            {
                "classifier": t.label,
                "run": _status_text([r]),
                "test acc, selected": "–" if acc is None else pct(acc),
                "held-out acc, selected": "–" if best is None else pct(best),
                "training time": "–" if minutes is None else f"{minutes:.1f} min (budget {budget})",
                "machine": "–" if r.info is None else str(r.info.config.get("device", "–")),
            }
        )
    v.tables.append(Table("Test accuracy against training time", rows, SELECTION_NOTE))
    firsts = [plan.by(t.key)[0] for t in study.runs]
    if any(r.history for r in firsts):
        v.figures.append(("Accuracy, train dashed, held-out solid", _curves(firsts, "acc", None)))
    for t, r in zip(study.runs, firsts):
        acc, minutes = test_value(r, "acc"), _minutes(r)
        if not r.finished:
            continue
        if acc is None or minutes is None:  # a run from before test figures and times were recorded
            v.reading.append(f"{t.label}: finished, but its run records no test figure or training time.")
            continue
        budget, goal = study.numbers["minutes"][t.key], study.numbers["goals"].get(t.key)
        within = "within" if minutes <= budget else "over"
        aim = "" if goal is None else f"; the goal is {pct(goal)}, {'met' if acc >= goal else 'missed'}"
        v.reading.append(
            f"{t.label}: {pct(acc)} on test after {minutes:.1f} minutes of training ({within} its {budget}-"
            f"minute budget{aim}); held-out {pct(held_out(r, 'val_acc') or 0)} at the last epoch."
        )
    return _nothing(v, plan)
