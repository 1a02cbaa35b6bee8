"""Sweeps: many runs side by side, in worker processes on this machine or as tasks on a Ray cluster.

Each local worker is a separate process with one torch thread: on a small CPU, two processes of one
thread train about twice the images per second of one process of two threads, and a run trains
exactly as it would alone with one thread (same seed, same history). A run that copies another
run's encoder starts when that run has finished. The run folders are the only meeting point:
progress is read from them, and a stopped or crashed sweep leaves every finished epoch saved.

With Ray, each run is a task (one CPU, or one GPU where the cluster has them) that trains into a
folder of its own on whichever node runs it and sends the whole run folder back; it is written
into the local registry atomically, so no shared filesystem is needed and a failed task leaves
nothing half-written. Ray retries a task whose worker died; a run that fails is reported, and
running the sweep again trains what is still missing.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .config import RunSpec
from .cores import Claim
from .errors import RunError
from .registry import Registry, validate_run_id


@dataclass
class Task:
    """One run of a sweep: its spec (spec.name is the run id it gets) and the runs it waits for."""

    spec: RunSpec
    label: str
    after: tuple[str, ...] = ()  # run ids that must have finished first (an encoder)

    @property
    def name(self) -> str:
        """The run id: a sweep knows its runs by name (outcomes, dependencies), so every spec has one."""
        if not self.spec.name:
            raise ValueError(f"the sweep's run {self.label!r} has no name (spec.name)")
        return self.spec.name


@dataclass
class Outcome:
    name: str
    status: str  # the run's final status, or "failed" / "skipped"
    error: str = ""


@dataclass
class Sweep:
    """What a sweep did, run by run."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.status in ("failed", "skipped")]


Report = Callable[[str, str], None]  # (run id, what happened)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


# -- local worker processes -----------------------------------------------------------------
_STOP = None  # in a worker: the sweep's stop event (multiprocessing.Event)
_DATA: dict = {}  # in a worker: the dataset, loaded once per process
_CLAIM: list = []  # in a worker: its claim on a core (fmnist_core.cores)


def _init_worker(stop, threads: int) -> None:
    import signal

    import torch

    global _STOP
    _STOP = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the sweep, which stops the runs cleanly
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    _CLAIM.append(Claim(threads))  # held for the worker's life: a job beside the sweep sizes itself to it


def _train_local(spec_dict: dict, runs_dir: str, data_dir: str | None, command: str) -> str:
    """In a worker process: train one run into the registry and compute its evaluations; its status
    ("skipped", with no run folder, if the sweep was stopped while this run still waited in the pool)."""
    if _STOP is not None and _STOP.is_set():
        return "skipped"
    from .data import load_fashion_mnist
    from .evalcache import EvalCache
    from .train import train_run

    if "ds" not in _DATA:
        _DATA["ds"] = load_fashion_mnist(data_dir, download=False)
    registry = Registry(runs_dir)
    run_id = train_run(RunSpec.from_dict(spec_dict), _DATA["ds"], registry, stop_event=_STOP, command=command)
    status = registry.info(run_id).status
    if status not in ("stopped", "failed") and not (_STOP is not None and _STOP.is_set()):
        EvalCache(registry, lambda: _DATA["ds"]).precompute(run_id)
    return status


def run_local(
    tasks: list[Task],
    registry: Registry,
    command: str,
    workers: int | None = None,
    data_dir: str | None = None,
    report: Report | None = None,
    stop=None,
) -> Sweep:
    """Train `tasks` in `workers` processes of one torch thread each; dependents wait for their runs.

    stop: a multiprocessing Event (from the spawn context) that ends every run after its current batch.
    """
    workers = workers or default_workers()
    ctx = multiprocessing.get_context("spawn")  # no forked torch state; the same on every OS
    stop = stop if stop is not None else ctx.Event()
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(stop, 1)) as pool:

        def start(t: Task) -> Future:
            return pool.submit(_train_local, t.spec.to_dict(), str(registry.root), data_dir, command)

        return _schedule(tasks, start, report, lambda: stop.is_set())


