"""The label-efficiency view (beyond the reports): test accuracy against the fraction of labels used."""

from __future__ import annotations

from ..catalog import LABEL_FRACTIONS, Study
from ..extras import Extras
from ..plan import StudyPlan
from .common import LOST_CLASS_WHY, StudyView, Table, _caveat, _nothing, fmt_acc, loses_a_class, mean_std


# Beyond: label efficiency
def _view_label(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import sweep_figure

    v = StudyView()
    n_all = round(0.9 * (plan.limit or 60000))  # what the held-out validation split leaves to train on
    stats: dict[str, list] = {"pre": [], "rnd": []}
    rows = []
    for f in LABEL_FRACTIONS:
        row = {"labels": f"{f:.0%} ({max(10, round(n_all * f)):,} images)"}
        both = []
        for arm, name in (("pre", "pretrained"), ("rnd", "random init")):
            rs = plan.by(f"{arm}-f{f:g}")
            both += rs
            m, sd, k = mean_std([ex.tests[r.run_id]["test_accuracy"] for r in rs if r.run_id in ex.tests])
            stats[arm].append((m, sd, k))
            row[name] = fmt_acc(m, sd)
        pm, rm = stats["pre"][-1][0], stats["rnd"][-1][0]
        row["pre-training gain"] = "–" if pm is None or rm is None else f"{100 * (pm - rm):+.2f} pts"
        row["runs done"] = f"{sum(r.finished for r in both)}/{len(both)}"
        rows.append(row)
    series = [
        {
            "name": "pretrained encoder",
            "y": [s[0] for s in stats["pre"]],
            "err": [s[1] for s in stats["pre"]],
        },
        {"name": "random init", "y": [s[0] for s in stats["rnd"]], "err": [s[1] for s in stats["rnd"]]},
    ]
    v.figures.append(
        (
            "Accuracy against the fraction of training labels (mean ± std over seeds)",
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
        Table("Test-set accuracy of the saved (lowest held-out loss) epoch, mean ± std over seeds", rows)
    )
    v.reading += _caveat(plan, "54,000 images and 20–100 epochs")
    gains = []
    for f, p, r in zip(LABEL_FRACTIONS, stats["pre"], stats["rnd"]):
        if p[0] is None or r[0] is None:
            continue
        d = 100 * (p[0] - r[0])
        spread = 100 * max(p[1] or 0, r[1] or 0)
        verdict = (
            "pre-training helps"
            if d > max(0.5, spread)
            else "pre-training hurts"
            if d < -max(0.5, spread)
            else "no clear difference"
        )
        gains.append((f, d, verdict))
        v.reading.append(
            f"{f:.0%} of the labels: pretrained {fmt_acc(p[0], p[1])} vs random {fmt_acc(r[0], r[1])} "
            f"({d:+.2f} points): {verdict}"
            + (" (one seed: no spread to compare with)." if min(p[2], r[2]) < 2 else ".")
        )
    if len(gains) >= 2:
        (f0, d0, _), (f1, d1, last) = gains[0], gains[-1]
        shrinks = d0 > d1 and d0 > 0.5
        at_100 = (
            ""
            if f1 != 1
            else " At 100% there is no clear difference, as report A found."
            if last == "no clear difference"
            else " Report A found no difference at 100%."
        )
        v.reading.append(
            f"The gain goes from {d0:+.2f} points at {f0:.0%} to {d1:+.2f} at {f1:.0%}"
            + (", shrinking as the labels grow." if shrinks else ".")
            + at_100
        )
    v.reading += _lost_classes(plan, ex)
    return _nothing(v, plan)


def _lost_classes(plan: StudyPlan, ex: Extras) -> list[str]:
    """How many runs of each arm never predict some class, and the gain among the runs that predict all."""
    lost: dict[str, list[int]] = {"pre": [0, 0], "rnd": [0, 0]}  # arm -> [runs losing a class, runs]
    healthy: dict[str, dict[float, list[float]]] = {"pre": {}, "rnd": {}}
    for f in LABEL_FRACTIONS:
        for arm in lost:
            for r in plan.by(f"{arm}-f{f:g}"):
                if r.run_id not in ex.tests:
                    continue
                dead = loses_a_class(r.run_id, ex.tests)
                lost[arm][0] += dead
                lost[arm][1] += 1
                if not dead:
                    healthy[arm].setdefault(f, []).append(ex.tests[r.run_id]["test_accuracy"])
    if not lost["rnd"][0] + lost["pre"][0]:
        runs = lost["rnd"][1] + lost["pre"][1]
        return [f"All {runs} runs predict every class on the test set."] if runs else []
    lines = [
        f"{lost['rnd'][0]} of {lost['rnd'][1]} random-init runs and {lost['pre'][0]} of {lost['pre'][1]} "
        f"pretrained runs never predict at least one class: {LOST_CLASS_WHY}."
    ]
    both = [f for f in LABEL_FRACTIONS if healthy["pre"].get(f) and healthy["rnd"].get(f)]
    for f in both:
        (pm, psd, pk), (rm, rsd, rk) = (mean_std(healthy[arm][f]) for arm in ("pre", "rnd"))
        lines.append(
            f"Among the runs that predict every class, {f:.0%} of the labels: pretrained {fmt_acc(pm, psd)} "
            f"({pk} run{'s' * (pk != 1)}) vs random {fmt_acc(rm, rsd)} ({rk} run{'s' * (rk != 1)}), "
            f"{100 * (pm - rm):+.2f} points."
        )
    return lines
