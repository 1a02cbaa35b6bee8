"""Report D's view: the deep CNN against the MLP on the test set, class by class."""

from __future__ import annotations

import statistics

from ..catalog import Study
from ..extras import Extras
from ..plan import StudyPlan, _best
from .common import StudyView, Table, _caveat, _curves, _nothing, _status_text, mean_std


# D: deep CNN vs MLP
def _view_d(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...data import CLASS_NAMES

    v = StudyView()
    keys = [("accuracy", "test_accuracy"), ("macro_precision", "macro_precision"), ("macro_f1", "macro_f1")]
    rows, got = [], {}
    for t in study.runs:
        rs = plan.by(t.key)
        tests = [ex.tests[r.run_id] for r in rs if r.finished and r.run_id in ex.tests]
        row = {"model": t.label, "runs": _status_text(rs)}
        for rk, ok in keys:
            m = mean_std([x[ok] for x in tests])[0]
            row[f"{rk.replace('macro_', 'macro ').replace('f1', 'F1')} (report)"] = (
                f"{'–' if m is None else f'{m:.4f}'} ({t.report[rk]:.4f})"
            )
        row["macro recall"] = (
            "–" if not tests else f"{statistics.fmean(x['macro_recall'] for x in tests):.4f}"
        )
        row["best epoch"] = ", ".join(str(_best(r, "epoch")) for r in rs if r.history) or "–"
        rows.append(row)
        if tests:
            got[t.key] = tests[0]
    v.tables.append(
        Table(
            "Test set: scikit-learn classification report (macro averages), ours (report's)",
            rows,
            note="best epoch: the epoch of lowest loss on the held-out validation split, whose weights "
            "are evaluated here.",
        )
    )
    if got:
        per_class = []
        for name in CLASS_NAMES:
            row = {"class": name}
            for k, x in got.items():
                pc = x["per_class"][name]
                row[f"{k.upper()} precision"] = f"{pc['precision']:.3f}"
                row[f"{k.upper()} recall"] = f"{pc['recall']:.3f}"
                row[f"{k.upper()} F1"] = f"{pc['f1']:.3f}"
            per_class.append(row)
        v.tables.append(Table("Per class (seed 0)", per_class))
    firsts = [plan.by(t.key)[0] for t in study.runs]
    if any(r.history for r in firsts):
        v.figures.append(("Loss (train dashed, validation solid)", _curves(firsts, "loss", None)))
        v.figures.append(("Accuracy (train dashed, validation solid)", _curves(firsts, "acc", None)))
    v.reading += _caveat(plan, "54,000 training images and 10 epochs")
    if len(got) == 2:
        c, m = got["cnn"]["test_accuracy"], got["mlp"]["test_accuracy"]
        rc, rm = study.template("cnn").report["accuracy"], study.template("mlp").report["accuracy"]
        v.reading.append(
            f"Test accuracy: CNN {c:.4f} vs MLP {m:.4f} ({100 * (c - m):+.1f} points); report D: "
            f"{rc:.4f} vs {rm:.4f} ({100 * (rc - rm):+.1f} points)."
            + (" The CNN wins here too." if c > m else " Here the MLP is not behind.")
        )
        worst = min(CLASS_NAMES, key=lambda n: got["cnn"]["per_class"][n]["f1"])
        v.reading.append(
            f"Hardest class for the CNN by F1: {worst} ({got['cnn']['per_class'][worst]['f1']:.3f})."
        )
    cnn = next((r for r in plan.by("cnn") if r.finished), None)
    if cnn is not None:
        e = _best(cnn, "epoch")
        v.reading.append(
            f"The CNN's validation loss is lowest at epoch {e} of {cnn.epochs_done} (report: over-fits "
            f"after about epoch 4); the saved weights are that epoch's."
        )
    return _nothing(v, plan)
