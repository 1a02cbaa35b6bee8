"""The search's coordinator: asks Optuna for trials, hands each to a worker process as an ordinary run,
tells Optuna how each ended, and resumes a search that was killed.

The run folders are the record of what was trained. A trial ends in the study from its run's final status:
completed (its best held-out score), pruned, or failed. A trial that a dead or stopped search left running
has no such status (its run is interrupted, stopped or missing): it is failed, marked "interrupted" (it does
not spend the budget) and its values are queued again, so the next trial trains them anew under a new
number; a trial whose run did finish is told from its run and never trained twice. The journal has no
heartbeat to find such trials by; one coordinator at a time (store.coordinating) makes every running trial
found at the start an orphan of a dead one.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..errors import ConfigError, RunError
from ..registry import Registry
from ..sweep import default_workers
from . import store
from .definition import Budget, SearchDef
from .ray_pool import RayPool
from .space import train_command, trial_spec
from .worker import init_worker, train_trial

Report = Callable[[str], None]  # one line of progress
MAX_FAILS_IN_A_ROW = 5  # trials that fail before training (a bad combination of values): then stop
RETRY_OF = "retry_of"  # user attr of a trial that trains an interrupted one's values again
INTERRUPTED = "interrupted"  # user attr of a trial left unfinished by a dead or stopped search
SPENT = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def spends_budget(t: FrozenTrial) -> bool:
    """A finished trial counts against --trials unless it was interrupted (its values run again)."""
    return t.state in SPENT and not t.user_attrs.get(INTERRUPTED)


def spent(study: optuna.Study) -> int:
    return sum(spends_budget(t) for t in study.get_trials(deepcopy=False))


def show_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


# -- finishing a trial from its run ---------------------------------------------------------------
def _fail(study: optuna.Study, t: FrozenTrial, error: str) -> None:
    study._storage.set_trial_user_attr(t._trial_id, "error", error[:300])
    study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)


def _requeue(study: optuna.Study, t: FrozenTrial) -> bool:
    """Fail an unfinished trial without spending the budget, and queue its values for a new trial; whether
    it had any (a coordinator killed inside ask() leaves a trial with none, or only some: nothing ran)."""
    study._storage.set_trial_user_attr(t._trial_id, INTERRUPTED, True)
    study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    if "run_id" not in t.user_attrs:  # set once every value was drawn, before the trial is handed out
        return False
    study.enqueue_trial(t.params, user_attrs={RETRY_OF: t.number})
    return True


def settle(study: optuna.Study, t: FrozenTrial, registry: Registry, defn: SearchDef) -> str:
    """Finish a running trial as its run folder says it ended; what happened, in words."""
    run_id = t.user_attrs.get("run_id")
    info = registry.info(run_id) if run_id and registry.path(run_id).is_dir() else None
    status = "missing" if info is None else "damaged" if info.damaged else info.status
    metric = defn.objective.metric
    epochs = info.summary.get("epochs_done", 0) if info else 0
    if status in ("completed", "early_stopped"):
        value = info.summary.get(f"best_{metric}") if info else None
        if value is None or not math.isfinite(value):
            _fail(study, t, f"the run has no held-out {metric}")
            return f"failed: the run has no held-out {metric}"
        study.tell(t.number, value, skip_if_finished=True)
        return f"complete: {metric} {_fmt(metric, value)} after {epochs} epoch(s)"
    if status == "pruned":
        study.tell(t.number, state=TrialState.PRUNED, skip_if_finished=True)
        return f"pruned after epoch {epochs}"
    if status in ("diverged", "failed", "damaged"):
        error = (info.damaged or info.summary.get("error") or status) if info else status
        _fail(study, t, error)
        return f"failed: {error}"
    if _requeue(study, t):  # interrupted, stopped, missing, or still held by an orphaned worker
        return f"not finished ({status}): its values are queued for a new trial"
    return "not started: the search was stopped while it drew its values"


def _fmt(metric: str, value: float) -> str:
    return f"{100 * value:.2f}%" if metric == "val_acc" else f"{value:.4f}"


def recover(study: optuna.Study, registry: Registry, defn: SearchDef, report: Report) -> None:
    """Finish every trial an earlier coordinator left running (only call while holding the coordinator
    lock: then no live process is deciding about them)."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        report(f"{t.user_attrs.get('run_id', f'trial {t.number}')}: {settle(study, t, registry, defn)}")


# -- the loop -------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    name: str
    defn: SearchDef
    study: optuna.Study
    registry: Registry
    data_dir: str | None
    report: Report


