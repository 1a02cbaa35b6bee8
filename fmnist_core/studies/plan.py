"""Planning a study: which of its runs exist, are queued, running or missing, the names new runs get,
the sweep tasks that train them, and the runs table.

A study run is *present* when the registry holds a run whose model and train configs equal the
study's (ignoring the device and the run's name), so the shipped ref-* runs are reused as they
are. Missing runs get deterministic names (study-a1-n128-s0) so a classifier queued after its
autoencoder can name it as its encoder before it exists. The plan reads the app's job queue too,
so a run queued there counts as queued; sweep_tasks hands the missing runs to fmnist_core.sweep
(worker processes or Ray).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..config import RunSpec, TrainConfig, config_key
from ..errors import ConfigError
from ..registry import Registry, RunInfo
from .catalog import DONE, Study, StudyRun


# -- planning -----------------------------------------------------------------------------
def spec_key(spec: RunSpec) -> str:
    d = spec.to_dict()
    return config_key(d["model"], d["train"])


# A run from before the fixed held-out split stands in for its planned run whatever it validated on (the
# test set was the default then): the page shows it, flagged stale, until a run on the split replaces it.
STALE_IGNORES = (("train", "device"), ("train", "validation"))


def stale_key(spec: RunSpec) -> str:
    d = spec.to_dict()
    return config_key(d["model"], d["train"], ignore=STALE_IGNORES)


def run_key(info: RunInfo) -> str | None:
    """The config key of a registry run (defaults filled in), or None if its config is unreadable."""
    try:
        return spec_key(info.spec())
    except (ConfigError, KeyError, TypeError, ValueError):
        return None


@dataclass
class PlannedRun:
    """One run of a study as planned: its spec and whether a matching run exists."""

    template: StudyRun
    seed: int
    spec: RunSpec  # the resolved spec; spec.name is the id a new run gets
    status: str  # done | running | queued | missing | blocked
    run_id: str | None  # the existing run's id, or the id a new run will get
    info: RunInfo | None = None
    note: str = ""
    in_queue: bool = False  # queued or running in this process's job queue
    several_seeds: bool = False  # the plan has more than one seed: labels name the seed
    depends_on: PlannedRun | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return f"{self.template.key}-s{self.seed}"

    @property
    def label(self) -> str:
        return self.template.label + (
            f" · seed {self.seed}" if self.template.seeded and self.several_seeds else ""
        )

    @property
    def history(self) -> list[dict]:
        return self.info.history if self.info is not None else []

    @property
    def finished(self) -> bool:
        return self.status == "done"

    @property
    def stale(self) -> bool:
        """Done, but from before the fixed held-out split: its epoch was selected on other images."""
        return self.finished and self.info is not None and self.info.split_id is None

    @property
    def epochs_done(self) -> int:
        return len(self.history)


@dataclass
class StudyPlan:
    study: Study
    runs: list[PlannedRun]
    seeds: int
    epochs: int | None = None
    limit: int = 0

    def by(self, key: str) -> list[PlannedRun]:
        """The planned runs of one study run, over seeds."""
        return [r for r in self.runs if r.template.key == key]

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.runs)

    @property
    def stale(self) -> list[PlannedRun]:
        return [r for r in self.runs if r.stale]

    @property
    def missing(self) -> list[PlannedRun]:
        return [r for r in self.runs if r.status == "missing"]

    @property
    def blocked(self) -> list[PlannedRun]:
        return [r for r in self.runs if r.status == "blocked"]

    @property
    def active(self) -> bool:
        return any(r.status in ("queued", "running") for r in self.runs)

    @property
    def overridden(self) -> bool:
        return bool(self.limit) or self.epochs is not None


def _run_name(study: Study, t: StudyRun, seed: int, epochs: int | None, limit: int) -> str:
    name = f"study-{study.name}-{t.key}-s{seed}"
    if epochs is not None and epochs != t.train.epochs:
        name += f"-e{epochs}"
    if limit:
        name += f"-l{limit}"
    return name


def _pick(candidates: list[RunInfo], name: str) -> RunInfo:
    """Of several matching runs: finished before running, on the fixed held-out split before from before it,
    then the shipped ones, then our own name."""
    return sorted(
        candidates,
        key=lambda r: (
            r.status not in DONE,
            r.split_id is None,
            not r.run_id.startswith("ref-"),
            r.run_id != name,
            r.run_id,
        ),
    )[0]


def plan_study(
    study: Study,
    registry: Registry,
    seeds: int | None = None,
    epochs: int | None = None,
    limit: int = 0,
    queue=None,
) -> StudyPlan:
    """Which runs of `study` exist (reused by config), which are queued or running, which are missing.

    seeds/epochs/limit override the study's defaults (overridden configs are different runs); seeds
    sets every seeded run's count, where the catalogue may give some runs more than the study's.
    queue: the process's JobQueue, to see jobs queued or running in it.
    """
    if seeds is not None and not 1 <= int(seeds) <= 100:
        raise ConfigError(f"seeds must be between 1 and 100 (got {seeds})")

    def seeds_of(t: StudyRun) -> int:
        return int(seeds) if seeds is not None else (t.seeds or study.seeds)

    most = max((seeds_of(t) for t in study.runs if t.seeded), default=1)
    if epochs is not None:
        TrainConfig(epochs=epochs)
    TrainConfig(limit=limit)
    index: dict[str, list[RunInfo]] = {}
    stale_index: dict[str, list[RunInfo]] = {}
    taken: set[str] = set()
    if registry.root.is_dir():
        taken = {p.name for p in registry.root.iterdir()}
    for info in registry.list_runs():
        if info.damaged:
            continue
        key = run_key(info)
        if key is not None:
            index.setdefault(key, []).append(info)
            if info.split_id is None and info.status in DONE:
                stale_index.setdefault(stale_key(info.spec()), []).append(info)
    jobs = [j for j in (queue.jobs() if queue is not None else []) if not j.done]
    job_by_key = {spec_key(j.spec): j for j in jobs}
    taken |= {j.spec.name for j in jobs if j.spec.name}
    ours_running = {j.run_id for j in jobs if j.run_id}

    planned: dict[str, dict[int, PlannedRun]] = {}
    out: list[PlannedRun] = []
    for t in study.runs:
        for seed in range(seeds_of(t)) if t.seeded else [t.train.seed]:
            train = t.train.replace(seed=seed)
            if epochs is not None:
                train = train.replace(epochs=epochs)
            if limit:
                train = train.replace(limit=limit)
            model, dep = t.model, None
            if t.encoder:
                deps = planned[t.encoder]
                dep = deps.get(seed) or deps[min(deps)]
                model = model.replace(encoder_run=dep.run_id or "random")
            name = _run_name(study, t, seed, epochs, limit)
            spec = RunSpec(model, train, name)
            key = spec_key(spec)
            candidates = index.get(key, [])
            usable = [r for r in candidates if r.status in DONE or r.status == "running"]
            if not usable:  # a run from before the split, until one on it replaces it
                usable = stale_index.get(stale_key(spec), [])
            job = job_by_key.get(key)
            if dep is not None and dep.run_id is None:
                p = PlannedRun(
                    t, seed, spec, "blocked", None, note=f"waits for {dep.label}: its run has no id yet"
                )
            elif usable:
                info = _pick(usable, name)
                status = "done" if info.status in DONE else "running"
                mine = info.run_id in ours_running
                note = "" if info.run_id == name else f"reuses {info.run_id}"
                if status == "running" and not mine:
                    note = (note + "; " if note else "") + "being trained by another process"
                p = PlannedRun(t, seed, spec, status, info.run_id, info, note, in_queue=mine)
            elif job is not None:
                status = "running" if job.status == "running" else "queued"
                p = PlannedRun(
                    t,
                    seed,
                    job.spec,
                    status,
                    job.spec.name or job.run_id,
                    note=f"job {job.job_id}",
                    in_queue=True,
                )
            else:
                new = name
                for i in range(2, 1000):
                    if new not in taken:
                        break
                    new = f"{name}-{i}"
                taken.add(new)
                spec = RunSpec(model, train, new)
                note = ""
                if candidates:
                    note = f"{candidates[0].run_id} has this config but is {candidates[0].status}; a new run is needed"
                status = "missing"
                if dep is not None and (
                    dep.status == "blocked" or (dep.status == "running" and not dep.in_queue)
                ):
                    status = "blocked"
                    note = (
                        f"waits for {dep.label} (blocked)"
                        if dep.status == "blocked"
                        else f"waits for {dep.run_id} (being trained by another process)"
                    )
                p = PlannedRun(t, seed, spec, status, new, note=note)
            p.depends_on = dep
            p.several_seeds = most > 1
            planned.setdefault(t.key, {})[seed] = p
            out.append(p)
    return StudyPlan(study, out, most, epochs, limit)


def sweep_tasks(plan: StudyPlan) -> list:
    """The plan's missing runs as sweep tasks, each classifier waiting for its encoder's run."""
    from ..sweep import Task

    return [
        Task(
            r.spec,
            f"{plan.study.name.upper()} · {r.label}",
            after=(r.depends_on.run_id,)
            if r.depends_on is not None and r.depends_on.status != "done" and r.depends_on.run_id
            else (),
        )
        for r in plan.missing
    ]


# -- a planned run's history, as the views read it ------------------------------------------
def _last(r: PlannedRun, key: str) -> float | None:
    return r.history[-1].get(key) if r.history else None


def _at(r: PlannedRun, epoch: int, key: str) -> float | None:
    return r.history[epoch - 1].get(key) if len(r.history) >= epoch else None


def _best(r: PlannedRun, key: str) -> float | None:
    if not r.history:
        return None
    h = r.history

    def loss(j: int) -> float:  # a diverged epoch's loss is null (NaN written as strict JSON)
        v = h[j].get("val_loss")
        return v if isinstance(v, (int, float)) and math.isfinite(v) else math.inf

    i = min(range(len(h)), key=loss)
    return h[i].get(key) if key != "epoch" else h[i]["epoch"]


# -- the runs table (page and CLI) --------------------------------------------------------------
def runs_table(plan: StudyPlan) -> list[dict[str, str]]:
    """One row per planned run: what it is, its status, its run id, and why."""
    rows = []
    for r in plan.runs:
        s = r.status
        if s == "running" and r.info is not None:
            s = f"running ({r.epochs_done}/{r.spec.train.epochs})"
        elif s == "done" and r.info is not None and r.info.status != "completed":
            s = f"done ({r.info.status.replace('_', ' ')})"
        if r.stale:
            s += ", before the fixed split"
        rows.append(
            {
                "run": r.label,
                "role": r.template.role,
                "status": s,
                "run id": r.run_id or "–",
                "epochs": str(r.spec.train.epochs),
                "note": r.note,
            }
        )
    return rows
