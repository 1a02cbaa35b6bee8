"""`python -m fmnist_core` in a subprocess: a full round trip, and one-line errors for bad input."""

from __future__ import annotations

import argparse
import json
import math
import struct
import zlib
from pathlib import Path

import pytest
import torch
from conftest import run_cli, run_cli_many
from PIL import Image, ImageDraw

from fmnist_core import CLASS_NAMES, ClassifierConfig, Registry, RunSpec, TrainConfig, build_model
from fmnist_core.cli.runs import cmd_runs, end_line


def shirt_png(path: Path, light_background: bool) -> Path:
    bg, fg = (255, 0) if light_background else (0, 255)
    img = Image.new("L", (120, 140), bg)
    d = ImageDraw.Draw(img)
    d.rectangle((35, 20, 85, 125), fill=fg)
    d.polygon([(10, 30), (35, 20), (35, 60), (10, 65)], fill=fg)
    d.polygon([(110, 30), (85, 20), (85, 60), (110, 65)], fill=fg)
    img.save(path)
    return path


def huge_png(path: Path, side: int = 20000) -> Path:
    """A tiny file that declares side x side pixels."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def ok(proc) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


# -- the round trip -------------------------------------------------------------------------
@pytest.mark.slow
def test_round_trip_train_list_evaluate_pretrain_predict(tmp_path):
    runs = tmp_path / "runs"
    # 1. train an autoencoder; the last line of stdout is the new run id
    p = run_cli(["train", "autoencoder", "--limit", "500", "--epochs", "1"], runs, tmp_path)
    ae = ok(p).strip().splitlines()[-1]
    assert ae.startswith("conv_ae-") and (runs / ae / "weights.pt").is_file()
    assert "completed: 1 epochs" in p.stderr and "selected on held-out: val_loss" in p.stderr
    assert "on 500 test images: test_loss" in p.stderr  # the test figure, read once, said to be one

    # 2. list it, evaluate it and pretrain a classifier from it, all at once
    listing, listing_json, ev, clf_train = run_cli_many(
        [
            ["runs"],
            ["runs", "--json"],
            ["evaluate", ae, "--limit", "1000"],
            ["train", "classifier", "--encoder", ae, "--limit", "500", "--epochs", "1", "--name", "clf-1"]
            + ["--precision", "bf16"],
        ],
        runs,
        tmp_path,
    )
    table = ok(listing)
    assert ae in table and "conv_ae" in table and "completed" in table
    rows = json.loads(ok(listing_json))
    assert [r["run_id"] for r in rows] == [ae]
    row = rows[0]
    assert row["kind"] == "conv_ae" and row["status"] == "completed" and row["epochs_done"] == 1
    assert row["latent_dim"] == 64 and row["dropout"] == 0.2 and row["damaged"] is None
    assert 0 < row["best_val_loss"] < 0.3
    assert row["selected_on"] == "holdout" and 0 < row["test_loss"] < 0.3 and row["test_n"] == 500
    result = json.loads(ok(ev))
    assert result["run_id"] == ae and result["kind"] == "conv_ae" and result["n_test"] == 1000
    assert 0 < result["test_mse"] < 0.3 and result["test_psnr"] == pytest.approx(
        -10 * math.log10(result["test_mse"]), rel=1e-6
    )
    assert ok(clf_train).strip().splitlines()[-1] == "clf-1"

    reg = Registry(runs)
    clf = reg.get("clf-1")
    assert clf.encoder_run == ae and reg.dependents(ae) == ["clf-1"] and clf.status == "completed"
    assert clf.spec().train.precision == "bf16" and reg.get(ae).spec().train.precision == "fp32"
    assert clf.config["command"].startswith("python -m fmnist_core train classifier --encoder " + ae)
    assert 0 <= clf.history[0]["val_acc"] <= 1

    # 3. predict two drawings with the classifier
    dark = shirt_png(tmp_path / "dark.png", light_background=False)
    light = shirt_png(tmp_path / "light.png", light_background=True)
    p, clf_eval = run_cli_many(
        [
            ["predict", "clf-1", str(dark), str(light), "--autoencoder", ae],
            ["evaluate", "clf-1", "--limit", "500"],
        ],
        runs,
        tmp_path,
    )
    preds = json.loads(ok(p))
    assert [r["image"] for r in preds] == [str(dark), str(light)]
    for r in preds:
        probs = r["probabilities"]
        assert list(probs) == list(CLASS_NAMES)
        assert all(0 <= v <= 1 for v in probs.values())
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
        assert r["predicted"] == max(probs, key=probs.get) and CLASS_NAMES[r["class_index"]] == r["predicted"]
        f = r["familiarity"]
        assert f["autoencoder"] == ae and f["mse"] > 0 and 0 <= f["percentile"] <= 100
        assert f["verdict"] == (
            "familiar" if f["percentile"] <= 90 else "unusual" if f["percentile"] <= 99 else "foreign"
        )
    assert not any("inverted" in n for n in preds[0]["notes"])
    assert any("inverted" in n for n in preds[1]["notes"])
    # the same object in either polarity is the same input to the model
    assert preds[0]["probabilities"] == pytest.approx(preds[1]["probabilities"], abs=0.02)
    ce = json.loads(ok(clf_eval))
    assert ce["kind"] == "classifier" and ce["n_test"] == 500 and 0 <= ce["test_accuracy"] <= 1
    cm = ce["confusion_matrix"]
    assert len(cm) == 10 and sum(map(sum, cm)) == 500 and ce["correct"] == sum(cm[i][i] for i in range(10))
    assert set(ce["per_class"]) == set(CLASS_NAMES)


# -- what each figure is ------------------------------------------------------------------------
def labelled_run(reg: Registry, run_id: str, data: dict, summary: dict) -> None:
    cfg = ClassifierConfig(encoder_run="random")
    reg.create(RunSpec(cfg, TrainConfig(epochs=2)), {"data": data}, run_id)
    history = [
        {"epoch": e, "train_loss": 1.0, "val_loss": 0.5, "train_acc": 0.6, "val_acc": 0.8} for e in (1, 2)
    ]
    status = {"status": "completed", "epochs_done": 2, "best_epoch": 2}
    reg.save_epoch(run_id, history, {**status, **summary}, build_model(cfg).state_dict(), 2)
    reg.release(run_id)


def test_runs_and_train_say_which_figure_is_which(tmp_path, capsys):
    reg = Registry(tmp_path / "runs")
    best = {"best_val_loss": 0.3012, "best_val_acc": 0.9012}
    test = {"test_loss": 0.3101, "test_acc": 0.8934, "test_n": 10000}
    labelled_run(reg, "held", {"validation": "holdout", "split_id": "3f2a9c0d1e7b"}, {**best, **test})
    labelled_run(reg, "old-test", {"validation": "test"}, best)

    assert cmd_runs(argparse.Namespace(runs_dir=str(reg.root), json=False)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0].split()
        == "run_id kind status epochs best selected_on val_loss val_acc test_loss test_acc".split()
    )
    rows = {line.split()[0]: line.split() for line in lines[1:3]}
    assert rows["held"][5:] == ["holdout", "0.3012", "90.12%", "0.3101", "89.34%"]
    assert rows["old-test"][5:] == ["test", "0.3012", "90.12%", "-", "-"]
    assert any(line.startswith("val_*: at the best epoch") for line in lines)

    assert end_line(reg.get("held")) == (
        "completed: 2 epochs; best epoch 2, selected on held-out: val_loss 0.3012, val_acc 90.12%; "
        "on 10,000 test images: test_loss 0.3101, test_acc 89.34%"
    )
    assert end_line(reg.get("old-test")).endswith(
        "best epoch 2, selected on test (reports' method): val_loss 0.3012, val_acc 90.12%"
    )


# -- bad input: exit code 2, one line on stderr, no traceback ------------------------------
def untrained_run(reg: Registry, run_id: str, cfg) -> str:
    reg.create(RunSpec(cfg, TrainConfig(epochs=1)), {}, run_id)
    reg.save_epoch(
        run_id,
        [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.0}],
        {"status": "completed", "epochs_done": 1, "best_epoch": 1},
        build_model(cfg).state_dict(),
    )
    return run_id


NO_DEVICE = "cuda" if not torch.cuda.is_available() else "mps"  # a device this machine does not have

ERROR_CASES = {
    "unknown-run": (["evaluate", "no-such-run"], "no run 'no-such-run'"),
    "corrupt-weights": (["predict", "broken", "{img}"], "damaged"),
    "text-file": (["predict", "clf", "{txt}"], "notes.txt"),
    "missing-image": (["predict", "clf", "{missing}"], "cannot read"),
    "huge-image": (["predict", "clf", "{huge}"], "megapixels"),
    "lr-negative": (["train", "autoencoder", "--lr", "-1"], "learning rate"),
    "epochs-zero": (["train", "autoencoder", "--epochs", "0"], "epochs"),
    "precision-fp16": (["train", "autoencoder", "--precision", "fp16"], "precision"),
    "dropout-1.5": (["train", "autoencoder", "--dropout", "1.5"], "dropout"),
    "no-such-device": (["train", "mlp", "--device", NO_DEVICE, "--limit", "100", "--epochs", "1"], NO_DEVICE),
    "bad-name": (["train", "mlp", "--name", "../x", "--limit", "100", "--epochs", "1"], "invalid run id"),
    "bad-config-type": (["predict", "badtype", "{img}"], "badtype"),
}


@pytest.fixture(scope="module")
def error_results(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli-errors")
    runs = base / "runs"
    reg = Registry(runs)
    untrained_run(reg, "clf", ClassifierConfig())
    untrained_run(reg, "broken", ClassifierConfig())
    (runs / "broken" / "weights.pt").write_bytes(b"\x00garbage\xff" * 100)
    untrained_run(reg, "badtype", ClassifierConfig())
    cfg = json.loads((runs / "badtype" / "config.json").read_text())
    cfg["model"]["latent_dim"] = 64.5  # a hand-edited config.json
    (runs / "badtype" / "config.json").write_text(json.dumps(cfg))
    before = sorted(p.name for p in runs.iterdir())
    files = {
        "img": str(shirt_png(base / "ok.png", True)),
        "txt": str(base / "notes.txt"),
        "missing": str(base / "missing.png"),
        "huge": str(huge_png(base / "huge.png")),
    }
    Path(files["txt"]).write_text("these are my notes, not an image\n" * 10)
    names = list(ERROR_CASES)
    args = [[a.format(**files) for a in ERROR_CASES[n][0]] for n in names]
    procs = run_cli_many(args, runs, base, workers=6)
    return {"results": dict(zip(names, procs)), "runs": runs, "before": before, "base": base}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_bad_input_exits_2_with_one_error_line(error_results, case):
    p = error_results["results"][case]
    lines = p.stderr.strip().splitlines()
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == 2, f"exit {p.returncode}; stderr:\n{p.stderr}"
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert ERROR_CASES[case][1] in lines[0], lines[0]
    assert p.stdout == ""


def test_failed_commands_leave_no_runs_behind(error_results):
    runs, base = error_results["runs"], error_results["base"]
    # (hidden files are not runs: the weights checks' cache may appear beside them)
    assert sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) == error_results["before"]
    assert not (base / "x").exists() and not (runs.parent / "x").exists()
