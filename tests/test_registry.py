"""Runs on disk: round trip, safe loading, damaged folders, run ids, delete, export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
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
    build_model,
    validate_run_id,
)
from fmnist_core.registry import CHECKED_FILE, history_csv

HISTORY = [
    {"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "epoch_seconds": 1.5},
    {"epoch": 2, "train_loss": 0.3, "val_loss": 0.35, "epoch_seconds": 1.4},
]


def make_run(reg: Registry, run_id: str, model_cfg=None, status: str = "completed", seed: int = 0) -> str:
    """A complete run folder written through the registry's own API (untrained weights)."""
    model_cfg = model_cfg or ConvAEConfig()
    spec = RunSpec(model_cfg, TrainConfig(epochs=2, seed=seed))
    rid = reg.create(spec, {"data": {"n_train": 10}}, run_id)
    torch.manual_seed(seed)
    model = build_model(model_cfg)
    reg.save_epoch(rid, HISTORY, {"status": status, "epochs_done": 2, "best_epoch": 2}, model.state_dict())
    return rid


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# -- round trip -------------------------------------------------------------------------------
def test_create_save_info_load_round_trip(registry):
    spec = RunSpec(ConvAEConfig(latent_dim=32, dropout=0.1), TrainConfig(lr=3e-3, epochs=2, seed=4))
    rid = registry.create(spec, {"data": {"n_train": 1000}}, "my-run")
    assert rid == "my-run" and (registry.root / rid / "config.json").is_file()
    info = registry.info(rid)
    assert info.status == "running" and info.history == [] and info.damaged is None  # this process, alive
    assert info.spec() == RunSpec(spec.model, spec.train)
    torch.manual_seed(0)
    model = build_model(spec.model)
    registry.save_epoch(
        rid, HISTORY, {"status": "completed", "epochs_done": 2, "best_epoch": 2}, model.state_dict()
    )
    info = registry.get(rid)
    assert info.status == "completed" and info.history == HISTORY and info.kind == "conv_ae"
    assert info.summary["pid"] == os.getpid() and info.name == rid
    assert info.config["data"] == {"n_train": 1000} and "created" in info.config
    # the weights file holds tensors only: it loads with weights_only=True
    raw = torch.load(registry.root / rid / "weights.pt", weights_only=True)
    assert isinstance(raw, dict) and all(isinstance(v, torch.Tensor) for v in raw.values())
    assert "_epoch" in raw  # the weights carry the epoch they are from
    loaded = registry.load_model(rid)
    assert not loaded.training and loaded.cfg == spec.model
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    # no temporary files are left behind by the atomic writes (the lock file says who trains the run)
    assert sorted(p.name for p in (registry.root / rid).iterdir()) == [
        ".training.lock",
        "config.json",
        "history.json",
        "summary.json",
        "weights.pt",
    ]


def test_automatic_run_ids_are_unique(registry):
    spec = RunSpec(MLPConfig(), TrainConfig())
    ids = {registry.create(spec, {}) for _ in range(3)}
    assert len(ids) == 3 and all(i.startswith("mlp-") for i in ids)
    assert registry.create(spec, {}, "taken") == "taken"
    with pytest.raises(RunError, match="already exists"):
        registry.create(spec, {}, "taken")


def test_list_runs_newest_first_and_rename(registry):
    assert registry.list_runs() == []
    a = make_run(registry, "run-a")
    b = make_run(registry, "run-b")
    cfg = json.loads((registry.root / a / "config.json").read_text())
    cfg["created"] = "2000-01-01 00:00:00"
    (registry.root / a / "config.json").write_text(json.dumps(cfg))
    assert [r.run_id for r in registry.list_runs()] == [b, a]
    registry.rename(a, "  Baseline AE ")
    assert registry.info(a).name == "Baseline AE" and registry.info(a).run_id == a
    with pytest.raises(RunError):
        registry.rename(a, "   ")


@pytest.mark.parametrize(
    "bad",
    [
        "a/b",
        "../x",
        "..",
        "a..b",
        "",
        "/abs",
        ".hidden",
        "x" * 81,
        "a b",
        "-dash",
        "back\\slash",
        "tab\t",
        "ü",
    ],
)
def test_invalid_run_ids_are_refused(registry, bad):
    with pytest.raises(RunError, match="invalid run id"):
        validate_run_id(bad)
    if bad:
        with pytest.raises(RunError):
            registry.create(RunSpec(MLPConfig()), {}, bad)
    assert not (registry.root.parent / "x").exists() and not (registry.root.parent / "abs").exists()
    assert not registry.root.exists() or not any(registry.root.iterdir())  # nothing was created


@pytest.mark.parametrize("good", ["a", "ref-a-ae-base", "run_1.0", "A" * 80])
def test_valid_run_ids(good):
    assert validate_run_id(good) == good


