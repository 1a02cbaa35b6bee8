"""Report A's views: A1/A2 (AE sweeps against report A and PCA), A3 (three classifiers), A4 (seed
statistics), A5 (pretrained vs random init)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..catalog import Study
from ..extras import Extras
from ..plan import PlannedRun, StudyPlan, _at, _best, _last
from .common import (
    LOST_CLASS_WHY,
    StudyView,
    Table,
    _caveat,
    _curves,
    _nothing,
    _status_text,
    compare,
    fmt_acc,
    fmt_mse,
    loses_a_class,
    mean_std,
)


# A1 / A2: final validation MSE against n or p, with the PCA line
def _view_ae_sweep(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import sweep_figure

    v = StudyView()
    x = study.numbers["x"]
    mains = [t for t in study.runs if t.role == "main"]
    ours, errs, rep, pca, rows = [], [], [], [], []
    for t in mains:
        rs = plan.by(t.key)
        m, sd, k = mean_std([_last(r, "val_loss") for r in rs if r.finished])
        n = t.model.latent_dim
        ours.append(m), errs.append(sd), rep.append(t.report.get("final_val_loss")), pca.append(ex.pca.get(n))
        rows.append(
            {
                x: f"{t.params[x]:g}",
                "runs": _status_text(rs),
                "ours: final val MSE": fmt_mse(m) + (f" ± {sd:.4f}" if sd else ""),
                "report": fmt_mse(t.report.get("final_val_loss")),
                "PCA, same n (linear)": fmt_mse(ex.pca.get(n)),
                "ours vs report": compare(m, t.report.get("final_val_loss")).split(": ")[-1] if m else "",
            }
        )
    xs = [t.params[x] for t in mains]
    series = [
        {"name": "ours (final val MSE)", "y": ours, "err": errs},
        {"name": "report A", "y": rep, "style": "report"},
    ]
    if any(v_ is not None for v_ in pca):
        series.append({"name": "PCA, same n (best linear)", "y": pca, "style": "baseline"})
    xlabel = "latent size n" if x == "n" else "dropout p"
    v.figures.append(
        (
            "Final validation MSE vs report A and PCA",
            sweep_figure(xs, series, xlabel, "validation MSE", categorical=True),
        )
    )
    ns = sorted({t.model.latent_dim for t in mains})
    lines = [(f"PCA-{n}: {ex.pca[n]:.4f}", ex.pca[n]) for n in ns if n in ex.pca] if len(ns) == 1 else []
    first = [plan.by(t.key)[0] for t in mains]
    if any(r.history for r in first):
        v.figures.append(
            (
                "Validation MSE per epoch" + (" (seed 0)" if plan.seeds > 1 else ""),
                _curves(first, "loss", None, lines, show_train=False),
            )
        )
    v.tables.append(Table("Final validation MSE (epoch 20 in the report)", rows))
    v.reading += _caveat(plan, "60,000 images and 20 epochs")
    for t, m in zip(mains, ours):
        if m is not None:
            v.reading.append(f"{t.label}: {compare(m, t.report.get('final_val_loss'))}.")
    have = [(t, m) for t, m in zip(mains, ours) if m is not None]
    if len(have) >= 2:
        vals = [m for _, m in have]
        falling = all(b <= a * 1.02 for a, b in zip(vals, vals[1:]))
        rep_first, rep_last = have[0][0].report["final_val_loss"], have[-1][0].report["final_val_loss"]
        what = "n grows" if x == "n" else "p falls"
        ratio = vals[-1] / vals[0]
        ours = (
            f"ours stays about level ({vals[0]:.4f} → {vals[-1]:.4f}), unlike the report."
            if ratio > 0.98
            else f"ours falls from {vals[0]:.4f} to {vals[-1]:.4f} ({ratio:.2f}×), "
            + ("falling (or level) at each step as in the report." if falling else "but not at every step.")
        )
        v.reading.append(f"Report A: MSE falls from {rep_first:g} to {rep_last:g} as {what}; {ours}")
    for t, m in have[:1] + have[-1:] if x == "n" and len(have) > 1 else have[:1]:
        n = t.model.latent_dim
        if n in ex.pca:
            rel = m / ex.pca[n]
            where = "above" if rel > 1.02 else "below" if rel < 0.98 else "level with"
            v.reading.append(
                f"PCA with {n} components reaches {ex.pca[n]:.4f} on the test images, the best any "
                f"linear autoencoder with a {n}-number code can do. Ours at {t.label} is {where} it "
                f"({rel:.2f}× the linear baseline)."
            )
    if x == "p" and len(have) >= 2 and 64 in ex.pca:
        (t0, m0), (t1, m1) = have[0], have[-1]
        gap0, gap1 = m0 - ex.pca[64], m1 - ex.pca[64]
        if gap0 > 0:
            closed = 1 - gap1 / gap0
            why = (
                "dropout, which zeroes a fraction p of the code (and of every layer) at each training step, "
                "accounts for most of this autoencoder's distance from the linear baseline."
                if closed >= 0.5
                else "dropout accounts for part of the distance from the linear baseline."
                if closed >= 0.1
                else "here lowering the dropout does not bring the autoencoder closer to the linear baseline."
            )
            v.reading.append(
                f"With n fixed at 64, going from {t0.label} to {t1.label} closes {max(closed, 0):.0%} "
                f"of the gap to PCA-64: {why}"
            )
    if x == "n" and have and all(m > ex.pca.get(t.model.latent_dim, math.inf) for t, m in have):
        v.reading.append(
            "At p=0.2 every size stays above PCA with the same n; study A2 shows what lowering the "
            "dropout p does at n=64."
        )
    return _nothing(v, plan)


# A3: the three classifiers
def _jump_epoch(h: list[dict]) -> int | None:
    if len(h) < 2:
        return None
    gains = [(h[i]["val_acc"] - h[i - 1]["val_acc"], h[i]["epoch"]) for i in range(1, len(h))]
    return max(gains)[1]


CLF_NOTE = (
    "val acc, saved: at the epoch of lowest validation loss, whose weights the run keeps. train − val: "
    "the over-fitting gap at the last epoch. Mean ± std over seeds where there are several."
)


def _clf_row(label: str, rs: Sequence[PlannedRun]) -> dict[str, str]:
    fin = [r for r in rs if r.history]
    first, m_sd_last = (
        mean_std([_at(r, 1, "val_acc") for r in fin]),
        mean_std([_last(r, "val_acc") for r in fin]),
    )
    gap = mean_std([_last(r, "train_acc") - _last(r, "val_acc") for r in fin])[0] if fin else None
    return {
        "classifier": label,
        "runs": _status_text(rs),
        "epochs": str(max((r.epochs_done for r in fin), default=0)),
        "val acc, epoch 1": fmt_acc(first[0]),
        "val acc, last": fmt_acc(m_sd_last[0], m_sd_last[1]),
        "val acc, saved": fmt_acc(mean_std([_best(r, "val_acc") for r in fin])[0]),
        "train − val, last": "–" if gap is None else f"{100 * gap:+.2f} pts",
        "best epoch": "–"
        if not fin
        else ", ".join(str(_best(r, "epoch")) for r in fin[:3]) + (", …" if len(fin) > 3 else ""),
    }


def _view_a3(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    v = StudyView()
    mains = [t for t in study.runs if t.role == "main"]
    firsts = [plan.by(t.key)[0] for t in mains]
    if any(r.history for r in firsts):
        v.figures.append(("Loss (train dashed, validation solid)", _curves(firsts, "loss", None)))
        v.figures.append(("Accuracy (train dashed, validation solid)", _curves(firsts, "acc", None)))
    v.tables.append(
        Table("The three classifiers", [_clf_row(t.label, plan.by(t.key)) for t in mains], CLF_NOTE)
    )
    v.reading += _caveat(plan, "60,000 images and 20 epochs")
    gaps = {}
    for t in mains:
        r = next((r for r in plan.by(t.key) if r.finished and len(r.history) >= 2), None)
        if r is None:
            continue
        h = r.history
        a1, al = h[0]["val_acc"], h[-1]["val_acc"]
        gaps[t.key] = h[-1]["train_acc"] - al
        rise = _best(r, "epoch")
        line = (
            f"**{t.label}** — report: {t.report['says']}. Ours: {fmt_acc(a1)} after epoch 1, {fmt_acc(al)} at "
            f"epoch {len(h)} ({100 * (al - a1):+.1f} points); lowest validation loss at epoch {rise}; "
            f"train − validation accuracy at the end {100 * gaps[t.key]:+.1f} points."
        )
        if t.key == "clf-improved-p0.2":
            line += f" Largest one-epoch gain at epoch {_jump_epoch(h)}."
        if t.key == "clf-base":
            line += (
                " Against report A's mean at epoch 30: "
                + compare(al, study.numbers["base_acc"], pct=True)
                + (f" (ours at epoch {len(h)})." if len(h) != 30 else ".")
            )
        v.reading.append(line)
    if "clf-base" in gaps and "clf-improved-p0.2" in gaps:
        more = gaps["clf-improved-p0.2"] > gaps["clf-base"]
        v.reading.append(
            f"Over-fitting (train − validation accuracy at the end): base {100 * gaps['clf-base']:+.1f}, "
            f"improved encoder with p=0.2 {100 * gaps['clf-improved-p0.2']:+.1f} points: "
            + (
                "more for the improved encoder, as in the report."
                if more
                else "not more for the improved encoder, unlike the report."
            )
        )
    return _nothing(v, plan)


# A4: seed statistics
def _view_a4(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import band_figure

    v = StudyView()
    rs = [r for r in plan.by("clf-base") if r.history]
    done = [r for r in rs if r.finished]
    if rs:
        v.figures.append(
            (
                f"Validation accuracy, mean ± std over {len(rs)} seed(s)",
                band_figure([{"name": "base classifier", "histories": [r.history for r in rs]}], "val_acc"),
            )
        )
    rows = []
    for epoch, (rm, rsd) in study.numbers.items():
        vals = [a for a in (_at(r, epoch, "val_acc") for r in done) if a is not None]
        m, sd, k = mean_std(vals)
        rows.append(
            {
                "epoch": str(epoch),
                "seeds": str(k),
                "ours: mean ± std": fmt_acc(m, sd),
                "ours: min – max": f"{fmt_acc(min(vals))} – {fmt_acc(max(vals))}" if vals else "–",
                "report (15 seeds)": fmt_acc(rm, rsd),
            }
        )
    v.tables.append(
        Table(
            "Validation accuracy across seeds",
            rows,
            note="Epoch 50 needs runs of 50 epochs: set Epochs to 50 above "
            "(or `python -m fmnist_core study a4 --epochs 50`).",
        )
    )
    v.reading += _caveat(plan, "60,000 images and 30 epochs")
    for epoch, (rm, rsd) in study.numbers.items():
        m, sd, k = mean_std([_at(r, epoch, "val_acc") for r in done])
        if m is None:
            continue
        line = f"Epoch {epoch}, {k} seed{'s' if k > 1 else ''}: {compare(m, rm, pct=True)}"
        if sd is not None:
            line += f"; our spread ±{100 * sd:.2f} points vs the report's ±{100 * rsd:.1f}."
        else:
            line += "; a spread needs at least two seeds."
        v.reading.append(line)
    lost = {r.run_id for r in done if loses_a_class(r.run_id, ex.tests)}
    if lost:
        verb = "never predicts" if len(lost) == 1 else "never predict"
        v.reading.append(f"{len(lost)} of {len(done)} seeds {verb} at least one class: {LOST_CLASS_WHY}.")
        for epoch, (rm, _) in study.numbers.items():
            m, sd, k = mean_std([_at(r, epoch, "val_acc") for r in done if r.run_id not in lost])
            if m is not None:
                spread = f", spread ±{100 * sd:.2f} points" if sd is not None else ""
                v.reading.append(
                    f"Epoch {epoch} without them, {k} seeds: {compare(m, rm, pct=True)}{spread}."
                )
    return _nothing(v, plan)


# A5: pretrained vs random init
def _view_a5(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import band_figure

    v = StudyView()
    arms = [("clf-pretrained", "pretrained encoder"), ("clf-random", "random init")]
    groups = [{"name": label, "histories": [r.history for r in plan.by(k) if r.history]} for k, label in arms]
    if max(len(g["histories"]) for g in groups) > 1:
        v.figures.append(("Validation accuracy, mean ± std over seeds", band_figure(groups, "val_acc")))
        v.figures.append(("Validation loss, mean ± std over seeds", band_figure(groups, "val_loss")))
    elif any(g["histories"] for g in groups):
        firsts = [r for k, _ in arms for r in plan.by(k)[:1]]
        v.figures.append(("Accuracy (train dashed, validation solid)", _curves(firsts, "acc", None)))
        v.figures.append(("Loss (train dashed, validation solid)", _curves(firsts, "loss", None)))
    v.tables.append(
        Table("Pretrained vs random init", [_clf_row(label, plan.by(k)) for k, label in arms], CLF_NOTE)
    )
    v.reading += _caveat(plan, "60,000 images and 20 epochs")
    stats = {}
    for k, _label in arms:
        done = [r for r in plan.by(k) if r.finished]
        if done:
            stats[k] = (
                mean_std([_at(r, 1, "val_acc") for r in done])[0],
                mean_std([_last(r, "val_acc") for r in done]),
                len(done),
            )
    if len(stats) == 2:
        (p1, (pl, psd, pk), _), (r1, (rl, rsd, rk), _) = stats["clf-pretrained"], stats["clf-random"]
        v.reading.append(
            f"After epoch 1: pretrained {fmt_acc(p1)}, random init {fmt_acc(r1)} "
            f"({100 * (p1 - r1):+.1f} points for pre-training). Report A: random init starts lower"
            + (" — ours agrees." if p1 > r1 else " — ours does not.")
        )
        d = 100 * (pl - rl)
        same = abs(d) < 0.5 + (100 * max(psd or 0, rsd or 0))
        v.reading.append(
            f"At the last epoch: pretrained {fmt_acc(pl, psd)}, random init {fmt_acc(rl, rsd)} "
            f"({d:+.2f} points). Report A: both end at the same accuracy — "
            + ("ours agrees (within half a point and the seed spread)." if same else "ours differs.")
        )
        if pk < 2 or rk < 2:
            v.reading.append(
                "One seed per arm: raise the seeds to see whether the difference is larger than "
                "the seed-to-seed spread (study A4)."
            )
    return _nothing(v, plan)
