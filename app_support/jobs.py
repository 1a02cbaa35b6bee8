"""Training jobs: this browser session's handle on the job queue (submit_job, job_queue), the time
estimate of a spec, and the live training panel (job_monitor) with its curves."""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import streamlit as st

from app_support.data import AUTOENCODERS, _load_dataset, fmt_pct, fmt_seconds, registry
from app_support.site import PAGES
from fmnist_core.config import RunSpec
from fmnist_core.errors import USER_ERRORS
from fmnist_core.health import NEVER_LEARNED, never_learned
from fmnist_core.selection import quick_note

if TYPE_CHECKING:
    from fmnist_core.job_queue import JobQueue


# -- training jobs --------------------------------------------------------------------------
def submit_job(spec: RunSpec, label: str):
    """Queue a training job for this browser session; (job, new), or (None, False) after one error line."""
    from fmnist_core.job_queue import QueueFull

    owner = st.session_state.setdefault("queue_owner", os.urandom(8).hex())
    try:
        return job_queue().submit(spec, label=label, owner=owner)
    except QueueFull as e:
        st.error(f"Not queued: {e}.")
        return None, False


def job_queue() -> JobQueue:
    from fmnist_core.job_queue import get_queue

    return get_queue(registry(), _load_dataset)


def queue_if_any() -> JobQueue | None:
    """The job queue if this process has made one (else None: no job can exist). Drawing the sidebar's
    queue line must not import torch, which the queue's module does, on a new server's first page."""
    return job_queue() if "fmnist_core.job_queue" in sys.modules else None


def estimate_seconds(spec: RunSpec) -> float | None:
    """Seconds to train a spec on this device, from a short calibration of its model (None without data).
    Timed here, in the page's thread (the Studies page sums a plan's runs), but not beside the warm-up:
    the per-image times are memoised for the process, and the Train page's estimate reuses them."""
    from app_support import warm

    try:
        ds = _load_dataset()
    except USER_ERRORS:
        return None
    warm.settled()
    return _guarded(_estimate, spec, ds)


def _estimate(spec: RunSpec, ds) -> float | None:
    from fmnist_core.estimate import estimate_seconds as estimate

    return estimate(spec, ds)


def _guarded(f, spec: RunSpec, ds):
    """f(spec, ds), or None where it fails: no estimate is better than an error on every draw of a page."""
    try:
        return f(spec, ds)
    except Exception:  # noqa: BLE001
        return None


_TIMINGS: dict[RunSpec, Future] = {}  # spec -> its (training, evaluation) seconds, timed in the background
_TIMINGS_LOCK = threading.Lock()
_FAILED: dict[RunSpec, float] = {}  # spec -> when its timing was first seen failed
RETRY_AFTER = 30.0  # seconds; not at once: the page would time, fail and redraw in a loop


@st.cache_resource
def _timer() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="fmnist-estimate")  # one at a time: each times the CPU


def estimates_later(spec: RunSpec) -> tuple[float | None, float | None] | None:
    """(training, evaluation) seconds of `spec` on this device, or None while a background thread times a
    few steps of its model (started by the first ask): the Train page draws without waiting for torch's
    optimizer import and the calibration (1-2.5 s on a new server). (None, None) without data."""
    spec = dataclasses.replace(spec, name=None)  # the run's name changes no timing
    try:
        ds = _load_dataset()  # here, in the page's thread (a cached loader wants the page's context), and
    except USER_ERRORS:  # before the lock: a slow first load holds up no other session
        return None, None
    with _TIMINGS_LOCK:
        if spec not in _TIMINGS:
            for old, f in list(_TIMINGS.items()):  # settings changed since: what no one waits for now
                if not f.done() and f.cancel() or f.done() and len(_TIMINGS) > 256:
                    del _TIMINGS[old]
            _TIMINGS[spec] = _timer().submit(_times, spec, ds)
        future = _TIMINGS[spec]
        if not future.done() or future.cancelled():
            return None
        times = future.result()
        if times == (None, None):  # it failed (a device busy, say): a draw after RETRY_AFTER asks again
            failed = _FAILED.setdefault(spec, time.monotonic())
            if time.monotonic() - failed > RETRY_AFTER:
                del _TIMINGS[spec], _FAILED[spec]
    return times


def _times(spec: RunSpec, ds) -> tuple[float | None, float | None]:
    from app_support import warm
    from fmnist_core.estimate import evaluation_seconds

    warm.settled()  # time the steps with nothing beside them: not the warm-up's PCA fit,
    warm.pages_idle(timeout=3.0)  # nor the page that asked, still drawing
    return _guarded(_estimate, spec, ds), _guarded(evaluation_seconds, spec, ds)


def _history_metrics(h: dict, val: str = "held-out") -> list[tuple[str, str]]:
    """An epoch's figures, the validation ones named for the images they are on (held-out or test)."""
    out = [("train loss", f"{h['train_loss']:.4f}"), (f"{val} loss", f"{h['val_loss']:.4f}")]
    if "val_acc" in h:
        out += [("train acc", fmt_pct(h["train_acc"])), (f"{val} acc", fmt_pct(h["val_acc"]))]
    out.append(("s / epoch", f"{h['epoch_seconds']:.1f}"))
    return out


def show_curves(name: str, history: list[dict], key: str, val: str = "held-out") -> None:
    """Loss (and accuracy) curves of one run, side by side; `val` names the validation curve's images."""
    has_acc = bool(history) and "val_acc" in history[0]
    cols = st.columns(2) if has_acc else [st.container()]
    series = [{"name": name, "history": history}]
    from fmnist_core.plots import curves_figure

    cols[0].plotly_chart(curves_figure(series, "loss", title="loss", val_label=val), key=f"{key}_loss")
    if has_acc:
        acc = curves_figure(series, "acc", title="accuracy", val_label=val)
        cols[1].plotly_chart(acc, key=f"{key}_acc")


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
            "No job yet. Set the options and press **Start training**; the curves appear "
            "here after the first epoch."
        )
        return
    st.subheader(job.label)
    if job.status == "queued":
        ahead = (
            "the run before it is being evaluated for the pages (its test figure, reconstructions, noise)"
            if any(j.evaluating for j in q.jobs())
            else "waiting for the job ahead of it"
        )
        st.info(f"Queued, position **{q.position(job.job_id)}**: {ahead}.")
        if st.button("Cancel", key=f"cancel_{job.job_id}"):
            st.session_state[f"stopped_here_{job.job_id}"] = True
            q.stop(job.job_id)
            st.rerun(scope="fragment")
    elif job.status == "running":
        p = job.progress
        if p is None:
            st.progress(0.0, text="Preparing data and model…")
        else:
            st.progress(
                p.fraction,
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
        learned = job.status not in ("completed", "early_stopped") or not never_learned(job.history)
        if not learned:
            verb += f", but {NEVER_LEARNED}"
        (st.warning if job.status in ("diverged", "cancelled") or not learned else st.success)(
            f"Run **{job.run_id or '–'}** {verb}."
        )
        if job.run_id and (note := quick_note(registry().info(job.run_id))):
            st.caption(note)
    if job.history:
        last = job.history[-1]
        val = "test" if job.spec.train.validation == "test" else "held-out"
        st.markdown(
            f"**Epoch {last['epoch']}** · "
            + " · ".join(f"{label} **{value}**" for label, value in _history_metrics(last, val))
        )
        show_curves(job.label, job.history, key=f"job{job.job_id}_{len(job.history)}", val=val)
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
