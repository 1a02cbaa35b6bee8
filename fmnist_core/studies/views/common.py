"""What every study view uses: the Table and StudyView types, number formatting, comparisons with the
report's numbers, run status text, the quick-version caveat and learning curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ...compare import mean_std  # noqa: F401  (re-exported for the views)
from ...dead_classes import never_predicted
from ...stats import Estimate, estimate, estimate_shift, mse, points, verdict
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
    return "–" if v is None else mse(v)


def fmt_acc(v: float | None, std: float | None = None) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.2f}%" + (f" ± {100 * std:.2f}" if std is not None else "")


def compare(ours: Estimate | None, report: float | None, pct: bool = False) -> str:
    """'ours 92.13% vs report 90.83%: higher by 1.30 pts (95% CI …)': our mean over seeds against a
    report's single figure, called a difference only where our interval leaves the report's figure out
    ('within seed noise' otherwise; with one seed there is no interval, so nothing is called).

    The report's figure is one run on the test set, so it carries seed noise of its own that our interval
    does not: a call here is the least a difference must pass, not proof of one."""
    if ours is None or report is None:
        return ""
    rep = f"{100 * report:.4g}%" if pct else f"{report:g}"
    head = f"ours {fmt_acc(ours.mean) if pct else fmt_mse(ours.mean)} vs report {rep}: "
    if pct:
        return head + verdict(estimate_shift(ours, -report), points)  # the lab's one way to call a difference
    if not report:
        return head + "the report's figure is 0"
    if ours.half is None:
        return head + f"{ratio_to_report(ours, report)} from one seed, no interval"
    called = not ours.low <= report <= ours.high  # type: ignore[operator]
    word = ("lower" if ours.mean < report else "higher") if called else "within seed noise"
    return head + f"{word}, {ratio_to_report(ours, report)}"


def ratio_to_report(ours: Estimate, report: float, label: str = "95% CI ") -> str:
    """'0.73× (95% CI 0.67–0.80×)': our mean and its interval as multiples of the report's figure (a table
    whose header names the interval passes label="")."""
    ratio = f"{ours.mean / report:.2f}×"
    if ours.half is None:
        return ratio
    return f"{ratio} ({label}{ours.low / report:.2f}–{ours.high / report:.2f}×)"  # type: ignore[operator]


# -- which figure: selected on what, at which epoch ------------------------------------------------
SELECTION_NOTE = (
    "held-out: the fixed 6,000 training images every run validates on (the same for every run and seed); "
    "test: the 10,000 test images, read once, for the weights of the epoch with the lowest held-out loss. "
    "± is the 95% confidence interval of the mean over seeds (Student's t); one seed has none."
)


def held_out(r: PlannedRun, key: str, epoch: int | None = None) -> float | None:
    """A finished run's held-out figure at `epoch` (its last where None or beyond its history)."""
    h = r.history if r.finished else []
    if not h:
        return None
    return (h[epoch - 1] if epoch is not None and epoch <= len(h) else h[-1]).get(key)


def test_value(r: PlannedRun, key: str, ex=None) -> float | None:
    """A finished run's test figure ("loss" or "acc") from its summary; a run from before the summary
    recorded it falls back to the study's test figures (accuracy only)."""
    if not r.finished or r.info is None:
        return None
    v = r.info.summary.get(f"test_{key}")
    if isinstance(v, (int, float)):
        return float(v)
    if key == "acc" and ex is not None and r.run_id in ex.tests:
        return ex.tests[r.run_id]["test_accuracy"]
    return None


def train_gap(r: PlannedRun) -> float | None:
    """Train − held-out accuracy at a finished run's last epoch: how much it over-fits."""
    tr, va = held_out(r, "train_acc"), held_out(r, "val_acc")
    return None if tr is None or va is None else tr - va


def pca_at(ex, model) -> float | None:
    """PCA's test MSE with as many components as the model's code (None: no code, or not computed)."""
    from ...config import latent_of

    n = latent_of(model)
    return None if n is None else ex.pca.get(n)


def counted(rs: Sequence[PlannedRun]) -> list[PlannedRun]:
    """The finished runs a figure counts: those on the fixed held-out split where there are any (a run from
    before it selected on other images, often the test set, and is never averaged with them), else the
    stale ones, which the page flags."""
    done = [r for r in rs if r.finished]
    return [r for r in done if not r.stale] or done


def by_seed(rs: Sequence[PlannedRun], get) -> dict[int, float | None]:
    """get(run) for each counted run, by seed (for paired differences)."""
    return {r.seed: get(r) for r in counted(rs)}


def cell(rs: Sequence[PlannedRun], get) -> Estimate | None:
    """Mean ± 95% CI of get(run) over the counted runs."""
    return estimate([get(r) for r in counted(rs)])


def fmt_est(e: Estimate | None, f) -> str:
    return "–" if e is None else e.fmt(f)


def beside(rs: Sequence[PlannedRun], get, f, report: float | None) -> str:
    """'0.0312 ± 0.0004 (0.0300)': ours over seeds, the report's figure in brackets."""
    return f"{fmt_est(cell(rs, get), f)} ({'–' if report is None else f(report)})"


def stale_line(plan: StudyPlan) -> list[str]:
    """Say so when a study is only partly re-trained on the fixed held-out split."""
    stale = plan.stale
    if not stale:
        return []
    return [
        f"**Partly re-trained:** {len(stale)} of {len(plan.runs)} runs are from before the fixed held-out "
        "split (they selected their epoch on the test set or on a seed's own split, and record no test "
        "figure of their own): their numbers are not comparable with the rest until they are re-trained."
    ]


LOST_CLASS_WHY = (
    "the ReLU before the softmax (as in the reports) has switched that class's logit off for every image, "
    "so its images count as errors (most of them as T-shirt/top, class 0, where all-zero logits tie): "
    "about 10 points of accuracy per lost class"
)


def loses_a_class(run_id: str | None, tests: dict[str, dict]) -> bool:
    """Whether a run with test figures never predicts some class (False without figures)."""
    return run_id in tests and bool(never_predicted(tests[run_id].get("confusion_matrix")))


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


def _curves(runs: Sequence[PlannedRun], metric: str, title: str | None, reference_lines=(), show_train=True):
    from ...plots import curves_figure

    series = [{"name": r.label, "history": r.history} for r in runs if r.history]
    return curves_figure(
        series,
        metric,
        title=title,
        reference_lines=reference_lines,
        show_train=show_train,
        val_label="held-out",
    )
