"""`search NAME`: check the options, run or resume the search (worker processes or Ray tasks), print its trials;
`search NAME --status [--json]`: the trials only; `search`: the searches there are.

Optuna and the search package are imported when the command runs, not when the parser is built: the other
commands do not pay for them.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from contextlib import contextmanager

from ..config import CLI_KINDS
from ..data import load_fashion_mnist
from ..registry import Registry
from .args import CLIError, registry_from_args
from .runs import text_table


def cmd_search(a) -> int:
    from ..search import store

    if a.json and not a.status:
        raise CLIError("--json goes with --status (search NAME --status --json)")
    registry = registry_from_args(a)
    if not a.name:
        return _list(registry)
    name = store.check_name(a.name)
    if a.status:
        return _status(registry, name, a.json)
    return _run(registry, name, a)


def _list(registry: Registry) -> int:
    from ..search import list_searches, summary

    names = list_searches(registry)
    if not names:
        print(
            f"no searches in {registry.root}; start one with `python -m fmnist_core search NAME --model "
            "autoencoder --param lr=1e-4:1e-2:log --trials 20`"
        )
        return 0
    rows = []
    for n in names:
        s = summary(registry, n)
        best = s["best"]
        rows.append(
            {
                "search": n,
                "model": s["kind"],
                "trials": str(s["trials"]),
                "best": "-"
                if best is None
                else f"trial {best['trial']}: {best['value']:.4g} {s['objective']}",
                "running": "yes" if s["running_pid"] else "",
            }
        )
    print(text_table(rows))
    return 0


def _status(registry: Registry, name: str, as_json: bool) -> int:
    from ..search import summary, summary_line, table_rows, trial_rows

    rows = trial_rows(registry, name)
    if as_json:
        print(json.dumps(rows, indent=1))
        return 0
    s = summary(registry, name, rows)
    print(summary_line(s))
    print(text_table(table_rows(rows, s["objective"])) if rows else "(no trials yet)")
    return 0


def _definition_given(a, kind: str | None) -> dict:
    from ..search import parse_space

    return {
        "kind": kind if a.model else None,
        "space": parse_space(a.param, kind) if a.param and kind else None,
        "epochs": a.epochs,
        "limit": a.limit,
        "pruner": a.pruner,
        "seed": a.seed,
        "pruner_startup": a.pruner_startup,
    }


def _run(registry: Registry, name: str, a) -> int:
    from ..search import Budget, resolve, run_search, store
    from ..search.space import check_encoders

    stored = store.stored_definition(registry, name)
    kind = CLI_KINDS[a.model] if a.model else stored.kind if stored else None
    if kind is None:
        raise CLIError(f"search {name!r} is new: give --model ({', '.join(CLI_KINDS)}) and what to --param")
    given = _definition_given(a, kind)
    budget = Budget(a.trials, a.minutes)
    if a.workers is not None and not 1 <= a.workers <= 256:
        raise CLIError(f"--workers must be between 1 and 256 (got {a.workers})")
    defn = resolve(name, stored, given)
    check_encoders(defn.space, registry)
    if stored is None:
        _no_leftovers(registry, name)
    pid = store.running_search(registry, name)
    if pid is not None:
        raise CLIError(f"search {name!r} is running already (pid {pid}); wait for it or stop it")
    load_fashion_mnist(a.data_dir, download=False)  # fail early (and once) if the data is missing
    where = f"Ray tasks on {a.ray}" if a.ray else f"{a.workers or os.cpu_count() or 1} worker(s)"
    print(f"search {name}: {' '.join(p.text() for p in defn.space)}; {where}", file=sys.stderr)

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with _stop_on_signal() as stop:
        run_search(name, defn, budget, registry, a.workers, a.data_dir, report, stop, a.ray)
    return _status(registry, name, False)


def _no_leftovers(registry: Registry, name: str) -> None:
    """A new search must not meet runs of an earlier one of the same name (its journal deleted)."""
    from ..search import store

    prefix = store.run_id(name, 0)[:-3]
    if registry.root.is_dir() and any(p.name.startswith(prefix) for p in registry.root.iterdir()):
        raise CLIError(
            f"runs {prefix}* of an earlier search {name!r} are still in {registry.root}; delete them or "
            "give this search another name"
        )


@contextmanager
def _stop_on_signal():
    """A stop event that Ctrl-C and SIGTERM set: every trial ends after its current batch and is queued
    again for the next run of the search."""
    import multiprocessing

    stop = multiprocessing.get_context("spawn").Event()

    def on_signal(signum, frame):
        # os.write, not print: a print here can land inside the main thread's own print (see study.py)
        first = not stop.is_set()
        stop.set()
        if first:
            os.write(
                2, b"\nstopping: each trial ends after its current batch; run the search again to go on\n"
            )

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
