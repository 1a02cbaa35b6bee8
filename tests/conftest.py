"""Shared fixtures: the real Fashion-MNIST loaded once, throw-away run folders, a CLI runner.

Tests never write to saved_models/: a session-wide FMNIST_RUNS_DIR points into pytest's
temporary folder, and the `runs_dir` fixture gives each test its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

import fmnist_core
import fmnist_core.cores
from fmnist_core.data import Split

ROOT = Path(__file__).resolve().parents[1]

# One intra-op thread: the suite is meant to run beside a training job on a 2-core machine, where
# two threads per process fight over the cores and a training step gets several times slower.
TEST_THREADS = int(os.environ.get("FMNIST_TEST_THREADS", "1"))
torch.set_num_threads(TEST_THREADS)
# ... and claimed (fmnist_core.cores): a Train-page job that a test starts, in this process or in a
# Streamlit server beside it, sizes itself to the cores the test processes leave instead of taking all
_CLAIM = fmnist_core.cores.Claim(TEST_THREADS)


@pytest.fixture(scope="session", autouse=True)
def _no_writes_to_saved_models(tmp_path_factory):
    """Anything that falls back to the default runs folder lands in a temporary one (and the user's cache
    folder, where the PCA baselines are kept, too)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FMNIST_RUNS_DIR", str(tmp_path_factory.mktemp("session-runs")))
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("session-cache")))
        yield


@pytest.fixture(scope="session")
def ds() -> fmnist_core.FashionMNIST:
    """The real dataset, loaded once (found in ./data, FMNIST_DATA_DIR or Debian's package)."""
    return fmnist_core.load_fashion_mnist(download=False)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    """An empty runs folder of this test's own, also set as FMNIST_RUNS_DIR."""
    d = tmp_path / "runs"
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(d))
    return d


@pytest.fixture
def registry(runs_dir) -> fmnist_core.Registry:
    return fmnist_core.Registry(runs_dir)


def small_split(ds, n_train: int, n_val: int, val_start: int = 0) -> Split:
    """The first n_train training images; test images [val_start, val_start + n_val) to validate on."""
    return Split(
        ds.train_images[:n_train],
        ds.train_labels[:n_train],
        ds.test_images[val_start : val_start + n_val],
        ds.test_labels[val_start : val_start + n_val],
        "test",
        "test",
    )


def cli_env(runs: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FMNIST_RUNS_DIR"] = str(runs)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = str(TEST_THREADS)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def run_cli(args: list[str], runs: Path, cwd: Path, timeout: float = 500) -> subprocess.CompletedProcess:
    """`python -m fmnist_core ARGS` in a fresh interpreter, as a user would type it."""
    return subprocess.run(
        [sys.executable, "-m", "fmnist_core", *args],
        cwd=cwd,
        env=cli_env(runs),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_cli_many(
    arg_lists: list[list[str]], runs: Path, cwd: Path, workers: int = 4
) -> list[subprocess.CompletedProcess]:
    """Several independent CLI calls at once (each spends most of its time importing torch)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda a: run_cli(a, runs, cwd), arg_lists))
