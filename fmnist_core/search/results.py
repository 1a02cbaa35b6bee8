"""What a search has found, read from its study and its trials' run folders: one row per trial, the best
so far, a summary line, and Optuna's figures. Reading writes nothing, so the command's --status and the
app can read a search while it runs.
"""

from __future__ import annotations

import math
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..config import KIND_LABELS
from ..errors import RunError
from ..registry import Registry
from . import store
from .definition import SearchDef
from .engine import INTERRUPTED, RETRY_OF, spends_budget

STATE_WORDS = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "queued",
}


def definition(registry: Registry, name: str) -> SearchDef:
    defn = store.stored_definition(registry, name)
    if defn is None:
        store.load(registry, name)  # RunError if there is no such search
        raise RunError(f"search {name!r} was killed before it stored its settings; run it again")
    return defn


def _state(t: FrozenTrial) -> str:
    return "interrupted" if t.user_attrs.get(INTERRUPTED) else STATE_WORDS.get(t.state, t.state.name.lower())


def _note(t: FrozenTrial, retried_as: dict[int, int]) -> str:
    parts = []
    if RETRY_OF in t.user_attrs:
        parts.append(f"trial {t.user_attrs[RETRY_OF]}'s values again")
    if t.number in retried_as:
        parts.append(f"its values again as trial {retried_as[t.number]}")
    if t.user_attrs.get("error"):
        parts.append(str(t.user_attrs["error"]))
    return "; ".join(parts)


def trial_rows(registry: Registry, name: str, study: optuna.Study | None = None) -> list[dict[str, Any]]:
    """One row per trial, in trial order: number, state (complete, pruned, failed, interrupted, running,
    queued), value (the objective: the best epoch's held-out score, or for a pruned trial its last one),
    the values drawn, and its run (id, status, epochs done)."""
    study = study or store.load(registry, name)
    metric = definition(registry, name).objective.metric
    trials = study.get_trials(deepcopy=False)
    retried_as = {int(t.user_attrs[RETRY_OF]): t.number for t in trials if RETRY_OF in t.user_attrs}
    rows = []
    for t in trials:
        run_id = t.user_attrs.get("run_id")
        info = registry.info(run_id) if run_id and registry.path(run_id).is_dir() else None
        end = t.datetime_complete
        rows.append(
            {
                "trial": t.number,
                "state": _state(t),
                "metric": metric,
                "value": t.value if t.state in (TrialState.COMPLETE, TrialState.PRUNED) else None,
                # a queued trial's values are fixed in advance (a retry's), not drawn yet
                "params": dict(t.params or t.system_attrs.get("fixed_params", {})),
                "run_id": run_id,
                "run_status": info.status if info else None,
                "epochs_done": info.summary.get("epochs_done") if info else None,
                "seconds": (end - t.datetime_start).total_seconds() if end and t.datetime_start else None,
                "counts": spends_budget(t),
                "note": _note(t, retried_as),
            }
        )
    return rows


def best_row(rows: list[dict[str, Any]], defn: SearchDef) -> dict[str, Any] | None:
    """The complete trial with the best objective (pruned trials stopped early and cannot be best)."""
    done = [
        r for r in rows if r["state"] == "complete" and r["value"] is not None and math.isfinite(r["value"])
    ]
    if not done:
        return None
    pick = min if defn.objective.direction == "minimize" else max
    return pick(done, key=lambda r: r["value"])


def fmt_value(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.2f}%" if metric == "val_acc" else f"{value:.4f}"


def summary(registry: Registry, name: str, rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The search at a glance: its settings, trials by state, the best so far, whether it runs now (pid)."""
    defn = definition(registry, name)
    rows = trial_rows(registry, name) if rows is None else rows
    states: dict[str, int] = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1
    return {
        "name": name,
        "kind": defn.kind,
        "objective": defn.objective.metric,
        "objective_words": defn.objective.words,
        "direction": defn.objective.direction,
        "definition": defn.to_attrs(),
        "trials": len(rows),
        "spent": sum(r["counts"] for r in rows),
        "states": states,
        "best": best_row(rows, defn),
        "running_pid": store.running_search(registry, name),
        **epochs_saved(rows, defn),
    }


def epochs_saved(rows: list[dict[str, Any]], defn: SearchDef) -> dict[str, int]:
    """What the pruner saved: the epochs the finished trials (complete or pruned) trained, against the
    epochs they would have trained had every one run to the end."""
    ended = [r for r in rows if r["state"] in ("complete", "pruned")]
    return {
        "epochs_trained": sum(int(r["epochs_done"] or 0) for r in ended),
        "epochs_unpruned": len(ended) * defn.epochs,
    }


def summary_line(s: dict[str, Any]) -> str:
    """'search lr-ae: conv autoencoder, held-out val_loss (minimize); 8 trials: 5 complete, 2 pruned, ...'"""
    states = ", ".join(f"{n} {state}" for state, n in sorted(s["states"].items()))
    line = (
        f"search {s['name']}: {KIND_LABELS[s['kind']]}, {s['objective']} ({s['direction']}); "
        f"{s['trials']} trials" + (f": {states}" if states else "")
    )
    best = s["best"]
    if best is not None:
        params = ", ".join(f"{k}={_short(v)}" for k, v in best["params"].items())
        line += f"; best: trial {best['trial']} {fmt_value(s['objective'], best['value'])} ({params})"
    if s["epochs_trained"] < s["epochs_unpruned"]:
        trained, full = s["epochs_trained"], s["epochs_unpruned"]
        line += f"; pruning saved {full - trained} of {full} trial-epochs ({100 * (1 - trained / full):.0f}%)"
    if s["running_pid"] is not None:
        line += f"; running now (pid {s['running_pid']})"
    return line


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v).lower() if isinstance(v, bool) else str(v)


def table_rows(rows: list[dict[str, Any]], metric: str) -> list[dict[str, str]]:
    """Trial rows as the strings of --status's table: a column per searched setting."""
    names = sorted({k for r in rows for k in r["params"]})
    return [
        {
            "trial": str(r["trial"]),
            "state": r["state"],
            metric: fmt_value(metric, r["value"]),
            "epochs": "-" if r["epochs_done"] is None else str(r["epochs_done"]),
            **{n: _short(r["params"][n]) if n in r["params"] else "-" for n in names},
            "run": r["run_id"] or "-",
            "note": r["note"],
        }
        for r in rows
    ]


def figures(registry: Registry, name: str) -> dict[str, Any]:
    """Optuna's plotly figures of the search, by name: history (the objective trial by trial, best so far),
    intermediate (each trial's held-out score per epoch: where the pruner cut), importance (of each setting,
    by Optuna's default evaluator), parallel (parallel coordinates), slice (the objective against each
    setting). With too few trials a figure is empty (Optuna's warnings about it are silenced); one it
    cannot draw at all is left out."""
    import warnings

    import optuna.visualization as vis

    study = store.load(registry, name)
    makers = {
        "history": vis.plot_optimization_history,
        "intermediate": vis.plot_intermediate_values,
        "importance": vis.plot_param_importances,
        "parallel": vis.plot_parallel_coordinate,
        "slice": vis.plot_slice,
    }
    out = {}
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for key, make in makers.items():
                try:
                    out[key] = make(study)
                except (ValueError, RuntimeError, ZeroDivisionError, IndexError):  # too few trials for it
                    continue
    finally:
        optuna.logging.set_verbosity(level)
    return out
