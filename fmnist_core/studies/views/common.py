"""What every study view uses: the Table and StudyView types, number formatting, comparisons with the
report's numbers, run status text, the quick-version caveat and learning curves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...compare import mean_std  # noqa: F401  (re-exported for the views)
from ..plan import PlannedRun, StudyPlan


# -- results: tables, figures, readings ------------------------------------------------------
@dataclass
class Table:
    title: str
    rows: list[dict[str, str]]
    note: str = ""


@dataclass
class StudyView:
    """What the page (and the CLI) shows for a study: figures, tables, and a reading of them."""

    figures: list = field(default_factory=list)  # (caption, plotly Figure)
    tables: list[Table] = field(default_factory=list)
    reading: list[str] = field(default_factory=list)


def fmt_mse(v: float | None) -> str:
    return "–" if v is None else f"{v:.4f}"


def fmt_acc(v: float | None, std: float | None = None) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.2f}%" + (f" ± {100 * std:.2f}" if std is not None else "")


def compare(ours: float | None, report: float | None, pct: bool = False) -> str:
    """'ours 0.0312 vs report 0.031: about the same' (within 5% relative), or lower / higher by how much."""
    if ours is None or report is None:
        return ""
    f = fmt_acc if pct else fmt_mse
    rep = f"{100 * report:.1f}%" if pct else f"{report:g}"
    if pct:
        d = 100 * (ours - report)
        word = "about the same" if abs(d) < 0.3 else (f"{d:+.1f} points")
        return f"ours {f(ours)} vs report {rep}: {word}"
    ratio = ours / report if report else math.inf
    if 0.95 <= ratio <= 1.05:
        word = "about the same"
    elif ratio < 1:
        word = f"lower ({ratio:.2f}×)"
    else:
        word = f"higher ({ratio:.2f}×)"
    return f"ours {f(ours)} vs report {rep}: {word}"


def never_predicted(figures: dict) -> list[int]:
    """The classes a classifier never predicts on the test set (from its test figures' confusion matrix):
    with the ReLU the reports put before the softmax, a class whose logit is switched off for every image
    is never chosen (where all logits are 0, argmax picks class 0)."""
    cm = figures.get("confusion_matrix") or []
    return [j for j in range(len(cm)) if not any(row[j] for row in cm)]


LOST_CLASS_WHY = (
    "the ReLU before the softmax (as in the reports) has switched that class's logit off for every image, "
    "so its images count as errors (most of them as T-shirt/top, class 0, where all-zero logits tie): "
    "about 10 points of accuracy per lost class"
)


def loses_a_class(run_id: str | None, tests: dict[str, dict]) -> bool:
    """Whether a run with test figures never predicts some class (False without figures)."""
    return run_id in tests and bool(never_predicted(tests[run_id]))


def _status_text(rs: Sequence[PlannedRun]) -> str:
    done = sum(r.finished for r in rs)
    if done == len(rs):
        return f"{done}/{len(rs)}" if len(rs) > 1 else "done"
    running = [r for r in rs if r.status == "running"]
    if running and len(rs) == 1:
        r = running[0]
        return f"running ({r.epochs_done}/{r.spec.train.epochs})"
    return f"{done}/{len(rs)} done" if len(rs) > 1 else rs[0].status


def _caveat(plan: StudyPlan, full: str) -> list[str]:
    if not plan.overridden:
        return []
    parts = []
    if plan.limit:
        parts.append(f"the first {plan.limit:,} training images")
    if plan.epochs is not None:
        parts.append(f"{plan.epochs} epoch{'s' if plan.epochs != 1 else ''}")
    return [
        f"These runs use {' and '.join(parts)} (a quick version), so they are not comparable with "
        f"the report's {full}; the numbers below show the mechanics, not the result."
    ]


def _nothing(view: StudyView, plan: StudyPlan) -> StudyView:
    if not view.reading:
        view.reading.append("No finished runs yet: queue the missing runs to fill in this comparison.")
    return view


def _curves(runs: Sequence[PlannedRun], metric: str, title: str, reference_lines=(), show_train=True):
    from ...plots import curves_figure

    series = [{"name": r.label, "history": r.history} for r in runs if r.history]
    return curves_figure(series, metric, title=title, reference_lines=reference_lines, show_train=show_train)
