"""The label-efficiency view (beyond the reports): test accuracy against the fraction of labels used,
pretrained vs random init, paired by seed."""

from __future__ import annotations

import math

from ...stats import paired_difference, pct, points, rate, verdict
from ..catalog import LABEL_FRACTIONS, Study
from ..extras import Extras
from ..plan import StudyPlan
from .common import (
    LOST_CLASS_WHY,
    SELECTION_NOTE,
    StudyView,
    Table,
    _caveat,
    _nothing,
    by_seed,
    cell,
    fmt_est,
    loses_a_class,
    test_value,
)

ARMS = (("pre", "pretrained"), ("rnd", "random init"))


def _view_label(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import sweep_figure

    v = StudyView()
    n_all = round(0.9 * (plan.limit or 60000))  # what the held-out validation split leaves to train on
    acc = lambda r: test_value(r, "acc", ex)  # noqa: E731
    cells = {arm: [cell(plan.by(f"{arm}-f{f:g}"), acc) for f in LABEL_FRACTIONS] for arm, _ in ARMS}
    gains = [
        paired_difference(by_seed(plan.by(f"pre-f{f:g}"), acc), by_seed(plan.by(f"rnd-f{f:g}"), acc))
        for f in LABEL_FRACTIONS
    ]
    rows = []
    for i, f in enumerate(LABEL_FRACTIONS):
        both = plan.by(f"pre-f{f:g}") + plan.by(f"rnd-f{f:g}")
        rows.append(
            {
                "labels": f"{f:.0%} ({max(10, round(n_all * f)):,} images)",
                "pretrained": fmt_est(cells["pre"][i], pct),
                "random init": fmt_est(cells["rnd"][i], pct),
                "pretrained − random (paired)": fmt_est(gains[i], points),
                "runs done": f"{sum(r.finished for r in both)}/{len(both)}",
            }
        )
    series = [
        {
            "name": name,
            "y": [None if e is None else e.mean for e in cells[arm]],
            "err": [None if e is None else e.half for e in cells[arm]],
        }
        for arm, name in ARMS
    ]
    v.figures.append(
        (
            "Test accuracy at the held-out-selected epoch against the fraction of training labels "
            "(mean ± 95% CI over seeds)",
            sweep_figure(
                [100 * f for f in LABEL_FRACTIONS],
                series,
                "training labels used (%, log scale)",
                "test-set accuracy",
                log_x=True,
                percent=True,
            ),
        )
    )
    v.tables.append(
        Table(
            "Test accuracy of the epoch with the lowest held-out loss, mean ± 95% CI over seeds",
            rows,
            "A run on a fraction f of the labels selects its epoch on the same fraction of the held-out "
            "images (60 at 1%), as someone with that many labels would set them aside. " + SELECTION_NOTE,
        )
    )
    v.reading += _caveat(plan, "54,000 images and 20–100 epochs")
    for f, d in zip(LABEL_FRACTIONS, gains):
        if d is not None:
            v.reading.append(
                f"{f:.0%} of the labels: pre-training is {verdict(d, points, 'better', 'worse')}."
            )
    v.reading += _label_multiples(cells, gains)
    v.reading += _lost_classes(plan, ex)
    return _nothing(v, plan)


def _fraction_reaching(target: float, means: list[float | None]) -> float | None:
    """The label fraction at which random init's mean accuracy reaches `target`, interpolated linearly in
    log(fraction) between the measured fractions; None outside the measured range."""
    pts = [(math.log(f), m) for f, m in zip(LABEL_FRACTIONS, means) if m is not None]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if min(y0, y1) <= target <= max(y0, y1) and y1 != y0:
            return math.exp(x0 + (target - y0) * (x1 - x0) / (y1 - y0))
    return None


def _label_multiples(cells: dict, gains: list) -> list[str]:
    """What pre-training is worth in labels, where its gain is more than seed noise: 'pretrained at 5% ≈
    random init at 9%'."""
    rnd = [None if e is None else e.mean for e in cells["rnd"]]
    parts = []
    for f, e, d in zip(LABEL_FRACTIONS, cells["pre"], gains):
        if e is None or f == 1.0 or d is None or not d.excludes_zero:
            continue
        x = _fraction_reaching(e.mean, rnd)
        if x is not None:
            parts.append(f"pretrained at {f:.0%} ≈ random init at {x:.1%} ({x / f:.1f}× the labels)")
    if not parts:
        return []
    return [
        "In labels (means only, interpolated on a log scale between the measured fractions): "
        + "; ".join(parts)
        + "."
    ]


def _lost_classes(plan: StudyPlan, ex: Extras) -> list[str]:
    """The rate at which each arm's runs never predict some class on the test set, with its CI."""
    lost: dict[str, list[int]] = {"pre": [0, 0], "rnd": [0, 0]}  # arm -> [runs losing a class, runs]
    for f in LABEL_FRACTIONS:
        for arm in lost:
            for r in plan.by(f"{arm}-f{f:g}"):
                if r.run_id in ex.tests:
                    lost[arm][0] += loses_a_class(r.run_id, ex.tests)
                    lost[arm][1] += 1
    runs = lost["rnd"][1] + lost["pre"][1]
    if not runs:
        return []
    if not lost["rnd"][0] + lost["pre"][0]:
        return [f"All {runs} classifiers predict every class on the test set."]
    arms = [f"{name} {rate(*lost[arm])}" for arm, name in ARMS if lost[arm][1]]
    return [f"Runs that never predict at least one class: {', '.join(arms)}: {LOST_CLASS_WHY}."]
