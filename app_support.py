"""The only non-page module that imports streamlit: cached loaders, the job queue handle,
the shared sidebar and widget groups that return config dataclasses.

torch and the modules that need it are imported inside the functions that use them: the Home
page draws from the IDX files and the run folders alone, before torch (2 s) is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas  # noqa: F401  imported here, once, before any page: plotly imports it lazily and two

#                sessions doing so at once can see a half-initialised module ("no attribute 'Series'")
import streamlit as st

from fmnist_core.config import AUTOENCODER_KINDS, CLASSIFIER_KINDS, KIND_LABELS, RunSpec
from fmnist_core.errors import USER_ERRORS, DataError, RunError
from fmnist_core.files import find_data, read_split
from fmnist_core.registry import Registry, RunInfo, default_runs_dir

if TYPE_CHECKING:
    import torch

    from fmnist_core.data import FashionMNIST
    from fmnist_core.evalcache import EvalCache
    from fmnist_core.jobs import JobQueue

AUTOENCODERS, CLASSIFIERS = AUTOENCODER_KINDS, CLASSIFIER_KINDS  # short names for the pages
CPUS = max(1, os.cpu_count() or 1)
NEUTRAL = "#8b8f98"  # a line that is no run's (noisy input, a difference): grey, readable on light and dark


@dataclass(frozen=True)
class Page:
    """One page: its file (relative to app.py), and its title, icon and section in the sidebar."""

    key: str
    path: str
    title: str
    icon: str
    section: str


# The pages, in sidebar order: the one list. app.py is Home; the others are Streamlit's multipage
# folder, pages/, so a deep link such as /compare runs pages/compare.py directly (each page draws
# the frame itself: see frame()).
SITE = (
    Page("home", "app.py", "Home", ":material/home:", "Lab"),
    Page("train", "pages/train.py", "Train", ":material/model_training:", "Train and compare"),
    Page("compare", "pages/compare.py", "Compare runs", ":material/stacked_line_chart:", "Train and compare"),
    Page("studies", "pages/studies.py", "Studies", ":material/science:", "Train and compare"),
    Page(
        "reconstructions",
        "pages/reconstructions.py",
        "Reconstructions & denoising",
        ":material/blur_on:",
        "Look inside",
    ),
    Page("confusion", "pages/confusion.py", "Confusion & errors", ":material/grid_on:", "Look inside"),
    Page("classify", "pages/classify.py", "Classify your image", ":material/draw:", "Look inside"),
    Page("latent", "pages/latent.py", "Latent space", ":material/scatter_plot:", "Look inside"),
)
PAGES = {p.key: p.path for p in SITE}  # key -> file, for st.page_link and AppTest.switch_page
APP_TITLE = "Fashion-MNIST Lab"


# -- data, runs, models -------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading Fashion-MNIST…")
def _load_dataset() -> FashionMNIST:
    from fmnist_core.data import load_fashion_mnist

    return load_fashion_mnist()


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


def submit_job(spec: RunSpec, label: str):
    """Queue a training job for this browser session; (job, new), or (None, False) after one error line."""
    from fmnist_core.jobs import QueueFull

    owner = st.session_state.setdefault("queue_owner", os.urandom(8).hex())
    try:
        return job_queue().submit(spec, label=label, owner=owner)
    except QueueFull as e:
        st.error(f"Not queued: {e}.")
        return None, False


def shipped(run_id: str) -> bool:
    """A run shipped with the lab (ref-*, study-*): read-only in the app, restored by git if changed."""
    return run_id.startswith(("ref-", "study-"))


def job_queue() -> JobQueue:
    from fmnist_core.jobs import get_queue

    return get_queue(registry(), _load_dataset)


def runs(kinds: Iterable[str] | None = None, usable: bool = True) -> list[RunInfo]:
    """Runs in the registry, newest first; `usable` keeps those with weights and no damage."""
    kinds = tuple(kinds) if kinds else None
    out = []
    for r in registry().list_runs():
        if kinds and r.kind not in kinds:
            continue
        if usable and (
            r.damaged
            or r.summary.get("epochs_done", 0) < 1
            or r.status in ("failed", "diverged")
            or r.results_only
        ):
            continue
        out.append(r)
    # the shipped reference runs first, in report order (ref-a-… before ref-b-…), then the user's own, newest first
    refs = sorted((r for r in out if r.run_id.startswith("ref-")), key=lambda r: r.run_id)
    return refs + [r for r in out if not r.run_id.startswith("ref-")]


def run_label(r: RunInfo, kind: bool = True) -> str:
    """A run in a picker: name, kind (unless `kind` is False) and its best validation figure."""
    s = r.summary
    figure = (
        f"acc {100 * s['best_val_acc']:.1f}%"
        if "best_val_acc" in s
        else f"MSE {s['best_val_loss']:.4f}"
        if "best_val_loss" in s
        else r.status
    )
    return f"{r.name} · {KIND_LABELS.get(r.kind, r.kind)} · {figure}" if kind else f"{r.name} · {figure}"


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
    if multi:
        default = [d for d in (default or []) if d in options] or list(options)[:1]
        return st.multiselect(
            label,
            list(options),
            default=default,
            format_func=options.get,
            key=key,
            max_selections=max_selections,
            help=help,
            on_change=on_change,
            wrap=True,
        )
    index = list(options).index(default) if default in options else 0
    return st.selectbox(
        label, list(options), index=index, format_func=options.get, key=key, help=help, on_change=on_change
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
    if s is None:
        return "–"
    s = int(round(s))
    return (
        f"{s // 3600}h {s % 3600 // 60:02d}m"
        if s >= 3600
        else f"{s // 60}m {s % 60:02d}s"
        if s >= 60
        else f"{s}s"
    )


def fmt_pct(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{100 * v:.{digits}f}%"


# -- sidebar ------------------------------------------------------------------------------
@st.cache_resource
def device_line() -> str:
    """The device training runs on, in words (a GPU's name, or the CPU and its thread count)."""
    from fmnist_core.train import device_description, resolve_device

    return device_description(resolve_device("auto"))


@st.cache_resource
def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def frame(key: str, status: bool = True) -> None:
    """The top of every page: the page config (title, icon, wide layout) and the sidebar: the navigation,
    then, unless `status` is False, the device, data and queue lines (see sidebar_status).

    Every page calls it first, so a page opened by its URL on a fresh server (which runs the page file
    without app.py) looks the same as one reached from the sidebar."""
    page = next(p for p in SITE if p.key == key)
    st.set_page_config(
        page_title=APP_TITLE if key == "home" else f"{page.title} · {APP_TITLE}",
        page_icon=":material/checkroom:",
        layout="wide",
    )
    with st.sidebar:
        section = None
        for p in SITE:
            if p.section != section:
                section = p.section
                st.caption(f"**{section}**")
            st.page_link(p.path, label=p.title, icon=p.icon)
        st.divider()
    _require_password()
    if status:
        sidebar_status()


def _password() -> str | None:
    try:
        return st.secrets.get("password") or None
    except FileNotFoundError:  # no secrets file: a private (localhost) lab
        return None


def _require_password() -> None:
    """Sharing the lab on a network (`make share`) needs `password = "..."` in .streamlit/secrets.toml;
    every page then asks for it once per browser session."""
    import hmac

    expected = _password()
    if expected is None or st.session_state.get("signed_in"):
        return
    given = st.text_input(
        "Password",
        type="password",
        key="password_try",
        help="This lab is shared on the network; ask whoever runs it for the password.",
    )
    if given and hmac.compare_digest(given.encode(), str(expected).encode()):
        st.session_state["signed_in"] = True
        st.rerun()
    if given:
        st.error("That is not the password.")
    st.stop()


def sidebar_status() -> None:
    """The sidebar's device, data and queue lines. The device line imports torch: Home draws them after
    its sample images (frame(status=False), then this), the other pages in frame()."""
    with st.sidebar:
        st.caption(f"**Device** · {device_line()}")
        try:
            source = find_data()["train_images"].parent.resolve()
            st.caption(f"**Data** · `{source}`")
        except DataError:
            st.caption("**Data** · not found (see the page for how to get it)")
        _queue_panel()


@st.fragment(run_every=2.0)
def _queue_panel() -> None:
    q = job_queue()
    jobs = q.jobs()
    running = next((j for j in jobs if j.status == "running"), None)
    queued = [j for j in jobs if j.status == "queued"]
    if running is None and not queued:
        st.caption("**Training queue** · idle")
        return
    st.caption("**Training queue**")
    if running is not None:
        p = running.progress
        if p is not None:
            st.progress(
                min(((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches), 1.0),
                text=f"{running.label}: epoch {p.epoch}/{p.epochs} · ETA {fmt_seconds(p.eta)}",
            )
        else:
            st.caption(f"{running.label}: starting…")
    for i, j in enumerate(queued, 1):
        st.caption(f"{i}. {j.label} (waiting)")


# -- small widgets ------------------------------------------------------------------------
def user_error(e: Exception) -> None:
    """One clear line for a user error (no traceback)."""
    st.error(str(e))


# -- training jobs --------------------------------------------------------------------------


def estimate_seconds(spec: RunSpec) -> float | None:
    """Seconds to train a spec on this device, from a short calibration of its model (None without data)."""
    from fmnist_core.estimate import estimate_seconds as estimate

    try:
        return estimate(spec, _load_dataset())
    except (*USER_ERRORS, RuntimeError):
        return None


def _history_metrics(h: dict) -> list[tuple[str, str]]:
    out = [("train loss", f"{h['train_loss']:.4f}"), ("val loss", f"{h['val_loss']:.4f}")]
    if "val_acc" in h:
        out += [("train acc", fmt_pct(h["train_acc"])), ("val acc", fmt_pct(h["val_acc"]))]
    out.append(("s / epoch", f"{h['epoch_seconds']:.1f}"))
    return out


def show_curves(name: str, history: list[dict], key: str) -> None:
    """Loss (and accuracy) curves of one run, side by side."""
    has_acc = bool(history) and "val_acc" in history[0]
    cols = st.columns(2) if has_acc else [st.container()]
    series = [{"name": name, "history": history}]
    from fmnist_core.plots import curves_figure

    cols[0].plotly_chart(curves_figure(series, "loss", title="loss"), key=f"{key}_loss")
    if has_acc:
        cols[1].plotly_chart(curves_figure(series, "acc", title="accuracy"), key=f"{key}_acc")


@st.fragment(run_every=1.0)
def job_monitor(state_key: str) -> None:
    """Live view of this session's latest job (or whatever is running): progress, curves, Stop."""
    q = job_queue()
    own, running = q.get(st.session_state.get(state_key, -1)), q.running()
    # this session's job until it is done, then whatever runs now; a job shown is remembered, so a tab that
    # watched a run stopped (or finished) elsewhere says how it ended instead of "No job yet"
    job = own if own is not None and (not own.done or running is None) else running
    if job is not None and job is not own:
        st.session_state[state_key] = job.job_id
    if job is None:
        st.info(
            "No job yet. Set the options on the left and press **Start training**; the curves appear "
            "here after the first epoch."
        )
        return
    st.subheader(job.label)
    if job.status == "queued":
        st.info(f"Waiting for the job ahead of it: position **{q.position(job.job_id)}** in the queue.")
        if st.button("Cancel", key=f"cancel_{job.job_id}"):
            st.session_state[f"stopped_here_{job.job_id}"] = True
            q.stop(job.job_id)
            st.rerun(scope="fragment")
    elif job.status == "running":
        p = job.progress
        if p is None:
            st.progress(0.0, text="Preparing data and model…")
        else:
            done = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches)
            st.progress(
                min(done, 1.0),
                text=f"epoch {p.epoch}/{p.epochs} · batch {p.batch}/{p.batches} · "
                f"loss {p.loss:.4f} · elapsed {fmt_seconds(p.elapsed)} · ETA {fmt_seconds(p.eta)}",
            )
        stopping = job.stop_event.is_set()
        if st.button(
            "Stopping…" if stopping else "Stop",
            key=f"stop_{job.job_id}",
            icon=":material/stop:",
            disabled=stopping,
            help="Ends after the current batch; the run keeps its best weights.",
        ):
            st.session_state[f"stopped_here_{job.job_id}"] = True
            q.stop(job.job_id)
            st.rerun(scope="fragment")
    elif job.status == "failed":
        st.error(f"The job failed: {job.error}. The queue goes on; change the settings and start again.")
    else:
        elsewhere = "" if st.session_state.get(f"stopped_here_{job.job_id}") else " from another tab"
        verb = {
            "completed": "finished",
            "early_stopped": "stopped early (patience reached)",
            "stopped": f"was stopped{elsewhere}; its best weights are saved",
            "cancelled": f"was cancelled{elsewhere}",
            "diverged": "diverged (loss not finite); lower the learning rate",
        }.get(job.status, job.status)
        (st.warning if job.status in ("diverged", "cancelled") else st.success)(
            f"Run **{job.run_id or '–'}** {verb}."
        )
    if job.history:
        last = job.history[-1]
        st.markdown(
            f"**Epoch {last['epoch']}** · "
            + " · ".join(f"{label} **{value}**" for label, value in _history_metrics(last))
        )
        show_curves(job.label, job.history, key=f"job{job.job_id}_{len(job.history)}")
    elif job.status == "running":
        st.caption("The curves appear after the first epoch.")
    if job.done and job.run_id:
        c1, c2 = st.columns(2)
        c1.page_link(PAGES["compare"], label="Compare runs", icon=":material/stacked_line_chart:")
        target = "reconstructions" if job.spec.model.kind in AUTOENCODERS else "confusion"
        c2.page_link(PAGES[target], label="Inspect this model", icon=":material/visibility:")
    others = [j for j in q.jobs() if j.status == "queued" and j.job_id != job.job_id]
    if others:
        st.caption("Also queued: " + "; ".join(f"{q.position(j.job_id)}. {j.label}" for j in others))


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


# -- studies page --
# A study's plan is re-read from the registry and the job queue on every call (cheap); the extras a
# view needs (PCA baselines, test-set reports, denoising curves) are cached per run and weights mtime.
@st.cache_data(show_spinner="Fitting the PCA baselines on the 60,000 training images…")
def _pca_baselines(ns: tuple[int, ...]) -> dict[int, float]:
    from fmnist_core.studies import pca_baseline_mses

    return pca_baseline_mses(_load_dataset(), ns)


def study_plan(study, seeds: int | None = None, epochs: int | None = None, limit: int = 0):
    """The study's runs as they stand now in the registry and this app's job queue."""
    from fmnist_core.studies import plan_study

    return plan_study(study, registry(), seeds, epochs, limit, job_queue())


def study_extras(study, plan):
    """PCA baselines (cached here), test-set reports and denoising curves (read from each run's evaluation
    cache) for the study's view; what cannot be computed (no data, damaged weights) is left out with a caption."""
    from fmnist_core.studies import Extras, compute_extras

    try:
        return compute_extras(study, plan, registry(), _load_dataset, pca=_pca_baselines)
    except (DataError, RunError, FileNotFoundError) as e:
        st.caption(f"Some figures are left out: {e}")
        return Extras()


def start_study_sweep(
    name: str, seeds: int, epochs: int | None, limit: int, workers: int, ray: str | None = None
) -> int:
    """Start the study's missing runs as a background sweep (its own process); returns its pid."""
    from fmnist_core.background import start_sweep

    args = ["--seeds", str(seeds), "--limit", str(limit)] + (["--epochs", str(epochs)] if epochs else [])
    args += ["--ray", ray] if ray else ["--workers", str(workers)]
    return start_sweep(registry(), name, args)


def study_sweep(name: str) -> dict | None:
    """The record of the study's sweep running now (from any process), or None."""
    from fmnist_core.background import running_sweep

    return running_sweep(registry(), name)


def stop_study_sweep(name: str) -> bool:
    from fmnist_core.background import stop_sweep

    return stop_sweep(registry(), name)


def sweep_log(name: str) -> str:
    return str(registry().root / ".sweeps" / f"{name}.log")
