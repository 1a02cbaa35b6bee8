"""Report E's view: step-by-step tuning of the autoencoder, then classifiers on the tuned encoder."""

from __future__ import annotations

from ..catalog import Study
from ..extras import Extras
from ..plan import StudyPlan, _best, _last
from .common import StudyView, Table, _caveat, _curves, _nothing, _status_text, compare, fmt_acc, fmt_mse


# E: step-by-step tuning
def _view_e(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    aes = [t for t in study.runs if t.model.kind == "conv_ae"]
    clfs = [t for t in study.runs if t.model.kind == "classifier"]
    rows, got = [], []
    for t in aes:
        r = plan.by(t.key)[0]
        tr, va = (_last(r, "train_loss"), _last(r, "val_loss")) if r.finished else (None, None)
        rows.append(
            {
                "model": t.label,
                "run": _status_text([r]),
                "train MSE: ours (report)": f"{fmt_mse(tr)} ({t.report['final_train_loss']:.4f})",
                "val MSE: ours (report)": f"{fmt_mse(va)} ({t.report['final_val_loss']:.4f})",
                "PCA-64 (linear)": fmt_mse(ex.pca.get(64)),
            }
        )
        if va is not None:
            got.append((t, va))
    v.tables.append(Table("Autoencoder, one change at a time (final epoch)", rows))
    crow = []
    for t in clfs:
        r = plan.by(t.key)[0]
        row = {"classifier": t.label, "run": _status_text([r])}
        for key, what, f in (
            ("train_acc", "train acc", fmt_acc),
            ("val_acc", "val acc", fmt_acc),
            ("train_loss", "train loss", fmt_mse),
            ("val_loss", "val loss", fmt_mse),
        ):
            row[f"{what}: ours (report)"] = (
                f"{f(_last(r, key) if r.finished else None)} ({f(t.report['final_' + key])})"
            )
        crow.append(row)
    v.tables.append(Table("Classifiers on the tuned encoder (final epoch)", crow))
    ae_first = [plan.by(t.key)[0] for t in aes]
    lines = [(f"PCA-64: {ex.pca[64]:.4f}", ex.pca[64])] if 64 in ex.pca else []
    if any(r.history for r in ae_first):
        v.figures.append(
            (
                "Autoencoders: validation MSE per epoch",
                _curves(ae_first, "loss", None, lines, show_train=False),
            )
        )
    c_first = [plan.by(t.key)[0] for t in clfs]
    if any(r.history for r in c_first):
        v.figures.append(("Classifiers: loss (train dashed)", _curves(c_first, "loss", None)))
    v.reading += _caveat(plan, "60,000 images and 30 epochs")
    prev = None
    for t, va in got:
        if prev is not None:
            pt, pv = prev
            ours_d, rep_d = va / pv - 1, t.report["final_val_loss"] / pt.report["final_val_loss"] - 1
            v.reading.append(
                f"{t.label}: validation MSE {pv:.4f} → {va:.4f} ({ours_d:+.0%}); report "
                f"{pt.report['final_val_loss']:.4f} → {t.report['final_val_loss']:.4f} ({rep_d:+.0%})"
                + (
                    " — no clear change in ours."
                    if abs(ours_d) < 0.01
                    else " — same direction."
                    if (ours_d < 0) == (rep_d < 0)
                    else " — opposite direction."
                )
            )
        prev = (t, va)
    for t in clfs:
        r = plan.by(t.key)[0]
        if r.finished:
            h = r.history
            lo = min(x["val_loss"] for x in h)
            v.reading.append(
                f"{t.label}: final validation accuracy "
                f"{compare(h[-1]['val_acc'], t.report['final_val_acc'], pct=True)}; "
                f"validation loss ends {h[-1]['val_loss'] / lo:.2f}× its minimum "
                f"(epoch {_best(r, 'epoch')})"
                + (
                    " — it over-fits."
                    if h[-1]["val_loss"] > 1.2 * lo
                    else " — still improving at the last epoch."
                    if h[-1]["val_loss"] == lo
                    else "."
                )
            )
    return _nothing(v, plan)
