"""Hyperparameter searches: the space checked against the settings schema, one-line errors for bad input,
real searches (real data subsets, real training, real Optuna) that prune, resume after a kill -9 without
training a finished trial twice, and report their trials."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from conftest import ROOT, cli_env, run_cli
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from fmnist_core import Registry, train_run
from fmnist_core.cli import main
from fmnist_core.cli.args import SEARCH_PRUNERS, build_parser, spec_from_args
from fmnist_core.errors import ConfigError
from fmnist_core.search import (
    PRUNERS,
    Budget,
    SearchDef,
    figures,
    parse_param,
    parse_space,
    run_search,
    store,
    summary,
    summary_line,
    trial_rows,
)
from fmnist_core.search.engine import INTERRUPTED, RETRY_OF
from fmnist_core.search.ray_pool import STOP_FILE
from fmnist_core.search.space import train_command, trial_spec


# -- the space --------------------------------------------------------------------------------
def test_ranges_and_choices_become_optuna_distributions():
    lr = parse_param("lr=1e-4:1e-2:log", "conv_ae")
    assert (lr.section, lr.field, lr.text()) == ("train", "lr", "lr=0.0001:0.01:log")
    assert lr.distribution() == FloatDistribution(1e-4, 1e-2, log=True)
    bs = parse_param("batch_size=32:256:log:int", "mlp")  # the field's spelling, and a redundant :int
    assert bs.name == "batch-size" and bs.distribution() == IntDistribution(32, 256, log=True)
    assert parse_param("latent=8:64", "conv_ae").distribution() == IntDistribution(8, 64)
    pad = parse_param("padding=valid,same", "classifier")
    assert pad.distribution() == CategoricalDistribution(("same", "valid"))  # sorted: order-free
    keep = parse_param("keep-last=true,false", "cnn")  # an inverted flag: keep-last is restore_best off
    assert keep.config_value(True) is False and keep.field == "restore_best"
    ch = parse_param("channels=16x32,32X64", "conv_ae")
    assert ch.choices == ("16x32", "32x64") and ch.config_value("32x64") == (32, 64)
    fixed = parse_param("schedule=onecycle", "dense_ae")  # one value: the setting fixed
    assert fixed.distribution() == CategoricalDistribution(("onecycle",))


def test_a_trial_is_the_run_its_train_command_would_make(registry):
    texts = ["lr=1e-4:1e-2:log", "channels=16x32,32x64", "batch-norm=true,false", "keep-last=true"]
    space = parse_space(texts, "conv_ae")
    params = {"lr": 0.003, "channels": "32x64", "batch-norm": True, "keep-last": True}
    spec = trial_spec("conv_ae", space, params, 2, 600, registry, "search-x-t003")
    assert spec.name == "search-x-t003" and spec.train.epochs == 2 and spec.train.limit == 600
    assert spec.model.channels == (32, 64) and spec.model.batch_norm and not spec.train.restore_best
    command = train_command(spec)
    assert command.startswith("python -m fmnist_core train autoencoder ")
    again = spec_from_args(build_parser().parse_args(command.split()[3:]))
    assert again.to_dict() == {**spec.to_dict(), "name": None}


def test_the_parser_offers_the_search_pruners():
    assert SEARCH_PRUNERS == tuple(PRUNERS)


# -- bad input: one line, exit 2, nothing written ---------------------------------------------
SEARCH = ["search", "bad", "--model", "autoencoder", "--epochs", "1", "--limit", "200"]
BAD_INPUT = {
    "empty-range": (["--param", "lr=1e-3:1e-3", "--trials", "2"], "the range '1e-3:1e-3' is empty"),
    "inverted-range": (["--param", "lr=1e-2:1e-4:log", "--trials", "2"], "is inverted"),
    "log-through-0": (
        ["--param", "weight-decay=0:1e-2:log", "--trials", "2"],
        "a log range must lie above 0",
    ),
    "log-below-0": (["--param", "lr=-1:1:log", "--trials", "2"], "a log range must lie above 0"),
    "unknown-setting": (
        ["--param", "learning-rate=1e-4:1e-2", "--trials", "2"],
        "learning-rate: unknown setting",
    ),
    "not-this-kind": (["--param", "label-smoothing=0:0.2", "--trials", "2"], "has no such setting"),
    "not-this-kind-model": (
        ["--param", "hidden=32,64", "--trials", "2"],
        "hidden: a conv autoencoder has no",
    ),
    "outside-schema": (
        ["--param", "dropout=0:1.5", "--trials", "2"],
        "dropout p (dropout) must be in [0, 1)",
    ),
    "bad-choice": (["--param", "padding=valid,diagonal", "--trials", "2"], "must be one of 'valid', 'same'"),
    "int-of-float": (["--param", "dropout=0:0.5:int", "--trials", "2"], "not a whole number; drop :int"),
    "not-searchable": (["--param", "epochs=1:5", "--trials", "2"], "epochs: not searchable"),
    "no-equals": (["--param", "lr", "--trials", "2"], "--param needs NAME=LOW:HIGH"),
    "twice": (["--param", "lr=1e-3", "--param", "lr=1e-2", "--trials", "2"], "--param lr is given twice"),
    "no-budget": (["--param", "lr=1e-3:1e-2"], "give a budget"),
    "zero-trials": (["--param", "lr=1e-3:1e-2", "--trials", "0"], "--trials must be between 1"),
    "zero-minutes": (["--param", "lr=1e-3:1e-2", "--minutes", "0"], "--minutes must be above 0"),
    "no-param": (["--trials", "2"], "give at least one --param"),
    "workers": (["--param", "lr=1e-3:1e-2", "--trials", "2", "--workers", "0"], "--workers must be"),
    "zero-epochs": (["--param", "lr=1e-3:1e-2", "--trials", "2", "--epochs", "0"], "epochs must be in"),
    "unknown-option": (["--param", "lr=1e-3", "--trials", "2", "--budget", "5"], "unrecognized arguments"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_error_line_and_writes_nothing(case, runs_dir, capsys):
    args, words = BAD_INPUT[case]
    try:
        code = main([*SEARCH, *args, "--runs-dir", str(runs_dir)])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    assert words in err[0], err[0]
    assert not runs_dir.exists()


def test_a_search_name_that_cannot_name_runs_is_refused(runs_dir, capsys):
    assert main(["search", "a/../b", "--model", "mlp", "--param", "lr=1e-3", "--trials", "1"]) == 2
    assert "invalid search name" in capsys.readouterr().err
    assert main(["search", "nothing-here", "--status"]) == 2
    assert "no search 'nothing-here'" in capsys.readouterr().err
    assert not runs_dir.exists()


def test_the_same_name_with_other_settings_names_the_difference(registry, capsys):
    defn = SearchDef("mlp", parse_space(["lr=1e-4:1e-2:log", "hidden=32,64"], "mlp"), epochs=2, limit=300)
    store.create(registry, "s", defn)
    before = store.journal(registry, "s").read_bytes()
    base = ["search", "s", "--model", "mlp", "--trials", "3", "--epochs", "2", "--limit", "300"]
    cases = {
        "--epochs 3 (it has 2)": ["--epochs", "3", "--param", "lr=1e-4:1e-2:log", "--param", "hidden=32,64"],
        "--param lr=0.0001:0.1:log (it has lr=0.0001:0.01:log)": [
            "--param",
            "lr=1e-4:1e-1:log",
            "--param",
            "hidden=32,64",
        ],
        "no --param hidden (it has hidden=32,64)": ["--param", "lr=1e-4:1e-2:log"],
        "--model cnn (it has mlp)": ["--model", "cnn", "--param", "lr=1e-4:1e-2:log"],
        "--pruner asha (it has median)": ["--pruner", "asha"],
    }
    for words, extra in cases.items():
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0] and "exists with other settings" in err[0], err
    assert store.journal(registry, "s").read_bytes() == before


def test_a_second_coordinator_is_refused(registry, capsys):
    defn = SearchDef("mlp", parse_space(["lr=1e-3"], "mlp"), epochs=1, limit=200)
    store.create(registry, "busy", defn)
    with store.coordinating(registry, "busy"):
        assert store.running_search(registry, "busy") == os.getpid()
        assert main(["search", "busy", "--trials", "2"]) == 2
        assert f"running already (pid {os.getpid()})" in capsys.readouterr().err
    assert store.running_search(registry, "busy") is None


def test_the_search_folder_is_not_a_run(registry, capsys):
    store.create(registry, "hidden", SearchDef("mlp", parse_space(["lr=1e-3"], "mlp")))
    assert registry.list_runs() == []
    assert store.list_searches(registry) == ["hidden"]
    assert main(["search"]) == 0
    assert capsys.readouterr().out.splitlines()[2].split() == ["hidden", "mlp", "0", "-"]


# -- resuming: trials a dead search left running ----------------------------------------------
def test_a_resumed_search_tells_finished_runs_and_requeues_the_rest(ds, registry):
    """Two trials left RUNNING by a 'dead' coordinator: one whose run finished (told from its run, never
    trained again), one with no run (failed as interrupted, its values queued for a new trial)."""
    defn = SearchDef("mlp", parse_space(["lr=1e-3,3e-3"], "mlp"), epochs=1, limit=200)
    store.create(registry, "r", defn)
    study = store.load(registry, "r")
    distributions = {p.name: p.distribution() for p in defn.space}
    finished, lost = study.ask(distributions), study.ask(distributions)
    for t in (finished, lost):
        t.set_user_attr("run_id", store.run_id("r", t.number))
    spec = trial_spec(
        "mlp", defn.space, finished.params, 1, 200, registry, store.run_id("r", finished.number)
    )
    train_run(spec, ds, registry, command="test")
    weights = registry.path(spec.name) / "weights.pt"
    stamp = weights.stat().st_mtime_ns

    run_search("r", defn, Budget(trials=1), registry, workers=1)  # the budget is spent by the finished one

    trials = store.load(registry, "r").trials
    assert trials[finished.number].state == TrialState.COMPLETE
    assert trials[finished.number].value == registry.info(spec.name).summary["best_val_acc"]
    assert trials[lost.number].state == TrialState.FAIL and trials[lost.number].user_attrs[INTERRUPTED]
    queued = trials[-1]
    assert queued.state == TrialState.WAITING and queued.user_attrs[RETRY_OF] == lost.number
    assert queued.system_attrs["fixed_params"] == lost.params
    assert weights.stat().st_mtime_ns == stamp  # not trained again
    assert [r["state"] for r in trial_rows(registry, "r")] == ["complete", "interrupted", "queued"]


# -- real searches ----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_search_with_two_workers_prunes_a_learning_rate_that_cannot_learn(registry):
    """MLPs on 1,000 images for 2 epochs; lr 1e-7 cannot learn (about 10% held-out accuracy after an epoch),
    3e-3 reaches far more. The first two trials can learn; once one of them is complete, the median pruner
    (one startup trial) stops each trial that cannot at its first epoch."""
    defn = SearchDef(
        "mlp",
        parse_space(["lr=1e-7,3e-3", "hidden=32:128:log"], "mlp"),
        epochs=2,
        limit=1000,
        pruner_startup=1,
    )
    store.create(registry, "p", defn)
    study = store.load(registry, "p")
    for lr in (3e-3, 3e-3, 1e-7, 1e-7):
        study.enqueue_trial({"lr": lr, "hidden": 64})
    t0 = time.monotonic()
    lines: list[str] = []
    run_search("p", defn, Budget(trials=6), registry, workers=2, report=lines.append)
    took = time.monotonic() - t0

    rows = trial_rows(registry, "p")
    assert len(rows) == 6 and all(r["counts"] for r in rows), lines
    pruned = [r for r in rows if r["state"] == "pruned"]
    assert {r["trial"] for r in pruned} >= {2, 3}, (rows, lines)
    for r in pruned:
        info = registry.info(r["run_id"])
        assert info.damaged is None and info.status == "pruned" and info.summary["epochs_done"] == 1
        assert info.config["search"] == {"name": "p", "trial": r["trial"]}
        if r["trial"] in (2, 3):  # the train command that trains the same run alone
            assert (
                info.config["command"]
                == "python -m fmnist_core train mlp --hidden 64 --lr 1e-07 --epochs 2 --limit 1000"
            )
    for r in rows[:2]:
        assert r["state"] == "complete" and r["epochs_done"] == 2 and r["value"] > 0.3
    assert all(registry.info(r["run_id"]).spec().train.validation == "holdout" for r in rows)
    s = summary(registry, "p")
    assert s["best"]["value"] == max(r["value"] for r in rows if r["state"] == "complete")
    # what pruning saved: each pruned trial trained 1 of its 2 epochs
    assert s["epochs_unpruned"] == 12 and s["epochs_trained"] == 12 - len(pruned)
    assert f"pruning saved {len(pruned)} of 12 trial-epochs" in summary_line(s)
    assert set(figures(registry, "p")) == {"history", "intermediate", "importance", "parallel", "slice"}
    print(f"search: 6 trials, {len(pruned)} pruned, {took:.1f} s")


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_search_through_local_ray_trains_its_trials_as_ray_tasks(runs_dir, capsys):
    """The same command with --ray local: a real Ray on this machine trains each trial as a task; the trials
    are ordinary runs in the runs folder, told to the study as complete."""
    argv = ["search", "r", "--model", "mlp", "--param", "lr=1e-3,3e-3", "--epochs", "1", "--limit", "300"]
    assert main([*argv, "--trials", "2", "--ray", "local", "--runs-dir", str(runs_dir)]) == 0
    err = capsys.readouterr().err
    assert "Ray tasks on local" in err
    registry = Registry(runs_dir)
    rows = trial_rows(registry, "r")
    assert [r["state"] for r in rows] == ["complete", "complete"], err[-2000:]
    for r in rows:
        info = registry.info(r["run_id"])
        assert info.status == "completed" and info.config["search"] == {"name": "r", "trial": r["trial"]}
    assert not (store.folder(registry, "r") / STOP_FILE).exists()


def test_a_ray_trial_stops_when_its_stop_file_appears(tmp_path, monkeypatch):
    from fmnist_core.search import worker

    monkeypatch.setitem(worker._STATE, "stop_file", str(tmp_path / STOP_FILE))
    stop = worker._TrialStop()
    assert not stop.is_set()
    (tmp_path / STOP_FILE).touch()  # what the coordinator writes when the search is stopped
    assert stop.is_set()


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# conv autoencoders on 2,000 images, 3 epochs of a second or more each: the search is killed when a trial
# has saved its first epoch, so that it is surely in mid-training
KILL_SEARCH = [
    "search", "k", "--model", "autoencoder", "--param", "lr=1e-4:1e-2:log", "--param", "latent=8:64:log",
    "--trials", "6", "--epochs", "3", "--limit", "2000", "--workers", "2", "--pruner", "none",
]  # fmt: skip


def _in_mid_training(runs: Path) -> bool:
    """Whether a run of the search has saved one epoch of its three and goes on."""
    for path in runs.glob("search-k-t*/summary.json"):
        try:
            s = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if s.get("status") == "running" and s.get("epochs_done") == 1:
            return True
    return False


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_search_killed_with_9_resumes_and_finishes_its_budget(runs_dir, tmp_path):
    err = tmp_path / "first.err"
    with open(err, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fmnist_core", *KILL_SEARCH],
            cwd=ROOT,
            env=cli_env(runs_dir),
            stdout=subprocess.DEVNULL,
            stderr=f,
        )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if err.read_text().count(": complete") >= 2 and _in_mid_training(runs_dir):
                break
            time.sleep(0.05)
        assert proc.poll() is None, err.read_text()
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    # orphaned workers notice, stop their trial after its batch and exit
    deadline = time.monotonic() + 60
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "orphaned workers are still running"

    registry = Registry(runs_dir)
    done_before = {
        r.run_id: (r.path / "weights.pt").stat().st_mtime_ns
        for r in registry.list_runs()
        if r.status in ("completed", "pruned")
    }
    assert len(done_before) >= 2

    again = run_cli(KILL_SEARCH, runs_dir, ROOT, timeout=300)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr

    rows = trial_rows(registry, "k")
    counted = [r for r in rows if r["counts"]]
    assert len(counted) == 6, rows
    assert len({r["trial"] for r in rows}) == len(rows)
    run_ids = [r["run_id"] for r in rows if r["run_id"]]
    assert len(set(run_ids)) == len(run_ids)
    assert all(r["state"] in ("complete", "pruned") for r in counted), rows
    for run_id, stamp in done_before.items():  # finished before the kill: never trained again
        assert (registry.path(run_id) / "weights.pt").stat().st_mtime_ns == stamp, run_id
    interrupted = [r for r in rows if r["state"] == "interrupted" and r["run_id"]]
    assert interrupted, rows  # the trial in mid-training when the search was killed
    for r in interrupted:  # (one killed while its values were drawn has no run and is not retried)
        retry = next(x for x in rows if f"trial {r['trial']}'s values again" in x["note"])
        assert retry["params"] == r["params"] and retry["counts"]

    status = run_cli(["search", "k", "--status"], runs_dir, ROOT)
    lines = status.stdout.splitlines()
    assert status.returncode == 0 and lines[0].startswith("search k: conv autoencoder, val_loss (minimize);")
    assert lines[1].split() == ["trial", "state", "val_loss", "epochs", "latent", "lr", "run", "note"]
    assert len(lines) == 3 + len(rows)
    as_json = run_cli(["search", "k", "--status", "--json"], runs_dir, ROOT)
    assert as_json.returncode == 0
    assert [r["trial"] for r in json.loads(as_json.stdout)] == [r["trial"] for r in rows]
    assert json.loads(as_json.stdout)[0]["params"].keys() == {"latent", "lr"}
    listing = run_cli(["runs", "--json"], runs_dir, ROOT)
    assert {r["run_id"] for r in json.loads(listing.stdout)} >= {r["run_id"] for r in rows if r["run_id"]}


def test_optuna_is_quiet():
    assert optuna.logging.get_verbosity() == optuna.logging.WARNING


def test_budget_needs_something_to_spend():
    with pytest.raises(ConfigError, match="give a budget"):
        Budget()
    assert Budget(trials=3).minutes is None and Budget(minutes=0.5).trials is None
