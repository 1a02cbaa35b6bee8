"""How fast a Train-page job trains beside a two-worker study sweep, against alone (issue: never oversubscribed).

    .venv/bin/python scripts/bench_share.py [--images 6000] [--epochs 3]

Three figures from one run, on a machine with nothing else busy: the job's autoencoder epoch alone (torch's
default threads), beside a sweep with torch's default threads (the job as it was), and beside the same
sweep through the Train page's queue, which sizes its threads to the cores the sweep's claims leave
(fmnist_core.cores). The sweep is a real `study a1` on a temporary runs folder, killed at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fmnist_core import Registry, RunSpec, load_fashion_mnist  # noqa: E402
from fmnist_core.config import ConvAEConfig, TrainConfig  # noqa: E402
from fmnist_core.cores import claimed_by_others, cores  # noqa: E402
from fmnist_core.job_queue import JobQueue  # noqa: E402
from fmnist_core.train import train_run  # noqa: E402


def epoch_seconds(registry: Registry, run_id: str) -> float:
    """The median epoch time of the run, its first epoch left out (allocations, caches)."""
    times = [h["epoch_seconds"] for h in registry.info(run_id).history]
    return statistics.median(times[1:] or times)


def spec(name: str, images: int, epochs: int) -> RunSpec:
    return RunSpec(ConvAEConfig(), TrainConfig(epochs=epochs, limit=images), name=name)


def start_sweep(runs: Path) -> subprocess.Popen:
    """A two-worker study that keeps both cores busy for longer than the measurement."""
    env = {**os.environ, "FMNIST_RUNS_DIR": str(runs)}
    cmd = [sys.executable, "-m", "fmnist_core", "study", "a1", "--workers", "2", "--epochs", "50"]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # fmt: skip
    deadline = time.time() + 300
    while claimed_by_others() < 2 and time.time() < deadline:  # both workers have claimed their core
        time.sleep(0.5)
    time.sleep(10)  # and are past loading the data
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    ds = load_fashion_mnist(download=False)
    default_threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        reg = Registry(Path(tmp) / "runs")
        alone = epoch_seconds(reg, train_run(spec("alone", a.images, a.epochs), ds, reg))
        sweep = start_sweep(Path(tmp) / "sweep")
        try:
            torch.set_num_threads(default_threads)
            fixed = epoch_seconds(reg, train_run(spec("fixed", a.images, a.epochs), ds, reg))
            q = JobQueue(reg, lambda: ds)
            q.submit(spec("shared", a.images, a.epochs))
            q.wait(evaluated=True)
            shared = epoch_seconds(reg, "shared")
            used = reg.info("shared").summary.get("threads_used")
        finally:
            os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait()
    print(f"{cores()} cores, {os.cpu_count()} CPUs; conv autoencoder, {a.images:,} images an epoch")
    print("| the job | epoch | speed against alone |")
    print("|---|---|---|")
    print(f"| alone, {default_threads} threads | {alone:.2f} s | 1.00× |")
    print(
        f"| beside a 2-worker sweep, {default_threads} threads (before) | {fixed:.2f} s | {alone / fixed:.2f}× |"
    )
    print(
        f"| beside a 2-worker sweep, threads from the core budget {used} | {shared:.2f} s | {alone / shared:.2f}× |"
    )


if __name__ == "__main__":
    main()
