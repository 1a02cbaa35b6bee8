"""One budget of CPU cores shared by every training process of the lab on this machine.

Why: torch's intra-op threads spin at each barrier, so a process with two threads beside another busy
process runs many times slower than with one (7-18x measured on a 2-core machine): a Train-page job
with torch's default threads beside a study sweep fell to a quarter of its speed. So each training
process says how many threads it uses in a claim file, and the Train page's job sizes itself to the cores
the others leave it, at its start and every couple of seconds while it trains.

A claim is a file flock-ed by its process for as long as it lives: a process that dies, even by kill -9,
lets go of the lock, and the next reader deletes its file. Sweep and search workers claim one thread
each; the app's job adapts (AdaptiveThreads); the train command keeps its threads and just claims them,
so a run it makes stays reproducible.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path

CHECK_EVERY_S = 2.0  # how often an adaptive job looks at the others' claims (a few syscalls)


def cores() -> int:
    """The cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def claims_dir() -> Path:
    """One folder per user on this machine: every runs folder's processes share the same cores."""
    return Path(
        os.environ.get("FMNIST_CORES_DIR") or Path(tempfile.gettempdir()) / f"fmnist-cores-{os.getuid()}"
    )


class Claim:
    """This process's claim on `threads` cores, held until release() or the process's end."""

    def __init__(self, threads: int):
        folder = claims_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"claim-{os.getpid()}-{id(self):x}"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.set(threads)

    def set(self, threads: int) -> None:
        self.threads = threads
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(threads).encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)  # closing lets go of the lock
            self.fd = -1

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _live_threads(path: Path) -> int:
    """The threads a claim file holds if its process is alive; 0 (and the file removed) if not."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its process is alive
            text = os.pread(fd, 16, 0).decode(errors="ignore").strip()
            return int(text) if text.isdigit() else 1
        path.unlink(missing_ok=True)  # nobody holds it: a process that ended without releasing
        return 0
    finally:
        os.close(fd)


def claimed_by_others(mine: Claim | None = None) -> int:
    """The threads every other live claim holds."""
    folder = claims_dir()
    if not folder.is_dir():
        return 0
    own = mine.path.name if mine is not None else None
    return sum(_live_threads(p) for p in folder.glob("claim-*") if p.name != own)


def fair_threads(mine: Claim | None = None) -> int:
    """The threads left by the other claims, at least one (a process beside a full machine still runs)."""
    return max(1, cores() - claimed_by_others(mine))


class AdaptiveThreads:
    """torch's thread count for a job that shares the machine: the cores the others leave, re-read every
    CHECK_EVERY_S while it trains (call tick() from the batch loop). `used` lists each count it ran with."""

    def __init__(self) -> None:
        import torch

        self._torch = torch
        self.claim = Claim(1)
        self.used: list[int] = []
        self._next = 0.0
        self.tick()

    def tick(self) -> int:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + CHECK_EVERY_S
            n = fair_threads(self.claim)
            if n != self.claim.threads:
                self.claim.set(n)
            if n != self._torch.get_num_threads():
                self._torch.set_num_threads(n)
            if not self.used or self.used[-1] != n:
                self.used.append(n)
        return self.claim.threads

    def release(self) -> None:
        self.claim.release()
