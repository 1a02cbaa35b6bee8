"""Report D's view: the deep CNN against the MLP on the test set, class by class."""

from __future__ import annotations

import statistics

from ...stats import difference, estimate, pct, points, verdict
from ..catalog import Study
from ..extras import Extras
from ..plan import StudyPlan, _best
from .common import StudyView, Table, _caveat, _curves, _nothing, _status_text, fmt_est, mean_std


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
            note="Mean over seeds. best epoch: the epoch of lowest loss on the held-out split, whose weights "
            "are evaluated here, once, on the test set.",
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
        v.tables.append(Table("Per class, test set (seed 0)", per_class))
    firsts = [plan.by(t.key)[0] for t in study.runs]
    if any(r.history for r in firsts):
        v.figures.append(("Loss, train dashed, held-out solid (seed 0)", _curves(firsts, "loss", None)))
        v.figures.append(("Accuracy, train dashed, held-out solid (seed 0)", _curves(firsts, "acc", None)))
    v.reading += _caveat(plan, "54,000 training images and 10 epochs")
    if len(got) == 2:
        acc = {
            k: [ex.tests[r.run_id]["test_accuracy"] for r in plan.by(k) if r.run_id in ex.tests] for k in got
        }
        rc, rm = study.template("cnn").report["accuracy"], study.template("mlp").report["accuracy"]
        v.reading.append(
            f"Test accuracy: CNN {fmt_est(estimate(acc['cnn']), pct)} vs MLP {fmt_est(estimate(acc['mlp']), pct)}"
            f" (95% CI over seeds): the CNN is {verdict(difference(acc['cnn'], acc['mlp']), points)}; report D: "
            f"{rc:.4f} vs {rm:.4f} ({100 * (rc - rm):+.1f} points, one run each)."
        )
        worst = min(CLASS_NAMES, key=lambda n: got["cnn"]["per_class"][n]["f1"])
        v.reading.append(
            f"Hardest class for the CNN by F1: {worst} ({got['cnn']['per_class'][worst]['f1']:.3f})."
        )
    cnn = next((r for r in plan.by("cnn") if r.finished), None)
    if cnn is not None:
        e = _best(cnn, "epoch")
        v.reading.append(
            f"The CNN's held-out loss (seed 0) is lowest at epoch {e} of {cnn.epochs_done} (report: over-fits "
            f"after about epoch 4); the saved weights are that epoch's."
        )
    return _nothing(v, plan)