def test_lookups_with_bad_ids_raise_run_error(registry):
    make_run(registry, "ok")
    for bad in ("../ok", "ok/..", "nope"):
        with pytest.raises(RunError):
            registry.get(bad)
        with pytest.raises(RunError):
            registry.load_model(bad)
        with pytest.raises(RunError):
            registry.delete(bad)


# -- damaged folders ------------------------------------------------------------------------
def damage(registry, kind: str) -> str:
    rid = make_run(registry, f"bad-{kind}")
    p = registry.root / rid
    if kind == "json":
        (p / "history.json").write_text("[{broken")
    elif kind == "config":
        (p / "config.json").write_text("{not json")
    elif kind == "unknown-key":
        cfg = json.loads((p / "config.json").read_text())
        cfg["model"]["wings"] = 2
        (p / "config.json").write_text(json.dumps(cfg))
    elif kind == "missing-weights":
        (p / "weights.pt").unlink()
    elif kind == "garbage-weights":
        (p / "weights.pt").write_bytes(b"this is not a torch file" * 10)
    elif kind == "wrong-shape":
        torch.save(build_model(ConvAEConfig(latent_dim=8)).state_dict(), p / "weights.pt")
    return rid


JSON_DAMAGE = ["json", "config", "unknown-key", "missing-weights"]
WEIGHT_DAMAGE = ["garbage-weights", "wrong-shape"]


@pytest.mark.parametrize("kind", JSON_DAMAGE + WEIGHT_DAMAGE)
def test_damaged_runs_are_listed_and_refused(registry, kind):
    good = make_run(registry, "good")
    rid = damage(registry, kind)
    (registry.root / "not-a-run.txt").write_text("stray file")
    (registry.root / ".deleting-x").mkdir()
    runs = {r.run_id: r for r in registry.list_runs()}  # listing never raises
    assert set(runs) == {good, rid}
    assert runs[good].damaged is None and runs[good].status == "completed"
    with pytest.raises(RunError):
        registry.load_model(rid)
    registry.load_model(good)
    if kind in JSON_DAMAGE:
        assert runs[rid].damaged and runs[rid].status == "damaged"
        with pytest.raises(RunError, match="damaged"):
            registry.get(rid)


@pytest.mark.parametrize("kind", WEIGHT_DAMAGE)
def test_damaged_weights_are_reported_by_list_runs(registry, kind):
    """A weights file that cannot be loaded makes the run 'damaged' in the listing, like bad JSON does."""
    rid = damage(registry, kind)
    info = {r.run_id: r for r in registry.list_runs()}[rid]
    assert info.status == "damaged" and "weights" in (info.damaged or "")
    with pytest.raises(RunError):
        registry.get(rid)


def test_garbage_weights_message_says_damaged(registry):
    rid = damage(registry, "garbage-weights")
    with pytest.raises(RunError) as e:
        registry.load_state(rid)
    assert "damaged" in str(e.value)
    with pytest.raises(RunError) as e:
        registry.load_model(rid)
    msg = str(e.value)
    assert "damaged" in msg and "do not fit" not in msg, msg  # not mistaken for a config mismatch


def test_wrong_shape_weights_message(registry):
    rid = damage(registry, "wrong-shape")
    with pytest.raises(RunError, match="not fit"):
        registry.load_model(rid)


def test_pickled_objects_in_weights_are_refused(registry):
    """weights_only loading: a file holding a pickled module (not plain tensors) is not executed."""
    rid = make_run(registry, "pickled")
    torch.save(build_model(MLPConfig()), registry.root / rid / "weights.pt")  # a whole model, pickled
    with pytest.raises(RunError):
        registry.load_model(rid)


def test_run_without_epochs_is_not_damaged(registry):
    rid = registry.create(RunSpec(MLPConfig()), {}, "fresh")
    info = registry.info(rid)
    assert info.damaged is None and info.status == "running"
    with pytest.raises(RunError, match="no weights yet"):
        registry.load_state(rid)


# -- status, delete, dependents -----------------------------------------------------------
def test_running_means_a_live_process_holds_the_runs_lock(registry):
    rid = registry.create(RunSpec(MLPConfig()), {}, "live")
    assert registry.info(rid).status == "running"
    summary = json.loads((registry.root / rid / "summary.json").read_text())
    summary["pid"] = 1  # the pid of a crashed run reused by another live process
    (registry.root / rid / "summary.json").write_text(json.dumps(summary))
    assert registry.info(rid).status == "running"  # the lock, not the pid, decides
    registry.release(rid)  # what a dead process does implicitly
    assert registry.info(rid).status == "interrupted"
    assert (
        json.loads((registry.root / rid / "summary.json").read_text())["status"] == "interrupted"
    )  # repaired


