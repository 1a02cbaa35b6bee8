"""Report A's views: A1/A2 (AE sweeps against report A and PCA), A3 (three classifiers), A4 (seed
statistics), A5 (pretrained vs random init)."""

from __future__ import annotations

from collections.abc import Sequence

from ...config import latent_of
from ...stats import (
    difference,
    estimate,
    estimate_shift,
    paired_difference,
    pct,
    points,
    rate,
    signed_mse,
    verdict,
)
from ..catalog import Study
from ..extras import Extras
from ..plan import PlannedRun, StudyPlan, _at, _best
from .common import (
    LOST_CLASS_WHY,
    SELECTION_NOTE,
    StudyView,
    Table,
    _caveat,
    _curves,
    _nothing,
    _status_text,
    by_seed,
    cell,
    compare,
    counted,
    fmt_acc,
    fmt_est,
    fmt_mse,
    held_out,
    loses_a_class,
    mean_std,
    pca_at,
    ratio_to_report,
    test_value,
    train_gap,
)


# A1 / A2: the reconstruction error against n or p, against report A (its epoch) and PCA (test)
def _view_ae_sweep(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import sweep_figure

    v = StudyView()
    x = study.numbers["x"]
    mains = [t for t in study.runs if t.role == "main"]
    epoch = mains[0].train.epochs if plan.epochs is None else plan.epochs  # the report's: 20
    at_epoch = {t.key: cell(plan.by(t.key), lambda r: held_out(r, "val_loss", epoch)) for t in mains}
    tests = {t.key: cell(plan.by(t.key), lambda r: test_value(r, "loss")) for t in mains}
    rows = []
    for t in mains:
        m, rep = at_epoch[t.key], t.report.get("final_val_loss")
        rows.append(
            {
                x: f"{t.params[x]:g}",
                "runs": _status_text(plan.by(t.key)),
                f"held-out MSE, epoch {epoch}": fmt_est(m, fmt_mse),
                f"report, epoch {epoch} (on test)": fmt_mse(rep),
                "ours ÷ report (95% CI)": ratio_to_report(m, rep, label="") if m and rep else "",
                "test MSE, selected": fmt_est(tests[t.key], fmt_mse),
                "PCA, same n (test)": fmt_mse(pca_at(ex, t.model)),
            }
        )
    xs = [t.params[x] for t in mains]
    series = [
        {
            "name": "ours: test MSE, held-out-selected epoch",
            "y": [e and e.mean for e in tests.values()],
            "err": [e and e.half for e in tests.values()],
        },
        {
            "name": f"report A (epoch {epoch}, on test)",
            "y": [t.report.get("final_val_loss") for t in mains],
            "style": "report",
        },
    ]
    pca = [pca_at(ex, t.model) for t in mains]
    if any(v_ is not None for v_ in pca):
        series.append({"name": "PCA, same n (best linear)", "y": pca, "style": "baseline"})
    xlabel = "latent size n" if x == "n" else "dropout p"
    v.figures.append(
        (
            "Test MSE (mean ± 95% CI over seeds) vs report A and PCA",
            sweep_figure(xs, series, xlabel, "MSE", categorical=True),
        )
    )
    ns = sorted({n for t in mains if (n := latent_of(t.model))})
    lines = [(f"PCA-{n}: {ex.pca[n]:.4f}", ex.pca[n]) for n in ns if n in ex.pca] if len(ns) == 1 else []
    first = [plan.by(t.key)[0] for t in mains]
    if any(r.history for r in first):
        v.figures.append(
            (
                "Held-out MSE per epoch" + (" (seed 0)" if plan.seeds > 1 else ""),
                _curves(first, "loss", None, lines, show_train=False),
            )
        )
    v.tables.append(Table("Reconstruction error", rows, SELECTION_NOTE))
    v.reading += _caveat(plan, "54,000 images and 20 epochs")
    for t in mains:
        if (m := at_epoch[t.key]) is not None:
            v.reading.append(f"{t.label}, epoch {epoch}: {compare(m, t.report.get('final_val_loss'))}.")
    v.reading += _sweep_steps(mains, plan, x)
    v.reading += _against_pca(mains, tests, ex)
    return _nothing(v, plan)


def _sweep_steps(mains: Sequence, plan: StudyPlan, x: str) -> list[str]:
    """Each step of the sweep (test MSE, Welch's interval: different networks do not pair by seed)."""
    steps = []
    for a, b in zip(mains, mains[1:]):
        d = difference(
            [test_value(r, "loss") for r in plan.by(b.key) if r.finished],
            [test_value(r, "loss") for r in plan.by(a.key) if r.finished],
        )
        if d is not None:
            steps.append(f"{a.params[x]:g} → {b.params[x]:g}: {verdict(d, signed_mse)}")
    if not steps:
        return []
    a0, a1 = mains[0].report.get("final_val_loss"), mains[-1].report.get("final_val_loss")
    what = "n grows" if x == "n" else "p falls"
    return [
        f"Report A: MSE falls from {a0:g} to {a1:g} as {what}. Ours, test MSE step by step: "
        + "; ".join(steps)
        + "."
    ]


def _against_pca(mains: Sequence, tests: dict, ex: Extras) -> list[str]:
    """Each size against PCA with as many components (its test MSE minus PCA's, with the seeds' CI)."""
    parts = []
    for t in mains:
        e, base = tests[t.key], pca_at(ex, t.model)
        if e is None or base is None:
            continue
        d = estimate_shift(e, -base)
        parts.append(f"{t.label}: {e.mean / base:.2f}× PCA ({verdict(d, signed_mse, 'above', 'below')})")
    if not parts:
        return []
    return [
        "PCA with n components is the best any linear autoencoder with an n-number code can do (on the test "
        "images). " + "; ".join(parts) + "."
    ]


# A3: the three classifiers
def _jump_epoch(h: list[dict]) -> int | None:
    if len(h) < 2:
        return None
    gains = [(h[i]["val_acc"] - h[i - 1]["val_acc"], h[i]["epoch"]) for i in range(1, len(h))]
    return max(gains)[1]


CLF_NOTE = (
    "Epoch 30 is the report's. selected: the epoch of lowest held-out loss, whose weights the run keeps "
    "and whose test accuracy is reported. train − held-out: the over-fitting gap at the last epoch. "
    + SELECTION_NOTE
)


def _clf_row(label: str, rs: Sequence[PlannedRun], ex: Extras, epoch: int = 30) -> dict[str, str]:
    fin = [r for r in rs if r.finished and r.history]
    gap = cell(fin, train_gap)
    last = min(epoch, max((r.epochs_done for r in fin), default=epoch))
    return {
        "classifier": label,
        "runs": _status_text(rs),
        "held-out acc, epoch 1": fmt_est(cell(fin, lambda r: held_out(r, "val_acc", 1)), pct),
        f"held-out acc, epoch {last}": fmt_est(cell(fin, lambda r: held_out(r, "val_acc", epoch)), pct),
        "test acc, selected": fmt_est(cell(fin, lambda r: test_value(r, "acc", ex)), pct),
        "selected epoch": "–"
        if not fin
        else ", ".join(str(_best(r, "epoch")) for r in fin[:5]) + (", …" if len(fin) > 5 else ""),
        "train − held-out, last": fmt_est(gap, points),
    }


def _view_a3(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    mains = [t for t in study.runs if t.role == "main"]
    firsts = [plan.by(t.key)[0] for t in mains]
    if any(r.history for r in firsts):
        v.figures.append(("Loss, train dashed, held-out solid (seed 0)", _curves(firsts, "loss", None)))
        v.figures.append(("Accuracy, train dashed, held-out solid (seed 0)", _curves(firsts, "acc", None)))
    v.tables.append(
        Table("The three classifiers", [_clf_row(t.label, plan.by(t.key), ex) for t in mains], CLF_NOTE)
    )
    v.reading += _caveat(plan, "54,000 images and 30 epochs")
    gap = train_gap
    for t in mains:
        rs = [r for r in plan.by(t.key) if r.finished and len(r.history) >= 2]
        if not rs:
            continue
        first, last = (
            cell(rs, lambda r: held_out(r, "val_acc", 1)),
            cell(rs, lambda r: held_out(r, "val_acc")),
        )
        line = (
            f"**{t.label}** — report: {t.report['says']}. Ours (held-out, {len(rs)} seed{'s' * (len(rs) > 1)}): "
            f"{fmt_est(first, pct)} after epoch 1, {fmt_est(last, pct)} at epoch {rs[0].epochs_done}; "
            f"lowest held-out loss at epoch {', '.join(str(_best(r, 'epoch')) for r in rs)}; "
            f"train − held-out accuracy at the end {fmt_est(cell(rs, gap), points)}."
        )
        if t.key == "clf-improved-p0.2":
            line += f" Largest one-epoch gain at epoch {', '.join(str(_jump_epoch(r.history)) for r in rs)}."
        line += _dead_seeds(rs)
        if t.key == "clf-base" and last is not None:
            line += (
                " Report A's mean at epoch 30 (on test): "
                + compare(last, study.numbers["base_acc"], pct=True)
                + "."
            )
        v.reading.append(line)
    base = [gap(r) for r in plan.by("clf-base") if r.finished]
    raised = [gap(r) for r in plan.by("clf-improved-p0.2") if r.finished]
    d = difference(raised, base)
    if d is not None:
        v.reading.append(
            "Over-fitting (train − held-out accuracy at the end), improved encoder with p=0.2 − base: "
            f"{verdict(d, points, 'more', 'less')} (report: more for the improved encoder)."
        )
    return _nothing(v, plan)


def _dead_seeds(rs) -> str:
    """' Seeds 1, 2 stop predicting 4, 1 classes (...)' where seeds lost classes, from the per-epoch counts:
    with the reports' final ReLU a seed's mean is then no measure of the encoder."""
    from ...dead_classes import class_deaths

    lost = {r.seed: len(d.died) for r in rs if (d := class_deaths(r.history)) is not None and d.died}
    if not lost:
        return ""
    seeds = ", ".join(map(str, lost))
    return (
        f" Seed{'s' * (len(lost) > 1)} {seeds} stop{'s' * (len(lost) == 1)} predicting "
        f"{', '.join(map(str, lost.values()))} class(es) for good (the final ReLU switched their logits off): "
        "its mean and interval measure that, not the encoder."
    )


# A4: seed statistics
def _view_a4(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import band_figure

    v = StudyView()
    done = counted(plan.by("clf-base"))  # the seeds on the fixed split, where there are any
    rs = [r for r in plan.by("clf-base") if r.history and (r in done or not r.finished)]
    if rs:
        v.figures.append(
            (
                f"Held-out accuracy per epoch, mean ± 95% CI over {len(rs)} seed(s)",
                band_figure(
                    [{"name": "base classifier", "histories": [r.history for r in rs]}],
                    "val_acc",
                    ylabel="held-out acc",
                ),
            )
        )
    rows = []
    for epoch, (rm, rsd) in study.numbers.items():
        vals = [a for a in (_at(r, epoch, "val_acc") for r in done) if a is not None]
        m, sd, k = mean_std(vals)
        short = not vals and done and all(len(r.history) < epoch for r in done)  # the report's epoch only
        rows.append(
            {
                "figure": f"held-out acc, epoch {epoch}",
                "seeds": f"none: ours stop at epoch {max(len(r.history) for r in done)}" if short else str(k),
                "ours: mean ± std": fmt_acc(m, sd),
                "ours: mean ± 95% CI": fmt_est(estimate(vals), pct),
                "ours: min – max": f"{fmt_acc(min(vals))} – {fmt_acc(max(vals))}" if vals else "–",
                "report (15 seeds, on test)": fmt_acc(rm, rsd),
            }
        )
    tests = [a for a in (test_value(r, "acc", ex) for r in done) if a is not None]
    m, sd, k = mean_std(tests)
    rows.append(
        {
            "figure": "test acc, selected epoch",
            "seeds": str(k),
            "ours: mean ± std": fmt_acc(m, sd),
            "ours: mean ± 95% CI": fmt_est(estimate(tests), pct),
            "ours: min – max": f"{fmt_acc(min(tests))} – {fmt_acc(max(tests))}" if tests else "–",
            "report (15 seeds, on test)": "–",
        }
    )
    v.tables.append(
        Table(
            "Accuracy across seeds",
            rows,
            note="The report's figures are its validation accuracy at that epoch, on the test set; ours at the "
            "same epoch are on the held-out split. Epoch 50 needs runs of 50 epochs: set Epochs to 50 above "
            "(or `python -m fmnist_core study a4 --epochs 50`). " + SELECTION_NOTE,
        )
    )
    v.reading += _caveat(plan, "54,000 images and 30 epochs")
    lost = {r.run_id for r in done if loses_a_class(r.run_id, ex.tests)}
    for epoch, (rm, rsd) in study.numbers.items():
        for without in (False, True) if lost else (False,):
            vals = [
                a
                for r in done
                if not (without and r.run_id in lost) and (a := _at(r, epoch, "val_acc")) is not None
            ]
            m, sd, k = mean_std(vals)
            if m is None:
                continue
            line = f"Epoch {epoch}, {k} seed{'s' if k > 1 else ''}" + (
                " that predict every class" if without else ""
            )
            ours = fmt_est(estimate(vals), pct)
            line += f", held-out: {ours} (95% CI) against the report's {fmt_acc(rm, rsd)} (± std)"
            if sd is not None:
                line += f"; our seed-to-seed std {100 * sd:.2f} points vs the report's {100 * rsd:.1f}."
            v.reading.append(line)
    if lost:
        v.reading.append(
            f"{rate(len(lost), len(done))} seeds never predict at least one class: {LOST_CLASS_WHY}."
        )
    return _nothing(v, plan)


# A5: pretrained vs random init, with and without the final ReLU, paired by seed
A5_PAIRS = (
    ("with the reports' final ReLU", "clf-pretrained", "clf-random"),
    ("without the final ReLU", "clf-pretrained-norelu", "clf-random-norelu"),
)


def _view_a5(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import band_figure

    v = StudyView()
    arms = [(t.key, t.label) for t in study.runs if t.role == "main"]
    groups = [{"name": label, "histories": [r.history for r in plan.by(k) if r.history]} for k, label in arms]
    if any(g["histories"] for g in groups):
        v.figures.append(
            (
                "Held-out accuracy per epoch, mean ± 95% CI over seeds",
                band_figure(groups, "val_acc", ylabel="held-out acc"),
            )
        )
        v.figures.append(
            (
                "Held-out loss per epoch, mean ± 95% CI over seeds",
                band_figure(groups, "val_loss", ylabel="held-out loss"),
            )
        )
    v.tables.append(
        Table("Pretrained vs random init", [_clf_row(label, plan.by(k), ex) for k, label in arms], CLF_NOTE)
    )
    v.reading += _caveat(plan, "54,000 images and 30 epochs")
    for name, pre, rnd in A5_PAIRS:
        lines = _a5_pair(plan, ex, pre, rnd)
        if lines:
            v.reading.append(
                f"**{name[0].upper() + name[1:]}**, pretrained − random init, paired by seed: "
                + "; ".join(lines)
                + "."
            )
    counted = {
        label: [loses_a_class(r.run_id, ex.tests) for r in plan.by(k) if r.run_id in ex.tests]
        for k, label in arms
    }
    if any(any(c) for c in counted.values()):
        rates = ", ".join(f"{label} {rate(sum(c), len(c))}" for label, c in counted.items() if c)
        v.reading.append(f"Runs that never predict some class on the test set: {rates}: {LOST_CLASS_WHY}.")
    if v.reading:  # beside our figures, not in place of them
        v.reading.append(
            "Report A: the randomly initialised classifier starts lower but ends at the same accuracy "
            "(30 epochs, one run per arm)."
        )
    return _nothing(v, plan)


def _a5_pair(plan: StudyPlan, ex: Extras, pre: str, rnd: str) -> list[str]:
    """The paired differences of one pair of arms: after epoch 1, at epoch 30 (held-out), on test."""
    a, b = plan.by(pre), plan.by(rnd)
    if not any(r.finished for r in a) or not any(r.finished for r in b):
        return []
    figures = (
        ("after epoch 1 (held-out)", lambda r: held_out(r, "val_acc", 1)),
        ("at epoch 30 (held-out)", lambda r: held_out(r, "val_acc", 30)),
        ("test accuracy at the selected epoch", lambda r: test_value(r, "acc", ex)),
    )
    return [
        f"{what} {verdict(paired_difference(by_seed(a, get), by_seed(b, get)), points)}"
        for what, get in figures
    ]
