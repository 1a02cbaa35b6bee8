"""Report C's view: four autoencoders and four classifiers with early stopping."""

from __future__ import annotations

from ...stats import difference, pct, points, signed_mse, verdict
from ..catalog import Study
from ..extras import Extras
from ..plan import StudyPlan, _best
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
    fmt_est,
    fmt_mse,
    pca_at,
    test_value,
)


def _epochs(rs, key: str) -> str:
    """The epochs of the finished runs, e.g. '12, 15, 15'."""
    vals = [str(_best(r, "epoch") if key == "best" else r.epochs_done) for r in rs if r.finished]
    return ", ".join(vals) or "–"


# C: early stopping
def _view_c(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    aes = [t for t in study.runs if t.model.kind == "conv_ae"]
    clfs = [t for t in study.runs if t.model.kind == "classifier"]
    ae_test = {t.key: cell(plan.by(t.key), lambda r: test_value(r, "loss")) for t in aes}
    ae_rows = [
        {
            "autoencoder": t.label,
            "runs": _status_text(plan.by(t.key)),
            "epochs run": _epochs(plan.by(t.key), "run"),
            "selected epoch": _epochs(plan.by(t.key), "best"),
            "held-out MSE, selected": fmt_est(cell(plan.by(t.key), lambda r: _best(r, "val_loss")), fmt_mse),
            "test MSE, selected": fmt_est(ae_test[t.key], fmt_mse),
            "PCA, same n (test)": fmt_mse(pca_at(ex, t.model)),
        }
        for t in aes
    ]
    v.tables.append(
        Table("Autoencoders (report C ranks AE 4 best, AE 3 worst; no MSE given)", ae_rows, SELECTION_NOTE)
    )
    rows = []
    for t in clfs:
        rs, rep = plan.by(t.key), t.report
        rows.append(
            {
                "classifier": t.label,
                "runs": _status_text(rs),
                "selected epoch (report)": f"{_epochs(rs, 'best')} ({rep['best_epoch']})",
                "train acc (report)": beside(rs, lambda r: _best(r, "train_acc"), pct, rep["train_acc"]),
                "held-out acc (report, on test)": beside(
                    rs, lambda r: _best(r, "val_acc"), pct, rep["val_acc"]
                ),
                "held-out loss (report)": beside(
                    rs, lambda r: _best(r, "val_loss"), fmt_mse, rep["val_loss"]
                ),
                "test acc, selected": fmt_est(cell(rs, lambda r: test_value(r, "acc")), pct),
            }
        )
    v.tables.append(
        Table(
            "Classifiers at the selected epoch (lowest held-out loss): ours (report's, at its best epoch)",
            rows,
            SELECTION_NOTE,
        )
    )
    firsts = [plan.by(t.key)[0] for t in clfs]
    if any(r.history for r in firsts):
        v.figures.append(
            ("Classifiers: held-out accuracy (seed 0)", _curves(firsts, "acc", None, show_train=False))
        )
    ae_first = [plan.by(t.key)[0] for t in aes]
    if any(r.history for r in ae_first):
        v.figures.append(
            ("Autoencoders: held-out MSE (seed 0)", _curves(ae_first, "loss", None, show_train=False))
        )
    v.reading += _caveat(plan, "54,000 images and up to 15 (autoencoders) / 40 (classifiers) epochs")
    v.reading += _ae_ranking(plan, aes, ae_test)
    for t in clfs:
        m = cell(plan.by(t.key), lambda r: _best(r, "val_acc"))
        if m is not None:
            v.reading.append(
                f"{t.label}: held-out accuracy at the selected epoch {compare(m, t.report['val_acc'], pct=True)}"
                f" (the report's is on the test set, at its best epoch {t.report['best_epoch']})."
            )
    c8 = [test_value(r, "acc") for r in plan.by("c8") if r.finished]
    others = [test_value(r, "acc") for t in clfs if t.key != "c8" for r in plan.by(t.key) if r.finished]
    d = difference(others, c8)
    if d is not None and c8:
        v.reading.append(
            "Test accuracy of the trained encoders (C5–C7 pooled) − the frozen one (C8): "
            f"{verdict(d, points)} (report: about 11 points: C8 under-fits)."
        )
    return _nothing(v, plan)


def _ae_ranking(plan: StudyPlan, aes, ae_test: dict) -> list[str]:
    """The autoencoders ranked by test MSE, and whether the best and the worst are told apart by the CI."""
    have = sorted((k for k in ae_test if ae_test[k] is not None), key=lambda k: ae_test[k].mean)
    if len(have) < 2:
        return []
    names = {t.key: t.label.split(" (")[0] for t in aes}
    losses = {k: [test_value(r, "loss") for r in plan.by(k) if r.finished] for k in have}
    best = verdict(difference(losses[have[1]], losses[have[0]]), signed_mse, "ahead", "behind")
    worst = verdict(difference(losses[have[-1]], losses[have[-2]]), signed_mse, "behind", "ahead")
    ranking = " < ".join(f"{names[k]} {ae_test[k].mean:.4f}" for k in have)
    return [
        f"Autoencoders by test MSE (selected epoch, mean over seeds): {ranking}. Report C: AE 4 best, AE 3 "
        f"worst. Ours: {names[have[0]]} first, against {names[have[1]]} {best}; {names[have[-1]]} last, "
        f"against {names[have[-2]]} {worst}."
    ]
