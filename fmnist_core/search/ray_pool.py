"""Trials as Ray tasks (`search NAME --ray ADDRESS|local`): a pool with the one method the search's loop uses.

A task trains its trial exactly as a worker process does (worker.train_trial): it reports each epoch to the
journal and asks the pruner, so it must see the runs folder, the journal and the data at the same paths.
On this machine ("local") they do; on a cluster the folders must be on a filesystem every node mounts.
Ray tasks share no multiprocessing Event with the coordinator, so a stop is a file that each trial checks
before every batch; a task whose coordinator dies is ended by Ray with it (its run is then interrupted and
its values are queued again when the search is resumed, as after a kill).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

STOP_FILE = "stop-requested"  # in the search's folder: set, every trial ends after its current batch


def _ray_trial(job: dict[str, Any]) -> dict[str, Any]:
    """A Ray task: one torch thread, a claim on a core, then the trial as a worker process trains it."""
    import torch

    from ..cores import Claim
    from . import worker

    torch.set_num_threads(1)
    worker._STATE["stop_file"] = job["stop_file"]
    with Claim(1):
        return worker.train_trial(job)


class RayPool:
    """Submits trials to Ray; `cpus` is how many the cluster can train at once."""

    def __init__(self, address: str, stop, folder: Path):
        self.address, self.stop, self.stop_file = address, stop, folder / STOP_FILE
        self._done = threading.Event()

    def __enter__(self) -> RayPool:
        import ray

        from ..sweep import ray_init

        self.stop_file.unlink(missing_ok=True)  # a stop from an earlier run of the search is spent
        ray_init(self.address)
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_ray_trial)  # a retry would meet its own run
        threading.Thread(target=self._watch, daemon=True).start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(0.5):
            if self.stop.is_set():
                self.stop_file.touch()
                return

    def submit(self, fn, job: dict[str, Any]) -> Future:
        return self._remote.remote({**job, "stop_file": str(self.stop_file)}).future()

    def __exit__(self, *exc) -> None:
        import ray

        self._done.set()
        ray.shutdown()
        self.stop_file.unlink(missing_ok=True)
