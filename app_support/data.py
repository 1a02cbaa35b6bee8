"""Data, runs and models: the cached loaders (the dataset, the test arrays as numpy, the registry, a
run's model), the run list and the run pickers, the formatting helpers and the one-line user error.

torch and the modules that need it are imported inside the functions that use them: the Home page draws
from the IDX files and the run folders alone, before torch (2 s) is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from app_support.site import PAGES
from fmnist_core.config import AUTOENCODER_KINDS, CLASSIFIER_KINDS, KIND_LABELS
from fmnist_core.errors import DataError, RunError
from fmnist_core.files import find_data, read_split
from fmnist_core.registry import Registry, RunInfo, default_runs_dir, is_shipped, is_usable, reference_first
from fmnist_core.selection import figure_label, scale_tag

if TYPE_CHECKING:
    import torch

    from fmnist_core.data import FashionMNIST

AUTOENCODERS, CLASSIFIERS = AUTOENCODER_KINDS, CLASSIFIER_KINDS  # short names for the pages


# -- data, runs, models -------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading Fashion-MNIST…")
def _load_dataset() -> FashionMNIST:
    from app_support import warm
    from fmnist_core.data import load_fashion_mnist

    return warm.dataset() or load_fashion_mnist()  # the warm-up's copy; if it could not, say why


@st.cache_resource(show_spinner=False)
def _test_arrays() -> tuple[np.ndarray, np.ndarray]:
    return read_split(find_data(), "test")


def test_arrays(required: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """The test images (10000, 28, 28) uint8 and labels as numpy, without torch. If the data is missing:
    an error line, then the page stops (or None when not `required`)."""
    try:
        return _test_arrays()
    except DataError as e:
        st.error(f"Fashion-MNIST is not available: {e}")
        if required:
            st.stop()
        return None


def dataset() -> FashionMNIST:
    """The whole dataset (cached for every session); stops the page with a clear error if missing."""
    try:
        return _load_dataset()
    except DataError as e:
        st.error(f"Fashion-MNIST is not available: {e}")
        st.stop()


def registry() -> Registry:
    return Registry(default_runs_dir())


shipped = is_shipped  # a run shipped with the lab: read-only in the app, restored by git if changed


def runs(kinds: Iterable[str] | None = None, usable: bool = True) -> list[RunInfo]:
    """Runs in the registry, the reference runs first, then newest first; `usable`: those a page can load."""
    kinds = tuple(kinds) if kinds else None
    return reference_first(
        [r for r in registry().list_runs() if (not kinds or r.kind in kinds) and (not usable or is_usable(r))]
    )


def run_label(r: RunInfo, kind: bool = True) -> str:
    """A run in a picker: name, kind (unless `kind` is False) and its figure, saying what it is."""
    figure = figure_label(r) or r.status
    name = f"{r.name} · bf16" if r.settings.get("train", {}).get("precision") == "bf16" else r.name
    if tag := scale_tag(r):  # "1% · 3 ep": a quick run's figure is not read as a result
        name = f"{name} · {tag}"
    return f"{name} · {KIND_LABELS.get(r.kind, r.kind)} · {figure}" if kind else f"{name} · {figure}"


@st.cache_resource(max_entries=32, show_spinner=False)
def _cached_model(root: str, run_id: str, stamp: float) -> torch.nn.Module:
    return Registry(root).load_model(run_id)


def load_model(run_id: str) -> torch.nn.Module | None:
    """A run's model in eval mode (cached until its weights change); shows an error and returns None."""
    reg = registry()
    try:
        stamp = (reg.path(run_id) / "weights.pt").stat().st_mtime
        return _cached_model(str(reg.root.resolve()), run_id, stamp)
    except FileNotFoundError:
        st.error(f"Run {run_id!r} has no weights on disk; pick another run or train it again.")
    except RunError as e:
        st.error(str(e))
    return None


def load_models(run_ids: Iterable[str]) -> dict[str, torch.nn.Module]:
    """load_model() of each run; stops the page (each failure shown) unless every one loads."""
    models = {r: load_model(r) for r in run_ids}
    loaded = {r: m for r, m in models.items() if m is not None}
    if len(loaded) < len(models):
        st.stop()
    return loaded


def run_picker(
    label: str,
    kinds: Iterable[str],
    key: str,
    multi: bool = False,
    max_selections: int | None = None,
    default: list[str] | str | None = None,
    help: str | None = None,
    on_change=None,
):
    """A select (or multiselect) of usable runs of the given kinds; returns run ids (or None/[]).
    A multiselect's chips leave out the kind and wrap onto more lines, so no run's name is cut."""
    options = {r.run_id: run_label(r, kind=not multi) for r in runs(kinds)}
    if not options:
        return [] if multi else None

    def shown(run_id: str) -> str:
        return options[run_id]

    if multi:
        default = [d for d in (default or []) if d in options] or list(options)[:1]
        return st.multiselect(
            label,
            list(options),
            default=default,
            format_func=shown,
            key=key,
            max_selections=max_selections,
            help=help,
            on_change=on_change,
            wrap=True,
        )
    index = list(options).index(default) if default in options else 0
    return st.selectbox(
        label, list(options), index=index, format_func=shown, key=key, help=help, on_change=on_change
    )


def need_runs(kinds: Iterable[str], what: str) -> None:
    """Guard clause: explain and stop when no usable run of these kinds exists."""
    if not runs(kinds):
        st.info(
            f"No {what} yet. Train one on the **Train** page (a quick one takes a minute with a "
            "small training fraction), or run `make reference` to rebuild the shipped reference runs."
        )
        st.page_link(PAGES["train"], label="Go to Train", icon=":material/model_training:")
        st.stop()


# -- formatting ---------------------------------------------------------------------------
def fmt_seconds(s: float | None) -> str:
    """12s, 3m 05s, 1h 02m."""
    if s is None:
        return "–"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


def fmt_pct(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{100 * v:.{digits}f}%"


# -- small widgets ------------------------------------------------------------------------
def user_error(e: Exception) -> None:
    """One clear line for a user error (no traceback)."""
    st.error(str(e))