def test_a_run_from_before_the_lock_falls_back_to_its_pid(registry):
    rid = registry.create(RunSpec(MLPConfig()), {}, "old")
    registry.release(rid)
    (registry.root / rid / ".training.lock").unlink()
    summary = json.loads((registry.root / rid / "summary.json").read_text())
    summary["status"] = "running"
    (registry.root / rid / "summary.json").write_text(json.dumps(summary))
    assert registry.info(rid).status == "running"  # this process's pid is alive
    summary["pid"] = dead_pid()
    (registry.root / rid / "summary.json").write_text(json.dumps(summary))
    assert registry.info(rid).status == "interrupted"


def test_delete_refuses_a_run_being_trained(registry):
    rid = registry.create(RunSpec(MLPConfig()), {}, "busy")
    with pytest.raises(RunError, match="being trained"):
        registry.delete(rid)
    with pytest.raises(RunError, match="being trained"):
        registry.delete(rid, force=True)
    assert (registry.root / rid).is_dir()
    registry.release(rid)
    registry.delete(rid)  # interrupted: may go
    assert not (registry.root / rid).exists()


def test_delete_warns_about_dependent_classifiers(registry):
    ae = make_run(registry, "enc-src")
    clf = make_run(registry, "clf-dep", ClassifierConfig(encoder_run=ae))
    other = make_run(registry, "clf-rand", ClassifierConfig())
    assert registry.dependents(ae) == [clf] and registry.dependents(other) == []
    with pytest.raises(RunError) as e:
        registry.delete(ae)
    assert clf in str(e.value) and "force" in str(e.value)
    assert (registry.root / ae).is_dir()
    registry.delete(ae, force=True)
    assert not (registry.root / ae).exists()
    hidden = [p.name for p in registry.root.iterdir() if p.name.startswith(".")]
    assert hidden in ([], [CHECKED_FILE])  # no trash left (the weights checks' cache may be there)
    registry.load_model(clf)  # the classifier keeps its own weights
    assert {r.run_id for r in registry.list_runs()} == {clf, other}


def test_delete_a_damaged_run(registry):
    rid = damage(registry, "config")
    registry.delete(rid)
    assert registry.list_runs() == []


# -- export ---------------------------------------------------------------------------------
def test_export_zip_holds_the_files_and_a_csv(registry):
    rid = make_run(registry, "exported")
    registry.rename(rid, "Exported run")
    data = registry.export_zip(rid)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        assert names == {
            f"{rid}/{n}"
            for n in ("config.json", "history.json", "summary.json", "weights.pt", "meta.json", "history.csv")
        }
        assert z.testzip() is None
        assert json.loads(z.read(f"{rid}/config.json"))["model"]["kind"] == "conv_ae"
        assert json.loads(z.read(f"{rid}/history.json")) == HISTORY
        rows = list(csv.DictReader(io.StringIO(z.read(f"{rid}/history.csv").decode())))
        assert [float(r["val_loss"]) for r in rows] == [0.4, 0.35]
        assert list(rows[0]) == ["epoch", "train_loss", "val_loss", "epoch_seconds"]
        state = torch.load(io.BytesIO(z.read(f"{rid}/weights.pt")), weights_only=True)
    assert torch.equal(
        state["encoder.features.0.weight"], registry.load_state(rid)["encoder.features.0.weight"]
    )


def test_export_refuses_a_damaged_run(registry):
    rid = damage(registry, "json")
    with pytest.raises(RunError):
        registry.export_zip(rid)


def test_history_csv_with_ragged_rows():
    text = history_csv([{"epoch": 1, "val_loss": 0.5}, {"epoch": 2, "val_loss": 0.4, "val_acc": 0.9}])
    assert text == "epoch,val_loss,val_acc\n1,0.5,\n2,0.4,0.9\n"
    assert history_csv([]) == "\n"


def test_a_results_only_run_keeps_its_record_and_says_how_to_retrain(ds, tmp_path):
    from fmnist_core import DenseAEConfig, RunSpec, TrainConfig, train_run
    from fmnist_core.compare import run_rows
    from fmnist_core.evalcache import EvalCache

    reg = Registry(tmp_path / "runs")
    train_run(
        RunSpec(DenseAEConfig(latent_dim=32), TrainConfig(epochs=1, limit=300, device="cpu"), "dense"),
        ds,
        reg,
        command="python -m fmnist_core train dense-autoencoder --latent 32",
    )
    cache = EvalCache(reg, lambda: ds)
    curve = cache.curve("dense", "gaussian_image", (0.0, 0.5), 200)
    cache.test("dense")
    reg.strip_weights("dense", keep_eval=("curve-gaussian_image-200",))
    info = reg.info("dense")
    assert not info.damaged and info.results_only and info.status == "completed"
    assert not (info.path / "weights.pt").exists() and not (info.path / "eval" / "test.npz").exists()
    with pytest.raises(RunError, match="retrain it with `python -m fmnist_core train dense-autoencoder"):
        reg.load_model("dense")

    def no_model(run_id):
        raise AssertionError("the kept entry must be read, not recomputed")

    again = EvalCache(reg, lambda: ds, no_model).curve("dense", "gaussian_image", (0.0, 0.5), 200)
    assert np.array_equal(again["mse"], curve["mse"])
    assert run_rows([info])[0]["status"] == "completed · results only"
    with pytest.raises(RunError, match="results-only already"):
        reg.strip_weights("dense")


