"""Start a `python -m fmnist_core ...` command that outlives the app: a study sweep or a search started from
a page keeps going when the tab closes or the server restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .registry import Registry

ROOT = Path(__file__).resolve().parents[1]  # where `-m fmnist_core` is found


def start_detached(registry: Registry, args: list[str], log: Path) -> int:
    """Run `python -m fmnist_core ARGS` in a session of its own (no signal from the server reaches it), one
    torch thread per process, on `registry`'s runs folder, appending its output to `log`; returns its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FMNIST_RUNS_DIR": str(registry.root.resolve()), "OMP_NUM_THREADS": "1"}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fmnist_core", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    return proc.pid
