"""Report B's view: the dense autoencoder's Adam/SGD grid against PCA, and denoising."""

from __future__ import annotations

import math

from ...config import OPTIMIZER_LABELS
from ..catalog import DENOISE_IMAGES, DENOISE_LEVELS, Study
from ..extras import Extras, _b_best
from ..plan import StudyPlan, _last
from .common import StudyView, Table, _caveat, _nothing, _status_text, fmt_mse, mean_std


# B: dense autoencoder grid and denoising
def _view_b(study: Study, plan: StudyPlan, ex: Extras) -> StudyView:
    from ...plots import color, sweep_figure

    v = StudyView()
    ns = (64, 128, 256, 512)
    series, rows = [], []
    for opt in ("adam", "sgd"):
        for i, lr in enumerate((0.1, 0.01, 0.001)):
            ys, row = [], {"optimizer": OPTIMIZER_LABELS[opt], "lr": f"{lr:g}"}
            for n in ns:
                rs = plan.by(f"{opt}-lr{lr:g}-n{n}")
                m = mean_std([_last(r, "val_loss") for r in rs if r.finished])[0]
                ys.append(m)
                row[f"n={n}"] = fmt_mse(m) if m is not None else _status_text(rs)
            rows.append(row)
            series.append(
                {
                    "name": f"{row['optimizer']} lr {lr:g}",
                    "y": ys,
                    "color": color(i),
                    "dash": "solid" if opt == "adam" else "dash",
                }
            )
    if ex.pca:
        rows.append(
            {"optimizer": "PCA (linear)", "lr": "–", **{f"n={n}": fmt_mse(ex.pca.get(n)) for n in ns}}
        )
        series.append(
            {"name": "PCA, same n (best linear)", "y": [ex.pca.get(n) for n in ns], "style": "baseline"}
        )
    v.figures.append(
        (
            "Held-out MSE at the last epoch (30; Adam solid, SGD dashed; one seed)",
            sweep_figure(ns, series, "code size n", "held-out MSE", categorical=True),
        )
    )
    best = _b_best(plan)
    if ex.denoise and best:
        dseries = [
            {"name": "noisy input (no model)", "y": ex.denoise.get("noisy input", []), "style": "baseline"}
        ]
        for opt, r in best.items():
            if r.run_id in ex.denoise:
                dseries.append(
                    {
                        "name": f"best {OPTIMIZER_LABELS[opt]}: {r.template.label}",
                        "y": ex.denoise[r.run_id],
                    }
                )
        v.figures.append(
            (
                "Denoising: MSE to the clean image",
                sweep_figure(DENOISE_LEVELS, dseries, "noise level", "MSE to the clean image"),
            )
        )
    v.tables.append(
        Table(
            "Held-out MSE at the last epoch (30) over the grid, one seed per cell",
            rows,
            note="The best run per optimizer is picked on the held-out split; PCA is on the test images. "
            f"Denoising: {DENOISE_IMAGES:,} test images with Gaussian noise of each image's own "
            "mean and std times the level (report B's noise), reconstructed by the best Adam "
            "and the best SGD run.",
        )
    )
    v.reading += _caveat(plan, "54,000 images and 30 epochs (the report ran 100)")
    rep = study.numbers["best"]
    for opt, r in best.items():
        opt_rows = [rr for rr in plan.runs if rr.template.params["optimizer"] == opt]
        done = sum(rr.finished for rr in opt_rows)
        p = r.template.params
        agree = [
            f"lr {p['lr']:g} {'=' if p['lr'] == rep[opt]['lr'] else '≠'} report's {rep[opt]['lr']:g}",
            f"n {p['n']} {'=' if p['n'] == rep[opt]['n'] else '≠'} report's {rep[opt]['n']}",
        ]
        v.reading.append(
            f"Best {OPTIMIZER_LABELS[opt]} of the {done} finished: {r.template.label}, "
            f"MSE {fmt_mse(_last(r, 'val_loss'))} ({'; '.join(agree)})"
            + ("" if done == len(opt_rows) else " — the grid is incomplete")
            + "."
        )
        n, mse = p["n"], _last(r, "val_loss")
        if n in ex.pca and mse is not None:
            v.reading.append(
                f"PCA with {n} components reaches {ex.pca[n]:.4f} on the test images; this run's held-out "
                f"MSE is {mse / ex.pca[n]:.2f}× that linear baseline."
            )
    if len(best) == 2:
        a, s = _last(best["adam"], "val_loss") or math.inf, _last(best["sgd"], "val_loss") or math.inf
        v.reading.append(
            f"Best Adam {fmt_mse(a)} vs best SGD {fmt_mse(s)}: "
            + ("Adam lower, as in the report." if a < s else "SGD lower, unlike the report.")
        )
        if all(best[o].run_id in ex.denoise for o in best):
            i = DENOISE_LEVELS.index(0.2)
            da, dsg = ex.denoise[best["adam"].run_id or ""][i], ex.denoise[best["sgd"].run_id or ""][i]
            v.reading.append(
                f"Denoising at level 0.2: Adam {fmt_mse(da)} vs SGD {fmt_mse(dsg)} (noisy input "
                f"{fmt_mse(ex.denoise['noisy input'][i])}): "
                + (
                    "Adam restores better, as in the report."
                    if da < dsg
                    else "SGD restores better, unlike the report."
                )
            )
            v.reading += [
                _denoise_onset(opt, ex.denoise[r.run_id or ""], ex.denoise["noisy input"])
                for opt, r in best.items()
            ]
    return _nothing(v, plan)


def _denoise_onset(opt: str, model: list[float], noisy: list[float]) -> str:
    """From which noise level the reconstruction is closer to the clean image than the noisy input is:
    below it the autoencoder's own reconstruction error outweighs the noise it removes."""
    name = OPTIMIZER_LABELS[opt]
    helps = [lvl for lvl, m, x in zip(DENOISE_LEVELS, model, noisy) if m < x]
    if not helps:
        return (
            f"Best {name} never beats the noisy input up to level {DENOISE_LEVELS[-1]:g} "
            f"({fmt_mse(model[-1])} vs {fmt_mse(noisy[-1])}): its reconstruction error is larger than the noise."
        )
    i = DENOISE_LEVELS.index(helps[0])
    below = (
        f"; at {DENOISE_LEVELS[i - 1]:g} it adds error ({fmt_mse(model[i - 1])} vs {fmt_mse(noisy[i - 1])})"
        if i > 0
        else ""
    )
    return (
        f"Best {name} restores images closer to the clean ones than the noisy input from level {helps[0]:g} on "
        f"({fmt_mse(model[i])} vs {fmt_mse(noisy[i])}){below}."
    )
