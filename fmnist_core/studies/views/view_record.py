"""The classifier record's view: test accuracy against the wall-clock training time each run recorded, and
the machine it was timed on; then what each ingredient of the 2-minute record buys (the record without it,
over seeds) and whether an encoder pre-trained as a good autoencoder helps."""

from __future__ import annotations

from ...stats import difference, pct, points, verdict
from ..catalog import RECORD_WITHOUT, Study
from ..extras import Extras
from ..plan import StudyPlan, _best
from .common import (
    SELECTION_NOTE,
    StudyView,
    Table,
    _curves,
    _nothing,
    _status_text,
    cell,
    counted,
    fmt_est,
    held_out,
    test_value,
)

BUDGETED = ("10min", "2min")  # the record runs themselves; the other runs ask what an ingredient buys
ARMS = tuple(f"2min-{key}" for key, *_ in RECORD_WITHOUT) + ("2min-pretrained",)


def _minutes(r) -> float | None:
    """The run's training and validation time, wall clock, in minutes (None: not recorded)."""
    s = r.info.summary.get("train_seconds") if r.finished and r.info is not None else None
    return None if not isinstance(s, (int, float)) else s / 60


def _view_record(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    rows = []
    for t in (study.template(k) for k in BUDGETED):
        r = plan.by(t.key)[0]
        acc, minutes = test_value(r, "acc"), _minutes(r)
        best = _best(r, "val_acc") if r.finished else None
        budget = study.numbers["minutes"][t.key]
        rows.append(
            {
                "classifier": t.label,
                "test acc, selected": "–" if acc is None else pct(acc),
                "held-out acc, selected": "–" if best is None else pct(best),
                "training time": "–" if minutes is None else f"{minutes:.1f} of {budget} min",
                "machine": "–" if r.info is None else str(r.info.config.get("device", "–")),
            }
        )
    v.tables.append(Table("Test accuracy against training time", rows, SELECTION_NOTE))
    firsts = [plan.by(k)[0] for k in BUDGETED]
    if any(r.history for r in firsts):
        v.figures.append(("Accuracy, train dashed, held-out solid (seed 0)", _curves(firsts, "acc", None)))
    for t, r in zip((study.template(k) for k in BUDGETED), firsts):
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
    _ingredients(study, plan, v)
    return _nothing(v, plan)


def _acc(r) -> float | None:
    return test_value(r, "acc")


def _ingredients(study: Study, plan: StudyPlan, v: StudyView) -> None:
    """The 2-minute record against itself without each ingredient (and with a pre-trained encoder): test
    accuracy over seeds, the difference with Welch's interval, and the ingredients ranked by what they buy."""
    base = [_acc(r) for r in counted(plan.by("2min"))]
    rows, found = [], []
    for key in ("2min", *ARMS):
        t, runs = study.template(key), plan.by(key)
        d = None if key == "2min" else difference([_acc(r) for r in counted(runs)], base)
        rows.append(
            {
                # the table's title says which record: its rows name only what each one takes out
                "classifier": "the 2-minute record"
                if key == "2min"
                else t.label.removeprefix("2-minute record").lstrip(", "),
                "runs": _status_text(runs),
                "test acc, selected": fmt_est(cell(runs, _acc), pct),
                "against the record": "" if key == "2min" else verdict(d, points),
            }
        )
        if d is not None and key != "2min-pretrained":
            found.append((d.mean, f"{t.label.removeprefix('2-minute record ')}: {verdict(d, points)}"))
    v.tables.append(
        Table(
            "What each ingredient of the 2-minute record buys (test accuracy, 15 epochs)",
            rows,
            SELECTION_NOTE,
        )
    )
    if found:
        found.sort()
        v.reading.append(
            "Each ingredient, by what the 2-minute record loses without it (test accuracy, largest first):"
        )
        v.reading += [f"{i}. {text}" for i, (_, text) in enumerate(found, 1)]
    d = difference([_acc(r) for r in counted(plan.by("2min-pretrained"))], base)
    if d is not None:
        v.reading.append(
            "An encoder pre-trained as beyond PCA's n=128 autoencoder (the same layout), then trained with the "
            f"head: {verdict(d, points)} against a random start."
        )
