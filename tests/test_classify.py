"""One image through the models (the Classify page and `predict`), and which run a page compares with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fmnist_core.classify import FAMILIAR, UNUSUAL, classify, familiarity, reconstruction
from fmnist_core.compare import partner_run, random_init_twin, random_init_twin_spec, seed_groups
from fmnist_core.config import ClassifierConfig, ConvAEConfig, MLPConfig, RunSpec, TrainConfig
from fmnist_core.files import CLASS_NAMES
from fmnist_core.models import build_model
from fmnist_core.registry import RunInfo


def test_each_classifier_guesses_its_most_probable_class():
    torch.manual_seed(0)
    models = {"a": build_model(ClassifierConfig()).eval(), "b": build_model(MLPConfig()).eval()}
    x = torch.rand(1, 1, 28, 28)
    guesses = classify(models, x)
    assert list(guesses) == ["a", "b"]
    for g in guesses.values():
        assert g.probs.shape == (10,) and abs(float(g.probs.sum()) - 1) < 1e-5
        assert g.label == CLASS_NAMES[int(np.argmax(g.probs))] and g.confidence == g.probs.max()


def test_familiarity_ranks_the_error_among_the_test_images():
    torch.manual_seed(0)
    ae = build_model(ConvAEConfig()).eval()
    x = torch.rand(1, 1, 28, 28)
    recon, err = reconstruction(ae, x)
    assert recon.shape == (1, 1, 28, 28) and err == pytest.approx(float(((recon - x) ** 2).mean()))
    cases = {
        "familiar": np.full(100, 2 * err),
        "unusual": np.r_[np.full(95, err / 2), np.full(5, 2 * err)],
        "foreign": np.full(100, err / 2),
    }
    for verdict, reference in cases.items():
        f = familiarity(err, reference)
        assert f.verdict == verdict and f.mse == err, (verdict, f.percentile)
    assert familiarity(err, cases["unusual"]).percentile == 95.0 and FAMILIAR < 95 <= UNUSUAL


def _run(run_id: str, kind: str = "classifier", encoder: str = "random", seed: int = 0) -> RunInfo:
    model = {"kind": kind} if kind != "classifier" else ClassifierConfig(encoder_run=encoder).to_dict()
    spec = RunSpec.from_dict({"model": model, "train": TrainConfig(seed=seed).to_dict()})
    return RunInfo(run_id, Path(run_id), config=spec.to_dict(), history=[{"epoch": 1}])


def test_the_random_init_twin_with_the_same_seed_comes_first():
    pre = _run("pre", encoder="ae")
    runs = [pre, _run("rnd-s1", seed=1), _run("rnd-s0"), _run("other-ae", encoder="ae2"), _run("cnn", "cnn")]
    assert random_init_twin(pre, runs).run_id == "rnd-s0"
    assert random_init_twin(pre, runs[3:]) is None
    spec = random_init_twin_spec(pre)
    assert spec.model.encoder_run == "random" and spec.train == pre.spec().train and spec.name is None


def test_a_page_compares_a_run_with_its_twin_else_its_kind_else_any():
    pre, rnd, cnn, mlp = _run("pre", encoder="ae"), _run("rnd"), _run("cnn", "cnn"), _run("mlp", "mlp")
    assert partner_run("pre", [cnn, pre, rnd]) == "rnd"
    assert partner_run("cnn", [pre, mlp, cnn, _run("cnn2", "cnn")]) == "cnn2"
    assert partner_run("cnn", [cnn, mlp]) == "mlp"
    assert partner_run("gone", [mlp]) == "mlp" and partner_run("mlp", [mlp]) is None


def test_a_run_recorded_before_a_setting_existed_still_finds_its_seeds_and_twin():
    old, new = _run("old-s0", encoder="ae"), _run("new-s1", encoder="ae", seed=1)
    del old.config["train"]["val_images"]  # recorded before val_images was a setting
    assert [sorted(r.run_id for r in g) for g in seed_groups([old, new])] == [["new-s1", "old-s0"]]
    rnd = _run("rnd-s0")
    del rnd.config["train"]["val_images"]
    assert random_init_twin(new, [old, rnd]).run_id == "rnd-s0"
