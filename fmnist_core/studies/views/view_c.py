"""Report C's view: four autoencoders and four classifiers with early stopping."""

from __future__ import annotations

import statistics

from ..catalog import Study
from ..extras import Extras
from ..plan import StudyPlan, _best
from .common import (
    StudyView,
    Table,
    _caveat,
    _curves,
    _nothing,
    _status_text,
    compare,
    fmt_acc,
    fmt_mse,
    mean_std,
)


# C: early stopping
def _view_c(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    aes = [t for t in study.runs if t.model.kind == "conv_ae"]
    clfs = [t for t in study.runs if t.model.kind == "classifier"]
    ae_rows, ae_mse = [], {}
    for t in aes:
        r = plan.by(t.key)[0]
        m = _best(r, "val_loss") if r.finished else None
        if m is not None:
            ae_mse[t.key] = m
        ae_rows.append(
            {
                "autoencoder": t.label,
                "run": _status_text([r]),
                "epochs run": str(r.epochs_done) if r.history else "–",
                "best epoch": str(_best(r, "epoch")) if r.history else "–",
                "best val MSE": fmt_mse(_best(r, "val_loss")),
                "PCA, same n (linear)": fmt_mse(ex.pca.get(t.model.latent_dim)),
            }
        )
    v.tables.append(Table("Autoencoders (report C ranks AE 4 best, AE 3 worst; no MSE given)", ae_rows))
    rows = []
    for t in clfs:
        rs = [r for r in plan.by(t.key) if r.finished]
        rep = t.report

        def pair(key, pct):
            m = mean_std([_best(r, key) for r in rs])[0]
            f = fmt_acc if pct else fmt_mse
            return f"{f(m)} ({f(rep[key]) if pct else format(rep[key], '.3f')})"

        be = mean_std([_best(r, "epoch") for r in rs])[0]
        rows.append(
            {
                "classifier": t.label,
                "runs": _status_text(plan.by(t.key)),
                "best epoch (report)": f"{'–' if be is None else f'{be:.0f}'} ({rep['best_epoch']})",
                "train loss (report)": pair("train_loss", False),
                "val loss (report)": pair("val_loss", False),
                "train acc (report)": pair("train_acc", True),
                "val acc (report)": pair("val_acc", True),
            }
        )
    v.tables.append(Table("Classifiers at their best epoch: ours (report's)", rows))
    firsts = [plan.by(t.key)[0] for t in clfs]
    if any(r.history for r in firsts):
        v.figures.append(("Classifiers: validation accuracy", _curves(firsts, "acc", None, show_train=False)))
    ae_first = [plan.by(t.key)[0] for t in aes]
    if any(r.history for r in ae_first):
        v.figures.append(("Autoencoders: validation MSE", _curves(ae_first, "loss", None, show_train=False)))
    v.reading += _caveat(plan, "60,000 images and up to 15 (autoencoders) / 40 (classifiers) epochs")
    if len(ae_mse) >= 2:
        order = sorted(ae_mse, key=ae_mse.get)
        names = {t.key: t.label.split(" (")[0] for t in aes}
        ranking = " < ".join(f"{names[k]} {ae_mse[k]:.4f}" for k in order)
        v.reading.append(
            f"Autoencoders by best validation MSE: {ranking}"
            + f". Report C: AE 4 best, AE 3 worst; ours: {names[order[0]]} best, {names[order[-1]]} worst"
            + (
                " — agrees."
                if order[0] == "ae4" and order[-1] == "ae3"
                else " — partly agrees."
                if order[0] == "ae4" or order[-1] == "ae3"
                else " — differs."
            )
        )
    accs = {}
    for t in clfs:
        rs = [r for r in plan.by(t.key) if r.finished]
        m = mean_std([_best(r, "val_acc") for r in rs])[0]
        if m is not None:
            accs[t.key] = m
            v.reading.append(
                f"{t.label}: validation accuracy at the best epoch "
                f"{compare(m, t.report['val_acc'], pct=True)}; "
                f"best epoch {_best(rs[0], 'epoch')} vs the report's {t.report['best_epoch']}."
            )
    if "c8" in accs and len(accs) >= 2:
        others = [accs[k] for k in accs if k != "c8"]
        d = 100 * (statistics.fmean(others) - accs["c8"])
        v.reading.append(
            f"The frozen encoder (C8) is {d:.1f} points below the trained ones (report: 11 points): "
            + ("it under-fits, as in the report." if d > 3 else "less of a gap than the report found.")
        )
    return _nothing(v, plan)
