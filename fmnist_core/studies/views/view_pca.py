"""Beyond PCA's view: each step from the reports' autoencoder layout to a modern one, at n = 32, 64 and 128,
beside PCA with as many components; the levers ranked by what they bought."""

from __future__ import annotations

import statistics

from ...stats import Estimate, difference, signed_mse, verdict
from ..catalog import PCA_NS, PCA_STEPS, Study
from ..extras import Extras
from ..plan import StudyPlan
from .common import (
    SELECTION_NOTE,
    StudyView,
    Table,
    _caveat,
    _curves,
    _nothing,
    _status_text,
    cell,
    fmt_mse,
    test_value,
)


def _test_mse(r) -> float | None:
    return test_value(r, "loss")


def _with_pca(e: Estimate | None, pca: float | None) -> str:
    """'0.0058 ± 0.0002 (0.59×)'."""
    if e is None:
        return "–"
    return e.fmt(fmt_mse) + ("" if not pca else f" ({e.mean / pca:.2f}×)")


def _view_pca(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    rows = []
    for key, label, _, _ in PCA_STEPS:
        runs = [r for n in PCA_NS for r in plan.by(f"{key}-n{n}")]
        row = {
            "step": label,
            "runs": _status_text(runs),
        }  # one runs column: the table fits beside the sidebar
        for n in PCA_NS:
            row[f"n={n} (× PCA)"] = _with_pca(cell(plan.by(f"{key}-n{n}"), _test_mse), ex.pca.get(n))
        rows.append(row)
    rows.append(
        {"step": "PCA, same n", "runs": "", **{f"n={n} (× PCA)": fmt_mse(ex.pca.get(n)) for n in PCA_NS}}
    )
    title = "Test MSE at the selected epoch (lowest held-out MSE), × PCA at the same n, one change at a time"
    v.tables.append(Table(title, rows, SELECTION_NOTE))
    curves = [plan.by(f"{key}-n64")[0] for key, *_ in PCA_STEPS]
    if any(r.history for r in curves):
        lines = [(f"PCA-64: {ex.pca[64]:.4f}", ex.pca[64])] if 64 in ex.pca else []
        v.figures.append(
            (
                "n = 64: held-out MSE per epoch, each step (seed 0)",
                _curves(curves, "loss", None, lines, False),
            )
        )
    v.reading += _caveat(plan, "54,000 images and 10 epochs")
    v.reading += _goals(study, plan, ex)
    v.reading += _levers(plan)
    return _nothing(v, plan)


def _goals(study: Study, plan: StudyPlan, ex: Extras) -> list[str]:
    """The last step at each n against its goal and against PCA."""
    last = PCA_STEPS[-1][0]
    lines = []
    for n in PCA_NS:
        e = cell(plan.by(f"{last}-n{n}"), _test_mse)
        pca, goal = ex.pca.get(n), study.numbers["goals"][n]
        if e is None or pca is None:
            continue
        met = "meets" if e.mean <= goal else "misses"
        d = Estimate(e.mean - pca, e.half, e.n)
        against = (
            "one seed so far, no interval yet"
            if e.half is None
            else verdict(d, signed_mse, more="above PCA", less="below PCA")
        )
        lines.append(
            f"n = {n}: the modern layout reaches {e.fmt(fmt_mse)} on test, {e.mean / pca:.2f}× PCA-{n} "
            f"({fmt_mse(pca)}): {against}; it {met} the goal of {goal:.4f} in 10 epochs."
        )
    return lines


def _levers(plan: StudyPlan) -> list[str]:
    """Each change's effect as the ratio of test MSEs (after / before, averaged over n), largest first,
    with its difference at each n (Welch's interval: each step is a different network)."""
    found = []
    for (a, *_), (b, label, *_) in zip(PCA_STEPS, PCA_STEPS[1:]):
        ratios, notes = [], []
        for n in PCA_NS:
            after = [_test_mse(r) for r in plan.by(f"{b}-n{n}") if r.finished]
            before = [_test_mse(r) for r in plan.by(f"{a}-n{n}") if r.finished]
            d = difference(after, before)
            if d is None:
                continue
            ratios.append(statistics.mean(x for x in after if x) / statistics.mean(x for x in before if x))
            notes.append(f"n = {n} {verdict(d, signed_mse)}")
        if ratios:
            found.append(
                (
                    statistics.mean(ratios),
                    f"{label}: test MSE × {statistics.mean(ratios):.2f} ({'; '.join(notes)})",
                )
            )
    if not found:
        return []
    found.sort(key=lambda t: t[0])
    return ["The levers, largest first (test MSE after ÷ before the change, averaged over n):"] + [
        f"{i}. {text}" for i, (_, text) in enumerate(found, 1)
    ]
