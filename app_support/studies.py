"""The Studies page's handles: a study's plan and the extras its view needs, and the background sweep
that trains its missing runs (start, stop, the record and log of the one running now)."""

from __future__ import annotations

import os

import streamlit as st

from app_support.data import _load_dataset, registry
from app_support.jobs import job_queue
from fmnist_core.errors import DataError, RunError

CPUS = max(1, os.cpu_count() or 1)


# -- studies page --
# A study's plan is re-read from the registry and the job queue on every call (cheap); the extras a
# view needs come from files: the PCA baselines from the user's cache folder (fitted once per machine),
# test-set reports and denoising curves from each run's evaluation cache.
def study_plan(study, seeds: int | None = None, epochs: int | None = None, limit: int = 0):
    """The study's runs as they stand now in the registry and this app's job queue."""
    from fmnist_core.studies import plan_study

    return plan_study(study, registry(), seeds, epochs, limit, job_queue())


def study_extras(study, plan):
    """The extras of the study's view (see compute_extras); what cannot be computed (no data, damaged
    weights) is left out with a caption."""
    from app_support import warm
    from fmnist_core.studies import Extras, compute_extras, pca_sizes

    if pca_sizes(study) and warm.start().is_alive():
        with st.spinner("Preparing the PCA baselines…"):
            warm.settled()  # a new server's warm-up may be fitting the PCA baselines this view needs
    try:
        return compute_extras(study, plan, registry(), _load_dataset)
    except (DataError, RunError, FileNotFoundError) as e:
        st.caption(f"Some figures are left out: {e}")
        return Extras()


def start_study_sweep(
    name: str, seeds: int | None, epochs: int | None, limit: int, workers: int, ray: str | None = None
) -> int:
    """Start the study's missing runs as a background sweep (its own process); returns its pid."""
    from fmnist_core.background_sweep import start_sweep

    args = ["--limit", str(limit)] + (["--seeds", str(seeds)] if seeds else [])
    args += ["--epochs", str(epochs)] if epochs else []
    args += ["--ray", ray] if ray else ["--workers", str(workers)]
    return start_sweep(registry(), name, args)


def study_sweep(name: str) -> dict | None:
    """The record of the study's sweep running now (from any process), or None."""
    from fmnist_core.background_sweep import running_sweep

    return running_sweep(registry(), name)


def stop_study_sweep(name: str) -> bool:
    from fmnist_core.background_sweep import stop_sweep

    return stop_sweep(registry(), name)


def sweep_log(name: str) -> str:
    return str(registry().root / ".sweeps" / f"{name}.log")
