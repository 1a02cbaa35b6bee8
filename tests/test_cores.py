"""One budget of cores (fmnist_core.cores): claims of live processes count, a killed process's does not, and
a Train-page job sizes its torch threads to what the others leave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import torch

from fmnist_core import Registry, RunSpec
from fmnist_core.config import MLPConfig, TrainConfig
from fmnist_core.cores import AdaptiveThreads, Claim, claimed_by_others, claims_dir, cores, fair_threads
from fmnist_core.job_queue import JobQueue


@pytest.fixture(autouse=True)
def own_claims(tmp_path, monkeypatch):
    """A claims folder of this test's own: the suite's processes (and anything else on the machine) are
    not in it."""
    monkeypatch.setenv("FMNIST_CORES_DIR", str(tmp_path / "cores"))


def holder(threads: int) -> subprocess.Popen:
    """Another process holding a claim of `threads` until it is killed."""
    code = f"from fmnist_core.cores import Claim; c = Claim({threads}); print('held', flush=True); input()"
    p = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_live_claim_counts_and_a_killed_one_goes():
    p = holder(3)
    try:
        assert claimed_by_others() == 3 and fair_threads() == max(1, cores() - 3)
        os.kill(p.pid, signal.SIGKILL)  # no release: only the OS lets go of its lock
        p.wait()
        assert claimed_by_others() == 0 and fair_threads() == cores()
        assert list(claims_dir().glob("claim-*")) == []  # the dead claim's file is cleaned up
    finally:
        p.kill()


def test_a_claim_is_not_counted_by_itself_and_goes_on_release():
    with Claim(2) as mine:
        assert claimed_by_others(mine) == 0 and claimed_by_others() == 2
        mine.set(1)
        assert claimed_by_others() == 1
    assert claimed_by_others() == 0


def test_an_adaptive_job_takes_what_the_others_leave(monkeypatch):
    monkeypatch.setattr("fmnist_core.cores.CHECK_EVERY_S", 0.0)
    old = torch.get_num_threads()
    try:
        others = Claim(cores())  # a sweep that fills the machine
        job = AdaptiveThreads()
        assert job.tick() == 1 and torch.get_num_threads() == 1  # one thread beside it, never zero
        others.release()
        assert job.tick() == cores() and torch.get_num_threads() == cores()
        assert job.used == ([1, cores()] if cores() > 1 else [1])
        job.release()
    finally:
        torch.set_num_threads(old)


def test_a_train_page_job_beside_a_full_machine_runs_on_one_thread(tmp_path, ds):
    old = torch.get_num_threads()
    try:
        with Claim(cores()):
            q = JobQueue(Registry(tmp_path / "runs"), lambda: ds)
            spec = RunSpec(MLPConfig(), TrainConfig(epochs=1, limit=300), name="beside")
            job, _ = q.submit(spec)
            assert q.wait(timeout=300, evaluated=True)  # (a torch op still running at exit aborts python)
        assert Registry(tmp_path / "runs").info("beside").summary["threads_used"] == [1]
        assert claimed_by_others() == 0
    finally:
        torch.set_num_threads(old)