def _ask(c: _Ctx) -> tuple[FrozenTrial, dict[str, Any]] | None:
    """A new trial (a queued retry first) and the job a worker trains; None if its values make no valid
    run (the trial is failed, counted, and said)."""
    trial = c.study.ask({p.name: p.distribution() for p in c.defn.space})
    run_id = store.run_id(c.name, trial.number)
    trial.set_user_attr("run_id", run_id)
    frozen = c.study._storage.get_trial(trial._trial_id)
    d = c.defn
    try:
        spec = trial_spec(d.kind, d.space, trial.params, d.epochs, d.limit, c.registry, run_id)
    except (ConfigError, RunError) as e:
        _fail(c.study, frozen, str(e))
        c.report(f"{run_id}: failed before training ({show_params(trial.params)}): {e}")
        return None
    retry = frozen.user_attrs.get(RETRY_OF)
    again = f" (trial {retry}'s values again)" if retry is not None else ""
    c.report(f"{run_id}: started{again}: {show_params(trial.params)}")
    job = {
        "search": c.name,
        "journal": str(store.journal(c.registry, c.name)),
        "trial_id": trial._trial_id,
        "number": trial.number,
        "spec": spec.to_dict(),
        "definition": d.to_attrs(),
        "runs_dir": str(c.registry.root),
        "data_dir": c.data_dir,
        "command": train_command(spec),
    }
    return frozen, job


def _open(c: _Ctx, budget: Budget, deadline: float | None, running: int, stop) -> bool:
    """Whether another trial may start now."""
    if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
        return False
    return budget.trials is None or spent(c.study) + running < budget.trials


def run_search(
    name: str,
    defn: SearchDef,
    budget: Budget,
    registry: Registry,
    workers: int | None = None,
    data_dir: str | None = None,
    report: Report | None = None,
    stop=None,
    ray: str | None = None,
) -> optuna.Study:
    """Run (or resume) search `name` until its budget is spent or `stop` is set; the study.

    workers: trials trained at once (default: a core each here, or the Ray cluster's CPUs).
    stop: a multiprocessing Event from the spawn context; set, every trial ends after its current batch
    and is queued again for the next run of the search.
    ray: train the trials as Ray tasks on the cluster at this address ("local": start one here).
    """
    report = report or (lambda line: None)
    ctx = multiprocessing.get_context("spawn")
    stop = stop if stop is not None else ctx.Event()
    with store.coordinating(registry, name):
        if store.exists(registry, name):
            store.repair(registry, name)
        store.create(registry, name, defn)
        study = store.load(registry, name, pruner=defn.make_pruner())
        c = _Ctx(name, defn, study, registry, data_dir, report)
        recover(study, registry, defn, report)
        study.sampler = defn.make_sampler(len(study.trials))
        if ray is not None:
            with RayPool(ray, stop, store.folder(registry, name)) as rays:
                problem = _loop(c, rays, budget, workers or rays.cpus, stop)
        else:
            workers = workers or default_workers()
            with ProcessPoolExecutor(
                workers, mp_context=ctx, initializer=init_worker, initargs=(stop,)
            ) as pool:
                problem = _loop(c, pool, budget, workers, stop)
        recover(study, registry, defn, report)  # the trials a stop ended early: queued for the next run
    if problem:
        raise RunError(problem)
    return study


def _loop(c: _Ctx, pool: ProcessPoolExecutor | RayPool, budget: Budget, workers: int, stop) -> str | None:
    """Keep `workers` trials training until the budget is spent; a problem that stopped the search early."""
    deadline = time.monotonic() + 60 * budget.minutes if budget.minutes else None
    running: dict[Future, FrozenTrial] = {}
    fails, problem = 0, None
    while True:
        while problem is None and len(running) < workers and _open(c, budget, deadline, len(running), stop):
            asked = _ask(c)
            fails = 0 if asked else fails + 1
            if asked:
                running[pool.submit(train_trial, asked[1])] = asked[0]
            elif fails >= MAX_FAILS_IN_A_ROW:
                problem = f"{fails} trials in a row drew values that make no valid run; change the space"
        if not running:
            return problem
        done, _ = wait(list(running), timeout=1.0, return_when=FIRST_COMPLETED)
        for fut in done:
            t = running.pop(fut)
            error = None
            try:
                fut.result()
            except BrokenProcessPool:  # a worker died (out of memory, killed): its run is interrupted
                problem = "a worker process died; run the search again to go on"
                stop.set()
            except Exception as e:  # the trial's own error (a missing encoder run, a taken run name)
                error = f"{type(e).__name__}: {e}".splitlines()[0]
            if error is not None:
                _fail(c.study, t, error)
            what = f"failed: {error}" if error is not None else settle(c.study, t, c.registry, c.defn)
            c.report(f"{t.user_attrs.get('run_id')}: {what}")
