"""The inspect pages' view of a run on the test set: the run folder's evaluation cache (eval_cache, and
cached_eval with its progress bar), a classifier's summary, and an autoencoder's figures at a noise setting
the cache does not hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from app_support.data import _cached_model, _load_dataset, registry
from fmnist_core.errors import USER_ERRORS

if TYPE_CHECKING:
    import torch

    from fmnist_core.evalcache import EvalCache


# -- inspect pages --
# What a page shows about a run on the test set lives in the run folder's evaluation cache
# (fmnist_core.evalcache): computed when the run finishes, or here once, with a progress bar.
def eval_cache() -> EvalCache:
    from fmnist_core.evalcache import EvalCache

    reg = registry()
    root = str(reg.root.resolve())

    def model(run_id: str) -> torch.nn.Module:
        return _cached_model(root, run_id, (reg.path(run_id) / "weights.pt").stat().st_mtime)

    return EvalCache(reg, _load_dataset, model)


def cached_eval(method: str, *args):
    """eval_cache().<method>(*args), with a progress bar only if it has to compute; one st.error line
    and None if it fails."""
    bar = None

    def progress(done: float, what: str) -> None:
        nonlocal bar
        if bar is None:
            bar = st.progress(0.0)
        bar.progress(min(max(done, 0.0), 1.0), text=f"Computing once, then kept with the run: {what}…")

    try:
        return getattr(eval_cache(), method)(*args, progress=progress)
    except FileNotFoundError:
        st.error(
            f"Run(s) {', '.join(a for a in args if isinstance(a, str))} have no weights on disk; "
            "pick another run or train it again."
        )
    except (*USER_ERRORS, ValueError) as e:
        st.error(str(e))
    finally:
        if bar is not None:
            bar.empty()
    return None


def classifier_summary(run_id: str, n: int = 10000) -> dict | None:
    """Accuracy, confusion matrix, report, probabilities and labels of a classifier on the first n test
    images, from its cached test entry."""
    from fmnist_core.evalcache import summarize_test

    entry = cached_eval("test", run_id)
    if entry is None:
        return None
    entry = {k: v[:n] for k, v in entry.items()}
    labels = _load_dataset().test_labels[:n]
    return {**summarize_test(entry, labels), "probs": entry["probs"], "labels": labels.numpy()}


@st.cache_data(max_entries=256, show_spinner=False)
def _ae_figures_now(
    root: str, stamp: float, run_id: str, noise: str, level: float, seed: int, n: int
) -> dict:
    from fmnist_core.evaluate import autoencoder_figures

    r = autoencoder_figures(
        _cached_model(root, run_id, stamp), _load_dataset().test_images[:n], noise, level, seed
    )
    return {k: r[k] for k in ("mse", "psnr", "input_mse", "input_psnr")}


def ae_figures_now(run_id: str, noise: str, level: float, seed: int, n: int) -> dict:
    """An autoencoder's figures at a noise setting the cache does not hold (the first n test images)."""
    reg = registry()
    return _ae_figures_now(
        str(reg.root.resolve()),
        (reg.path(run_id) / "weights.pt").stat().st_mtime,
        run_id,
        noise,
        level,
        seed,
        n,
    )
