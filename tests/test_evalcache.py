"""The evaluation cache: computed once per run, read afterwards, recomputed when stale or damaged."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fmnist_core import ClassifierConfig, ConvAEConfig, RunSpec, TrainConfig, train_run
from fmnist_core.evalcache import NOISE_GRID, NOISE_IMAGES, EvalCache, denoise_levels, summarize_test
from fmnist_core.evaluate import evaluate_run


@pytest.fixture(scope="module")
def tiny(ds, tmp_path_factory):
    from fmnist_core import Registry

    reg = Registry(tmp_path_factory.mktemp("evalcache"))
    quick = TrainConfig(epochs=1, limit=300, batch_size=50, device="cpu")
    train_run(RunSpec(ConvAEConfig(latent_dim=16), quick, "ae"), ds, reg, command="test")
    train_run(
        RunSpec(ClassifierConfig(latent_dim=16, encoder_run="ae"), quick, "clf"), ds, reg, command="test"
    )
    return reg


def entry_path(reg, run_id, name):
    return reg.path(run_id) / "eval" / f"{name}.npz"


def test_classifier_entry_matches_a_fresh_evaluation(tiny, ds):
    cache = EvalCache(tiny, lambda: ds)
    entry = cache.test("clf")
    assert entry["probs"].shape == (10000, 10) and entry["pred"].shape == (10000,)
    summary = summarize_test(entry, ds.test_labels)
    fresh = evaluate_run(tiny, "clf", ds)
    assert summary["accuracy"] == pytest.approx(fresh["test_accuracy"], abs=1e-6)
    assert summary["confusion_matrix"].tolist() == fresh["confusion_matrix"]
    assert entry_path(tiny, "clf", "test").exists()


def test_an_entry_is_computed_once_then_read(tiny, ds):
    calls = []

    def load_model(run_id):
        calls.append(run_id)
        return tiny.load_model(run_id)

    cache = EvalCache(tiny, lambda: ds, load_model)
    first = cache.noise("ae", "salt_pepper")
    assert calls == ["ae"]
    again = cache.noise("ae", "salt_pepper")
    assert calls == ["ae"]  # read from the run folder, no model needed
    assert list(first["level"]) == list(NOISE_GRID["salt_pepper"])
    assert np.array_equal(first["mse"], again["mse"])
    assert first["input_mse"][0] == 0 and (np.diff(first["input_mse"]) > 0).all()  # more noise, further off


def test_retrained_weights_make_the_entry_stale(tiny, ds):
    cache = EvalCache(tiny, lambda: ds)
    before = cache.test("ae")["mse_per_image"].copy()
    weights = tiny.path("ae") / "weights.pt"
    saved = weights.read_bytes()
    try:
        state = torch.load(weights, weights_only=True)
        torch.save({k: v * 0 if k.endswith("bias") else v for k, v in state.items()}, weights)
        after = cache.test("ae")["mse_per_image"]
        assert not np.array_equal(before, after)
    finally:
        weights.write_bytes(saved)
    assert np.array_equal(cache.test("ae")["mse_per_image"], before)


@pytest.mark.parametrize("damage", [b"", b"not a zip at all", None])
def test_a_damaged_entry_is_recomputed_not_shown(tiny, ds, damage):
    cache = EvalCache(tiny, lambda: ds)
    good = cache.test("clf")["probs"].copy()
    path = entry_path(tiny, "clf", "test")
    if damage is None:  # a well-formed file with the right header but arrays of the wrong shape
        with np.load(path) as z:
            header = z["__header__"]
        np.savez(path.with_suffix(".tmp.npz"), __header__=header, probs=np.zeros((3, 3)), pred=np.zeros(3))
        path.with_suffix(".tmp.npz").replace(path)
    else:
        path.write_bytes(damage)
    assert np.array_equal(cache.test("clf")["probs"], good)
    assert path.stat().st_size > 1000  # rewritten whole


def test_denoise_entry_lives_with_the_autoencoder(tiny, ds):
    d = EvalCache(tiny, lambda: ds).denoise("clf", "ae", "gaussian")
    assert tuple(d["level"]) == denoise_levels("gaussian") and d["level"][0] == 0
    assert ((0 <= d["raw_acc"]) & (d["raw_acc"] <= 1)).all()
    assert entry_path(tiny, "ae", "denoise-clf-gaussian").exists()
    assert NOISE_IMAGES <= 10000


def test_a_page_without_a_writable_folder_still_gets_figures(tiny, ds, monkeypatch):
    import fmnist_core.evalcache as ec

    def refuse(*a, **k):
        raise PermissionError("read-only")

    monkeypatch.setattr(ec, "atomic_write_bytes", refuse)
    assert EvalCache(tiny, lambda: ds).noise("ae", "mask")["mse"].shape == (len(NOISE_GRID["mask"]),)
