"""Sweeps that outlive the web server: start a study's sweep as a process of its own, find it, stop it.

A running `python -m fmnist_core study NAME` writes <runs>/.sweeps/NAME.json (its pid, the command,
when it started) and removes it when it ends. The Studies page reads that record to say a sweep is
running and to stop it; the run folders say how far each run has got. A record whose process is gone
(or whose pid now belongs to another program) is stale and is ignored.
"""

from __future__ import annotations

import json
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

from .detached import start_detached
from .registry import Registry, atomic_write_json, validate_run_id


def _record_path(registry: Registry, study: str) -> Path:
    return registry.root / ".sweeps" / f"{validate_run_id(study)}.json"


def _is_sweep(pid: int) -> bool:
    """Whether pid is alive and is a `fmnist_core study` process (not a stranger that reused the pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc (macOS): trust a live pid
            return True
        except (ProcessLookupError, PermissionError):
            return False
    return b"fmnist_core" in cmdline and b"study" in cmdline


def running_sweep(registry: Registry, study: str) -> dict | None:
    """The record of the sweep of `study` running now, or None."""
    try:
        rec = json.loads(_record_path(registry, study).read_text())
        pid = int(rec["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return rec if pid > 0 and _is_sweep(pid) else None


@contextmanager
def sweep_record(registry: Registry, study: str, **about):
    """While the block runs, this process is the running sweep of `study`."""
    path = _record_path(registry, study)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {"pid": os.getpid(), "study": study, "started": time.time(), **about})
    try:
        yield
    finally:
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


def start_sweep(registry: Registry, study: str, args: list[str]) -> int:
    """Start `python -m fmnist_core study STUDY ARGS` in a session of its own (a server restart or a
    closed tab does not end it); its output goes to <runs>/.sweeps/STUDY.log. Returns its pid."""
    return start_detached(
        registry, ["study", study, *args], _record_path(registry, study).with_suffix(".log")
    )


def stop_sweep(registry: Registry, study: str) -> bool:
    """Ask the running sweep of `study` to stop (each run ends after its batch, keeping its best weights)."""
    rec = running_sweep(registry, study)
    if rec is None:
        return False
    try:
        os.kill(int(rec["pid"]), signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