# -- Ray ------------------------------------------------------------------------------------
def _pack(folder: Path, arcname: str) -> bytes:
    """A run folder as tar.gz bytes; its hidden files (the training lock, temp files) stay behind."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(folder, arcname=arcname, filter=lambda t: None if Path(t.name).name.startswith(".") else t)
    return buf.getvalue()


def _unpack(data: bytes, into: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(into, filter="data")  # regular files inside `into` only


def _train_remote(spec_dict: dict, data: dict, encoder: tuple[str, bytes] | None, command: str) -> bytes:
    """A Ray task: train one run in a folder of its own on the node that runs it; the run folder, packed."""
    import torch

    from .data import FashionMNIST
    from .evalcache import EvalCache
    from .train import train_run

    torch.set_num_threads(1)
    ds = FashionMNIST(**{k: torch.from_numpy(v) for k, v in data["arrays"].items()}, source=data["source"])
    with Claim(1), tempfile.TemporaryDirectory(prefix="fmnist-ray-") as tmp:
        registry = Registry(tmp)
        if encoder is not None:  # the autoencoder run this classifier copies its encoder from
            _unpack(encoder[1], Path(tmp))
        run_id = train_run(RunSpec.from_dict(spec_dict), ds, registry, command=command)
        EvalCache(registry, lambda: ds).precompute(run_id)
        return _pack(registry.path(run_id), run_id)


def _receive(registry: Registry, name: str, data: bytes) -> str:
    """Write a run folder sent back by a task into the registry: whole or not at all."""
    registry.root.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".incoming-{name}-", dir=registry.root))
    try:
        _unpack(data, incoming)
        folder = incoming / validate_run_id(name)
        if not (folder / "config.json").is_file():
            raise RunError(f"the task for {name!r} sent back no run folder")
        os.replace(folder, registry.path(name))  # fails if a run of that name appeared meanwhile
    except OSError as e:
        raise RunError(f"could not write run {name!r} into {registry.root}: {e.strerror or e}") from None
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return registry.info(name).status


def ray_init(address: str) -> None:
    """Join the Ray cluster at `address`, or start one on this machine ("local"): a CPU per core, one torch
    thread per task."""
    import ray

    if address == "local":
        ray.init(
            num_cpus=default_workers(),
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
        )
    else:
        ray.init(address=address, log_to_driver=False)


def run_ray(
    tasks: list[Task],
    registry: Registry,
    command: str,
    address: str = "local",
    data_dir: str | None = None,
    report: Report | None = None,
    retries: int = 2,
) -> Sweep:
    """Train `tasks` as Ray tasks on the cluster at `address` ("local": start one on this machine)."""
    import numpy as np
    import ray

    from .data import load_fashion_mnist

    ray_init(address)
    try:
        ds = load_fashion_mnist(data_dir, download=False)
        arrays = {
            k: getattr(ds, k).numpy() for k in ("train_images", "train_labels", "test_images", "test_labels")
        }
        data = ray.put(
            {"arrays": {k: np.ascontiguousarray(v) for k, v in arrays.items()}, "source": ds.source}
        )
        gpus = ray.cluster_resources().get("GPU", 0)
        remote = ray.remote(num_cpus=1, num_gpus=1 if gpus else 0, max_retries=retries)(_train_remote)
        pending: dict = {}

        def start(t: Task) -> Future:
            enc = t.spec.model.to_dict().get("encoder_run")
            payload = (enc, _pack(registry.path(enc), enc)) if enc and enc != "random" else None
            ref = remote.remote(t.spec.to_dict(), data, payload, command)
            fut: Future = ref.future()
            pending[t.name] = fut
            done: Future = Future()

            def land(f: Future, name: str = t.name) -> None:
                try:
                    done.set_result(_receive(registry, name, f.result()))
                except BaseException as e:  # the task's own error, a dead worker, a folder that cannot land
                    done.set_exception(e)

            fut.add_done_callback(land)
            return done

        return _schedule(tasks, start, report, lambda: False)
    finally:
        ray.shutdown()


# -- shared scheduling ----------------------------------------------------------------------
def _schedule(
    tasks: list[Task], start: Callable[[Task], Future], report: Report | None, stopping: Callable[[], bool]
) -> Sweep:
    """Start each task once the runs it waits for have finished; collect what happened to each."""
    report = report or (lambda name, what: None)
    sweep, waiting = Sweep(), list(tasks)
    running: dict[Future, Task] = {}
    names = {t.name for t in tasks}
    ok = ("completed", "early_stopped")

    def skip(t: Task, why: str) -> None:
        waiting.remove(t)
        sweep.outcomes[t.name] = Outcome(t.name, "skipped", why)
        report(t.name, f"skipped: {why}")

    while waiting or running:
        for t in list(waiting):
            deps = [a for a in t.after if a in names]  # runs outside the sweep exist already
            bad = [a for a in deps if a in sweep.outcomes and sweep.outcomes[a].status not in ok]
            if stopping():
                skip(t, "the sweep was stopped")
            elif bad:
                skip(t, f"{bad[0]} did not finish")
            elif all(a in sweep.outcomes for a in deps):
                waiting.remove(t)
                running[start(t)] = t
                report(t.name, "started")
        if not running:
            for t in list(waiting):  # waits for a run that never starts
                skip(t, "its dependency is not in the sweep")
            break
        done, _ = wait(list(running), timeout=1.0, return_when=FIRST_COMPLETED)
        for fut in done:
            t = running.pop(fut)
            try:
                status = fut.result()
                why = "the sweep was stopped before it started" if status == "skipped" else ""
                sweep.outcomes[t.name] = Outcome(t.name, status, why)
                report(t.name, f"skipped: {why}" if why else status)
            except BaseException as e:  # a run's own error or a dead worker: report it, go on with the rest
                msg = f"{type(e).__name__}: {e}".splitlines()[0][:300]
                sweep.outcomes[t.name] = Outcome(t.name, "failed", msg)
                report(t.name, f"failed: {msg}")
    return sweep
