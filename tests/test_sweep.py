"""Sweeps: worker processes side by side, dependencies, stopping, Ray, and sweeps outside the server."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from fmnist_core import (
    ClassifierConfig,
    ConvAEConfig,
    MLPConfig,
    Registry,
    RunError,
    RunSpec,
    TrainConfig,
    train_run,
)
from fmnist_core.background_sweep import running_sweep, start_sweep, stop_sweep
from fmnist_core.registry import CHECKED_FILE
from fmnist_core.sweep import Task, _pack, _receive, run_local

ROOT = Path(__file__).resolve().parents[1]
QUICK = TrainConfig(epochs=2, limit=300, batch_size=50, device="cpu")


def strip(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if k != "epoch_seconds"} for h in history]


def tasks() -> list[Task]:
    ae = RunSpec(ConvAEConfig(latent_dim=16), QUICK, "ae")
    return [
        Task(
            RunSpec(ClassifierConfig(latent_dim=16, encoder_run="ae"), QUICK.replace(seed=1), "clf"),
            "clf",
            after=("ae",),
        ),  # listed first: it must still wait
        Task(ae, "ae"),
        Task(RunSpec(MLPConfig(), QUICK.replace(seed=2), "mlp"), "mlp"),
    ]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_sweep_trains_what_each_run_would_alone(ds, tmp_path):
    swept = Registry(tmp_path / "swept")
    sweep = run_local(tasks(), swept, command="test", workers=2)
    assert {n: o.status for n, o in sweep.outcomes.items()} == {
        "ae": "completed",
        "clf": "completed",
        "mlp": "completed",
    }
    assert (
        swept.info("clf").config["created"] >= swept.info("ae").summary["updated"]
    )  # waited for its encoder
    alone = Registry(tmp_path / "alone")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for t in reversed(tasks()[:2]):
            train_run(t.spec, ds, alone, command="test")
    finally:
        torch.set_num_threads(threads)
    for name in ("ae", "clf"):
        assert strip(swept.info(name).history) == strip(alone.info(name).history), name
    assert (swept.path("ae") / "eval" / "test.npz").exists()  # evaluated in the worker


@pytest.mark.timeout(600)
def test_a_failed_run_is_reported_and_its_dependents_skipped(tmp_path):
    reg = Registry(tmp_path / "runs")
    bad = Task(RunSpec(ClassifierConfig(encoder_run="no-such-run"), QUICK, "broken"), "broken")
    after = Task(RunSpec(ClassifierConfig(encoder_run="broken"), QUICK, "after"), "after", after=("broken",))
    ok = Task(RunSpec(MLPConfig(), QUICK.replace(epochs=1), "fine"), "fine")
    sweep = run_local([bad, after, ok], reg, command="test", workers=2)
    out = sweep.outcomes
    assert out["broken"].status == "failed" and "no-such-run" in out["broken"].error
    assert out["after"].status == "skipped" and out["fine"].status == "completed"
    assert [o.name for o in sweep.failed] == ["broken", "after"]


@pytest.mark.timeout(600)
def test_a_stopped_sweep_keeps_its_epochs_and_starts_nothing_more(tmp_path):
    reg = Registry(tmp_path / "runs")
    stop = multiprocessing.get_context("spawn").Event()
    slow = TrainConfig(epochs=50, limit=2000, batch_size=50, device="cpu")

    def report(name, what):
        if name == "ae" and what == "started":
            threading.Timer(8.0, stop.set).start()

    sweep = run_local(
        [
            Task(RunSpec(ConvAEConfig(), slow, "ae"), "ae"),
            Task(RunSpec(ClassifierConfig(encoder_run="ae"), slow, "clf"), "clf", after=("ae",)),
            Task(RunSpec(MLPConfig(), slow, "mlp"), "mlp"),  # waits in the pool: never started
        ],
        reg,
        command="test",
        workers=1,
        report=report,
        stop=stop,
    )
    assert sweep.outcomes["ae"].status == "stopped" and sweep.outcomes["clf"].status == "skipped"
    assert sweep.outcomes["mlp"].status == "skipped" and "stopped" in sweep.outcomes["mlp"].error
    info = reg.get("ae")
    assert info.status == "stopped" and reg.load_model("ae") is not None
    assert not reg.path("clf").exists() and not reg.path("mlp").exists()  # no empty "stopped" folders


def test_a_returned_run_folder_lands_whole_or_not_at_all(tmp_path, ds):
    src = Registry(tmp_path / "remote")
    train_run(RunSpec(MLPConfig(), QUICK.replace(epochs=1), "r1"), ds, src, command="test")
    dst = Registry(tmp_path / "local")
    assert _receive(dst, "r1", _pack(src.path("r1"), "r1")) == "completed"
    assert strip(dst.info("r1").history) == strip(src.info("r1").history)
    with pytest.raises(RunError):  # the name is taken now
        _receive(dst, "r1", _pack(src.path("r1"), "r1"))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a run")
    with pytest.raises(RunError):  # no run folder inside
        _receive(dst, "r2", _pack(junk, "r2"))
    assert sorted(p.name for p in dst.root.iterdir() if p.name != CHECKED_FILE) == ["r1"]  # no leftovers


def _cli(args, runs):
    env = {**os.environ, "FMNIST_RUNS_DIR": str(runs), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "fmnist_core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_tiny_study_through_local_ray_matches_one_worker(tmp_path):
    args = ["study", "a5", "--seeds", "1", "--limit", "300", "--epochs", "1"]
    one = _cli(args + ["--workers", "1"], tmp_path / "one")
    assert one.returncode == 0, one.stderr[-2000:]
    ray = _cli(args + ["--ray", "local"], tmp_path / "ray")
    assert ray.returncode == 0, ray.stderr[-2000:]
    names = sorted(p.name for p in (tmp_path / "one").iterdir() if not p.name.startswith("."))
    assert len(names) == 5  # the encoder, then each arm with and without the final ReLU
    assert sorted(p.name for p in (tmp_path / "ray").iterdir() if not p.name.startswith(".")) == names
    for n in names:
        a, b = Registry(tmp_path / "one").get(n), Registry(tmp_path / "ray").get(n)
        assert strip(a.history) == strip(b.history), n
        assert "--ray local" in b.config["command"]
        assert (tmp_path / "ray" / n / "eval" / "test.npz").exists()


@pytest.mark.timeout(600)
def test_a_background_sweep_outlives_its_starter_and_stops_on_request(tmp_path):
    reg = Registry(tmp_path / "runs")
    pid = start_sweep(reg, "a1", ["--limit", "2000", "--epochs", "30", "--workers", "1"])
    deadline = time.time() + 120
    while running_sweep(reg, "a1") is None and time.time() < deadline:
        time.sleep(0.5)
    rec = running_sweep(reg, "a1")
    assert rec is not None and rec["pid"] == pid
    while (
        not any(
            (p / "history.json").exists() and json.loads((p / "history.json").read_text())
            for p in reg.root.glob("study-a1-*")
        )
        and time.time() < deadline
    ):
        time.sleep(0.5)
    assert stop_sweep(reg, "a1")
    while running_sweep(reg, "a1") is not None and time.time() < deadline + 60:
        time.sleep(0.5)
    assert running_sweep(reg, "a1") is None
    runs = [reg.info(p.name) for p in reg.root.glob("study-a1-*")]
    log = (reg.root / ".sweeps" / "a1.log").read_text()
    assert runs and all(r.status in ("stopped", "completed") for r in runs), (
        [r.status for r in runs],
        log[-3000:],
    )
    assert not (reg.root / ".sweeps" / "a1.json").exists()
    assert "stopping" in log


def test_a_stale_record_is_not_a_running_sweep(tmp_path):
    reg = Registry(tmp_path / "runs")
    (reg.root / ".sweeps").mkdir(parents=True)
    (reg.root / ".sweeps" / "a1.json").write_text(json.dumps({"pid": os.getpid()}))  # alive, but not a sweep
    assert running_sweep(reg, "a1") is None and not stop_sweep(reg, "a1")
    (reg.root / ".sweeps" / "a1.json").write_text("{broken")
    assert running_sweep(reg, "a1") is None
