"""Report E's view: step-by-step tuning of the autoencoder, then classifiers on the tuned encoder."""

from __future__ import annotations

import math

from ...stats import difference, pct, signed_mse, verdict
from ..catalog import Study
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
    beside,
    cell,
    compare,
    counted,
    fmt_est,
    fmt_mse,
    held_out,
    test_value,
)


def _with_epochs(figure: str, rs) -> str:
    """'92.07% (13)': a test figure and the epoch whose weights each run it counts kept, in seed order."""
    kept = [
        r.info.summary.get("weights_epoch")
        for r in counted(rs)
        if r.info and test_value(r, "acc") is not None
    ]
    epochs = ", ".join(str(e) for e in kept if e is not None)
    return f"{figure} ({epochs})" if epochs else figure


# E: step-by-step tuning
def _view_e(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    aes = [t for t in study.runs if t.model.kind == "conv_ae"]
    clfs = [t for t in study.runs if t.model.kind == "classifier"]
    epoch = aes[0].train.epochs if plan.epochs is None else plan.epochs  # the report's: 30
    rows = []
    for t in aes:
        rs = plan.by(t.key)
        rows.append(
            {
                "model": t.label,
                "runs": _status_text(rs),
                f"train MSE, epoch {epoch} (report)": beside(
                    rs, lambda r: held_out(r, "train_loss", epoch), fmt_mse, t.report["final_train_loss"]
                ),
                f"held-out MSE, epoch {epoch} (report, on test)": beside(
                    rs, lambda r: held_out(r, "val_loss", epoch), fmt_mse, t.report["final_val_loss"]
                ),
                "test MSE, selected": fmt_est(cell(rs, lambda r: test_value(r, "loss")), fmt_mse),
                "PCA-64 (test)": fmt_mse(ex.pca.get(64)),
            }
        )
    v.tables.append(Table("Autoencoder, one change at a time", rows, SELECTION_NOTE))
    crow = []
    for t in clfs:
        rs = plan.by(t.key)
        crow.append(
            {
                "classifier": t.label,
                "runs": _status_text(rs),
                f"train acc, epoch {epoch} (report)": beside(
                    rs, lambda r: held_out(r, "train_acc", epoch), pct, t.report["final_train_acc"]
                ),
                f"held-out acc, epoch {epoch} (report, on test)": beside(
                    rs, lambda r: held_out(r, "val_acc", epoch), pct, t.report["final_val_acc"]
                ),
                # one column for both (a separate "selected epoch" column pushed the table off the page)
                "test acc (selected epochs)": _with_epochs(
                    fmt_est(cell(rs, lambda r: test_value(r, "acc")), pct), rs
                ),
            }
        )
    v.tables.append(Table("Classifiers on the tuned encoder", crow, SELECTION_NOTE))
    ae_first = [plan.by(t.key)[0] for t in aes]
    lines = [(f"PCA-64: {ex.pca[64]:.4f}", ex.pca[64])] if 64 in ex.pca else []
    if any(r.history for r in ae_first):
        v.figures.append(
            (
                "Autoencoders: held-out MSE per epoch (seed 0)",
                _curves(ae_first, "loss", None, lines, show_train=False),
            )
        )
    c_first = [plan.by(t.key)[0] for t in clfs]
    if any(r.history for r in c_first):
        v.figures.append(
            ("Classifiers: loss, train dashed, held-out solid (seed 0)", _curves(c_first, "loss", None))
        )
    v.reading += _caveat(plan, "54,000 images and 30 epochs")
    v.reading += _steps(plan, aes)
    for t in clfs:
        m = cell(plan.by(t.key), lambda r: held_out(r, "val_acc", epoch))
        if m is None:
            continue
        over = cell(plan.by(t.key), _ends_above_minimum)
        v.reading.append(
            f"{t.label}: held-out accuracy at epoch {epoch} {compare(m, t.report['final_val_acc'], pct=True)}"
            f" (the report's on the test set)"
            + ("" if over is None else f"; held-out loss ends {over.mean:.2f}× its minimum")
            + _overfit_word(over)
        )
    return _nothing(v, plan)


def _ends_above_minimum(r) -> float | None:
    """How far the last held-out loss is above the lowest (1.0: still improving); None if a loss is null."""
    losses = [x.get("val_loss") for x in r.history]
    if not losses or any(v is None or not math.isfinite(v) for v in losses):
        return None
    return losses[-1] / min(losses)


def _overfit_word(over) -> str:
    if over is None:
        return "."
    return (
        " — it over-fits."
        if over.mean > 1.2
        else " — still improving at the last epoch."
        if over.mean == 1
        else "."
    )


def _steps(plan: StudyPlan, aes) -> list[str]:
    """Each change's effect on the test MSE (Welch's interval: each step is a different network) beside the
    direction the report found at its final epoch."""
    lines = []
    for a, b in zip(aes, aes[1:]):
        d = difference(
            [test_value(r, "loss") for r in plan.by(b.key) if r.finished],
            [test_value(r, "loss") for r in plan.by(a.key) if r.finished],
        )
        if d is None:
            continue
        rep = b.report["final_val_loss"] / a.report["final_val_loss"] - 1
        agree = (
            ""
            if not d.excludes_zero
            else " — same direction as the report."
            if (d.mean < 0) == (rep < 0)
            else " — the opposite of the report."
        )
        lines.append(f"{b.label}: test MSE {verdict(d, signed_mse)} (report {rep:+.0%}){agree}")
    return lines
