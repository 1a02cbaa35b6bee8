"""A process-wide queue that trains jobs one at a time in a worker thread.

Every browser tab (and the CLI's `study`) shares one JobQueue per runs folder, so jobs never
run side by side on a small CPU. The run folder stays the source of truth: a job only holds
live progress (batch, ETA) that the folder does not.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .config import RunSpec
from .cores import AdaptiveThreads
from .data import FashionMNIST
from .errors import USER_ERRORS
from .evalcache import EvalCache
from .registry import Registry
from .train import BatchProgress, FitState, train_run

ACTIVE = ("queued", "running")
MAX_PER_OWNER = 5  # queued or running jobs one browser session may have
MAX_JOBS = 20  # ... and all sessions together: a stranger cannot fill the machine for days


class QueueFull(RuntimeError):
    """The queue refuses a job: too many from this session, or in all."""


@dataclass
class Job:
    job_id: int
    spec: RunSpec
    label: str
    group: str | None = None  # e.g. a study's name
    command: str | None = None  # what the run folder records as its origin
    owner: str | None = None  # the browser session that queued it (for the per-session cap)
    status: str = (
        "queued"  # queued | running | completed | early_stopped | stopped | failed | cancelled | diverged
    )
    run_id: str | None = None
    progress: BatchProgress | None = None
    history: list[dict] = field(default_factory=list)
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    evaluating: bool = False  # done, and its test-set evaluations for the pages are being computed
    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def key(self) -> str:
        return json.dumps(self.spec.to_dict(), sort_keys=True)

    @property
    def done(self) -> bool:
        return self.status not in ACTIVE


class JobQueue:
    """FIFO of training jobs with one worker thread; safe to use from many threads."""

    def __init__(self, registry: Registry, load_data: Callable[[], FashionMNIST]):
        self.registry = registry
        self._load_data = load_data
        self._jobs: list[Job] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None

    # -- submitting and stopping ----------------------------------------------------------
    def submit(
        self,
        spec: RunSpec,
        label: str | None = None,
        group: str | None = None,
        command: str | None = None,
        owner: str | None = None,
    ) -> tuple[Job, bool]:
        """Queue a job; an identical spec already queued or running is returned instead (double clicks).
        Raises QueueFull past MAX_PER_OWNER active jobs of one owner (a browser session) or MAX_JOBS in all."""
        key = json.dumps(spec.to_dict(), sort_keys=True)
        with self._lock:
            active = [j for j in self._jobs if j.status in ACTIVE]
            for job in active:
                if job.key == key:
                    return job, False
            if owner is not None and sum(j.owner == owner for j in active) >= MAX_PER_OWNER:
                raise QueueFull(
                    f"you have {MAX_PER_OWNER} jobs queued or running already; wait for one to finish "
                    "or stop one on the Train page"
                )
            if len(active) >= MAX_JOBS:
                raise QueueFull(f"the queue holds {MAX_JOBS} jobs already; try again when some have finished")
            job = Job(
                next(self._ids),
                spec,
                label or spec.name or spec.model.kind,
                group,
                command=command,
                owner=owner,
            )
            self._jobs.append(job)
            self._ensure_worker()
            self._wake.notify_all()
        return job, True

    def stop(self, job_id: int) -> str:
        """Stop a running job after its current batch, or cancel a queued one; returns what happened."""
        with self._lock:
            job = self._find(job_id)
            if job is None:
                return "unknown job"
            if job.status == "queued":
                job.status, job.finished = "cancelled", time.time()
                return "cancelled"
            if job.status == "running":
                job.stop_event.set()
                return "stopping"
            return f"already {job.status}"

    # -- reading --------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs)

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._find(job_id)

    def running(self) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs if j.status == "running"), None)

    def position(self, job_id: int) -> int:
        """1 for the next job to run, 2 after it, ...; 0 if not queued."""
        with self._lock:
            queued = [j.job_id for j in self._jobs if j.status == "queued"]
        return queued.index(job_id) + 1 if job_id in queued else 0

    def wait(
        self, job_ids: list[int] | None = None, timeout: float | None = None, evaluated: bool = False
    ) -> bool:
        """Block until the given jobs (default all) are done (and evaluated, if asked); False on timeout."""
        end = None if timeout is None else time.time() + timeout
        with self._lock:
            while True:
                pending = [
                    j
                    for j in self._jobs
                    if (job_ids is None or j.job_id in job_ids)
                    and (not j.done or (evaluated and j.evaluating))
                ]
                if not pending:
                    return True
                left = None if end is None else end - time.time()
                if left is not None and left <= 0:
                    return False
                self._wake.wait(0.5 if left is None else min(left, 0.5))

    # -- the worker -----------------------------------------------------------------------
    def _find(self, job_id: int) -> Job | None:
        return next((j for j in self._jobs if j.job_id == job_id), None)

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run_forever, name="fmnist-train-worker", daemon=True)
            self._worker.start()

    def _next(self) -> Job:
        with self._lock:
            while True:
                job = next((j for j in self._jobs if j.status == "queued"), None)
                if job is not None:
                    job.status, job.started = "running", time.time()
                    return job
                self._wake.wait()

    def _run_forever(self) -> None:
        while True:
            job = self._next()
            self._run(job)
            with self._lock:
                job.finished = time.time()
                job.evaluating = job.run_id is not None and job.status not in ("failed", "cancelled")
                self._wake.notify_all()
            if job.evaluating:
                self._evaluate(job)
                with self._lock:
                    job.evaluating = False
                    self._wake.notify_all()

    def _evaluate(self, job: Job) -> None:
        """What the pages read about the finished run, computed now (the job already shows as done)."""
        if job.run_id is None:  # the job made no run folder
            return
        try:
            EvalCache(self.registry, self._load_data).precompute(job.run_id)
        except Exception:  # a page computes what is missing itself; never stop the queue over it
            pass

    def _run(self, job: Job) -> None:
        def on_created(run_id: str) -> None:
            job.run_id = run_id

        threads = AdaptiveThreads()  # the cores a sweep or a search beside it leaves, re-read as it trains

        def on_batch(p: BatchProgress) -> None:
            job.progress = p
            threads.tick()

        def on_epoch(run_id: str, state: FitState) -> None:
            job.history = list(state.history)

        try:
            ds = self._load_data()
            run_id = train_run(
                job.spec,
                ds,
                self.registry,
                on_batch,
                on_epoch,
                job.stop_event,
                on_created,
                command=job.command or f"app job: {job.label}",
            )
            info = self.registry.info(run_id)
            self.registry.write_summary(run_id, {**info.summary, "threads_used": threads.used})
            job.status = info.summary.get("status", "completed")
        except Exception as e:  # a failed job reports and leaves the queue working
            job.status = "failed"
            # a user's error says what to do in its own words; anything else is a bug: name its type
            what = str(e) if isinstance(e, USER_ERRORS) else f"{type(e).__name__}: {e}"
            job.error = what.splitlines()[0][:300]
            job.traceback = traceback.format_exc()  # type: ignore[attr-defined]
        finally:
            threads.release()


_QUEUES: dict[str, JobQueue] = {}
_QUEUES_LOCK = threading.Lock()


def get_queue(registry: Registry, load_data: Callable[[], FashionMNIST]) -> JobQueue:
    """The one queue of this process for a runs folder."""
    key = str(Path(registry.root).resolve())
    with _QUEUES_LOCK:
        if key not in _QUEUES:
            _QUEUES[key] = JobQueue(registry, load_data)
        return _QUEUES[key]