def test_weights_checks_are_kept_for_the_next_process(tmp_path):
    """A fresh process lists runs with weights from the kept checks, without torch (a new server's Home);
    a weights file changed since, or a hand-edited cache, is checked again."""
    import shutil

    from conftest import ROOT

    runs = tmp_path / "runs"
    shutil.copytree(ROOT / "saved_models" / "ref-d-mlp", runs / "ref-d-mlp")
    code = (
        "import sys\nfrom fmnist_core.registry import Registry\n"
        f"r = Registry({str(runs)!r}).list_runs()\nprint(r[0].damaged, 'torch' in sys.modules)"
    )

    def listed() -> str:
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    assert listed() == "None True"  # checked: torch read the weights
    assert listed() == "None False"  # kept: no torch
    (runs / CHECKED_FILE).write_text('{"ref-d-mlp|1|2|{}": ["x", "not an epoch"], "junk": 3}')
    assert listed() == "None True"  # a cache that does not parse is ignored, and written anew
    (runs / "ref-d-mlp" / "weights.pt").write_bytes(b"\x00garbage" * 10)
    out = listed()  # changed since it was checked: read again, and found damaged
    assert out.startswith("weights.pt cannot be read") and out.endswith("True")


def test_a_listing_rereads_only_the_runs_that_changed(registry):
    """Runs read before are served from memory while none of their files changed (a page rerun lists
    them several times); an edit in place, a rewrite or a deleted file is seen at the next listing."""
    a, b = make_run(registry, "run-a"), make_run(registry, "run-b")
    first = {r.run_id: r for r in registry.list_runs()}
    again = {r.run_id: r for r in registry.list_runs()}
    assert again[a] is first[a] and again[b] is first[b]
    registry.rename(a, "renamed")  # meta.json rewritten
    listed = {r.run_id: r for r in registry.list_runs()}
    assert listed[a].name == "renamed" and listed[a] is not first[a] and listed[b] is first[b]
    summary = registry.root / b / "summary.json"
    time.sleep(
        0.05
    )  # a hand edit comes a moment after the read: its mtime differs even where size and inode do not
    summary.write_text(summary.read_text().replace('"completed"', '"failed"   '))
    assert registry.info(b).status == "failed"
    (registry.root / b / "history.json").unlink()
    assert "history.json is missing" in registry.info(b).damaged


def test_a_run_in_training_is_read_afresh(registry):
    """A "running" run is never served from memory: its trainer can die with no file changing, and the
    next listing must see that (and repair its summary)."""
    run = make_run(registry, "run-r", status="running")
    summary = json.loads((registry.root / run / "summary.json").read_text())
    summary.update(pid=dead_pid(), host="elsewhere")
    (registry.root / run / "summary.json").write_text(json.dumps(summary))
    first = registry.info(run)
    assert registry.info(run) is not first


def test_a_run_rewritten_while_it_is_read_is_not_kept_stale(registry, monkeypatch):
    """A writer that changes a run's files while a listing reads them: what was read is not kept, and the
    next listing sees the new contents; a deleted run's entry goes with it."""
    from fmnist_core import registry as reg_module

    run = make_run(registry, "run-w")
    read = reg_module.Registry._read_info

    def read_then_rename(self, run_id, p, checked):
        info = read(self, run_id, p, checked)
        if info.meta.get("name") != "renamed":  # a rename lands between the read and the keeping
            (p / "meta.json").write_text(json.dumps({**info.meta, "name": "renamed"}))
        return info

    monkeypatch.setattr(reg_module.Registry, "_read_info", read_then_rename)
    assert registry.info(run).name == run  # this reader saw the old name ...
    monkeypatch.setattr(reg_module.Registry, "_read_info", read)
    assert registry.info(run).name == "renamed"  # ... and nobody keeps it
    link = registry.root.parent / "runs-link"  # the same folder spelled another way (the app resolves it)
    link.symlink_to(registry.root)
    other = Registry(link)
    assert other.info(run) is registry.info(run)  # one entry, however the folder is named
    key = Path(os.path.realpath(registry.root)) / run
    assert [k for k in reg_module._INFO_CACHE if k.name == run] == [key]
    registry.delete(run)
    other.list_runs()
    assert key not in reg_module._INFO_CACHE
