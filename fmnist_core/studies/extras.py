"""Extras a view needs beyond the run folders: the PCA baseline, test-set figures and denoising curves,
which of them a study needs (extras_needed) and computing them (compute_extras)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import AUTOENCODER_KINDS, latent_of
from ..data import FashionMNIST
from ..registry import Registry
from .catalog import DENOISE_IMAGES, DENOISE_LEVELS, Study
from .plan import PlannedRun, StudyPlan, _last


# -- extras: linear baseline, test-set figures, denoising -----------------------------------
def pca_baseline_mses(ds: FashionMNIST, ns: Sequence[int]) -> dict[int, float]:
    """Test MSE of PCA with n components for each n: fit once on the training images in [0, 1].

    The reconstruction is clipped to [0, 1] (the images' range, like an autoencoder's sigmoid).
    PCA is the best any linear autoencoder with an n-number code can do (in squared error).
    """
    from sklearn.decomposition import PCA

    ns = sorted({int(n) for n in ns})
    if not ns:
        return {}
    x = ds.train_images.reshape(len(ds.train_images), -1).numpy().astype(np.float32) / 255.0  # (N, 784)
    t = ds.test_images.reshape(len(ds.test_images), -1).numpy().astype(np.float32) / 255.0  # (M, 784)
    k = min(max(ns), x.shape[1], x.shape[0])
    pca = PCA(n_components=k, svd_solver="covariance_eigh").fit(x)
    tc = t - pca.mean_
    out = {}
    for n in ns:
        c = pca.components_[: min(n, k)]  # (n, 784), orthonormal rows
        recon = np.clip(tc @ c.T @ c + pca.mean_, 0.0, 1.0)
        out[n] = float(((recon - t) ** 2).mean())
    return out


PCA_VERSION = 1  # raise it when pca_baseline_mses computes differently: the kept figures are then stale


def pca_baselines(ds: FashionMNIST, ns: Sequence[int]) -> dict[int, float]:
    """pca_baseline_mses, kept in the user's cache folder: fitting PCA on 60,000 images takes 1-3 s, and
    the Studies page of every new server needs it. The file is named by a digest of the images (other data,
    other figures) and by PCA_VERSION (another way of computing them), and is only a cache: one that is
    missing or does not parse is computed again."""
    from ..data import data_digest
    from ..registry import atomic_write_json

    try:
        path: Path | None = _cache_dir() / f"pca-baselines-v{PCA_VERSION}-{data_digest(ds)}.json"
    except (RuntimeError, KeyError):  # no home folder (a container's user without one): no cache
        path = None
    try:
        known = {int(n): float(v) for n, v in json.loads(path.read_text()).items()} if path else {}
    except (OSError, ValueError, TypeError, AttributeError):
        known = {}
    missing = sorted({int(n) for n in ns} - set(known))
    if missing:
        known.update(pca_baseline_mses(ds, missing))
        try:
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_json(path, {str(n): v for n, v in sorted(known.items())})
        except OSError:  # no writable cache folder: computed again next time
            pass
    return {int(n): known[int(n)] for n in ns}


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fmnist-lab"


def test_figures(registry: Registry, run_id: str, ds: FashionMNIST) -> dict[str, Any]:
    """A classifier run's test-set accuracy and classification report, from its cached confusion matrix
    (a run shipped without weights keeps it)."""
    from ..evalcache import EvalCache
    from ..evaluate import classifier_figures

    return classifier_figures(EvalCache(registry, lambda: ds).confusion(run_id))


def denoise_curve(
    registry: Registry | None,
    run_id: str | None,
    ds: FashionMNIST,
    levels: Sequence[float] = DENOISE_LEVELS,
    n: int = DENOISE_IMAGES,
) -> list[float]:
    """MSE against the clean image at each level of report B's noise (each image's mean and std times
    the level); run_id None gives the noisy input itself (what doing nothing scores). A run's curve is
    kept in its evaluation cache, so a run shipped without weights still has it."""
    from ..data import add_noise, to_float
    from ..evalcache import EvalCache

    if run_id is not None and registry is not None:
        curve = EvalCache(registry, lambda: ds).curve(run_id, "gaussian_image", tuple(levels), n)
        return [float(v) for v in curve["mse"]]
    clean = to_float(ds.test_images[:n])
    return [
        float(((add_noise(clean, "gaussian_image", level, seed=0) - clean) ** 2).mean()) for level in levels
    ]


@dataclass
class Extras:
    """Figures a view needs beyond the run folders (computed by compute_extras, cached by the app)."""

    pca: dict[int, float] = field(default_factory=dict)  # n -> PCA test MSE
    tests: dict[str, dict] = field(default_factory=dict)  # run id -> test_figures
    denoise: dict[str, list[float]] = field(default_factory=dict)  # run id or "noisy input" -> MSE per level


# study B's denoising curves are for its best run per optimizer (view_b shows the same runs)
def _b_best(plan: StudyPlan) -> dict[str, PlannedRun]:
    """The finished run with the lowest final validation MSE per optimizer."""
    best: dict[str, PlannedRun] = {}
    for r in plan.runs:
        m = _last(r, "val_loss")
        if not r.finished or m is None or not math.isfinite(m):
            continue
        opt = r.template.params["optimizer"]
        if opt not in best or m < (_last(best[opt], "val_loss") or math.inf):
            best[opt] = r
    return best


def pca_sizes(study: Study) -> list[int]:
    """The code sizes n whose PCA baseline the study's view shows."""
    if study.view not in ("ae_sweep", "b", "c", "e", "pca"):
        return []
    return sorted({n for t in study.runs if t.model.kind in AUTOENCODER_KINDS and (n := latent_of(t.model))})


def extras_needed(study: Study, plan: StudyPlan) -> dict[str, list]:
    """Which PCA sizes, test-set evaluations and denoising curves the study's view uses."""
    pca = pca_sizes(study)
    tests = [
        r.run_id
        for r in plan.runs
        if r.finished
        and (study.view == "d" or (study.view in ("a4", "a5", "label") and r.template.role == "main"))
    ]
    denoise = [r.run_id for r in _b_best(plan).values()] if study.view == "b" else []
    return {"pca": pca, "tests": tests, "denoise": denoise}


def compute_extras(
    study: Study,
    plan: StudyPlan,
    registry: Registry,
    load_data: Callable[[], FashionMNIST],
) -> Extras:
    """Compute what extras_needed lists. Test figures and denoising curves come from each run's evaluation
    cache (so results-only runs have them too), the PCA baselines from the user's cache folder."""
    need = extras_needed(study, plan)
    if not any(need.values()):
        return Extras()
    ds = load_data()
    ex = Extras()
    if need["pca"]:
        ex.pca = pca_baselines(ds, need["pca"])
    for run_id in need["tests"]:
        ex.tests[run_id] = test_figures(registry, run_id, ds)
    if need["denoise"]:
        ex.denoise["noisy input"] = denoise_curve(None, None, ds)
        for run_id in need["denoise"]:
            ex.denoise[run_id] = denoise_curve(registry, run_id, ds)
    return ex
