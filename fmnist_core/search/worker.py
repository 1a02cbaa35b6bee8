"""A search's worker process: trains one trial at a time as an ordinary run, reporting each epoch's held-out
score to the study, and stops the run cleanly when the pruner says so.

Workers are the sweep's (sweep.py): separate processes with one torch thread, Ctrl-C left to the
coordinator. Each opens the search's journal itself: a trial's intermediate values go to the study from
where they are measured, so the pruner decides after every epoch without a round trip through the
coordinator. The coordinator alone starts and finishes trials (ask, tell).

A coordinator killed with -9 leaves its workers behind (nothing tells them); a thread in each watches for
that, stops the trial in progress after its current batch and ends the process, so an orphan does not
train on, report into the journal or hold a core while the search is resumed.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import optuna

from ..config import RunSpec
from ..registry import Registry
from .definition import SearchDef
from .store import storage

_STATE: dict[str, Any] = {}  # in a worker: the dataset, the journal storages, the search's stop event
_ORPHANED = threading.Event()  # the coordinator has died
_BUSY = threading.Event()  # a trial is being trained (the orphan's exit waits for it to stop)
ORPHAN_GRACE_S = 120  # how long an orphan waits for its trial to end before it exits anyway


def init_worker(stop) -> None:
    """The pool's initializer: the sweep's set-up (one torch thread), then the watch on the coordinator."""
    from ..sweep import _init_worker  # the sweep's worker set-up, shared, not copied

    _init_worker(stop, 1)
    _STATE["stop"] = stop
    threading.Thread(target=_watch_coordinator, args=(os.getppid(),), daemon=True).start()


def _watch_coordinator(coordinator: int) -> None:
    while os.getppid() == coordinator:
        time.sleep(0.25)
    _ORPHANED.set()  # the trial's stop event reads this: the run ends after its current batch
    deadline = time.monotonic() + ORPHAN_GRACE_S
    while _BUSY.is_set() and time.monotonic() < deadline:
        time.sleep(0.1)
    os._exit(0)


class _TrialStop(threading.Event):
    """The stop event fit() checks before every batch: set here when the pruner prunes the trial, and
    read as set too when the whole search is stopped or its coordinator has died."""

    def is_set(self) -> bool:
        search, stop_file = _STATE.get("stop"), _STATE.get("stop_file")
        return (
            super().is_set()
            or _ORPHANED.is_set()
            or (search is not None and search.is_set())
            or (stop_file is not None and os.path.exists(stop_file))  # a Ray task's stop (ray_pool.py)
        )


class TrialRegistry(Registry):
    """The runs folder, with each run it creates recording the search and trial it belongs to in its
    config.json, beside the run's other extras (data, device, command): the model and train configs stay
    exactly those of the same run trained alone."""

    def __init__(self, root: str | os.PathLike, search: dict[str, Any]):
        super().__init__(root)
        self.search = search

    def create(self, spec: RunSpec, extra: dict[str, Any], run_id: str | None = None) -> str:
        return super().create(spec, {**extra, "search": self.search}, run_id)


def _study(journal: str, name: str, defn: SearchDef) -> optuna.Study:
    if journal not in _STATE:
        _STATE[journal] = storage(Path(journal))
    # a random sampler: this process never samples (the coordinator does), and TPE's set-up is not free
    return optuna.load_study(
        study_name=name,
        storage=_STATE[journal],
        pruner=defn.make_pruner(),
        sampler=optuna.samplers.RandomSampler(),
    )


def train_trial(job: dict[str, Any]) -> dict[str, Any]:
    """In a worker: train trial job["number"] into the runs folder; what became of it ("skipped": the search
    was stopped before it began, so no run exists)."""
    _BUSY.set()
    try:
        stop = _TrialStop()
        if stop.is_set():
            return {"status": "skipped"}
        return _train(job, stop)
    finally:
        _BUSY.clear()


def _train(job: dict[str, Any], stop: _TrialStop) -> dict[str, Any]:
    from ..data import load_fashion_mnist
    from ..train import FitState, train_run

    if "ds" not in _STATE:
        _STATE["ds"] = load_fashion_mnist(job["data_dir"], download=False)
    defn = SearchDef.from_attrs(job["definition"])
    trial = optuna.trial.Trial(_study(job["journal"], job["search"], defn), job["trial_id"])
    metric = defn.objective.metric
    pruned = False

    def on_epoch(run_id: str, state: FitState) -> None:
        nonlocal pruned
        record = state.history[-1]
        value = record.get(metric)
        if _ORPHANED.is_set() or value is None or not math.isfinite(value):
            return  # a diverged epoch is the run's to end, not the pruner's
        try:
            trial.report(value, record["epoch"])
            # at the last epoch there is nothing left to save: the trial finishes as it is
            if record["epoch"] < defn.epochs and trial.should_prune():
                pruned = True
                stop.set()  # the run ends before the next epoch's first batch, keeping its best weights
        except optuna.exceptions.UpdateFinishedTrialError:  # a resumed search has given this trial up
            stop.set()

    registry = TrialRegistry(job["runs_dir"], {"name": job["search"], "trial": job["number"]})
    spec = RunSpec.from_dict(job["spec"])
    run_id = train_run(
        spec, _STATE["ds"], registry, on_epoch=on_epoch, stop_event=stop, command=job["command"]
    )
    info = registry.info(run_id)
    if pruned and info.status == "stopped":
        registry.write_summary(run_id, {**info.summary, "status": "pruned"})
    return {"status": registry.info(run_id).status, "run_id": run_id}
