"""`study NAME`: plan a study, train what is missing (worker processes or Ray), print its view."""

from __future__ import annotations

import functools
import os
import shlex
import signal
import sys
import threading

from ..data import load_fashion_mnist
from ..errors import RunError
from ..registry import Registry
from .args import CLIError, registry_from_args
from .runs import fmt_value, text_table


class _EpochPrinter:
    """Prints each run's new epochs as its folder records them: every 2 s, and once more when the run ends,
    so the last epochs (all of a short run's) come before its end line instead of being lost between polls."""

    def __init__(self, registry: Registry, names: list[str]):
        self.registry, self.names = registry, names
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()  # the polling thread and the end-of-run report both print

    def flush(self, name: str) -> None:
        with self.lock:
            try:
                history = self.registry.info(name).history
            except RunError:
                return
            for r in history[self.seen.get(name, 0) :]:
                parts = [
                    f"{name}: epoch {r.get('epoch')}",
                    f"train_loss {fmt_value(r.get('train_loss'))}",
                    f"val_loss {fmt_value(r.get('val_loss'))}",
                ]
                if "val_acc" in r:
                    parts.append(f"val_acc {fmt_value(r.get('val_acc'), pct=True)}")
                print("  ".join(parts), file=sys.stderr, flush=True)
            self.seen[name] = len(history)

    def poll(self, done: threading.Event) -> None:
        while not done.wait(2.0):
            for name in self.names:
                self.flush(name)


def _sweep(tasks: list, registry: Registry, a, command: str):
    """Train the tasks locally in worker processes or on Ray; SIGTERM or Ctrl-C stops them cleanly."""
    import multiprocessing

    from ..sweep import run_local, run_ray

    epochs = _EpochPrinter(registry, [t.spec.name for t in tasks])

    def report(name: str, what: str) -> None:
        if what != "started":
            epochs.flush(name)
        print(f"{name}: {what}", file=sys.stderr, flush=True)

    if a.ray:
        return run_ray(tasks, registry, command, a.ray, a.data_dir, report)
    stop = multiprocessing.get_context("spawn").Event()

    def on_signal(signum, frame):
        # set the event first, and write with os.write: a print() here can land inside the main thread's own
        # print to stderr and raise "reentrant call", leaving the sweep unstopped
        first = not stop.is_set()
        stop.set()
        if first:
            os.write(2, b"\nstopping: each run ends after its current batch and keeps its best epoch...\n")

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    printing = threading.Event()
    threading.Thread(target=epochs.poll, args=(printing,), daemon=True).start()
    try:
        return run_local(tasks, registry, command, a.workers, a.data_dir, report, stop)
    finally:
        printing.set()
        for sig, handler in old.items():
            signal.signal(sig, handler)


def cmd_study(a) -> int:
    from ..studies import STUDIES

    if a.workers is not None and not 1 <= a.workers <= 256:
        raise CLIError(f"--workers must be between 1 and 256 (got {a.workers})")
    if a.all and a.name:
        raise CLIError("give a study name or --all, not both")
    if a.all:  # every study in the catalogue's order: a rebuild from nothing, with the studies' seeds
        return max(run_study(name, a) for name in STUDIES)
    if not a.name:
        print(
            text_table(
                [
                    {
                        "study": s.name,
                        "report": s.report,
                        "runs": str(sum(s.seeds if t.seeded else 1 for t in s.runs)),
                        "title": s.title,
                        "question": s.question,
                    }
                    for s in STUDIES.values()
                ]
            )
        )
        print(
            "\nrun one with `python -m fmnist_core study NAME [--seeds K] [--epochs E] [--limit N] [--workers W]`"
            ", or all of them with `study --all`"
        )
        return 0
    return run_study(a.name, a)


def run_study(name: str, a) -> int:
    """Plan one study, train what is missing, print its view; the exit code (1 if a run failed)."""
    from ..background_sweep import running_sweep, sweep_record
    from ..studies import build_view, compute_extras, get_study, plan_study, runs_table, sweep_tasks

    study = get_study(name)
    registry = registry_from_args(a)
    plan = plan_study(study, registry, a.seeds, a.epochs, a.limit)
    print(f"study {study.name} (report {study.report}): {study.title}\n  {study.question}", file=sys.stderr)
    reused = [r for r in plan.runs if r.finished and r.note.startswith("reuses")]
    print(
        f"  {len(plan.runs)} runs: {plan.count('done')} done"
        + (
            f" ({len(reused)} reused: {', '.join(sorted({r.run_id for r in reused if r.run_id}))})"
            if reused
            else ""
        )
        + f", {plan.count('running')} running elsewhere, {len(plan.missing)} to train"
        + (f", {len(plan.blocked)} blocked" if plan.blocked else ""),
        file=sys.stderr,
    )
    if plan.stale:
        print(
            f"  {len(plan.stale)} done run(s) are from before the fixed held-out split (shown, flagged as such): "
            "`scripts/ship_runs.py` replaces them with runs re-trained elsewhere",
            file=sys.stderr,
        )
    for r in plan.blocked:
        print(f"  blocked: {r.label}: {r.note}", file=sys.stderr)
    if a.dry_run:
        print(text_table(runs_table(plan)))
        return 0
    tasks = sweep_tasks(plan)
    sweep = None
    if tasks:
        other = running_sweep(registry, study.name)
        if other is not None:
            raise CLIError(
                f"a sweep of study {study.name} is already running (pid {other['pid']}); "
                "stop it first or wait for it"
            )
        load_fashion_mnist(a.data_dir, download=False)  # fail early (and once) if the data is missing
        command = "python -m fmnist_core " + " ".join(shlex.quote(x) for x in sys.argv[1:])
        where = f"Ray at {a.ray}" if a.ray else f"{a.workers or os.cpu_count()} worker process(es)"
        print(f"  training {len(tasks)} run(s) with {where}", file=sys.stderr)
        with sweep_record(registry, study.name, command=command, workers=a.workers, ray=a.ray):
            sweep = _sweep(tasks, registry, a, command)
    else:
        print(
            "  nothing to train: every run of this study exists"
            if not plan.blocked
            else "  nothing to train now",
            file=sys.stderr,
        )
    plan = plan_study(study, registry, a.seeds, a.epochs, a.limit)
    view = build_view(
        study,
        plan,
        compute_extras(study, plan, registry, functools.cache(lambda: load_fashion_mnist(a.data_dir))),
    )
    print(f"\n# {study.name}: {study.title}")
    print("\n## runs\n" + text_table(runs_table(plan)))
    for t in view.tables:
        print(f"\n## {t.title}\n" + text_table(t.rows) + (f"\n{t.note}" if t.note else ""))
    print("\n## reading")
    for line in view.reading:
        print("- " + line.replace("**", ""))
    for o in sweep.failed if sweep else []:
        print(f"{o.name}: {o.status}: {o.error}", file=sys.stderr)
    return 1 if (sweep and sweep.failed) or plan.blocked else 0
