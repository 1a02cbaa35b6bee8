"""What a user, a crash or a hostile file does to the runs: every run stays listed, loadable or clearly damaged.

Hostile files are made by the tests themselves; the fault-injection test kills real training processes.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch
from conftest import cli_env, run_cli

from fmnist_core import CNNConfig, MLPConfig, Registry, RunError, RunSpec, TrainConfig, train_run

ROOT = Path(__file__).resolve().parents[1]


def strict(path: Path):
    """json.loads that refuses NaN and Infinity, as strict parsers do."""

    def bad(token):
        raise ValueError(f"{path.name} holds {token}")

    return json.loads(path.read_text(), parse_constant=bad)


@pytest.fixture(scope="module")
def good(ds, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("good")
    train_run(
        RunSpec(MLPConfig(), TrainConfig(epochs=2, limit=200, device="cpu"), "good"),
        ds,
        Registry(root),
        command="test",
    )
    return root / "good"


def edited(root: Path, good: Path, name: str, file: str, change) -> Path:
    shutil.copytree(good, root / name)
    p = root / name / file
    data = json.loads(p.read_text())
    p.write_text(json.dumps(change(data)))
    return root / name


def setting(key, value):
    def change(d):
        d[key] = value
        return d

    return change


HOSTILE = {
    "epochs-five": ("summary.json", setting("epochs_done", "five"), "epochs_done"),
    "epochs-null": ("summary.json", setting("epochs_done", None), "epochs_done"),
    "status-123": ("summary.json", setting("status", 123), "status"),
    "loss-low": ("summary.json", setting("best_val_loss", "low"), "best_val_loss"),
    "pid-abc": ("summary.json", setting("pid", "abc"), "pid"),
    "no-train": ("config.json", lambda d: {k: v for k, v in d.items() if k != "train"}, "train"),
    "history-x": ("history.json", lambda d: [1, 2, "x"], "history.json"),
}


@pytest.mark.slow
def test_mistyped_run_files_make_the_run_damaged_everywhere(good, tmp_path):
    for name, (file, change, _reason) in HOSTILE.items():
        edited(tmp_path, good, name, file, change)
    shutil.copytree(good, tmp_path / "with space")
    reg = Registry(tmp_path)
    listed = {r.run_id: r for r in reg.list_runs()}
    for name, (_, _, reason) in HOSTILE.items():
        assert listed[name].damaged and reason in listed[name].damaged, (name, listed[name].damaged)
        with pytest.raises(RunError, match="damaged"):
            reg.get(name)
    assert "not a run" in listed["with space"].damaged
    out = run_cli(["runs"], tmp_path, ROOT)
    assert (
        out.returncode == 0
        and "Traceback" not in out.stderr
        and out.stdout.count("damaged") == len(HOSTILE) + 1
    )
    for name in HOSTILE:
        bad = run_cli(["evaluate", name], tmp_path, ROOT)
        assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_names_and_paths(good, tmp_path):
    reg = Registry(tmp_path)
    with pytest.raises(RunError):
        reg.create(RunSpec(MLPConfig()), {}, "ok-nl\n")
    assert not any(tmp_path.iterdir())
    shutil.copytree(good, tmp_path / "linked")
    secret = tmp_path.parent / "secret.txt"
    secret.write_text("not yours")
    (tmp_path / "linked" / "meta.json").symlink_to(secret)
    names = zipfile.ZipFile(io.BytesIO(reg.export_zip("linked"))).namelist()
    assert "linked/meta.json" not in names and "linked/weights.pt" in names


@pytest.mark.parametrize(
    "args",
    [
        ["train", "mlp", "--runs-dir", "/etc/hostname", "--limit", "10", "--epochs", "1"],
        ["train", "mlp", "--runs-dir", "/proc", "--limit", "10", "--epochs", "1"],
        ["bench", "--images", "0"],
        ["bench", "--images", "-5"],
        ["bench", "--rounds", "0"],
        ["evaluate", "good", "--limit", "-1"],
        ["evaluate", "good", "--limit", "-9999"],
        ["evaluate", "good", "--seed", "-1"],
        ["train", "mlp", "--name", "ok-nl\n", "--limit", "10", "--epochs", "1"],
    ],
)
def test_bad_command_lines_get_one_error_line(args, good):
    out = run_cli(args, good.parent, ROOT)
    assert out.returncode == 2, out.stderr[-500:]
    assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_a_diverged_run_keeps_finite_weights_or_none_and_strict_json(ds, tmp_path):
    reg = Registry(tmp_path)
    spec = RunSpec(
        CNNConfig(),
        TrainConfig(lr=10.0, optimizer="sgd", momentum=0.99, epochs=4, limit=500, device="cpu"),
        "div",
    )
    run_id = train_run(spec, ds, reg, command="test")
    info = reg.info(run_id)
    assert info.status == "diverged" and not info.damaged
    for name in ("history.json", "summary.json", "config.json"):
        strict(info.path / name)
    assert any(h["val_loss"] is None for h in info.history)  # the NaN epoch, as null
    if (info.path / "weights.pt").exists():
        state = reg.load_state(run_id)
        assert all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())
    out = run_cli(["predict", "div", str(ROOT / "tests" / "nothing.png")], tmp_path, ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_crash_leftovers_are_cleaned_and_the_summary_repaired(good, tmp_path):
    shutil.copytree(good, tmp_path / "crashed")
    p = tmp_path / "crashed"
    (p / ".history.json.abc123.tmp").write_text("[half")
    (p / ".weights.pt.def456.tmp").write_bytes(b"half")
    summary = json.loads((p / "summary.json").read_text())
    (p / "summary.json").write_text(
        json.dumps({**summary, "status": "running", "epochs_done": 1, "weights_epoch": 1})
    )
    info = Registry(tmp_path).info("crashed")
    assert info.status == "interrupted" and not list(p.glob(".*.tmp"))
    fixed = json.loads((p / "summary.json").read_text())
    assert (
        fixed["epochs_done"] == len(info.history) == 2 and fixed["weights_epoch"] == summary["weights_epoch"]
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_killing_training_at_random_moments_never_breaks_a_run(tmp_path):
    """At least 20 kill -9s of a training process, each at a random moment; then every run is checked."""
    rng = random.Random(14)
    env = cli_env(tmp_path)
    kills = 0
    for i in range(22):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fmnist_core",
                "train",
                "mlp",
                "--limit",
                "300",
                "--batch-size",
                "50",
                "--epochs",
                "200",
                "--name",
                f"k{i}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while not (tmp_path / f"k{i}" / "history.json").exists() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # mid-epoch, mid-write, between writes
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    assert kills >= 20
    reg = Registry(tmp_path)
    runs = reg.list_runs()
    assert len(runs) == kills
    for r in runs:
        assert not r.damaged, (r.run_id, r.damaged)
        assert r.status == "interrupted", (r.run_id, r.status)
        assert not list(r.path.glob(".*.tmp")), r.run_id
        summary = strict(r.path / "summary.json")
        assert summary["epochs_done"] == len(r.history)
        if (r.path / "weights.pt").exists():
            raw = torch.load(r.path / "weights.pt", weights_only=True)
            assert int(raw["_epoch"]) <= len(r.history) and summary["weights_epoch"] == int(raw["_epoch"])
            assert reg.load_model(r.run_id) is not None
        reg.delete(r.run_id)  # an interrupted run can be deleted (no stale "running")
    assert not reg.list_runs()


def test_the_queue_caps_each_session_and_the_whole(tmp_path):
    from fmnist_core.job_queue import MAX_JOBS, MAX_PER_OWNER, JobQueue, QueueFull

    q = JobQueue(Registry(tmp_path), lambda: None)
    q._ensure_worker = lambda: None  # keep the jobs queued: no worker thread
    spec = lambda s: RunSpec(MLPConfig(), TrainConfig(seed=s))  # noqa: E731
    for s in range(MAX_PER_OWNER):
        q.submit(spec(s), owner="tab-a")
    with pytest.raises(QueueFull, match="you have"):
        q.submit(spec(99), owner="tab-a")
    assert q.submit(spec(0), owner="tab-a")[1] is False  # the same job again is no new job
    for s in range(MAX_PER_OWNER, MAX_JOBS):
        q.submit(spec(s), owner=f"tab-{s}")
    with pytest.raises(QueueFull, match="the queue holds"):
        q.submit(spec(1000), owner="tab-new")


@pytest.mark.timeout(300)
def test_a_killed_server_leaves_its_job_interrupted_and_usable(tmp_path):
    """kill -9 of a process training through the app's job queue (as the Streamlit server does)."""
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
        "from fmnist_core import MLPConfig, Registry, RunSpec, TrainConfig, load_fashion_mnist\n"
        "from fmnist_core.job_queue import get_queue\n"
        f"q = get_queue(Registry({str(tmp_path)!r}), load_fashion_mnist)\n"
        "q.submit(RunSpec(MLPConfig(), TrainConfig(epochs=500, limit=600, batch_size=50), 'app-job'), owner='tab')\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=cli_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    reg = Registry(tmp_path)
    while time.time() < deadline and not (tmp_path / "app-job" / "weights.pt").exists():
        time.sleep(0.2)
    time.sleep(0.7)
    assert reg.info("app-job").status == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    info = reg.info("app-job")  # what the restarted server sees
    assert info.status == "interrupted" and not info.damaged and info.summary["epochs_done"] >= 1
    assert reg.load_model("app-job") is not None
